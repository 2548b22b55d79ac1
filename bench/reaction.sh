#!/usr/bin/env bash
# bench/reaction.sh: how fast servescale reacts to a load step, next to what
# Kubernetes' defaults give on the same step, in one run, on this machine.
#
# A kedaSpec SeldonDeployment (prometheus trigger without serverAddress: the
# embedded source answers the query from the gateway's own metrics window;
# pollingInterval 1 and servescale.io/sync-period-ms "1000": the autoscaler
# polls it every second; minReplicaCount 1, maxReplicaCount 5) idles at one
# replica; then `hey` steps the load from 0 to a constant 200 requests/s.
# Polling the control API and the gateway every 50 ms, it measures
#   t_decision: from the step to the first scale decision seen
#               (the ScaledObject's status.desiredReplicas > 1; its
#               lastScaleTime and the events only have 1 s resolution);
#   t_serving:  from that decision to a new replica serving: the first poll
#               at which a replica other than the first answered a prediction
#               (its own mock_classifier_predictions_total > 0, read from its
#               /prometheus at the address /sd/targets gives). Also shown:
#               when /sd/targets first listed it and when the SeldonDeployment's
#               status.deploymentStatus[rs].availableReplicas rose, and, from
#               the gateway's servescale_replica_{start,ready}_time_seconds,
#               when its process started and when it became ready.
# Three runs (delete and re-apply between them, so each starts at 1 replica
# with an empty window); prints each run, the median, the issue's targets and
# the ratio against the Kubernetes model below.
#   bench/reaction.sh [BUILD_DIR] [RUNS] [keda|servescale|all]
# Then (unless keda alone is asked) the same daemon runs
# bench/reaction_own.py: servescale's own policy (servescale.io/autoscaler:
# servescale, every 100 ms from the gateway's figures) against issue 14's
# goals: a step's decision within 500 ms, a new replica serving within 50 ms
# more, a request at zero answered within 100 ms (medians; its header says
# how each is measured).
#
# The query: sum(rate(seldon_api_executor_client_requests_seconds_count
# {model_name="classifier"}[10s])). The metrics window (src/metrics/metrics.h)
# is sampled every second but keeps samples SS_METRICS_SAMPLE_SPACING_MS
# (5 s) apart plus one fresh newest sample that each sampling moves forward:
# in the last 10 s there is always the fresh sample (<= ~1 s old) and at
# least one kept sample (<= ~6 s old), so rate()[10s] always has the two
# samples it needs and moves within a second of a step, while a [5s] range
# would at times hold only the newest sample (no value at all), and the
# seed's [1m] would dilute the step over a minute. The idle value is 0; the
# step (200/s) is 20x the threshold (10), so as soon as ~0.5 s of load is in a
# sample, rate() exceeds it (no backward extrapolation from a counter at 0:
# it reads increase/10s) and the HPA rule asks for more replicas.
#
# The Kubernetes model (nothing here runs Kubernetes): a step at a uniformly
# random phase waits on average half a controller period for the next
# evaluation, and the value that evaluation reads lags the step by one metric
# resolution (a scrape, or metrics-server's 15 s resolution, must first see
# it):  E[t_decision] ~= period/2 + resolution.
#   HPA defaults (15 s --horizontal-pod-autoscaler-sync-period, 15 s metric
#   resolution) -> 7.5 + 15 = 22.5 s. With a kedaSpec at minReplicaCount 1 the
#   1 -> N decision is the HPA that KEDA creates (its 15 s sync, metrics from
#   KEDA's adapter), so this is the headline peer.
#   KEDA's default 30 s pollingInterval (what governs activation and the
#   ScaledObject's own polling) with a 15 s scrape -> 15 + 15 = 30 s, shown too.
# Both are lower bounds: they ignore the rate window's own lag (a rate over
# [1m] at a 15 s scrape can need more than one scrape to cross the threshold),
# the HPA's stabilization and the API round trips. Serving: a new pod must
# be scheduled, its (image-cached) container started and its readiness probe
# pass; we assume 5 s (the low end of a typical 5-10 s) and say so; the
# headline ratio is on the decision only.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
runs=${2:-3}
which=${3:-all}
case $which in keda|servescale|all) ;; *) echo "bench/reaction: the third argument is keda, servescale or all" >&2; exit 2 ;; esac
bin=$build/servescale
for t in hey curl python3; do
  command -v $t >/dev/null || { echo "bench/reaction: $t is missing (apt-get install hey curl python3)" >&2; exit 1; }
