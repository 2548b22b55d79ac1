#!/usr/bin/env python3
"""End-to-end: autoscalers as ordinary resources, with the machine's kubectl.

A user's own HorizontalPodAutoscaler (autoscaling/v2 YAML, kubectl apply)
aimed at a SeldonDeployment, and one aimed at a Deployment, both scale
under load and come back; a user's ScaledObject scales a Deployment; a bad
spec is refused naming the field; an autoscaler the SeldonDeployment
controller owns is put back when edited and goes with its owner, while a
user's stays (and says its target is gone); removing a user's HPA hands
the Deployment back to its SeldonDeployment's count.

Usage: test_user_hpa.py SERVESCALE_BINARY SOURCE_DIR
"""
import json
import os
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ss_e2e import Checks, Daemon, Load, stop_all, wait_until, args_or_default  # noqa: E402

BINARY, SOURCE = args_or_default()
NS = "users"
checks = Checks()
check = checks.check


def sdep_yaml(name):
    """No replicas of its own on the predictor: spec.replicas (the
    SeldonDeployment's /scale) sizes it, as in Seldon. Each request burns
    10 ms of CPU against a 100m request."""
    return """apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata:
  name: %s
spec:
  replicas: 1
  predictors:
  - name: main
    graph:
      name: classifier
      type: MODEL
      parameters: [{name: cpu_ms, value: "10", type: INT}]
    componentSpecs:
    - spec:
        containers:
        - name: classifier
          image: seldonio/mock_classifier:1.0
          resources: {requests: {cpu: 100m}}
""" % name


def hpa_yaml(name, kind, api_version, target):
    return """apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: %s
  annotations: {servescale.io/sync-period-ms: "1000"}
spec:
  scaleTargetRef: {apiVersion: %s, kind: %s, name: %s}
  minReplicas: 1
  maxReplicas: 3
  metrics:
  - type: Resource
    resource:
      name: cpu
      target: {type: Utilization, averageUtilization: 20}
  behavior:
    scaleDown: {stabilizationWindowSeconds: 3}
""" % (name, api_version, kind, target)


def get_json(d, *args):
    rc, out, err = d.kubectl("get", *args, "-o", "json")
    try:
        return json.loads(out) if rc == 0 else None
    except ValueError:
        return None


def dep_replicas(d, name):
    obj = get_json(d, "deployment", name, "-n", NS) or {}
    return obj.get("spec", {}).get("replicas"), obj.get("status", {}).get("readyReplicas", 0)


def cond(obj, type_):
    for c in (obj or {}).get("status", {}).get("conditions", []):
        if c.get("type") == type_:
            return c
    return {}


def bad_specs(d):
    rc, out, err = d.kubectl("apply", "-n", NS, "-f", "-",
                             stdin=hpa_yaml("bad", "Deployment", "apps/v1", "x")
                             .replace("maxReplicas: 3", "maxReplicas: 0"))
    check("an HPA with maxReplicas 0 is refused, naming spec.maxReplicas",
          rc != 0 and "spec.maxReplicas" in err, err)
    rc, out, err = d.kubectl("apply", "-n", NS, "-f", "-", stdin="""apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: bad}
spec:
  scaleTargetRef: {name: x}
  triggers: [{type: prometheus, metadata: {query: up}}]
""")
    check("a ScaledObject whose trigger has no threshold is refused, naming the field",
          rc != 0 and "spec.triggers[0].metadata.threshold" in err, err)
    check("... and nothing was stored", d.kubectl("get", "hpa,scaledobject", "bad", "-n", NS)[0] != 0)


