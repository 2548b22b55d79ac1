#!/usr/bin/env python3
"""The simulator against the daemon: two example traces (step whole at 1/30
of its time, spike around its first burst at 1/10), 40 s each, replayed
twice with the same spec and servescale's own policy (the one decision code
both run, src/autoscale/own.c): by `servescale simulate` over its queueing
model, and by the daemon under `servescale loadtest --rps` at the trace's
rate in each phase. Each second's replicas asked for (the Deployment's
spec.replicas) and SLO-violating seconds (the gateway's own latency
histogram: p99 over the SLO, or a failure) are compared within the
tolerance docs/simulate.md states and explains:
  - each second's replicas within 1 of the range the simulation's take
    from 2 s before to 2 s after it;
  - replica-seconds within 15 % of the simulation's;
  - SLO-violating seconds within 3 of the simulation's.
Both series are printed, with the differences observed.

Usage: test_sim_vs_daemon.py SERVESCALE_BINARY SOURCE_DIR
"""
import csv
import io
import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ss_e2e import Checks, Daemon, _remember, args_or_default, run_timed, \
    stop_daemon, wait_until  # noqa: E402
import ss_autoscale as A  # noqa: E402

BINARY, SOURCE = args_or_default()
checks = Checks()
check = checks.check

# (trace, time scale, from, to in its seconds): each 40 s. The step whole
# (its 150/s from 4 s to 24 s); the spike around its first burst, 10 times
# faster, so that the burst lasts 2 s, long enough for a load generator to
# start and send it (at 1/30 it would be 0.67 s), and the hold after it ends
# inside the window.
TRACES = (("step", 30.0, 0, 1200), ("spike", 10.0, 250, 650))
SERVICE_MS, STARTUP_MS, SLO_MS, MIN, MAX = 20, 100, 100, 1, 8
# the tolerance (docs/simulate.md, "The simulator against the daemon")
TOL_REPLICAS, TOL_SHIFT_S, TOL_REPLICA_SECONDS, TOL_VIOLATIONS = 1, 2, 0.15, 3


def sdep():
    """The same spec for both: the policy's annotations, the kedaSpec's
    bounds, the mock classifier taking SERVICE_MS a prediction."""
    return {
        "apiVersion": "machinelearning.seldon.io/v1", "kind": "SeldonDeployment",
        "metadata": {"name": A.NAME, "namespace": A.NS, "annotations": {
            "servescale.io/autoscaler": "servescale",
            "servescale.io/service-time-ms": str(SERVICE_MS),
            "servescale.io/startup-ms": str(STARTUP_MS),
            "servescale.io/slo-p99-ms": str(SLO_MS)}},
        "spec": {"name": "sim-vs-daemon", "predictors": [{
            "componentSpecs": [{"spec": {"containers": [{
                "image": "seldonio/mock_classifier:1.19.0-dev", "name": "classifier"}]},
                "kedaSpec": {"minReplicaCount": MIN, "maxReplicaCount": MAX, "triggers": [{
                    "type": "prometheus", "metadata": {"threshold": "10", "query": A.seed_query(
                        SOURCE)}}]}}],
            "graph": {"children": [], "endpoint": {"type": "REST"}, "name": "classifier",
                      "type": "MODEL", "parameters": [
                          {"name": "delay_ms", "value": str(SERVICE_MS), "type": "INT"},
                          {"name": "workers", "value": "1", "type": "INT"}]},
            "name": "example"}]}}


def scaled_trace(name, tmp, scale, start, end):
    """examples/traces/NAME.csv from start to end (its seconds), its times
    from 0 and divided by scale: (path, phases, seconds)."""
    rows = []
    with open(os.path.join(SOURCE, "examples", "traces", name + ".csv")) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#") and not line[0].isalpha():
                t, r = line.split(",")
                rows.append((float(t), float(r)))
    # the rate holding at start, then the rows inside the window
    last = (end - start) / scale - 1  # a last row holds for a second: the window's end
    inside = [(0.0, [r for t, r in rows if t <= start][-1])]
    inside += [((t - start) / scale, r) for t, r in rows if start < t and (t - start) / scale < last]
    rows = inside + [(last, [r for t, r in rows if (t - start) / scale <= last][-1])]
    path = os.path.join(tmp, name + ".csv")
    with open(path, "w") as f:
        f.write("time,rps\n")
        for t, r in rows:
            f.write("%.3f,%g\n" % (t, r))
    end = math.floor(rows[-1][0]) + 1.0  # the last row holds until its second ends
    phases = [(t, (rows[i + 1][0] if i + 1 < len(rows) else end), r)
              for i, (t, r) in enumerate(rows)]
    return path, [p for p in phases if p[1] > p[0]], int(end)