done
[ -x "$bin" ] || { echo "bench/reaction: no $bin (cmake --build $build)" >&2; exit 1; }
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 0.5
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
gwport=$(free_port)
"$bin" serve --state-dir "$work/state" --api-port 0 --gateway-port "$gwport" \
  >"$work/daemon.out" 2>"$work/daemon.err" &
pids+=($!)
for _ in $(seq 1 100); do
  [ -s "$work/state/kubeconfig" ] && curl -sf "http://127.0.0.1:$gwport/sd/targets" >/dev/null 2>&1 && break
  sleep 0.1
done
[ -s "$work/state/kubeconfig" ] || { echo "bench/reaction: the daemon did not start" >&2; cat "$work/daemon.err" >&2; exit 1; }

# The driver runs in the foreground; it stops its own hey on every exit path
# (SIGTERM included), and the trap above stops the daemon.
if [ "$which" != servescale ]; then
python3 - "$work" "http://127.0.0.1:$gwport" "$runs" <<'PY' &
import json, random, re, signal, statistics, subprocess, sys, time
sys.path.insert(0, "bench")
from reaction_common import Api, Conn, stop_process

work, gateway, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
NS, NAME, RS = "bench", "seldon-model", "seldon-model-example-0-classifier"
POLL = 0.05          # s between polls
RATE_WORKERS, RATE_QPS = 8, 25   # hey -c 8 -q 25: a constant 200 requests/s
THRESHOLD = 10
QUERY = 'sum(rate(seldon_api_executor_client_requests_seconds_count{model_name="classifier"}[10s]))'
BODY = '{"data":{"ndarray":[[1,2,3,4]]}}'
HPA_SYNC, METRIC_RES, KEDA_POLL, POD_START = 15.0, 15.0, 30.0, 5.0

hey = None
load_end = -1e9  # when the last step ended (monotonic)
def stop_hey():
    global hey, load_end
    load_end = time.monotonic()
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
replicas = {}  # port -> Conn
SDEPS = "/apis/machinelearning.seldon.io/v1/namespaces/%s/seldondeployments" % NS
SO = "/apis/keda.sh/v1alpha1/namespaces/%s/scaledobjects/%s" % (NS, RS)

def sdep():
    return {"apiVersion": "machinelearning.seldon.io/v1", "kind": "SeldonDeployment",
            "metadata": {"name": NAME, "namespace": NS,
                         "annotations": {"servescale.io/sync-period-ms": "1000"}},
            "spec": {"name": "reaction", "predictors": [{"name": "example",
                "graph": {"children": [], "endpoint": {"type": "REST"}, "name": "classifier",
                          "type": "MODEL"},
                "componentSpecs": [{"spec": {"containers": [{
                    "image": "seldonio/mock_classifier:1.19.0-dev", "name": "classifier"}]},
                    "kedaSpec": {"pollingInterval": 1, "minReplicaCount": 1, "maxReplicaCount": 5,
                                 "triggers": [{"type": "prometheus", "metadata": {
                                     "metricName": "access_frequency",
                                     "threshold": str(THRESHOLD), "query": QUERY}}]}}]}]}}

def targets():
    t = gw.json("/sd/targets") or []
    return [x["targets"][0] for x in t if x.get("labels", {}).get("seldon_deployment_id") == NAME]

def state():
    so = api.json(SO) or {}
    sd = api.json(SDEPS + "/" + NAME) or {}
    ready = (sd.get("status", {}).get("deploymentStatus", {}).get(RS, {}) or {}).get("availableReplicas", 0)
    trig = (so.get("status", {}).get("triggers") or [{}])[0]
    return so.get("status", {}).get("desiredReplicas"), ready, trig.get("value")