def scale_under_load(d):
    for name in ("a", "b"):
        rc, out, err = d.kubectl("apply", "-n", NS, "-f", "-", stdin=sdep_yaml(name))
        check("SeldonDeployment %s applies" % name, rc == 0, err)
    da, db = "a-main-0-classifier", "b-main-0-classifier"
    ok = wait_until(lambda: dep_replicas(d, da) == (1, 1) and dep_replicas(d, db) == (1, 1), 60)
    check("both run 1 replica", ok, (dep_replicas(d, da), dep_replicas(d, db)))
    rc, out, err = d.kubectl("apply", "-n", NS, "-f", "-",
                             stdin=hpa_yaml("on-sdep", "SeldonDeployment",
                                            "machinelearning.seldon.io/v1", "a"))
    check("kubectl apply of a user's HPA aimed at SeldonDeployment a: created",
          rc == 0 and "horizontalpodautoscaler.autoscaling/on-sdep created" in out, out + err)
    rc, out, err = d.kubectl("apply", "-n", NS, "-f", "-",
                             stdin=hpa_yaml("on-deploy", "Deployment", "apps/v1", db))
    check("... and one aimed at Deployment %s: created" % db, rc == 0, out + err)
    wait_until(lambda: cond(get_json(d, "hpa", "on-sdep", "-n", NS), "ScalingActive")
               .get("status") == "True", 30)
    rc, out, err = d.kubectl("get", "hpa", "-n", NS)
    check("kubectl get hpa: REFERENCE SeldonDeployment/a and Deployment/%s" % db,
          "SeldonDeployment/a" in out and "Deployment/" + db in out, out + err)

    loads = [Load(d.gateway + "/seldon/%s/%s/api/v1.0/predictions" % (NS, n)) for n in "ab"]
    for l in loads:
        l.start()
    try:
        up = wait_until(lambda: dep_replicas(d, da)[0] == 3 and dep_replicas(d, db)[0] == 3, 60)
        sdep = get_json(d, "sdep", "a", "-n", NS) or {}
        check("under load both scale to maxReplicas 3 (a through the SeldonDeployment's "
              "spec.replicas: %s)" % sdep.get("spec", {}).get("replicas"),
              up and sdep.get("spec", {}).get("replicas") == 3,
              (dep_replicas(d, da), dep_replicas(d, db)))
    finally:
        for l in loads:
            l.stop()
    check("no request failed under load (%d answered)" % sum(l.ok for l in loads),
          all(l.failed == 0 for l in loads), [l.failed for l in loads])
    down = wait_until(lambda: dep_replicas(d, da)[0] == 1 and dep_replicas(d, db)[0] == 1, 60)
    check("without load both come back to 1", down, (dep_replicas(d, da), dep_replicas(d, db)))
    rc, out, err = d.kubectl("get", "events", "-n", NS, "--field-selector",
                             "involvedObject.name=on-sdep")
    check("the scaling is recorded against the HPA (SuccessfulRescale)",
          "SuccessfulRescale" in out, out + err)
    rc, out, err = d.kubectl("describe", "hpa", "on-deploy", "-n", NS)
    check("kubectl describe hpa works", rc == 0 and "on-deploy" in out, out + err)

    # a user's HPA holds the Deployment's count; removed, the count is the
    # SeldonDeployment's again
    d.kubectl("scale", "deployment", db, "-n", NS, "--replicas=2")
    d.kubectl("delete", "hpa", "on-deploy", "-n", NS)
    d.kubectl("scale", "sdep", "b", "-n", NS, "--replicas=1")
    back = wait_until(lambda: dep_replicas(d, db)[0] == 1, 20)
    check("without its HPA the Deployment returns to its SeldonDeployment's count", back,
          dep_replicas(d, db))
    # the user's HPA outlives its target, and says it is gone
    rc, out, err = d.kubectl("delete", "sdep", "a", "-n", NS)
    gone = wait_until(lambda: get_json(d, "deployment", da, "-n", NS) is None, 20)
    check("deleting SeldonDeployment a deletes its Deployment", rc == 0 and gone, err)
    lost = wait_until(lambda: cond(get_json(d, "hpa", "on-sdep", "-n", NS), "AbleToScale")
                      .get("reason") == "FailedGetScale", 20)
    check("a user's HPA stays, AbleToScale False FailedGetScale",
          lost, get_json(d, "hpa", "on-sdep", "-n", NS))
    d.kubectl("delete", "sdep", "b", "-n", NS)


