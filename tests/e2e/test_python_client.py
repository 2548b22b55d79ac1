#!/usr/bin/env python3
"""End-to-end: the official Kubernetes Python client (Debian's
python3-kubernetes) against `servescale serve`, as a user's scripts use it:
the kubeconfig, custom objects (SeldonDeployments) created, listed, patched
through /scale and deleted, a watch that streams ADDED, MODIFIED and DELETED
(the client sends watch=True, which the API must read as the API server
does), and the apps/v1 Deployment the SeldonDeployment owns.

Usage: test_python_client.py SERVESCALE_BINARY SOURCE_DIR
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

import threading  # noqa: E402
import time  # noqa: E402

from kubernetes import client, config, watch  # noqa: E402

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ss_e2e import Checks, Daemon, stop_all, wait_until, args_or_default  # noqa: E402

BINARY, SOURCE = args_or_default()
checks = Checks()
check = checks.check
GROUP, VERSION, PLURAL = "machinelearning.seldon.io", "v1", "seldondeployments"
NS = "pyclient"
NAME = "seldon-model"
DEP = "seldon-model-example-0-classifier"

SDEP = {
    "apiVersion": "machinelearning.seldon.io/v1",
    "kind": "SeldonDeployment",
    "metadata": {"name": NAME},
    "spec": {"predictors": [{
        "name": "example",
        "graph": {"name": "classifier", "type": "MODEL"},
        "componentSpecs": [{"spec": {"containers": [
            {"name": "classifier", "image": "seldonio/mock_classifier:1.0"}]}}]}]},
}


def main():
    d = Daemon(BINARY)
    try:
        d.start()
        api_client = config.new_client_from_config(config_file=d.kubeconfig)
        custom = client.CustomObjectsApi(api_client)
        apps = client.AppsV1Api(api_client)
        core = client.CoreV1Api(api_client)

        seen = []
        ready = threading.Event()

        def watcher():
            w = watch.Watch()
            ready.set()
            try:
                for ev in w.stream(custom.list_namespaced_custom_object, GROUP, VERSION, NS,
                                   PLURAL, timeout_seconds=60):
                    seen.append((ev["type"], ev["object"]["metadata"]["name"]))
                    if ev["type"] == "DELETED":
                        w.stop()
            except Exception as e:  # noqa: BLE001 - reported as a failed check
                seen.append(("ERROR", repr(e)))
        t = threading.Thread(target=watcher, daemon=True)
        t.start()
        ready.wait(5)
        time.sleep(0.5)

        obj = custom.create_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, SDEP)
        check("create_namespaced_custom_object", obj["metadata"]["name"] == NAME, obj)
        ok = wait_until(lambda: custom.get_namespaced_custom_object(
            GROUP, VERSION, NS, PLURAL, NAME).get("status", {}).get("state") == "Available", 60)
        check("it becomes Available", ok)
        items = custom.list_namespaced_custom_object(GROUP, VERSION, NS, PLURAL)["items"]
        check("list_namespaced_custom_object lists it", [i["metadata"]["name"] for i in items]
              == [NAME], items)

        scale = custom.patch_namespaced_custom_object_scale(GROUP, VERSION, NS, PLURAL, NAME,
                                                            {"spec": {"replicas": 2}})
        check("patch_namespaced_custom_object_scale to 2", scale["spec"]["replicas"] == 2, scale)
        ok = wait_until(lambda: (apps.read_namespaced_deployment(DEP, NS).status
                                 .available_replicas or 0) == 2, 60)
        dep = apps.read_namespaced_deployment(DEP, NS)
        check("AppsV1Api.read_namespaced_deployment: 2 available, owned by the "
              "SeldonDeployment", ok and dep.metadata.owner_references[0].kind
              == "SeldonDeployment", dep.status)
        sc = apps.read_namespaced_deployment_scale(DEP, NS)
        check("read_namespaced_deployment_scale: 2, with the Deployment's selector",
              sc.spec.replicas == 2 and "app=" + DEP in (sc.status.selector or ""), sc)
        pods = core.list_namespaced_pod(NS, label_selector="app=" + DEP).items
        check("CoreV1Api.list_namespaced_pod with a label selector: 2",
              len(pods) == 2, [p.metadata.name for p in pods])

        # pods are the runtime's: their watch is polled, and streams too
        pod_events = []

        def pod_watcher():
            w = watch.Watch()
            try:
                for ev in w.stream(core.list_namespaced_pod, NS, timeout_seconds=30):
                    pod_events.append((ev["type"], ev["object"].metadata.name))
                    if ev["type"] == "DELETED":
                        w.stop()
            except Exception as e:  # noqa: BLE001 - reported as a failed check
                pod_events.append(("ERROR", repr(e)))
        pt = threading.Thread(target=pod_watcher, daemon=True)
        pt.start()
        time.sleep(1.5)
        custom.patch_namespaced_custom_object_scale(GROUP, VERSION, NS, PLURAL, NAME,
                                                    {"spec": {"replicas": 1}})
        pt.join(30)
        kinds = [ty for ty, _ in pod_events]
        check("a watch of pods (list_namespaced_pod) streams ADDED for each, then DELETED when "
              "scaled down", kinds.count("ADDED") == 2 and "DELETED" in kinds, pod_events)

        custom.delete_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, NAME)
        t.join(30)
        types = [ty for ty, name in seen if name == NAME]
        check("the watch (watch=True) streamed ADDED, MODIFIED and DELETED",
              "ADDED" in types and "MODIFIED" in types and types[-1:] == ["DELETED"], seen[:20])
        check("... and no error", not any(ty == "ERROR" for ty, _ in seen), seen[-3:])
        gone = wait_until(lambda: not apps.list_namespaced_deployment(NS).items, 20)
        check("the Deployment went with it", gone)
        for v in ("True", "T", "1", "false", "0"):
            code, _, _ = d.request("GET", "/apis/%s/%s/namespaces/%s/%s?watch=%s&timeoutSeconds=1"
                                   % (GROUP, VERSION, NS, PLURAL, v), raw=True)
            check("watch=%s is a boolean the API server reads (200)" % v, code == 200, code)
        code, body, _ = d.request("GET", "/apis/%s/%s/namespaces/%s/%s?watch=yes"
                                  % (GROUP, VERSION, NS, PLURAL))
        check("watch=yes: 400 naming the parameter", code == 400
              and "watch" in (body or {}).get("message", ""), (code, body))
    finally:
        d.stop()
        if checks.failed:
            print(d.stderr()[-3000:])
        d.cleanup()


if __name__ == "__main__":
    try:
        main()
    finally:
        stop_all()
    sys.exit(checks.finish())