def predictions(addr):
    c = replicas.setdefault(addr, Conn(int(addr.split(":")[1])))
    st, data = c.req("GET", "/prometheus")
    m = re.search(rb"^mock_classifier_predictions_total (\S+)", data or b"", re.M)
    return float(m.group(1)) if st == 200 and m else 0.0

def gauges():
    st, data = gw.req("GET", "/prometheus")
    out = {}
    for m in re.finditer(r'^servescale_replica_(start|ready)_time_seconds\{[^}]*replica="([^"]+)"[^}]*\} (\S+)',
                         data.decode("utf-8", "replace"), re.M):
        out.setdefault(m.group(2), {})[m.group(1)] = float(m.group(3))
    return out

def wait(fn, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = fn()
        if v:
            return v
        time.sleep(0.1)
    sys.exit("bench/reaction: timed out waiting for %s (desired, ready, value: %s; targets %s)"
             % (what, state(), targets()))

def apply_fresh():
    api.req("DELETE", SDEPS + "/" + NAME)
    wait(lambda: api.req("GET", SDEPS + "/" + NAME)[0] == 404 and not targets()
         and api.req("GET", SO)[0] == 404, 30, "the deletion")
    # The gateway's series for model_name="classifier" outlive the deleted
    # deployment in the window: re-applied while the last step is still in
    # the [10s] range, the new deployment's first poll would read it and scale
    # up at once (then hold for the 300 s cooldown). So the step must have
    # left the range first; and the autoscaler drops its old target only at a
    # tick (at least every second) that no longer sees the deployment.
    time.sleep(max(2.5, 12 - (time.monotonic() - load_end)))
    st, data = api.req("POST", SDEPS, json.dumps(sdep()))
    if st not in (200, 201):
        sys.exit("bench/reaction: apply answered %d: %s" % (st, data[:300]))
    # steady at one replica, its window empty (nothing sent yet), the
    # ScaledObject polled at least twice with value 0
    seen = []
    def steady():
        d, r, v = state()
        ok = d == 1 and r == 1 and v == 0 and len(targets()) == 1
        seen.append(ok)
        return len(seen) >= 20 and all(seen[-20:])  # 2 s of steady polls
    wait(steady, 60, "one steady replica")

def run(i):
    global hey
    apply_fresh()
    first = targets()[0]
    time.sleep(random.uniform(0, 1))  # a uniformly random phase against the 1 s poll
    url = gateway + "/seldon/%s/%s/api/v1.0/predictions" % (NS, NAME)
    t0 = time.monotonic(); w0 = time.time()
    hey = subprocess.Popen(["hey", "-z", "20s", "-c", str(RATE_WORKERS), "-q", str(RATE_QPS),
                            "-m", "POST", "-T", "application/json", "-d", BODY, url],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    r = {"decision": None, "listed": None, "ready": None, "served": None, "value": None}
    new = None
    while time.monotonic() - t0 < 20:
        d, ready, v = state()
        now = time.monotonic()
        if r["decision"] is None and d and d > 1:
            r["decision"], r["value"], r["desired"] = now - t0, v, d
            w_dec = w0 + r["decision"]
        if r["ready"] is None and ready and ready > 1:
            r["ready"] = now - t0
        others = [a for a in targets() if a != first]
        now = time.monotonic()
        if others and r["listed"] is None:
            r["listed"] = now - t0
        for a in others:
            if predictions(a) > 0:
                r["served"] = time.monotonic() - t0
                new = a
                break
        if r["served"] is not None and r["decision"] is not None and r["ready"] is not None:
            break
        time.sleep(max(0.0, POLL - (time.monotonic() - now)))
    g = gauges()
    stop_hey()
    if r["decision"] is None or r["served"] is None:
        sys.exit("bench/reaction: run %d: no scale-up seen within 20 s (%s)" % (i, r))
    # the first new replica by its process start (server-side wall clock)
    # the new replicas' process start and readiness (server-side wall clock):
    # the earliest of each
    fresh = [v for v in g.values() if v.get("start", 0) > w0]
    starts = [v["start"] for v in fresh]
    readies = [v["ready"] for v in fresh if v.get("ready")]
    r["start"] = min(starts) - w_dec if starts else float("nan")
    r["ready_g"] = min(readies) - w_dec if readies else float("nan")
    return r

results = []
for i in range(1, runs + 1):
    r = run(i)
    results.append(r)
    print("run %d: t_decision %5.0f ms (desiredReplicas %d, trigger value %.1f/s); after it: "
          "process started %+5.0f ms, ready %+5.0f ms (gauges), availableReplicas>1 %+5.0f ms, "
          "listed in /sd/targets %+5.0f ms, first prediction answered (t_serving) %+5.0f ms"
          % (i, 1000 * r["decision"], r["desired"], r["value"] or 0, 1000 * r["start"],
             1000 * r["ready_g"], 1000 * (r["ready"] - r["decision"]),
             1000 * (r["listed"] - r["decision"]), 1000 * (r["served"] - r["decision"])),
          flush=True)

med = lambda k: statistics.median(k(r) for r in results)
dec = med(lambda r: r["decision"])
srv = med(lambda r: r["served"] - r["decision"])
lst = med(lambda r: r["listed"] - r["decision"])
rdy = med(lambda r: r["ready_g"])
hpa = HPA_SYNC / 2 + METRIC_RES
keda = KEDA_POLL / 2 + METRIC_RES
print()
print("bench/reaction: kedaSpec on the embedded source, pollingInterval 1, sync-period-ms 1000, "
      "min 1 max 5, threshold %d; query %s; step 0 -> %d requests/s (hey -c %d -q %d); "
      "polled every %d ms; %d runs" % (THRESHOLD, QUERY, RATE_WORKERS * RATE_QPS, RATE_WORKERS,
                                       RATE_QPS, POLL * 1000, len(results)))
print("median t_decision (step -> ScaledObject desiredReplicas > 1): %6.0f ms   runs: %s"
      % (1000 * dec, ", ".join("%.0f" % (1000 * r["decision"]) for r in results)))
print("median t_serving  (decision -> a new replica answered a prediction): %6.0f ms   runs: %s"
      % (1000 * srv, ", ".join("%.0f" % (1000 * (r["served"] - r["decision"])) for r in results)))
print("  of which: ready (servescale_replica_ready_time_seconds) %+.0f ms, listed in /sd/targets "
      "%+.0f ms after the decision (medians)" % (1000 * rdy, 1000 * lst))
print("targets (issue 5): decision within 2000 ms: %s; new replica serving within a further "
      "100 ms: %s" % ("met" if dec <= 2.0 else "MISSED", "met" if srv <= 0.1 else "MISSED"))
print("Kubernetes, modelled (not run): E[t_decision] = period/2 + metric resolution for a step at "
      "a uniformly random phase (lower bound: no rate-window lag, no stabilization)")
print("  HPA defaults, 15 s sync + 15 s metric resolution: %.1f s;  KEDA 30 s pollingInterval + "
      "15 s scrape: %.1f s" % (hpa, keda))
print("  serving: + an assumed %.0f s pod start (image cached, low end of 5-10 s): step -> serving "
      "%.1f s (HPA) vs servescale %.2f s measured" % (POD_START, hpa + POD_START, dec + srv))
print("reaction ratio kubernetes/servescale: %.1f  (decision, HPA defaults %.1f s / %.2f s; "
      "KEDA 30 s polling: %.1f; step -> serving with the %.0f s pod start: %.1f)"
      % (hpa / dec, hpa, dec, keda / dec, POD_START, (hpa + POD_START) / (dec + srv)))
PY
drv=$!
pids+=($drv)
wait $drv
fi
if [ "$which" != keda ]; then
  [ "$which" = all ] && echo
  python3 bench/reaction_own.py "$work" "http://127.0.0.1:$gwport" "$runs" &
  drv=$!
  pids+=($drv)
  wait $drv
fi
