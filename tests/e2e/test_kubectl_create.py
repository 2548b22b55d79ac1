#!/usr/bin/env python3
"""End-to-end: kubectl's imperative commands, which send built-in kinds as
protobuf (application/vnd.kubernetes.protobuf), with the machine's kubectl.

kubectl create namespace makes a namespace kubectl get shows; kubectl create
deployment (with --replicas) makes a Deployment the daemon runs: rollout
status succeeds and its pods carry app=<name>; --dry-run=server with a port
and a command shows them decoded; kubectl autoscale (autoscaling/v1 in
kubectl 1.32) stores the autoscaling/v2 HPA with the cpu Utilization
metric aimed at the Deployment, also readable at v1. Bad protobuf is 400
naming the reason, a kind without a table is 415 saying to send JSON.

Usage: test_kubectl_create.py SERVESCALE_BINARY SOURCE_DIR
"""
import json
import os
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ss_e2e import Checks, Daemon, stop_all, args_or_default  # noqa: E402

BINARY, SOURCE = args_or_default()
NS = "apps"
IMAGE = "seldonio/mock_classifier:1.0"
PROTOBUF = "application/vnd.kubernetes.protobuf"
DEPLOYMENTS = "/apis/apps/v1/namespaces/%s/deployments" % NS
checks = Checks()
check = checks.check


def pb_varint(v):
    out = bytearray()
    while True:
        c, v = v & 0x7F, v >> 7
        out.append(c | (0x80 if v else 0))
        if not v:
            return bytes(out)


def pb_field(num, data):
    """A length-delimited field (strings and messages)."""
    if isinstance(data, str):
        data = data.encode()
    return pb_varint(num << 3 | 2) + pb_varint(len(data)) + data


def pb_body(api_version, kind, raw):
    """Kubernetes' envelope: magic, then runtime.Unknown {typeMeta, raw}."""
    type_meta = pb_field(1, api_version) + pb_field(2, kind)
    return b"k8s\0" + pb_field(1, type_meta) + pb_field(2, raw)


def kubectl_json(d, *args):
    rc, out, err = d.kubectl(*args, "-o", "json")
    try:
        return json.loads(out) if rc == 0 else None, err
    except ValueError:
        return None, out + err


def pods(d, selector):
    obj, _ = kubectl_json(d, "get", "pods", "-n", NS, "-l", selector)
    return obj["items"] if obj else []


def check_namespace(d):
    rc, out, err = d.kubectl("create", "namespace", "seldon")
    check("kubectl create namespace seldon: created",
          rc == 0 and "namespace/seldon created" in out, out + err)
    rc, out, err = d.kubectl("get", "ns", "seldon")
    check("kubectl get ns seldon: Active", rc == 0 and "seldon" in out and "Active" in out,
          out + err)


def check_deployment(d):
    rc, out, err = d.kubectl("create", "deployment", "web", "--image=" + IMAGE, "-n", NS,
                             "--replicas=2")
    check("kubectl create deployment web --replicas=2: created",
          rc == 0 and "deployment.apps/web created" in out, out + err)
    dep, err = kubectl_json(d, "get", "deployment", "web", "-n", NS)
    spec = (dep or {}).get("spec", {})
    containers = spec.get("template", {}).get("spec", {}).get("containers", [])
    check("the Deployment stored: replicas 2, selector app=web, the image",
          spec.get("replicas") == 2 and spec.get("selector") == {"matchLabels": {"app": "web"}}
          and len(containers) == 1 and containers[0].get("image") == IMAGE
          and dep["metadata"].get("labels") == {"app": "web"}, dep or err)
    rc, out, err = d.kubectl("rollout", "status", "deployment/web", "-n", NS, "--timeout=60s",
                             timeout=75)
    check("kubectl rollout status deployment/web: successfully rolled out",
          rc == 0 and "successfully rolled out" in out, out + err)
    got = pods(d, "app=web")
    running = [p for p in got if p.get("status", {}).get("phase") == "Running"]
    check("its 2 pods are listed with label app=web", len(got) == 2 and len(running) == 2,
          [p["metadata"]["name"] for p in got])

    # what kubectl adds from flags (a port, a command) decoded, and nothing
    # stored for a dry run
    rc, out, err = d.kubectl("create", "deployment", "dry", "--image=" + IMAGE, "-n", NS,
                             "--port=9000", "--dry-run=server", "-o", "json", "--", "sleep", "5")
    c = {}
    try:
        c = json.loads(out)["spec"]["template"]["spec"]["containers"][0] if rc == 0 else {}
    except (ValueError, KeyError, IndexError):
        pass
    check("--dry-run=server with --port and a command: decoded into ports and command",
          c.get("ports") == [{"containerPort": 9000}] and c.get("command") == ["sleep", "5"],
          out + err)
    rc, out, err = d.kubectl("get", "deployment", "dry", "-n", NS)
    check("a dry run stores nothing", rc != 0 and "NotFound" in err, out + err)