def simulate(spec_path, trace_path):
    p = subprocess.run([BINARY, "simulate", "-f", spec_path, "--trace", trace_path, "--policy",
                        "servescale", "--service-time-ms", str(SERVICE_MS), "--startup-ms",
                        str(STARTUP_MS), "--slo-p99-ms", str(SLO_MS), "--concurrency", "1",
                        "--arrivals", "paced", "-o", "csv"], capture_output=True, timeout=60)
    out = p.stdout.decode()
    rows = [r for r in csv.DictReader(io.StringIO(out))]
    reps = [int(float(r["replicas"])) for r in rows]
    viol = [r["slo_violation"] in ("1", "true") for r in rows]
    return p.returncode, reps, viol, p.stderr.decode() + out[:300]


class Poller(threading.Thread):
    """Every 100 ms: the Deployment's spec.replicas (the API) and the
    gateway's own latency histogram for the deployment's predictions (its
    /prometheus): (wall time, replicas, answered, answered within the SLO,
    failed), so that each second's p99 against the SLO is the server's,
    queueing at replicas included, as the simulation's is."""

    def __init__(self, d):
        super().__init__(daemon=True)
        self.d, self.stop_ev, self.samples = d, threading.Event(), []

    def histogram(self):
        with urllib.request.urlopen(self.d.gateway + "/prometheus", timeout=5) as r:
            text = r.read().decode("utf-8", "replace")
        total = within = failed = 0.0
        for line in text.splitlines():
            if not line.startswith("seldon_api_executor_server_requests_seconds_") or \
                    'deployment_name="%s"' % A.NAME not in line or \
                    'service="predictions"' not in line:
                continue
            v = float(line.rsplit(" ", 1)[1])
            ok = 'code="200"' in line
            if line.startswith("seldon_api_executor_server_requests_seconds_count"):
                total += v
                failed += 0 if ok else v
            elif ok and 'le="%g"' % (SLO_MS / 1000.0) in line:
                within += v
        return total, within, failed

    def run(self):
        path = "/apis/apps/v1/namespaces/%s/deployments/%s" % (A.NS, A.RS)
        while not self.stop_ev.is_set():
            try:
                t = time.time()
                code, obj, _ = self.d.request("GET", path, timeout=5)
                if code == 200:
                    self.samples.append((t, obj["spec"]["replicas"]) + self.histogram())
            except Exception:  # noqa: BLE001 - the next poll retries
                pass
            self.stop_ev.wait(0.1)

    def at(self, wall):
        v = None
        for smp in self.samples:
            if smp[0] > wall:
                break
            v = smp
        return v


def replay(d, phases, t0):
    """`servescale loadtest --rps` at each phase's rate from t0 + its start
    (its requests evenly paced over its users); how many it answered."""
    env = d.kubectl_env()
    env.pop("SERVESCALE_GATEWAY", None)
    env["SERVESCALE_GATEWAY"] = d.gateway
    sent = 0
    for start, end, rps in phases:
        delay = t0 + start - time.time()
        if delay > 0:
            time.sleep(delay)
        dur = t0 + end - time.time()
        if dur < 0.05 or rps <= 0:
            continue
        users = max(2, math.ceil(rps * 0.2))  # room for 200 ms answers at the rate
        p = _remember(subprocess.Popen(
            [BINARY, "loadtest", "sdep/" + A.NAME, "-n", A.NS, "--users", str(users), "--rps",
             "%g" % rps, "--duration", "%dms" % int(dur * 1000), "-o", "json"], env=env,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL))
        out = p.communicate(timeout=dur + 60)[0].decode("utf-8", "replace")
        try:
            sent += json.loads(out).get("requests", 0)
        except ValueError:
            pass
    return sent


