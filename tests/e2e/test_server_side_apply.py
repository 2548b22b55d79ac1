#!/usr/bin/env python3
"""End-to-end: server-side apply with the machine's kubectl and the
official Python client.

kubectl apply --server-side creates the example SeldonDeployment, which
becomes ready; applying it again changes nothing (same resourceVersion);
kubectl scale takes spec.replicas, so another field manager's apply of
replicas 1 is refused naming .spec.replicas and the scale's manager, and
wins with --force-conflicts; --show-managed-fields shows the managers (and
a plain get does not); dryRun stores nothing; the Python client's
DynamicClient.server_side_apply creates and updates, and gets a 409 on a
conflict.

Usage: test_server_side_apply.py SERVESCALE_BINARY SOURCE_DIR
"""
import os
import sys

# Debian's python3-kubernetes lives in the system interpreter's packages:
# run there when the interpreter CTest found does not have it.
try:
    import kubernetes  # noqa: F401
except ImportError:
    if os.path.exists("/usr/bin/python3") and os.path.realpath(sys.executable) != \
            os.path.realpath("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    print("FAIL  the kubernetes Python client is installed (python3-kubernetes)")
    print("0 passed, 1 failed")
    sys.exit(1)

import json  # noqa: E402

import yaml  # noqa: E402
from kubernetes import config, dynamic  # noqa: E402
from kubernetes.client.rest import ApiException  # noqa: E402

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ss_e2e import Checks, Daemon, stop_all, args_or_default  # noqa: E402

BINARY, SOURCE = args_or_default()
NS = "seldon"
EXAMPLE = os.path.join(SOURCE, "examples", "model_with_keda_prom.yaml")
checks = Checks()
check = checks.check


def get(d, ns=NS, name="seldon-model"):
    rc, out, err = d.kubectl("get", "sdep", name, "-n", ns, "-o", "json")
    return json.loads(out) if rc == 0 else {}


def managers(obj):
    return sorted((e["manager"], e["operation"], e.get("subresource", ""))
                  for e in obj.get("metadata", {}).get("managedFields", []))


def with_replicas(n):
    with open(EXAMPLE) as f:
        doc = yaml.safe_load(f)
    doc["spec"]["replicas"] = n
    return yaml.safe_dump(doc)


def kubectl_part(d):
    rc, out, err = d.kubectl("apply", "--server-side", "-f", EXAMPLE, "-n", NS)
    check("kubectl apply --server-side: serverside-applied",
          rc == 0 and "seldondeployment.machinelearning.seldon.io/seldon-model serverside-applied"
          in out, out + err)
    rc, out, err = d.kubectl("wait", "--for=condition=ready", "sdep/seldon-model", "-n", NS,
                             "--timeout=60s", timeout=75)
    check("the applied SeldonDeployment becomes ready", rc == 0, out + err)

    # the controller may write status in between: compare the apply's own
    # answer with the object read just before it, a few times at most
    same = False
    for _ in range(5):
        before = get(d)
        rc, out, err = d.kubectl("apply", "--server-side", "-f", EXAMPLE, "-n", NS, "-o", "json")
        after = json.loads(out) if rc == 0 else {}
        same = after.get("metadata", {}).get("resourceVersion") == \
            before["metadata"]["resourceVersion"]
        if same or rc != 0:
            break
    check("re-apply: changes nothing (same resourceVersion)", rc == 0 and same,
          (before.get("metadata", {}).get("resourceVersion"),
           after.get("metadata", {}).get("resourceVersion"), err))
    rc, out, err = d.kubectl("apply", "--server-side", "-f", EXAMPLE, "-n", NS)
    check("re-apply prints serverside-applied", rc == 0 and "serverside-applied" in out, out + err)

    rc, out, err = d.kubectl("scale", "sdep/seldon-model", "-n", NS, "--replicas=2")
    check("kubectl scale sdep --replicas=2", rc == 0 and get(d)["spec"].get("replicas") == 2,
          out + err)
    rc, out, err = d.kubectl("apply", "--server-side", "--field-manager=ci", "-n", NS, "-f", "-",
                             stdin=with_replicas(1))
    check("another manager's apply of replicas 1: a conflict naming .spec.replicas and kubectl",
          rc != 0 and "Apply failed with 1 conflict" in err and ".spec.replicas" in err
          and 'conflict with "kubectl"' in err and get(d)["spec"].get("replicas") == 2, out + err)
    rc, out, err = d.kubectl("apply", "--server-side", "--field-manager=ci", "--force-conflicts",
                             "-n", NS, "-f", "-", stdin=with_replicas(1))
    obj = get(d)
    check("--force-conflicts: it wins (replicas 1)",
          rc == 0 and "serverside-applied" in out and obj["spec"].get("replicas") == 1, out + err)

    rc, out, err = d.kubectl("get", "sdep", "seldon-model", "-n", NS, "-o", "yaml",
                             "--show-managed-fields")
    shown = yaml.safe_load(out) if rc == 0 else {}
    mine = managers(shown)
    check("--show-managed-fields: kubectl's and ci's Apply entries, FieldsV1",
          ("kubectl", "Apply", "") in mine and ("ci", "Apply", "") in mine
          and all(e.get("fieldsType") == "FieldsV1" and e.get("time")
                  for e in shown["metadata"]["managedFields"]), mine)
    ci = [e for e in shown["metadata"]["managedFields"] if e["manager"] == "ci"]
    check("ci owns f:spec.f:replicas", ci and "f:replicas" in ci[0]["fieldsV1"].get("f:spec", {}),
          ci)
    check("kubectl's scale entry gave up .spec.replicas",
          not any(e.get("subresource") == "scale" and "f:replicas" in
                  json.dumps(e.get("fieldsV1")) for e in shown["metadata"]["managedFields"]), mine)
    rc, out, err = d.kubectl("get", "sdep", "seldon-model", "-n", NS, "-o", "yaml")
    check("a plain get -o yaml does not show managedFields",
          rc == 0 and "managedFields" not in out, out[:300])

    rc, out, err = d.kubectl("apply", "--server-side", "--dry-run=server", "-n", "dry", "-f",
                             EXAMPLE)
    rc2, out2, err2 = d.kubectl("get", "sdep", "-n", "dry", "-o", "name")
    check("--dry-run=server: answered, nothing stored",
          rc == 0 and "serverside-applied (server dry run)" in out and out2.strip() == "",
          out + err + out2 + err2)


def python_part(d):
    api_client = config.new_client_from_config(config_file=d.kubeconfig)
    dyn = dynamic.DynamicClient(api_client)
    sdeps = dyn.resources.get(api_version="machinelearning.seldon.io/v1", kind="SeldonDeployment")
    body = {
        "apiVersion": "machinelearning.seldon.io/v1", "kind": "SeldonDeployment",
        "metadata": {"name": "py-model", "labels": {"team": "a"}},
        "spec": {"predictors": [{
            "name": "example", "graph": {"name": "classifier", "type": "MODEL"},
            "componentSpecs": [{"spec": {"containers": [
                {"name": "classifier", "image": "seldonio/mock_classifier:1.0"}]}}]}]},
    }
    # the client (22.x) sends a dict body only as JSON content types: an
    # apply's body goes as the YAML text, as its users write it
    got = dyn.server_side_apply(sdeps, body=yaml.safe_dump(body), name="py-model",
                                namespace="pyclient", field_manager="py")
    mf = got.to_dict()["metadata"].get("managedFields", [])
    check("python DynamicClient.server_side_apply creates, managed by py",
          got.metadata.name == "py-model" and any(e["manager"] == "py" and
                                                  e["operation"] == "Apply" for e in mf), mf)
    body["metadata"]["labels"] = {"team": "b"}
    try:
        dyn.server_side_apply(sdeps, body=yaml.safe_dump(body), name="py-model",
                              namespace="pyclient", field_manager="other")
        check("python: another manager's change of a label is a 409", False, "no error")
    except ApiException as e:
        status = json.loads(e.body)
        causes = status.get("details", {}).get("causes", [])
        check("python: another manager's change of a label is a 409 naming the field",
              e.status == 409 and causes and causes[0]["field"] == ".metadata.labels.team"
              and causes[0]["reason"] == "FieldManagerConflict", e.body)
    del body["metadata"]["labels"]
    got = dyn.server_side_apply(sdeps, body=json.dumps(body), name="py-model",
                                namespace="pyclient", field_manager="py")
    check("python: py stops applying its label, which goes",
          not (got.metadata.labels or {}).get("team"), got.metadata.labels)


def main():
    d = Daemon(BINARY)
    try:
        d.start()
        kubectl_part(d)
        python_part(d)
    finally:
        d.stop()
        stop_all()
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