def check_autoscale(d):
    rc, out, err = d.kubectl("autoscale", "deployment", "web", "-n", NS, "--min=1", "--max=3",
                             "--cpu-percent=50")
    check("kubectl autoscale deployment web: autoscaled",
          rc == 0 and "horizontalpodautoscaler.autoscaling/web autoscaled" in out, out + err)
    hpa, err = kubectl_json(d, "get", "hpa", "web", "-n", NS)
    spec = (hpa or {}).get("spec", {})
    want_metrics = [{"type": "Resource", "resource": {
        "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}}]
    ref = spec.get("scaleTargetRef", {})
    check("kubectl get hpa web -o json: the autoscaling/v2 form, cpu 50% Utilization",
          (hpa or {}).get("apiVersion") == "autoscaling/v2" and spec.get("metrics") == want_metrics
          and spec.get("minReplicas") == 1 and spec.get("maxReplicas") == 3, hpa or err)
    check("its scaleTargetRef is Deployment/web",
          ref.get("kind") == "Deployment" and ref.get("name") == "web"
          and ref.get("apiVersion") == "apps/v1", ref)
    code, obj, _ = d.request("GET", "/apis/autoscaling/v1/namespaces/%s/horizontalpodautoscalers/web"
                             % NS)
    check("the same HPA read at autoscaling/v1: targetCPUUtilizationPercentage 50",
          code == 200 and obj.get("apiVersion") == "autoscaling/v1"
          and obj.get("spec", {}).get("targetCPUUtilizationPercentage") == 50, (code, obj))


def check_bad_bodies(d):
    name = pb_field(1, pb_field(1, "bad"))  # metadata {name}
    cases = [
        ("no magic", b"{\x00\x01", "magic"),
        ("a length past the end", pb_body("apps/v1", "Deployment", name)[:-2], "past the end"),
        ("a varint that never ends", b"k8s\0" + b"\xff" * 12, "bad varint"),
        ("a string where replicas (a number) goes",
         pb_body("apps/v1", "Deployment", name + pb_field(2, pb_field(1, "2"))),
         "spec.replicas: wire type length-delimited where varint is expected"),
    ]
    for what, body, reason in cases:
        code, obj, _ = d.request("POST", DEPLOYMENTS, body=body, content_type=PROTOBUF)
        msg = (obj or {}).get("message", "") if isinstance(obj, dict) else str(obj)
        check("bad protobuf (%s): 400 saying so" % what,
              code == 400 and reason in msg and (obj or {}).get("reason") == "BadRequest",
              (code, msg))
    code, obj, _ = d.request("POST", DEPLOYMENTS, body=pb_body("apps/v1", "ReplicaSet", name),
                             content_type=PROTOBUF)
    msg = obj.get("message", "") if isinstance(obj, dict) else str(obj)
    check("a kind without a table: 415 naming it, saying to send JSON",
          code == 415 and "apps/v1 ReplicaSet" in msg and "send it as JSON" in msg, (code, msg))
    code, obj, _ = d.request("POST", DEPLOYMENTS, body=pb_body("v1", "Namespace", name),
                             content_type=PROTOBUF)
    check("a Namespace body to the Deployments path: 400 (kind does not match)",
          code == 400 and "kind" in obj.get("message", ""), (code, obj))
    alive = d.alive()
    check("the daemon is still up", alive)


def main():
    d = Daemon(BINARY)
    try:
        d.start()
        check_namespace(d)
        check_deployment(d)
        check_autoscale(d)
        check_bad_bodies(d)
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
