#!/usr/bin/env python3
"""End-to-end: Seldon Core 2's native autoscaling with a real scikit-learn
model: a Model with minReplicas/maxReplicas scales up on its inference lag
(requests in flight per replica) and its Server follows, then, unused, the
model scales down and the Server drops the replicas left empty; no request
fails on the way. Core 2's settings come from the environment under its
names (a lag threshold of 8 and an inactivity of 4 s instead of 30 and
30 s, so that the test is short).

Usage: test_core2_native.py SERVESCALE_BINARY SOURCE_DIR
"""
import os
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ss_e2e import Checks, Daemon, stop_daemon, wait_until, args_or_default  # noqa: E402
import ss_core2 as c2  # noqa: E402

BINARY, SOURCE = args_or_default()
checks = Checks()
check = checks.check

MODEL = """apiVersion: mlops.seldon.io/v1alpha1
kind: Model
metadata:
  name: irisa0
  namespace: seldon-mesh
spec:
  storageUri: file://%s
  requirements:
  - sklearn
  memory: 3M
  replicas: 1
  minReplicas: 1
  maxReplicas: 3
"""


def main():
    work = tempfile.mkdtemp(prefix="ss-core2n-")
    model_dir = c2.train_iris(SOURCE, os.path.join(work, "iris"))
    path = os.path.join(work, "irisa0.yaml")
    with open(path, "w") as f:
        f.write(MODEL % model_dir)
    for k, v in (("SELDON_MODEL_INFERENCE_LAG_THRESHOLD", "8"),
                 ("SELDON_MODEL_INACTIVE_SECONDS_THRESHOLD", "4"),
                 ("SELDON_SCALING_STATS_PERIOD_SECONDS", "1"),
                 ("SERVESCALE_CORE2_COOLING_SECONDS", "2")):
        os.environ[k] = v
    d = Daemon(BINARY)
    try:
        d.start([os.path.join(SOURCE, "examples/core2/server.yaml"), path])
        gw = d.gateway
        rc, out, err = d.kubectl("wait", "--for=condition=Ready", "model/irisa0", "-n", c2.NS,
                                 "--timeout=90s", timeout=120)
        check("the model is Ready on one server replica", rc == 0, out + err)
        check("it answers", c2.infer(gw, "irisa0")[0] == 200)

        # ---- up: 48 clients keep far more than 8 requests per replica in flight ----
        load = c2.Hey(gw, "irisa0", 25, 48)
        up = wait_until(lambda: (c2.spec_replicas(d, "models", "irisa0") or 0) >= 2, 60, 0.5)
        check("under load the model scales up (Core 2's lag rule)", up,
              c2.get(d, "models", "irisa0").get("spec"))
        srv = wait_until(lambda: (c2.spec_replicas(d, "servers", "mlserver") or 0) >= 2, 60, 0.5)
        check("its Server follows (spec.replicas >= 2)", srv, c2.get(d, "servers", "mlserver").get("spec"))
        avail = wait_until(lambda: c2.status_of(d, "models", "irisa0").get("availableReplicas", 0) >= 2, 60, 0.5)
        check("the model is loaded on a second server replica", avail,
              c2.status_of(d, "models", "irisa0"))
        load.wait(60)
        codes = load.codes()
        check("no request failed while scaling up (hey: all 200)",
              codes.get(200, 0) > 0 and set(codes) == {200}, load.out[-1500:])
        rc, out, _ = d.kubectl("describe", "model", "irisa0", "-n", c2.NS)
        check("describe shows the ScaledUp event with its reason", "ScaledUp" in out and "lag" in out,
              out[-1500:])

        # ---- down: unused, the model goes back to 1 and the Server drops empty replicas ----
        low = c2.Hey(gw, "irisa0", 3, 1, q=2)  # a trickle first: never a failure at the edge
        low.wait(30)
        down = wait_until(lambda: c2.spec_replicas(d, "models", "irisa0") == 1, 60, 0.5)
        check("unused, the model scales back to minReplicas", down,
              c2.get(d, "models", "irisa0").get("spec"))
        sdown = wait_until(lambda: c2.status_of(d, "servers", "mlserver").get("replicas") == 1 and
                           c2.spec_replicas(d, "servers", "mlserver") == 1, 60, 0.5)
        check("the Server drops the replicas left empty (1 replica)", sdown,
              c2.get(d, "servers", "mlserver"))
        check("the model still answers", c2.infer(gw, "irisa0")[0] == 200)
        check("the trickle had no failure", set(low.codes()) == {200}, low.out[-800:])
        rc, out, _ = d.kubectl("describe", "server", "mlserver", "-n", c2.NS)
        check("describe server shows ScaledUp and ScaledDown", "ScaledUp" in out and "ScaledDown" in out,
              out[-1500:])
    except Exception as e:  # noqa: BLE001 -- report, then clean up
        import traceback
        traceback.print_exc()
        check("no exception", False, repr(e))
    finally:
        stop_daemon(d, checks, work, tail=4000)
    sys.exit(checks.finish())


if __name__ == "__main__":
    main()
