"""bench/reaction_own.py: bench/reaction.sh's part for servescale's own
policy (servescale.io/autoscaler: servescale; src/autoscale/own.c), run by
reaction.sh against its daemon: reaction_own.py WORK GATEWAY_URL RUNS.

Step runs (RUNS of them): a SeldonDeployment with the annotation and a
kedaSpec (min 1, max 5; the mock classifier) idles at one replica; after a
random pause of 0-100 ms (a uniformly random phase against the policy's
100 ms period) `hey -c 8 -q 25` steps the load from 0 to 200 requests/s.
  t_decision: from just before hey starts (so hey's own start-up counts
              against us) to the policy's first decision above 1, as the
              daemon logs it (event=own_decision ... t_ms=, wall clock ms);
  t_serving:  from that decision to the first moment a new replica has
              answered a prediction (its own mock_classifier_predictions_total,
              polled every 5 ms once /sd/targets lists it, also polled every
              5 ms); also shown: its servescale_replica_ready_time_seconds.
Zero runs (RUNS of them): the same with minReplicaCount 0, applied afresh
(no idle gaps learned, so nothing is pre-warmed), left idle until the
policy took it to zero (its 20 s hold window) and no replica is left; then
one prediction, timed at the client from sending to its answer.
Goals (issue 14): t_decision <= 500 ms and t_serving <= 50 ms (medians);
a request at zero answered within 100 ms (median)."""
import json
import random
import re
import signal
import statistics
import subprocess
import sys
import time

from reaction_common import Api, Conn, stop_process

work, gateway, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
NS, NAME, RS = "bench-own", "seldon-model", "seldon-model-example-0-classifier"
RATE_WORKERS, RATE_QPS = 8, 25
BODY = '{"data":{"ndarray":[[1,2,3,4]]}}'
FAST = 0.005
GOAL_DECISION, GOAL_SERVING, GOAL_ZERO = 0.5, 0.05, 0.1

hey = None


def stop_hey():
    global hey
    stop_process(hey)
    hey = None


def on_term(*_):
    stop_hey()
    sys.exit(130)


signal.signal(signal.SIGTERM, on_term)
signal.signal(signal.SIGINT, on_term)

gw_port = int(gateway.rsplit(":", 1)[1])

control = Api(work)
api = Conn(control.port, control)
gw = Conn(gw_port)
replicas = {}
SDEPS = "/apis/machinelearning.seldon.io/v1/namespaces/%s/seldondeployments" % NS
DEP = "/apis/apps/v1/namespaces/%s/deployments/%s" % (NS, RS)
URL = "/seldon/%s/%s/api/v1.0/predictions" % (NS, NAME)


def sdep(min_replicas):
    return {"apiVersion": "machinelearning.seldon.io/v1", "kind": "SeldonDeployment",
            "metadata": {"name": NAME, "namespace": NS,
                         "annotations": {"servescale.io/autoscaler": "servescale",
                                         "servescale.io/service-time-ms": "20",
                                         "servescale.io/slo-p99-ms": "100",
                                         "servescale.io/startup-ms": "100"}},
            "spec": {"name": "reaction", "predictors": [{"name": "example",
                "graph": {"children": [], "endpoint": {"type": "REST"}, "name": "classifier",
                          "type": "MODEL"},
                "componentSpecs": [{"spec": {"containers": [{
                    "image": "seldonio/mock_classifier:1.19.0-dev", "name": "classifier"}]},
                    "kedaSpec": {"minReplicaCount": min_replicas, "maxReplicaCount": 5,
                                 "triggers": [{"type": "prometheus", "metadata": {
                                     "threshold": "10",
                                     "query": "sum(rate(seldon_api_executor_client_requests_"
                                              "seconds_count[10s]))"}}]}}]}]}}


def targets():
    t = gw.json("/sd/targets") or []
    return [x["targets"][0] for x in t
            if x.get("labels", {}).get("seldon_deployment_id") == NAME
            and x.get("labels", {}).get("namespace", NS) == NS]


def spec_ready():
    dep = api.json(DEP) or {}
    sd = api.json(SDEPS + "/" + NAME) or {}
    ready = ((sd.get("status", {}).get("deploymentStatus", {}).get(RS, {}) or {})
             .get("availableReplicas", 0))
    return (dep.get("spec") or {}).get("replicas"), ready


def predictions(addr):
    c = replicas.setdefault(addr, Conn(int(addr.split(":")[1])))
    st, data = c.req("GET", "/prometheus")
    m = re.search(rb"^mock_classifier_predictions_total (\S+)", data or b"", re.M)
    return float(m.group(1)) if st == 200 and m else 0.0


def ready_times():
    st, data = gw.req("GET", "/prometheus")
    out = {}
    for m in re.finditer(r'^servescale_replica_ready_time_seconds\{[^}]*namespace="%s"[^}]*'
                         r'replica="([^"]+)"[^}]*\} (\S+)' % NS, data.decode("utf-8", "replace"),
                         re.M):
        out[m.group(1)] = float(m.group(2))
    return out