def compare(name, scale, start, end, d, tmp, spec_path):
    trace_path, phases, n_s = scaled_trace(name, tmp, scale, start, end)
    rc, sim_reps, sim_viol, err = simulate(spec_path, trace_path)
    check("%s: simulate --policy servescale of the scaled trace" % name,
          rc == 0 and len(sim_reps) >= n_s - 1, err)
    if rc:
        return
    n = min(n_s, len(sim_reps))
    # from the same start: one ready replica, the policy holding it
    rc, out, err = A.apply(d, sdep(), tmp)
    check("%s: ready at 1 replica" % name, wait_until(
        lambda: A.ready_replicas(d) == 1 and (d.request("GET", "/apis/apps/v1/namespaces/%s/"
                                                        "deployments/%s" % (A.NS, A.RS))[1] or {})
        .get("spec", {}).get("replicas") == 1, 60))
    poll = Poller(d)
    poll.start()
    t0 = time.time() + 0.5
    sent = replay(d, phases, t0)
    time.sleep(max(0.0, t0 + n + 0.3 - time.time()))
    poll.stop_ev.set()
    poll.join(5)
    ends = [poll.at(t0 + s) for s in range(n + 1)]
    reps = [e[1] if e else None for e in ends[1:]]
    viol, p_over, answered, failed = [], [], [], 0
    for s in range(n):
        a, b = ends[s], ends[s + 1]
        if not a or not b:
            viol.append(False)
            p_over.append(0)
            answered.append(0)
            continue
        total, within, fails = b[2] - a[2], b[3] - a[3], b[4] - a[4]
        over = total - fails - within
        failed += fails
        answered.append(total)
        p_over.append(100.0 * over / total if total else 0)
        # p99 over the SLO: more than 1 % of the second's answers slower
        viol.append(fails > 0 or over > total - math.ceil(0.99 * total))
    print("%s (from %d s to %d s, 1/%g as fast: %d s; each second's replicas, * = SLO violated)"
          % (name, start, end, scale, n))
    print("  sim:    " + " ".join("%d%s" % (r, "*" if v else "") for r, v in
                                  zip(sim_reps[:n], sim_viol[:n])))
    print("  daemon: " + " ".join("%s%s" % (r if r is not None else "?", "*" if v else "")
                                  for r, v in zip(reps, viol)))
    print("  daemon % over the SLO: " + " ".join("%.0f" % x for x in p_over))
    print("  daemon answered: " + " ".join("%d" % x for x in answered))
    off = []
    for s in range(n):
        lo, hi = max(0, s - TOL_SHIFT_S), min(n, s + TOL_SHIFT_S + 1)
        near = sim_reps[lo:hi]
        if reps[s] is None or not (min(near) - TOL_REPLICAS <= reps[s] <= max(near) + TOL_REPLICAS):
            off.append((s, reps[s], sim_reps[s]))
    sr, dr = sum(sim_reps[:n]), sum(r or 0 for r in reps)
    sv, dv = sum(sim_viol[:n]), sum(viol)
    exact = sum(1 for s in range(n) if reps[s] == sim_reps[s])
    print("  same count in %d of %d seconds; replica-seconds sim %d, daemon %d (%+.1f %%); "
          "SLO-violating seconds sim %d, daemon %d; %d requests, %d failed"
          % (exact, n, sr, dr, 100.0 * (dr - sr) / sr if sr else 0, sv, dv, sent, failed))
    check("%s: each second's replicas within %d of what the simulation asks within %d s of it "
          "(off: %s; largest difference at the same second %d)"
          % (name, TOL_REPLICAS, TOL_SHIFT_S, off,
             max(abs((reps[s] or 0) - sim_reps[s]) for s in range(n))), not off)
    check("%s: replica-seconds within %d %% (sim %d, daemon %d)"
          % (name, 100 * TOL_REPLICA_SECONDS, sr, dr), abs(dr - sr) <= TOL_REPLICA_SECONDS * sr)
    check("%s: SLO-violating seconds within %d (sim %d, daemon %d)"
          % (name, TOL_VIOLATIONS, sv, dv), abs(dv - sv) <= TOL_VIOLATIONS)
    want = sum((e - b) * r for b, e, r in phases)
    check("%s: the load was sent (%d requests of %.0f)" % (name, sent, want),
          abs(sent - want) <= 0.1 * want)
    d.kubectl("delete", "sdep", A.NAME, "-n", A.NS)
    wait_until(lambda: not d.replicas(), 30)


def main():
    tmp = tempfile.mkdtemp(prefix="ss-simd-")
    d = Daemon(BINARY, backoff_base_ms=200)
    try:
        d.start()
        spec_path = os.path.join(tmp, "sdep.json")
        with open(spec_path, "w") as f:
            json.dump(sdep(), f)
        for name, scale, start, end in TRACES:
            compare(name, scale, start, end, d, tmp, spec_path)
    finally:
        stop_daemon(d, checks, tmp)


if __name__ == "__main__":
    run_timed(main, checks)
