#!/usr/bin/env python3
"""End-to-end: the seed's kedaSpec deployment (examples/model_with_keda_prom.yaml,
its query unchanged) scaled by a real Prometheus (Debian's) that scrapes the
gateway every second, with a test-shortened schedule (annotation
servescale.io/sync-period-ms 1000, pollingInterval 1, cooldownPeriod 5,
scale-down stabilization 5 s). Load from `hey` (threshold 10 on the request
rate) drives it from 1 up to 5; without load it returns to 1 once the
query's [1m] rate falls. `kubectl get scaledobjects` shows it.

Also: a query outside the embedded source's PromQL subset, with no
serverAddress, is a validation error at apply that names what is unsupported.

Usage: test_autoscale_keda.py SERVESCALE_BINARY SOURCE_DIR
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
    tmp = tempfile.mkdtemp(prefix="ss-keda-")
    d = Daemon(BINARY, backoff_base_ms=200)
    prom = None
    try:
        d.start()
        # (e) an unsupported query for the embedded source is refused at apply
        bad = A.keda_sdep(SOURCE)
        bad["spec"]["predictors"][0]["componentSpecs"][0]["kedaSpec"]["triggers"][0][
            "metadata"]["query"] = "absent(up)"
        rc, out, err = A.apply(d, bad, tmp)
        check("apply refuses a query outside the embedded subset, naming it and the field",
              rc != 0 and "absent" in err and "kedaSpec.triggers[0].metadata.query" in err,
              out + err)

        cfg = A.prometheus_config(BINARY, d.gateway, tmp)
        check("servescale prometheus-config --interval 1s", cfg, cfg)
        prom = A.Prometheus(cfg, tmp)
        started = prom.start()
        check("Prometheus started on 127.0.0.1:%s" % prom.port, started, prom.logs()[-2000:])
        if not started:
            return
        rc, out, err = A.apply(d, A.keda_sdep(SOURCE, server_address=prom.url()), tmp)
        check("apply the seed's kedaSpec deployment with serverAddress %s" % prom.url(),
              rc == 0, out + err)
        sizes = A.Sizes(d)
        check("it starts at 1 ready replica",
              sizes.wait(lambda want, ready: want == 1 and ready == 1, 30), sizes.seen)
        up = wait_until(lambda: prom.value('up{job="servescale"}') == 1.0, 20, 0.25)
        check("Prometheus scrapes the gateway", up, prom.logs()[-1000:])
        polled = wait_until(lambda: A.condition(A.scaled_object(d), "Ready") == "True", 15)
        check("the ScaledObject is Ready", polled, A.scaled_object(d))

        url = d.gateway + "/seldon/%s/%s/api/v1.0/predictions" % (A.NS, A.NAME)
        t_load = time.monotonic()
        h = A.hey(url, 14, workers=10, qps=30)
        up5 = sizes.wait(lambda want, ready: want == 5 and ready == 5, 40)
        t5 = time.monotonic() - t_load
        check("under load (hey, 300 requests/s) it scales from 1 up to 5 in %.1f s "
              "(sizes: %s)" % (t5, sizes.seen), up5, sizes.seen)
        rc, out, err = d.kubectl("get", "scaledobjects", "-n", A.NS)
        check("kubectl get scaledobjects shows it at 5", rc == 0 and A.RS in out
              and " 5 " in out, out + err)
        so = A.scaled_object(d)
        check("its Active condition is True under load", A.condition(so, "Active") == "True", so)
        hout = h.communicate(timeout=60)[0].decode("utf-8", "replace")
        codes = A.hey_codes(hout)
        check("every request under load answered 200 (%s)" % codes,
              codes and set(codes) == {200}, hout[-800:])
        t_stop = time.monotonic()
        down = sizes.wait(lambda want, ready: want == 1 and ready == 1, 80)
        t1 = time.monotonic() - t_stop
        check("without load it returns to 1 in %.1f s (the [1m] rate must fall first; "
              "sizes: %s)" % (t1, sizes.seen), down, sizes.seen)
        seq = [w for _, w, _ in sizes.seen if w is not None]
        seq = [w for i, w in enumerate(seq) if i == 0 or w != seq[i - 1]]
        check("the desired size only rose under load and only fell after it: %s" % seq,
              5 in seq and seq == sorted(seq[:seq.index(5) + 1]) + sorted(seq[seq.index(5) + 1:],
                                                                           reverse=True), seq)
        rc, out, err = d.kubectl("get", "events", "-n", A.NS)
        check("SuccessfulRescale events are recorded against the ScaledObject, as KEDA records them",
              "SuccessfulRescale" in out and "New size: 5" in out, out + err)
        rc, out, err = d.kubectl("describe", "scaledobject", A.RS, "-n", A.NS)
        check("kubectl describe scaledobject works", rc == 0 and "desiredReplicas" in out.replace(
            "Desired Replicas", "desiredReplicas"), out + err)
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