def decisions(since_wall):
    """The policy's decisions for the target since a wall-clock time: (t, from, to)."""
    out = []
    with open(work + "/daemon.err", errors="replace") as f:
        for line in f:
            if "event=own_decision" not in line or "object=%s/%s " % (NS, RS) not in line:
                continue
            m = re.search(r"replicas=(\d+) from=(\d+) .* t_ms=(\d+)", line)
            if m and int(m.group(3)) / 1000.0 >= since_wall - 0.002:  # logged in whole ms
                out.append((int(m.group(3)) / 1000.0, int(m.group(2)), int(m.group(1))))
    return out


def wait(fn, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = fn()
        if v:
            return v
        time.sleep(0.1)
    sys.exit("bench/reaction: timed out waiting for %s (spec, ready: %s; targets %s)"
             % (what, spec_ready(), targets()))


def apply_fresh(min_replicas):
    api.req("DELETE", SDEPS + "/" + NAME)
    wait(lambda: api.req("GET", SDEPS + "/" + NAME)[0] == 404 and not targets(), 30,
         "the deletion")
    time.sleep(1.5)  # the autoscaler forgets the old target at a tick that no longer sees it
    st, data = api.req("POST", SDEPS, json.dumps(sdep(min_replicas)))
    if st not in (200, 201):
        sys.exit("bench/reaction: apply answered %d: %s" % (st, data[:300]))


def step_run(i):
    global hey
    apply_fresh(1)
    seen = []

    def steady():
        s, r = spec_ready()
        seen.append(s == 1 and r == 1 and len(targets()) == 1)
        return len(seen) >= 20 and all(seen[-20:])
    wait(steady, 60, "one steady replica")
    first = targets()[0]
    time.sleep(random.uniform(0, 0.1))
    w0 = time.time()
    hey = subprocess.Popen(["hey", "-z", "10s", "-c", str(RATE_WORKERS), "-q", str(RATE_QPS),
                            "-m", "POST", "-T", "application/json", "-d", BODY,
                            gateway + URL], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    served = None
    while time.time() - w0 < 10 and served is None:
        for a in targets():
            if a != first and predictions(a) > 0:
                served = time.time()
                break
        time.sleep(FAST)
    rt = ready_times()
    stop_hey()
    ds = [d for d in decisions(w0) if d[2] > 1]
    if not ds or served is None:
        sys.exit("bench/reaction: step run %d: no scale-up seen within 10 s (decisions %s)"
                 % (i, decisions(w0)))
    dec = ds[0]
    fresh = [v for v in rt.values() if v > w0]
    return {"decision": dec[0] - w0, "to": dec[2], "serving": served - dec[0],
            "ready": (min(fresh) - dec[0]) if fresh else float("nan")}


def zero_run(i):
    # afresh each run: the policy pre-warms a target whose idle gaps it has
    # learned (the runs' own rhythm would be one), and this measures the cold case
    apply_fresh(0)
    wait(lambda: spec_ready()[0] == 0 and not targets(), 60, "zero replicas")
    time.sleep(0.5)
    t0 = time.time()
    st, _ = gw.req("POST", URL, BODY, timeout=30)
    took = time.time() - t0
    if st != 200:
        sys.exit("bench/reaction: zero run %d: the prediction answered %d" % (i, st))
    ds = decisions(t0)
    return {"answered": took, "decision": (ds[0][0] - t0) if ds else float("nan")}


steps = []
for i in range(1, runs + 1):
    r = step_run(i)
    steps.append(r)
    print("servescale policy, step run %d: t_decision %4.0f ms (to %d replicas); t_serving "
          "%+4.0f ms after it (ready %+4.0f ms)" % (i, 1000 * r["decision"], r["to"],
                                                    1000 * r["serving"], 1000 * r["ready"]),
          flush=True)
zeros = []
for i in range(1, runs + 1):
    r = zero_run(i)
    zeros.append(r)
    print("servescale policy, zero run %d: a request at zero answered in %4.0f ms (the decision "
          "%+.0f ms after it was sent)" % (i, 1000 * r["answered"], 1000 * r["decision"]),
          flush=True)

api.req("DELETE", SDEPS + "/" + NAME)
dec = statistics.median(r["decision"] for r in steps)
srv = statistics.median(r["serving"] for r in steps)
zer = statistics.median(r["answered"] for r in zeros)
met = lambda ok: "met" if ok else "NOT MET"
print()
print("bench/reaction, servescale's own policy (servescale.io/autoscaler: servescale, every "
      "100 ms from the gateway's figures; kedaSpec bounds; step 0 -> %d requests/s; %d runs)"
      % (RATE_WORKERS * RATE_QPS, runs))
print("median t_decision (step -> the policy's first decision above 1): %5.0f ms  runs: %s  "
      "goal <= %d ms: %s" % (1000 * dec, ", ".join("%.0f" % (1000 * r["decision"]) for r in steps),
                             1000 * GOAL_DECISION, met(dec <= GOAL_DECISION)))
print("median t_serving  (decision -> a new replica answered):         %5.0f ms  runs: %s  "
      "goal <= %d ms: %s" % (1000 * srv, ", ".join("%.0f" % (1000 * r["serving"]) for r in steps),
                             1000 * GOAL_SERVING, met(srv <= GOAL_SERVING)))
print("median request at zero replicas answered in:                    %5.0f ms  runs: %s  "
      "goal <= %d ms: %s" % (1000 * zer, ", ".join("%.0f" % (1000 * r["answered"]) for r in zeros),
                             1000 * GOAL_ZERO, met(zer <= GOAL_ZERO)))
