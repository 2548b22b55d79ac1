#!/usr/bin/env python3
"""End-to-end: Prometheus stopped mid-run. The seed's kedaSpec deployment
with fallback {failureThreshold: 2, replicas: 3} polls a real Prometheus
every second; once it is stopped, more than two polls in a row fail and the
target is held at 3 replicas with the ScaledObject's Fallback condition
True (an outage never reads as zero load); with Prometheus back on the same
address it leaves fallback and scales back to 1 on its (idle) metric.

Usage: test_autoscale_fallback.py SERVESCALE_BINARY SOURCE_DIR
"""
import os
import shutil
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ss_e2e import Checks, Daemon, args_or_default, run_timed, stop_all, wait_until  # noqa: E402
import ss_autoscale as A  # noqa: E402

BINARY, SOURCE = args_or_default()
checks = Checks()
check = checks.check


def main():
    tmp = tempfile.mkdtemp(prefix="ss-fallback-")
    d = Daemon(BINARY, backoff_base_ms=200)
    prom = None
    try:
        d.start()
        cfg = A.prometheus_config(BINARY, d.gateway, tmp)
        prom = A.Prometheus(cfg, tmp)
        started = prom.start()
        check("Prometheus started on 127.0.0.1:%s" % prom.port, started, prom.logs()[-2000:])
        if not started:
            return
        rc, out, err = A.apply(d, A.keda_sdep(SOURCE, server_address=prom.url(),
                                              fallback={"failureThreshold": 2, "replicas": 3}), tmp)
        check("apply with fallback {failureThreshold: 2, replicas: 3}", rc == 0, out + err)
        sizes = A.Sizes(d)
        check("it runs 1 replica, polls succeeding",
              sizes.wait(lambda want, ready: want == 1 and ready == 1, 30)
              and wait_until(lambda: A.condition(A.scaled_object(d), "Fallback") == "False", 10),
              A.scaled_object(d))

        port = prom.port
        prom.stop()
        t_stop = time.monotonic()
        fell = sizes.wait(lambda want, ready: want == 3 and ready == 3, 20)
        so = A.scaled_object(d)
        check("Prometheus stopped: held at the fallback's 3 replicas after %.1f s (sizes %s)"
              % (time.monotonic() - t_stop, sizes.seen), fell, so)
        check("the ScaledObject's Fallback condition is True",
              A.condition(so, "Fallback") == "True", so)
        trig = (so or {}).get("status", {}).get("triggers", [{}])[0]
        check("its trigger reports the failures (%s)" % trig.get("failures"),
              trig.get("failed") and trig.get("failures", 0) > 2, trig)
        time.sleep(2)
        check("still 3 while Prometheus is down", A.desired(d) == 3, sizes.seen)

        back = prom.start(port=port)
        check("Prometheus back on 127.0.0.1:%d" % port, back, prom.logs()[-2000:])
        t_back = time.monotonic()
        left = wait_until(lambda: A.condition(A.scaled_object(d), "Fallback") == "False", 20)
        check("it leaves fallback (Fallback False) %.1f s after Prometheus is back"
              % (time.monotonic() - t_back), left, A.scaled_object(d))
        down = sizes.wait(lambda want, ready: want == 1 and ready == 1, 30)
        check("normal scaling resumes: back to 1 on the idle metric (sizes %s)" % sizes.seen,
              down, A.scaled_object(d))
        rc, out, err = d.kubectl("get", "events", "-n", A.NS)
        check("fallback is in the events", "KEDAScalerFailed" in out or "Fallback" in out,
              out + err)
    finally:
        if prom:
            prom.stop()
        d.stop()
        stop_all()
        if checks.failed:
            sys.stdout.write("--- daemon log (tail)\n%s\n" % d.stderr()[-3000:])
            if prom:
                sys.stdout.write("--- prometheus log (tail)\n%s\n" % prom.logs()[-2000:])
        d.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    run_timed(main, checks)
