#!/usr/bin/env python3
"""End-to-end: Seldon Core 2's two HPA setups with a real scikit-learn
model, as its documentation writes them (an Object metric infer_rps,
AverageValue 3, from the prometheus-adapter rule of Core 2's docs, here
the built-in adapter with the rule's window shortened to 10 s and the
HPAs' scale-down stabilization to 0 s so that the test is short):

1. Model autoscaling with HPA, the Server scaled natively: the model's
   HPA takes it up under load, its Server follows (Core 2's server
   autoscaling), and both come back when the load stops.
2. Model and Server autoscaling with HPA (one model per server): an HPA
   on each, on the same metric; they go up and back together. Whether the
   model ran ahead of its server (ScheduleFailed while it did, as Core 2
   documents) is printed.

No request fails in either.

Usage: test_core2_hpa.py SERVESCALE_BINARY SOURCE_DIR
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
  memory: 3M
  replicas: 1
  requirements:
  - sklearn
  storageUri: file://%s
"""

# the HPAs of Core 2's documentation with scaleDown stabilization 0 s
FAST = """  behavior:
    scaleDown:
      stabilizationWindowSeconds: 0
"""


def hpas(path, with_server):
    with open(os.path.join(SOURCE, "examples/core2/hpa-model-server.yaml" if with_server
                           else "examples/core2/irisa0-hpa.yaml")) as f:
        text = f.read()
    text = text.replace("  maxReplicas: 3\n", "  maxReplicas: 3\n" + FAST)
    with open(path, "w") as f:
        f.write(text)
    return path


def adapter_config(path):
    with open(os.path.join(SOURCE, "examples/core2/prometheus-adapter.config.yaml")) as f:
        text = f.read()
    with open(path, "w") as f:
        f.write(text.replace("[2m]", "[10s]"))
    return path


def run_mode(d, name, hpa_file, server_hpa):
    gw = d.gateway
    rc, out, err = d.kubectl("apply", "-f", hpa_file)
    check(name + ": kubectl apply the HPA(s) of Core 2's docs", rc == 0, out + err)
    # 24 requests/s: 8 per replica over a target of 3, so the HPA wants its max
    load = c2.Hey(gw, "irisa0", 60, 4, q=6)
    seen_sf = []

    def model_up():
        if c2.reason(d, "irisa0") == "ScheduleFailed":
            seen_sf.append(1)
        return (c2.spec_replicas(d, "models", "irisa0") or 0) >= 2
    check(name + ": under load the model's HPA scales it up", wait_until(model_up, 60, 0.5),
          c2.get(d, "models", "irisa0").get("spec"))
    srv = wait_until(lambda: c2.status_of(d, "servers", "mlserver").get("replicas", 0) >= 2, 60, 0.5)
    check(name + ": the Server goes up too (%s)" % ("its HPA" if server_hpa else "natively"), srv,
          c2.get(d, "servers", "mlserver"))
    avail = wait_until(lambda: (model_up() and
                                c2.status_of(d, "models", "irisa0").get("availableReplicas", 0) >= 2), 50, 0.5)
    check(name + ": the model is loaded on two server replicas or more", avail,
          c2.status_of(d, "models", "irisa0"))
    load.wait(120)
    codes = load.codes()
    check(name + ": no request failed under load (hey: all 200)",
          codes.get(200, 0) > 0 and set(codes) == {200}, load.out[-1500:])
    print("%s: the model %s ahead of its server (ScheduleFailed seen %d times)" %
          (name, "ran" if seen_sf else "never ran", len(seen_sf)), flush=True)
    down = wait_until(lambda: c2.spec_replicas(d, "models", "irisa0") == 1, 60, 0.5)
    check(name + ": without load the model goes back to 1", down, c2.get(d, "models", "irisa0").get("spec"))
    sdown = wait_until(lambda: c2.status_of(d, "servers", "mlserver").get("replicas") == 1, 60, 0.5)
    check(name + ": and its Server to 1 replica", sdown, c2.get(d, "servers", "mlserver"))
    check(name + ": the model answers", c2.infer(gw, "irisa0")[0] == 200)
    rc, out, _ = d.kubectl("describe", "hpa", "irisa0-model-hpa", "-n", c2.NS)
    check(name + ": describe hpa shows SuccessfulRescale", "SuccessfulRescale" in out, out[-1500:])
    rc, out, err = d.kubectl("delete", "-f", hpa_file)
    check(name + ": the HPA(s) deleted", rc == 0, out + err)


def main():
    work = tempfile.mkdtemp(prefix="ss-core2h-")
    model_dir = c2.train_iris(SOURCE, os.path.join(work, "iris"))
    path = os.path.join(work, "irisa0.yaml")
    with open(path, "w") as f:
        f.write(MODEL % model_dir)
    d = Daemon(BINARY, extra_args=["--autoscale-sync-ms", "1000",
                                   "--adapter-config", adapter_config(os.path.join(work, "adapter.yaml"))])
    try:
        d.start([os.path.join(SOURCE, "examples/core2/server.yaml"), path])
        rc, out, err = d.kubectl("wait", "--for=condition=Ready", "model/irisa0", "-n", c2.NS,
                                 "--timeout=90s", timeout=120)
        check("the model is Ready", rc == 0, out + err)
        run_mode(d, "model HPA, server native", hpas(os.path.join(work, "m.yaml"), False), False)
        run_mode(d, "model and server HPA", hpas(os.path.join(work, "ms.yaml"), True), True)
    except Exception as e:  # noqa: BLE001 -- report, then clean up
        import traceback
        traceback.print_exc()
        check("no exception", False, repr(e))
    finally:
        stop_daemon(d, checks, work, tail=4000)
    sys.exit(checks.finish())


if __name__ == "__main__":
    main()
