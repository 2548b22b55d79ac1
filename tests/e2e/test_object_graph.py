#!/usr/bin/env python3
"""End-to-end: the objects a cluster would show, with the machine's kubectl.
The seed notebook "Scale Seldon Deployments based on Prometheus metrics"
runs, verbatim:

    kubectl get deployment seldon-model-example-0-classifier -n seldon
    kubectl get deployment -n seldon seldon-model-example-0-classifier -o json   (.status.replicas)
    kubectl get deployment/seldon-model-example-0-classifier -n seldon scaledobject/seldon-model-example-0-classifier

Each SeldonDeployment owns one apps/v1 Deployment per componentSpec
container (ownerReferences), whose spec.replicas and status follow what
runs; `kubectl rollout status` waits on it; `kubectl get all` lists what a
cluster lists; deleting the SeldonDeployment deletes its Deployments.

Usage: test_object_graph.py SERVESCALE_BINARY SOURCE_DIR
"""
import json
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ss_e2e import Checks, Daemon, stop_all, wait_until, args_or_default  # noqa: E402

BINARY, SOURCE = args_or_default()
EXAMPLES = os.path.join(SOURCE, "examples")
NS = "seldon"
DEP = "seldon-model-example-0-classifier"
checks = Checks()
check = checks.check

PLAIN = """apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata:
  name: plain
spec:
  predictors:
  - name: main
    replicas: 1
    graph: {name: classifier, type: MODEL}
    componentSpecs:
    - spec:
        containers:
        - name: classifier
          image: seldonio/mock_classifier:1.0
"""


def columns(out):
    lines = [l for l in out.splitlines() if l.strip()]
    return [l.split() for l in lines]


def deployment(d, name, ns):
    rc, out, err = d.kubectl("get", "deployment", "-n", ns, name, "-o", "json")
    try:
        return json.loads(out) if rc == 0 else None
    except ValueError:
        return None


