#!/usr/bin/env python3
"""End-to-end: scale to zero and back. The seed's kedaSpec deployment with
minReplicaCount 0 and cooldownPeriod 5, answered by the embedded metrics
source (no serverAddress): idle, it goes to 0 replicas (no process left);
a request then waits in the gateway's queue, wakes it at once (not at the
next poll) and is answered 200; no request fails, also under a burst right
after waking.

Usage: test_autoscale_zero.py SERVESCALE_BINARY SOURCE_DIR
"""
import os
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ss_e2e import Checks, Daemon, args_or_default, predict, run_timed, stop_daemon, \
    wait_until  # noqa: E402
import ss_autoscale as A  # noqa: E402

BINARY, SOURCE = args_or_default()
checks = Checks()
check = checks.check


def main():
    tmp = tempfile.mkdtemp(prefix="ss-zero-")
    # a long poll: waking must not wait for it
    d = Daemon(BINARY, backoff_base_ms=200)
    try:
        d.start()
        rc, out, err = A.apply(d, A.keda_sdep(SOURCE, min_replicas=0, sync_ms=5000), tmp)
        check("apply with minReplicaCount 0 (embedded source, polls every 5 s)", rc == 0,
              out + err)
        sizes = A.Sizes(d)
        t0 = time.monotonic()
        zero = sizes.wait(lambda want, ready: want == 0 and ready == 0, 40)
        check("idle, it goes to 0 after the cooldown (%.1f s; sizes %s)"
              % (time.monotonic() - t0, sizes.seen), zero, A.scaled_object(d))
        check("no replica process is left", wait_until(lambda: not d.replicas(), 15),
              d.replicas())
        rc, out, err = d.kubectl("get", "events", "-n", A.NS)
        check("KEDAScaleTargetDeactivated is recorded", "KEDAScaleTargetDeactivated" in out,
              out + err)
        time.sleep(1)

        url = d.gateway + "/seldon/%s/%s/api/v1.0/predictions" % (A.NS, A.NAME)
        t_req = time.monotonic()
        status, body = predict(url, timeout=30)
        waited = time.monotonic() - t_req
        check("a request at zero wakes it and is answered 200 in %.2f s (before the next "
              "5 s poll could have)" % waited, status == 200 and waited < 4.5, (status, body))
        check("the ScaledObject wants 1 now", A.desired(d) == 1, A.scaled_object(d))
        rc, out, err = d.kubectl("get", "events", "-n", A.NS)
        check("KEDAScaleTargetActivated is recorded", "KEDAScaleTargetActivated" in out,
              out + err)
        h = A.hey(url, 5, workers=4, qps=20)
        hout = h.communicate(timeout=60)[0].decode("utf-8", "replace")
        codes = A.hey_codes(hout)
        check("no request fails in a burst after waking (%s)" % codes,
              codes and set(codes) == {200}, hout[-800:])
        check("it stays awake while requests come (desired %s)" % A.desired(d),
              (A.desired(d) or 0) >= 1, sizes.seen)
    finally:
        stop_daemon(d, checks, tmp)


if __name__ == "__main__":
    run_timed(main, checks)