def user_scaled_object(d):
    rc, out, err = d.kubectl("apply", "-n", NS, "-f", "-", stdin=sdep_yaml("c"))
    dc = "c-main-0-classifier"
    ok = wait_until(lambda: dep_replicas(d, dc) == (1, 1), 60)
    check("SeldonDeployment c runs 1", rc == 0 and ok, err)
    rc, out, err = d.kubectl("apply", "-n", NS, "-f", "-", stdin="""apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: so-c
  annotations: {servescale.io/sync-period-ms: "500"}
spec:
  scaleTargetRef: {name: %s}
  minReplicaCount: 2
  maxReplicaCount: 4
  triggers:
  - type: cpu
    metricType: Utilization
    metadata: {value: "90"}
""" % dc)
    check("a user's ScaledObject aimed at the Deployment applies", rc == 0, out + err)
    ok = wait_until(lambda: dep_replicas(d, dc) == (2, 2), 40)
    check("it brings the Deployment to its minReplicaCount 2", ok, dep_replicas(d, dc))
    so = get_json(d, "scaledobject", "so-c", "-n", NS) or {}
    check("its status: Ready True, scaleTargetKind apps/v1.Deployment, hpaName keda-hpa-so-c",
          cond(so, "Ready").get("status") == "True"
          and so.get("status", {}).get("scaleTargetKind") == "apps/v1.Deployment"
          and so.get("status", {}).get("hpaName") == "keda-hpa-so-c", so.get("status"))
    rc, out, err = d.kubectl("delete", "scaledobject", "so-c", "-n", NS)
    gone = wait_until(lambda: d.kubectl("get", "hpa", "keda-hpa-so-c", "-n", NS)[0] != 0, 20)
    check("deleting it deletes the HPA KEDA made for it", rc == 0 and gone, err)
    d.kubectl("delete", "sdep", "c", "-n", NS)


def controller_owned(d):
    rc, out, err = d.kubectl("apply", "-n", NS, "-f",
                             os.path.join(SOURCE, "examples", "seldon-0.2.7-hpaspec.json"))
    dep = "seldon-model-example-0-classifier"
    ok = wait_until(lambda: get_json(d, "hpa", dep, "-n", NS) is not None, 30)
    hpa = get_json(d, "hpa", dep, "-n", NS) or {}
    refs = hpa.get("metadata", {}).get("ownerReferences", [{}])
    check("the hpaSpec's HPA is stored by the SeldonDeployment controller, owned by it",
          rc == 0 and ok and refs[0].get("kind") == "SeldonDeployment"
          and hpa.get("spec", {}).get("scaleTargetRef", {}).get("name") == dep, hpa)
    want = hpa.get("spec", {}).get("maxReplicas")
    rc, out, err = d.kubectl("patch", "hpa", dep, "-n", NS, "--type=merge", "-p",
                             '{"spec":{"maxReplicas":9}}')
    back = wait_until(lambda: (get_json(d, "hpa", dep, "-n", NS) or {})
                      .get("spec", {}).get("maxReplicas") == want, 20)
    check("an edit of it is put back by its controller (maxReplicas %s)" % want,
          rc == 0 and back, err)
    d.kubectl("delete", "sdep", "seldon-model", "-n", NS)
    gone = wait_until(lambda: get_json(d, "hpa", dep, "-n", NS) is None, 20)
    check("it goes with its SeldonDeployment", gone)


def main():
    d = Daemon(BINARY)
    try:
        d.start()
        bad_specs(d)
        controller_owned(d)
        user_scaled_object(d)
        scale_under_load(d)
    finally:
        d.stop()
        if checks.failed:
            print(d.stderr()[-3000:])
        d.cleanup()


if __name__ == "__main__":
    t0 = time.monotonic()
    try:
        main()
    finally:
        stop_all()
    print("(%.1f s)" % (time.monotonic() - t0))
    sys.exit(checks.finish())