def seed_commands(d):
    # the notebook applies the Prometheus operator's PodMonitor first
    pm = os.path.join(EXAMPLES, "pod-monitor.yaml")
    rc, out, err = d.kubectl("apply", "-f", pm)
    check("kubectl apply -f pod-monitor.yaml: created",
          rc == 0 and "podmonitor.monitoring.coreos.com/seldon-podmonitor created" in out, out + err)
    rc, out, err = d.kubectl("apply", "-f", pm)
    check("... again: podmonitor.monitoring.coreos.com/seldon-podmonitor unchanged (the seed's "
          "output)", rc == 0 and "seldon-podmonitor unchanged" in out, out + err)
    rc, out, err = d.kubectl("get", "podmonitor", "seldon-podmonitor", "-n", "seldon-monitoring",
                             "-o", "json")
    spec = json.loads(out).get("spec", {}) if rc == 0 else {}
    check("kubectl get podmonitor: stored as written",
          spec.get("selector", {}).get("matchLabels") == {"seldon.io/model": "true"}, spec)
    rc, out, err = d.kubectl("apply", "-f", os.path.join(EXAMPLES, "model_with_keda_prom.yaml"),
                             "-n", NS)
    check("the seed's KEDA example applies in namespace seldon", rc == 0, (out, err))
    rc, out, err = d.kubectl("wait", "--for=condition=ready", "sdep/seldon-model", "-n", NS,
                             "--timeout=60s", timeout=75)
    check("it becomes ready", rc == 0, (out, err))

    ok = wait_until(lambda: columns(d.kubectl("get", "deployment", DEP, "-n", NS)[1])[1:2]
                    and columns(d.kubectl("get", "deployment", DEP, "-n", NS)[1])[1][1] == "1/1", 30)
    rc, out, err = d.kubectl("get", "deployment", DEP, "-n", NS)
    rows = columns(out)
    check("kubectl get deployment %s -n seldon: NAME READY UP-TO-DATE AVAILABLE AGE" % DEP,
          ok and rc == 0 and rows[0] == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
          and rows[1][:4] == [DEP, "1/1", "1", "1"], (rc, out, err))

    obj = deployment(d, DEP, NS)
    check("kubectl get deployment -o json: .status.replicas is 1 (the notebook's getNumberPods)",
          obj is not None and obj["status"]["replicas"] == 1, obj and obj.get("status"))
    sdep = d.get_sdep(NS, "seldon-model")
    refs = (obj or {}).get("metadata", {}).get("ownerReferences", [])
    check("the Deployment is owned by the SeldonDeployment (controller, its uid)",
          sdep and len(refs) == 1 and refs[0].get("kind") == "SeldonDeployment"
          and refs[0].get("uid") == sdep["metadata"]["uid"] and refs[0].get("controller") is True,
          refs)
    spec = (obj or {}).get("spec", {})
    check("spec: replicas, selector, the PodSpec kept (the cpu request as written)",
          spec.get("replicas") == 1 and spec.get("selector", {}).get("matchLabels")
          and spec["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"] == "0.5",
          spec)
    conds = {c["type"]: c for c in (obj or {}).get("status", {}).get("conditions", [])}
    check("status: observedGeneration, Available and Progressing conditions",
          obj and obj["status"].get("observedGeneration") == obj["metadata"].get("generation")
          and conds.get("Available", {}).get("status") == "True"
          and conds.get("Progressing", {}).get("reason") == "NewReplicaSetAvailable", obj and obj.get("status"))

    wait_until(lambda: d.kubectl("get", "scaledobject/" + DEP, "-n", NS)[0] == 0, 20)
    rc, out, err = d.kubectl("get", "deployment/" + DEP, "-n", NS, "scaledobject/" + DEP)
    rows = columns(out)
    dep_row = next((r for r in rows if r[0] == "deployment.apps/" + DEP), None)
    so_head = next((r for r in rows if r[:3] == ["NAME", "SCALETARGETKIND", "SCALETARGETNAME"]),
                   None)
    so_row = next((r for r in rows if r[0] == "scaledobject.keda.sh/" + DEP), None)
    check("kubectl get deployment/X scaledobject/X: the Deployment's row", dep_row is not None
          and dep_row[1:4] == ["1/1", "1", "1"], out + err)
    check("... and KEDA's columns for the ScaledObject",
          so_head == ["NAME", "SCALETARGETKIND", "SCALETARGETNAME", "MIN", "MAX", "TRIGGERS",
                      "AUTHENTICATION", "READY", "ACTIVE", "FALLBACK", "PAUSED", "AGE"], out)
    check("... apps/v1.Deployment, the target, 1, 5, prometheus",
          so_row is not None and so_row[1:6] == ["apps/v1.Deployment", DEP, "1", "5", "prometheus"],
          so_row)

    rc, out, err = d.kubectl("rollout", "status", "deployment/" + DEP, "-n", NS, "--timeout=30s",
                             timeout=45)
    check("kubectl rollout status: successfully rolled out",
          rc == 0 and "successfully rolled out" in out, (rc, out, err))
    # KEDA's operator makes it once it has reconciled the ScaledObject: a
    # client waits for it, as on a cluster
    def keda_hpa():
        r = d.kubectl("get", "hpa", "keda-hpa-" + DEP, "-n", NS, "-o", "json")
        return r if r[0] == 0 else None
    rc, out, err = wait_until(keda_hpa, 20, 0.5) or (1, "", "")
    hpa = json.loads(out) if rc == 0 else {}
    refs = hpa.get("metadata", {}).get("ownerReferences", [{}])
    check("the ScaledObject's HPA keda-hpa-%s, owned by it, aimed at the Deployment, one External "
          "metric s0-prometheus" % DEP,
          refs[0].get("kind") == "ScaledObject"
          and hpa.get("spec", {}).get("scaleTargetRef", {}).get("name") == DEP
          and [m["external"]["metric"]["name"] for m in hpa["spec"].get("metrics", [])]
          == ["s0-prometheus"], hpa)
    rc, out, err = d.kubectl("get", "hpa", "-n", NS)
    check("kubectl get hpa shows it: Deployment/NAME, TARGETS <unknown>/10 (avg)",
          "keda-hpa-" + DEP in out and "Deployment/" + DEP in out and "/10 (avg)" in out, out)


