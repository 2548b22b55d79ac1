#!/usr/bin/env python3
"""End-to-end: Debian's own kubectl (package kubernetes-client, 1.20) against
the daemon, beside the machine's newer one (test_kubectl.py): apply with
validation on, wait, get, scale, describe, delete. kubectl 1.20 validates on
the client with the OpenAPI v2 document, which the API serves as an empty
protobuf Document (no schema for these kinds: nothing to check there).

The binary comes from $SS_KUBECTL_DEBIAN (scripts/test.sh extracts the
package there); the test fails when it is missing.

Usage: test_kubectl_debian.py SERVESCALE_BINARY SOURCE_DIR
"""
import os
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ss_e2e import Checks, Daemon, stop_daemon_no_orphans, wait_until, \
    args_or_default  # noqa: E402

BINARY, SOURCE = args_or_default()
checks = Checks()
check = checks.check


def main():
    t0 = time.monotonic()
    k = os.environ.get("SS_KUBECTL_DEBIAN", "")
    if not (k and os.access(k, os.X_OK)):
        check("Debian's kubectl is at $SS_KUBECTL_DEBIAN (scripts/test.sh extracts the "
              "kubernetes-client package there)", False, k)
        sys.exit(checks.finish())
    v = subprocess.run([k, "version", "--client", "--short"], capture_output=True, text=True)
    check("it is kubectl 1.20", "v1.20" in v.stdout, v.stdout + v.stderr)
    d = Daemon(BINARY)

    def kubectl(*args, timeout=60):
        env = dict(os.environ, KUBECONFIG=d.kubeconfig, HOME=d.state_dir)
        p = subprocess.run([k] + list(args), capture_output=True, text=True, env=env,
                           timeout=timeout)
        return p.returncode, p.stdout, p.stderr

    # scaled by hand below: without an autoscaler (one would own the count)
    path = os.path.join(SOURCE, "tests", "cases", "valid-plain.yaml")
    try:
        d.start()
        rc, out, err = kubectl("apply", "-f", path, "-n", "seldon")
        check("apply with validation on", rc == 0 and "created" in out, (rc, out, err))
        rc, out, err = kubectl("wait", "--for=condition=ready", "sdep/seldon-model", "-n",
                               "seldon", "--timeout=60s", timeout=75)
        check("wait --for=condition=ready", rc == 0 and "condition met" in out, (rc, out, err))
        rc, out, err = kubectl("get", "sdep", "-n", "seldon")
        check("get sdep shows the table", rc == 0 and "Available" in out and "STATE" in out,
              (rc, out, err))
        rc, out, err = kubectl("scale", "sdep/seldon-model", "-n", "seldon", "--replicas=2")
        check("scale", rc == 0 and "scaled" in out, (rc, out, err))
        two = wait_until(lambda: kubectl("get", "pods", "-n", "seldon", "-o", "name")[1]
                         .count("pod/") == 2, 30)
        check("two pods after scaling", two, kubectl("get", "pods", "-n", "seldon")[1])
        rc, out, err = kubectl("describe", "sdep", "seldon-model", "-n", "seldon")
        check("describe shows the scaling event", rc == 0 and "ScalingReplicaSet" in out,
              (rc, out[-1500:], err))
        rc, out, err = kubectl("apply", "-f", path, "-n", "seldon")
        check("apply again updates", rc == 0 and ("configured" in out or "unchanged" in out),
              (rc, out, err))
        rc, out, err = kubectl("delete", "-f", path, "-n", "seldon", timeout=75)
        check("delete -f", rc == 0 and "deleted" in out, (rc, out, err))
    except Exception as e:
        import traceback
        traceback.print_exc()
        check("test ran to the end", False, "%s: %s" % (type(e).__name__, e))
    finally:
        stop_daemon_no_orphans(d, check)
    print("elapsed %.1fs" % (time.monotonic() - t0))
    sys.exit(checks.finish())


if __name__ == "__main__":
    main()
