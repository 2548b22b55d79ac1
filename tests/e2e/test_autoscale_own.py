#!/usr/bin/env python3
"""End-to-end: servescale's own policy in the daemon (opt-in with the
annotation servescale.io/autoscaler: servescale on the SeldonDeployment; its
hpaSpec gives the bounds). Under a step of load from `hey` the Deployment's
spec.replicas rises within a couple of seconds, each change with an event
naming the policy's reason; after the load it holds the peak for the hold
window, then comes back down to what the light background load needs; no
request fails, neither in the step nor while replicas leave. A
SeldonDeployment without the annotation keeps the HPA's rules.

Usage: test_autoscale_own.py SERVESCALE_BINARY SOURCE_DIR
"""
import json
import os
import shutil
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ss_e2e import Checks, Daemon, Load, args_or_default, run_timed, stop_all, \
    wait_until  # noqa: E402
import ss_autoscale as A  # noqa: E402

BINARY, SOURCE = args_or_default()
checks = Checks()
check = checks.check

MIN, MAX = 1, 4
SERVICE_MS, SLO_MS, STARTUP_MS = 20, 100, 1000
# the policy asks for the fewest replicas whose p99 wait (M/D/c) fits the
# SLO (ss_own_replicas_for, tests/unit/test_own.c): at 20 ms of 100 ms one
# carries up to 25/s, three 96/s and up to 120/s
HEY_WORKERS, HEY_QPS, HEY_S = 8, 12, 8     # 96/s: 3 replicas
BACKGROUND = 5                             # /s throughout: 1 replica
HOLD_S = 20                                # SS_OWN_HOLD_MS


def sdep(own=True):
    ann = {"servescale.io/autoscaler": "servescale",
           "servescale.io/service-time-ms": str(SERVICE_MS),
           "servescale.io/slo-p99-ms": str(SLO_MS),
           "servescale.io/startup-ms": str(STARTUP_MS)} if own else {}
    return {
        "apiVersion": "machinelearning.seldon.io/v1", "kind": "SeldonDeployment",
        "metadata": {"name": A.NAME, "namespace": A.NS, "annotations": ann},
        "spec": {"name": "test-deployment", "predictors": [{
            "componentSpecs": [{"spec": {"containers": [{
                "image": "seldonio/mock_classifier:1.19.0-dev", "name": "classifier",
                "resources": {"requests": {"cpu": "0.5"}}}]},
                "hpaSpec": {"minReplicas": MIN, "maxReplicas": MAX, "metrics": [
                    {"type": "Resource", "resource": {"name": "cpu",
                                                      "targetAverageUtilization": 80}}]}}],
            "graph": {"children": [], "endpoint": {"type": "REST"}, "name": "classifier",
                      "type": "MODEL", "parameters": [
                          {"name": "delay_ms", "value": str(SERVICE_MS), "type": "INT"}]},
            "name": "example"}]}}


def spec_replicas(d):
    code, obj, _ = d.request("GET", "/apis/apps/v1/namespaces/%s/deployments/%s" % (A.NS, A.RS))
    return (obj.get("spec") or {}).get("replicas") if code == 200 else None


class Track:
    """(seconds since t0, spec.replicas, ready) whenever they change."""

    def __init__(self, d):
        self.d, self.t0, self.seen = d, time.monotonic(), []

    def sample(self):
        v = (spec_replicas(self.d), A.ready_replicas(self.d))
        if not self.seen or self.seen[-1][1:] != v:
            self.seen.append((round(time.monotonic() - self.t0, 2),) + v)
        return v

    def wait(self, fn, timeout):
        return wait_until(lambda: fn(*self.sample()), timeout, 0.05)


def main():
    tmp = tempfile.mkdtemp(prefix="ss-own-")
    d = Daemon(BINARY, backoff_base_ms=200)
    load = None
    try:
        d.start()
        rc, out, err = A.apply(d, sdep(), tmp)
        check("apply a SeldonDeployment annotated servescale.io/autoscaler: servescale",
              rc == 0, out + err)
        tr = Track(d)
        check("it serves at its minimum, 1 replica",
              tr.wait(lambda want, ready: want == 1 and ready == 1, 60), tr.seen)
        url = d.gateway + "/seldon/%s/%s/api/v1.0/predictions" % (A.NS, A.NAME)
        load = Load(url, rate=BACKGROUND, workers=2).start()
        time.sleep(2)
        check("the background load alone keeps 1 replica", spec_replicas(d) == 1, tr.seen)

        t_step = time.monotonic()
        h = A.hey(url, HEY_S, workers=HEY_WORKERS, qps=HEY_QPS)
        up = tr.wait(lambda want, ready: (want or 0) >= 3, 5)
        t_up = time.monotonic() - t_step
        check("the step (%d/s) raises spec.replicas to >= 3 within 5 s (%.2f s; %s)"
              % (HEY_WORKERS * HEY_QPS, t_up, tr.seen), up, d.stderr()[-2000:])
        check("the new replicas come ready",
              tr.wait(lambda want, ready: (ready or 0) >= 3, 20), tr.seen)
        hout = h.communicate(timeout=60)[0].decode("utf-8", "replace")
        codes = A.hey_codes(hout)
        check("no request of the step fails (%s)" % codes, codes and set(codes) == {200},
              hout[-800:])
        check("at most maxReplicas (%d)" % MAX, max(s[1] or 0 for s in tr.seen) <= MAX, tr.seen)

        rc, out, err = d.kubectl("get", "events", "-n", A.NS)
        check("the rescale events carry the policy's reason",
              "SuccessfulRescale" in out and "servescale policy" in out, out[-1500:] + err)
        rc, out, err = d.kubectl("get", "hpa", "-n", A.NS, "-o", "json")
        conds = json.dumps(out)
        check("the HPA's condition names the policy", "ServescalePolicy" in conds, out[-1500:])

        t_end = time.monotonic()
        held = tr.wait(lambda want, ready: (want or 0) < 3, HOLD_S - 5)
        check("the peak holds through the hold window (%s)" % tr.seen, not held, tr.seen)
        down = tr.wait(lambda want, ready: want == 1 and ready == 1, HOLD_S + 25)
        check("then it comes back down to 1 (%.1f s after the step ended; %s)"
              % (time.monotonic() - t_end, tr.seen), down, tr.seen)
        load.stop()
        check("no background request failed, also while replicas left (%d answered, %d "
              "failed)" % (load.ok, load.failed), load.failed == 0 and load.ok > 0)
        load = None

        # without the annotation: the HPA's own rules (a 15 s sync, CPU)
        rc, out, err = A.apply(d, sdep(own=False), tmp)
        check("the annotation removed", rc == 0, out + err)
        time.sleep(1)
        rc, out, err = d.kubectl("get", "hpa", "-n", A.NS, "-o", "json")
        time.sleep(2)
        rc, out2, err = d.kubectl("get", "hpa", "-n", A.NS, "-o", "json")
        st = json.loads(out2)["items"][0].get("status", {}) if rc == 0 else {}
        check("without it the HPA reports CPU again, not the policy",
              "ServescalePolicy" not in json.dumps(st.get("currentMetrics", []))
              and "servescale_arrivals" not in json.dumps(st), out2[-1500:])
    finally:
        if load:
            load.stop()
        d.stop()
        stop_all()
        if checks.failed:
            sys.stdout.write("--- daemon log (tail)\n%s\n" % d.stderr()[-4000:])
        d.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    run_timed(main, checks)