def follows_scale(d):
    rc, out, err = d.kubectl("apply", "-f", "-", "-n", NS, stdin=PLAIN)
    check("a SeldonDeployment without an autoscaler applies", rc == 0, err)
    name = "plain-main-0-classifier"
    ok = wait_until(lambda: (deployment(d, name, NS) or {}).get("status", {})
                    .get("availableReplicas") == 1, 60)
    check("its Deployment %s runs 1" % name, ok, deployment(d, name, NS))
    rc, out, err = d.kubectl("scale", "sdep/plain", "-n", NS, "--replicas=3")
    check("kubectl scale sdep/plain --replicas=3: scaled, with kubectl's Warning that the "
          "predictor's own replicas win (Seldon's precedence)",
          rc == 0 and "Warning: spec.replicas does not size predictor main" in err
          and "the predictor's replicas (1) win" in err, err)
    rc, out, err = d.kubectl("get", "events", "-n", NS, "--field-selector",
                             "involvedObject.name=plain")
    check("... and an event ScaleNotApplied says so", "ScaleNotApplied" in out, out + err)
    # the predictor's replicas win over spec.replicas in Seldon: patch the predictor
    rc, out, err = d.kubectl("patch", "sdep", "plain", "-n", NS, "--type=json", "-p",
                             '[{"op":"replace","path":"/spec/predictors/0/replicas","value":3}]')
    check("the predictor's replicas patched to 3", rc == 0, err)
    ok = wait_until(lambda: (deployment(d, name, NS) or {}).get("status", {})
                    .get("availableReplicas") == 3, 60)
    obj = deployment(d, name, NS)
    check("the Deployment's spec.replicas and status follow: 3 of 3 available",
          ok and obj["spec"]["replicas"] == 3 and obj["status"]["readyReplicas"] == 3
          and obj["metadata"]["generation"] == 2 and obj["status"]["observedGeneration"] == 2,
          obj and (obj["spec"].get("replicas"), obj["status"]))
    rc, out, err = d.kubectl("rollout", "status", "deployment/" + name, "-n", NS,
                             "--timeout=30s", timeout=45)
    check("rollout status after the scale", rc == 0 and "successfully rolled out" in out, out + err)

    rc, out, err = d.kubectl("get", "all", "-n", NS)
    check("kubectl get all -n seldon lists pods and Deployments, as on a cluster",
          rc == 0 and "deployment.apps/" + name in out and "deployment.apps/" + DEP in out
          and "pod/" + name in out, out + err)

    rc, out, err = d.kubectl("delete", "sdep", "plain", "-n", NS, "--cascade=orphan")
    check("kubectl delete --cascade=orphan is refused, saying why, and nothing is deleted",
          rc != 0 and "Orphan is not supported" in err and deployment(d, name, NS) is not None,
          err)
    rc, out, err = d.kubectl("delete", "sdep", "plain", "-n", NS)
    check("delete sdep/plain", rc == 0, err)
    gone = wait_until(lambda: deployment(d, name, NS) is None, 20)
    check("its Deployment is deleted with it (garbage collection by owner)", gone)
    check("the other SeldonDeployment's Deployment stays", deployment(d, DEP, NS) is not None)
    rc, out, err = d.kubectl("delete", "sdep", "seldon-model", "-n", NS)
    gone = wait_until(lambda: deployment(d, DEP, NS) is None, 20)
    check("deleting the seed's SeldonDeployment deletes its Deployment", rc == 0 and gone, err)
    gone = wait_until(lambda: d.kubectl("get", "hpa", "keda-hpa-" + DEP, "-n", NS)[0] != 0
                      and d.kubectl("get", "scaledobject", DEP, "-n", NS)[0] != 0, 20)
    check("... and its ScaledObject and keda-hpa HPA", gone)


