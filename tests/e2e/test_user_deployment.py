#!/usr/bin/env python3
"""End-to-end: a user's own apps/v1 Deployment, with the machine's kubectl.

kubectl apply of a Deployment runs its pods (the image map's command for
its image), kubectl rollout status waits on it, its pods carry the
template's labels and an ownerReference to it, kubectl scale deployment
resizes it, deleting it stops its pods; a bad one is refused naming the
field; one servescale cannot run says why in its status.

Usage: test_user_deployment.py SERVESCALE_BINARY SOURCE_DIR
"""
import json
import os
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ss_e2e import Checks, Daemon, stop_all, wait_until, args_or_default  # noqa: E402

BINARY, SOURCE = args_or_default()
NS = "apps"
checks = Checks()
check = checks.check

WEB = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web, tier: front}
    spec:
      containers:
      - name: classifier
        image: seldonio/mock_classifier:1.0
"""


def pods(d, selector):
    rc, out, err = d.kubectl("get", "pods", "-n", NS, "-l", selector, "-o", "json")
    return json.loads(out)["items"] if rc == 0 else []


def ready_pods(d, selector):
    return [p for p in pods(d, selector) if p.get("status", {}).get("phase") == "Running"
            and all(c.get("ready") for c in p["status"].get("containerStatuses", []))]


def main():
    d = Daemon(BINARY)
    try:
        d.start()
        rc, out, err = d.kubectl("apply", "-n", NS, "-f", "-", stdin=WEB)
        check("kubectl apply of a Deployment: created",
              rc == 0 and "deployment.apps/web created" in out, out + err)
        rc, out, err = d.kubectl("rollout", "status", "deployment/web", "-n", NS,
                                 "--timeout=60s", timeout=75)
        check("kubectl rollout status: successfully rolled out",
              rc == 0 and "successfully rolled out" in out, out + err)
        got = pods(d, "app=web,tier=front")
        rc, out, err = d.kubectl("get", "deployment", "web", "-n", NS, "-o", "json")
        uid = json.loads(out)["metadata"]["uid"] if rc == 0 else None
        refs = [p["metadata"].get("ownerReferences", [{}])[0] for p in got]
        check("2 pods with the template's labels, each owned by the Deployment",
              len(got) == 2 and all(r.get("kind") == "Deployment" and r.get("uid") == uid
                                    for r in refs), (refs, uid))
        rc, out, err = d.kubectl("scale", "deployment", "web", "-n", NS, "--replicas=3")
        ok = wait_until(lambda: len(ready_pods(d, "app=web")) == 3, 60)
        check("kubectl scale deployment web --replicas=3: 3 ready pods", rc == 0 and ok,
              out + err)
        rc, out, err = d.kubectl("get", "deployment", "web", "-n", NS)
        check("kubectl get deployment: READY 3/3",
              rc == 0 and "3/3" in out, out + err)
        rc, out, err = d.kubectl("delete", "deployment", "web", "-n", NS)
        gone = wait_until(lambda: not pods(d, "app=web"), 30)
        check("kubectl delete deployment: its pods stop", rc == 0 and gone, err)

        bad = WEB.replace("labels: {app: web, tier: front}", "labels: {app: other}")
        rc, out, err = d.kubectl("apply", "-n", NS, "-f", "-", stdin=bad)
        check("a selector that does not match the template's labels: refused, naming "
              "spec.template.metadata", rc != 0 and "spec.template.metadata" in err, err)
        bad = WEB.replace("        image: seldonio/mock_classifier:1.0\n", "")
        rc, out, err = d.kubectl("apply", "-n", NS, "-f", "-", stdin=bad)
        check("a container without an image: refused, naming "
              "spec.template.spec.containers[0].image",
              rc != 0 and "spec.template.spec.containers[0].image" in err, err)

        unknown = WEB.replace("seldonio/mock_classifier:1.0", "example.com/nothing:1") \
                     .replace("name: web", "name: unknown", 1)
        rc, out, err = d.kubectl("apply", "-n", NS, "-f", "-", stdin=unknown)

        def progressing():
            rc, out, err = d.kubectl("get", "deployment", "unknown", "-n", NS, "-o", "json")
            conds = json.loads(out).get("status", {}).get("conditions", []) if rc == 0 else []
            return next((c for c in conds if c["type"] == "Progressing"
                         and c["status"] == "False"), None)
        cond = wait_until(progressing, 20)
        check("an image with no command: stored, Progressing False saying why",
              rc == 0 and cond and "image map" in cond.get("message", ""), cond)
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
