#!/usr/bin/env python3
"""End-to-end: the seed's kedaSpec deployment with no serverAddress, so its
query (unchanged) is answered in-process by the embedded metrics source
over the gateway's own series: under load from `hey` it scales above 1
(toward 5), the ScaledObject showing the trigger's value.

Usage: test_autoscale_embedded.py SERVESCALE_BINARY SOURCE_DIR
"""
import os
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ss_e2e import Checks, Daemon, args_or_default, run_timed, stop_daemon  # noqa: E402
import ss_autoscale as A  # noqa: E402

BINARY, SOURCE = args_or_default()
checks = Checks()
check = checks.check


def main():
    tmp = tempfile.mkdtemp(prefix="ss-embedded-")
    d = Daemon(BINARY, backoff_base_ms=200)
    try:
        d.start()
        rc, out, err = A.apply(d, A.keda_sdep(SOURCE), tmp)
        check("apply the seed's kedaSpec deployment without serverAddress", rc == 0, out + err)
        sizes = A.Sizes(d)
        check("it starts at 1", sizes.wait(lambda want, ready: want == 1 and ready == 1, 30),
              sizes.seen)
        url = d.gateway + "/seldon/%s/%s/api/v1.0/predictions" % (A.NS, A.NAME)
        t = time.monotonic()
        h = A.hey(url, 20, workers=10, qps=30)
        more = sizes.wait(lambda want, ready: want > 1 and ready > 1, 30)
        check("under load it scales above 1 in %.1f s (sizes %s)"
              % (time.monotonic() - t, sizes.seen), more, A.scaled_object(d))
        five = sizes.wait(lambda want, ready: want == 5, 25)
        check("and reaches 5 in %.1f s" % (time.monotonic() - t), five, sizes.seen)
        so = A.scaled_object(d) or {}
        trig = so.get("status", {}).get("triggers", [{}])[0]
        check("the ScaledObject shows the trigger's value (%s requests/s)" % trig.get("value"),
              (trig.get("value") or 0) > 10, so.get("status"))
        hout = h.communicate(timeout=60)[0].decode("utf-8", "replace")
        codes = A.hey_codes(hout)
        check("every request answered 200 (%s)" % codes, codes and set(codes) == {200},
              hout[-800:])
        rc, out, err = d.kubectl("get", "so", "-n", A.NS)
        check("kubectl get so lists it", rc == 0 and A.RS in out, out + err)
        top = __import__("subprocess").run(
            [BINARY, "top", "-n", A.NS, "--kubeconfig", d.kubeconfig], capture_output=True,
            timeout=30)
        tout = top.stdout.decode("utf-8", "replace")
        check("servescale top -n %s shows it with its metric vs target" % A.NS,
              top.returncode == 0 and A.RS in tout and "/10" in tout,
              tout + top.stderr.decode("utf-8", "replace"))
    finally:
        stop_daemon(d, checks, tmp)


if __name__ == "__main__":
    run_timed(main, checks)