def scale_deployments(d):
    """kubectl scale deployment: /scale on Deployments, with the ownership
    rules: a Deployment without an autoscaler returns to its
    SeldonDeployment's count; an autoscaled one scaled out of range is
    brought back by its HPA, as on a cluster."""
    ns = "scaling"
    rc, out, err = d.kubectl("apply", "-f", os.path.join(SOURCE, "tests", "cases",
                                                         "valid-plain.yaml"), "-n", ns)
    rc2, out2, err2 = d.kubectl("apply", "-f", os.path.join(EXAMPLES, "seldon-0.2.7-hpaspec.json"),
                                "-n", ns + "-hpa")
    check("(scale) a plain and an hpaSpec SeldonDeployment apply", rc == 0 and rc2 == 0,
          err + err2)
    ok = wait_until(lambda: (deployment(d, DEP, ns) or {}).get("status", {})
                    .get("availableReplicas") == 1
                    and (deployment(d, DEP, ns + "-hpa") or {}).get("status", {})
                    .get("availableReplicas") == 1, 60)
    check("(scale) both Deployments run 1", ok)
    rc, out, err = d.kubectl("get", "--raw", "/apis/apps/v1/namespaces/%s/deployments/%s/scale"
                             % (ns, DEP))
    scale = json.loads(out) if rc == 0 else {}
    check("(scale) GET .../scale: spec.replicas 1 and the Deployment's selector",
          scale.get("spec", {}).get("replicas") == 1
          and scale.get("status", {}).get("selector") == "app=%s,seldon-deployment-id=seldon-model"
          % DEP, scale)
    rc, out, err = d.kubectl("scale", "deployment", DEP, "-n", ns, "--replicas=3")
    check("(scale) kubectl scale deployment: scaled", rc == 0 and "scaled" in out, err)
    back = wait_until(lambda: (deployment(d, DEP, ns) or {}).get("spec", {}).get("replicas") == 1
                      and (deployment(d, DEP, ns) or {})["metadata"]["generation"] >= 3, 20)
    check("(scale) without an autoscaler the SeldonDeployment's count comes back (as Seldon's "
          "operator does)", back, deployment(d, DEP, ns))
    rc, out, err = d.kubectl("scale", "deployment", DEP, "-n", ns, "--replicas=1001")
    check("(scale) 1001 replicas: 422 naming the limit", rc != 0 and "1000" in err, err)
    # the autoscaler stores the HPA at its first sync: wait for it under load
    wait_until(lambda: len(columns(d.kubectl("get", "hpa", "-n", ns + "-hpa")[1])) > 1, 30)
    rc, out, err = d.kubectl("get", "hpa", "-n", ns + "-hpa")
    rows = columns(out)
    check("(scale) kubectl get hpa: kubectl's columns, REFERENCE Deployment/NAME, TARGETS cpu",
          rows and rows[0] == ["NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS",
                               "AGE"]
          and len(rows) > 1 and rows[1][1] == "Deployment/" + DEP and rows[1][2] == "cpu:", out)
    hpa_max = int(rows[1][-3]) if len(rows) > 1 and rows[1][-3].isdigit() else 0
    rc, out, err = d.kubectl("scale", "deployment", DEP, "-n", ns + "-hpa", "--replicas=50")
    check("(scale) the hpaSpec Deployment scaled by hand to 50", rc == 0, err)
    back = wait_until(lambda: (deployment(d, DEP, ns + "-hpa") or {}).get("spec", {})
                      .get("replicas") == hpa_max, 40)
    check("(scale) its HPA brings it back to maxReplicas (%d), as on a cluster" % hpa_max,
          hpa_max > 0 and back, deployment(d, DEP, ns + "-hpa"))
    rc, out, err = d.kubectl("scale", "sdep/seldon-model", "-n", ns + "-hpa", "--replicas=1")
    after = (deployment(d, DEP, ns + "-hpa") or {}).get("spec", {}).get("replicas")
    check("(scale) kubectl scale sdep does not move an autoscaled Deployment, and says so",
          rc == 0 and after == hpa_max and "its autoscaler sets its replicas" in err,
          (after, err))
    d.kubectl("delete", "sdep", "seldon-model", "-n", ns)
    d.kubectl("delete", "sdep", "seldon-model", "-n", ns + "-hpa")


def pods_of_deployments(d):
    """Pods are owned by their Deployment; kubectl delete pod: the
    Deployment replaces it."""
    ns = "pods"
    rc, out, err = d.kubectl("apply", "-f", os.path.join(SOURCE, "tests", "cases",
                                                         "valid-plain.yaml"), "-n", ns)
    d.kubectl("scale", "sdep/seldon-model", "-n", ns, "--replicas=2")
    ok = wait_until(lambda: (deployment(d, DEP, ns) or {}).get("status", {})
                    .get("availableReplicas") == 2, 60)
    check("(pods) a Deployment running 2", rc == 0 and ok, err)
    dep = deployment(d, DEP, ns) or {}
    rc, out, err = d.kubectl("get", "pods", "-n", ns, "-l", "app=" + DEP, "-o", "json")
    pods = json.loads(out)["items"] if rc == 0 else []
    refs = [p["metadata"].get("ownerReferences", [{}])[0] for p in pods]
    check("(pods) kubectl get pods -l app=...: 2, each owned by the Deployment (its uid)",
          len(pods) == 2 and all(r.get("kind") == "Deployment" and r.get("name") == DEP
                                 and r.get("uid") == dep.get("metadata", {}).get("uid")
                                 for r in refs), refs)
    check("(pods) each has the pod-template-hash label",
          pods and all(p["metadata"]["labels"].get("pod-template-hash") for p in pods),
          [p["metadata"]["labels"] for p in pods])
    names = sorted(p["metadata"]["name"] for p in pods)
    rc, out, err = d.kubectl("delete", "pod", names[0] if names else "none", "-n", ns)
    check("(pods) kubectl delete pod", rc == 0 and "deleted" in out, (out, err))

    def replaced():
        rc, out, _ = d.kubectl("get", "pods", "-n", ns, "-l", "app=" + DEP, "-o", "json")
        items = json.loads(out)["items"] if rc == 0 else []
        now = sorted(p["metadata"]["name"] for p in items
                     if p.get("status", {}).get("phase") == "Running"
                     and all(c.get("ready") for c in p["status"].get("containerStatuses", [])))
        return len(now) == 2 and names and names[0] not in now and now
    got = wait_until(replaced, 60)
    check("(pods) the Deployment replaced it: 2 ready pods, the deleted one gone", got, got)
    rc, out, err = d.kubectl("delete", "pod", "no-such-pod", "-n", ns)
    check("(pods) deleting a pod that is not there: NotFound", rc != 0 and "NotFound" in err, err)
    d.kubectl("delete", "sdep", "seldon-model", "-n", ns)


def survives_restart(binary):
    """A restart keeps the Deployments (same uid: nothing is recreated), and
    they still go with their owner."""
    d = Daemon(binary)
    try:
        d.start()
        rc, out, err = d.kubectl("apply", "-f", "-", "-n", "default", stdin=PLAIN)
        ok = wait_until(lambda: deployment(d, "plain-main-0-classifier", "default"), 30)
        check("(restart) a Deployment exists", rc == 0 and ok, err)
        uid = (deployment(d, "plain-main-0-classifier", "default") or {}).get("metadata", {}).get("uid")
        d.stop()
        d2 = Daemon(binary, state_dir=d.state_dir)
        d2.start()
        after = deployment(d2, "plain-main-0-classifier", "default") or {}
        check("(restart) the same Deployment (uid) is there after a restart",
              uid and after.get("metadata", {}).get("uid") == uid, (uid, after.get("metadata")))
        d2.kubectl("delete", "sdep", "plain", "-n", "default")
        gone = wait_until(lambda: deployment(d2, "plain-main-0-classifier", "default") is None, 20)
        check("(restart) and goes with its owner", gone)
        d2.stop()
    finally:
        d.stop()
        d.cleanup()


def main():
    d = Daemon(BINARY)
    try:
        d.start()
        seed_commands(d)
        follows_scale(d)
        scale_deployments(d)
        pods_of_deployments(d)
    finally:
        d.stop()
        if checks.failed:
            print(d.stderr()[-3000:])
        d.cleanup()
    survives_restart(BINARY)


if __name__ == "__main__":
    try:
        main()
    finally:
        stop_all()
    sys.exit(checks.finish())
