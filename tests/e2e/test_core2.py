#!/usr/bin/env python3
"""End-to-end: Seldon Core 2's Models on Servers with a real scikit-learn
model, through kubectl and the Open Inference (V2) protocol.

examples/core2's Server runs replicas of the built-in multi-model server;
an iris model trained here with Debian's scikit-learn (into a temporary
folder) is placed on it and loaded; its V2 answers equal scikit-learn's own
predictions for the same rows; `kubectl get models,servers` shows Core 2's
columns and `kubectl wait --for=condition=Ready` works; a model too large
for any server replica stays unplaced with ScheduleFailed and Core 2's
words; unsupported schemes and missing files are ModelFailed with the
reason; Core 2's metrics carry its labels and the built-in adapter's
infer_rps answers for the model; a killed server replica comes back with
its models loaded again; deleting the Server leaves its models unready
with ScheduleFailed (and answered 503 at once), and a new Server takes
them again.

Usage: test_core2.py SERVESCALE_BINARY SOURCE_DIR
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ss_e2e import Checks, Daemon, proc_cmdline, stop_daemon, wait_until, args_or_default  # noqa: E402
import ss_core2 as c2  # noqa: E402
from ss_core2 import NS, PY, condition, v2  # noqa: E402

BINARY, SOURCE = args_or_default()
checks = Checks()
check = checks.check

ROWS = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3], [5.9, 3.0, 4.2, 1.5], [1, 2, 3, 4]]


def infer_body(rows, outputs=None):
    b = {"inputs": [{"name": "predict", "shape": [len(rows), 4], "datatype": "FP64",
                     "data": [x for r in rows for x in r]}]}
    if outputs:
        b["outputs"] = [{"name": o} for o in outputs]
    return b


def sklearn_answer(model_dir, rows):
    code = ("import joblib,json,sys\n"
            "m=joblib.load(sys.argv[1])\nrows=json.loads(sys.argv[2])\n"
            "print(json.dumps({'predict':[int(x) for x in m.predict(rows)],"
            "'proba':[[float(v) for v in r] for r in m.predict_proba(rows)]}))\n")
    out = subprocess.run([PY, "-c", code, os.path.join(model_dir, "model.joblib"), json.dumps(rows)],
                         capture_output=True, check=True, timeout=120)
    return json.loads(out.stdout)


def model_yaml(name, uri, memory="3M", extra=""):
    return """apiVersion: mlops.seldon.io/v1alpha1
kind: Model
metadata:
  name: %s
  namespace: %s
spec:
  storageUri: %s
  requirements:
  - sklearn
  memory: %s
%s""" % (name, NS, uri, memory, extra)


def ms_pids(d):
    """The daemon's model-server children (the Server's replicas)."""
    return [p for p in d.children() if "model-server" in " ".join(proc_cmdline(p) or [])]


def main():
    work = tempfile.mkdtemp(prefix="ss-core2-")
    model_dir = os.path.join(work, "iris")
    c2.train_iris(SOURCE, model_dir)
    files = []
    for name, text in [
            ("iris.yaml", model_yaml("iris", "file://" + model_dir)),
            ("iris-path.yaml", model_yaml("iris-path", model_dir)),
            ("big.yaml", model_yaml("big", model_dir, memory="2Gi")),
            ("gs.yaml", model_yaml("gs", "gs://seldon-models/scv2/samples/mlserver_1.3.5/iris-sklearn")),
            ("missing.yaml", model_yaml("missing", os.path.join(work, "nowhere")))]:
        p = os.path.join(work, name)
        with open(p, "w") as f:
            f.write(text)
        files.append(p)
    d = Daemon(BINARY)
    try:
        d.start([os.path.join(SOURCE, "examples/core2/server.yaml")] + files)
        gw = d.gateway

        # ---- placed, loaded, Ready ----
        rc, out, err = d.kubectl("wait", "--for=condition=Ready", "model/iris", "model/iris-path",
                                 "-n", NS, "--timeout=90s", timeout=120)
        check("kubectl wait --for=condition=Ready model/iris model/iris-path", rc == 0, out + err)
        rc, out, err = d.kubectl("get", "models", "-n", NS)
        head = out.splitlines()[0].split() if out else []
        check("kubectl get models: Core 2's columns",
              head == ["NAME", "READY", "DESIRED", "REPLICAS", "AVAILABLE", "REPLICAS", "AGE"], out + err)
        iris_row = [l.split() for l in out.splitlines() if l.startswith("iris ")]
        check("kubectl get models: iris True 1 1", iris_row and iris_row[0][1:4] == ["True", "1", "1"], out)
        rc, out, err = d.kubectl("get", "servers", "-n", NS)
        head = out.splitlines()[0].split() if out else []
        check("kubectl get servers: Core 2's columns",
              head == ["NAME", "READY", "REPLICAS", "LOADED", "MODELS", "AGE"], out + err)
        row = [l.split() for l in out.splitlines() if l.startswith("mlserver ")]
        check("kubectl get servers: mlserver True 1 replica, 2 models loaded",
              row and row[0][1:4] == ["True", "1", "2"], out)
        rc, out, _ = d.kubectl("get", "pods", "-n", NS, "-l", "seldon-server-name=mlserver")
        check("the Server's pod carries seldon-server-name", rc == 0 and "mlserver-" in out, out)

        # ---- the V2 protocol: scikit-learn's own answers ----
        want = sklearn_answer(model_dir, ROWS)
        st, body = v2(gw, "iris", infer_body(ROWS))
        got = body.get("outputs", [{}])[0] if isinstance(body, dict) else {}
        check("V2 infer: 200 with model_name iris", st == 200 and body.get("model_name") == "iris", body)
        check("V2 infer: predict equals scikit-learn's for the same rows",
              got.get("data") == want["predict"] and got.get("shape") == [len(ROWS), 1], (got, want))
        st, body = v2(gw, "iris-path", infer_body(ROWS, ["predict_proba"]))
        got = body.get("outputs", [{}])[0] if isinstance(body, dict) else {}
        close = st == 200 and len(got.get("data", [])) == 3 * len(ROWS) and all(
            abs(a - b) < 1e-9 for a, b in zip(got["data"], [v for r in want["proba"] for v in r]))
        check("V2 infer (a plain path): predict_proba equals scikit-learn's", close, (st, got, want))
        st, body = v2(gw, "anything", infer_body(ROWS[:1]), headers={"Seldon-Model": "iris"})
        check("the Seldon-Model header routes the request", st == 200 and body.get("model_name") == "iris", body)
        bad = {"inputs": [{"name": "predict", "shape": [1, 4], "datatype": "FP32", "data": [1, 2, 3]}]}
        st, body = v2(gw, "iris", bad)
        check("a malformed tensor: 400 naming the field",
              st == 400 and "inputs[0]" in json.dumps(body), (st, body))
        st, body = v2(gw, "nosuch", infer_body(ROWS[:1]))
        check("an unknown model: 404", st == 404 and "nosuch" in json.dumps(body), (st, body))
        st, body = v2(gw, "iris", None, method="GET")
        check("GET /v2/models/iris: metadata", st == 200 and body.get("name") == "iris", (st, body))
        r = urllib.request.urlopen(gw + "/v2/models/iris/ready", timeout=10)
        check("GET /v2/models/iris/ready: 200", r.status == 200)
        r = urllib.request.urlopen(gw + "/v2/health/ready", timeout=10)
        check("GET /v2/health/ready: 200", r.status == 200)

        # ---- unplaceable and failing models ----
        c = wait_until(lambda: condition(d, "big").get("reason") == "ScheduleFailed" and condition(d, "big"), 30)
        check("a model larger than any replica: ScheduleFailed with Core 2's words",
              c and c.get("status") == "False" and "no matching server" in c.get("message", ""), c)
        st, body = v2(gw, "big", infer_body(ROWS[:1]), timeout=5)
        check("an unplaced model is answered 503 at once", st == 503, (st, body))
        c = wait_until(lambda: condition(d, "gs").get("reason") == "ModelFailed" and condition(d, "gs"), 30)
        check("gs:// is ModelFailed naming the scheme",
              c and "gs" in c.get("message", "") and "storageUri" in c.get("message", ""), c)
        c = wait_until(lambda: condition(d, "missing").get("reason") == "ModelFailed" and condition(d, "missing"), 30)
        check("a missing folder is ModelFailed naming the file",
              c and "nowhere" in c.get("message", ""), c)
        rc, out, _ = d.kubectl("describe", "model", "gs", "-n", NS)
        check("kubectl describe model: the LoadFailed event", "LoadFailed" in out, out[-1500:])
        rc, out, _ = d.kubectl("describe", "model", "iris", "-n", NS)
        check("kubectl describe model iris: the Loaded event", "Loaded" in out, out[-1500:])

        # ---- Core 2's metrics and the adapter ----
        text = urllib.request.urlopen(gw + "/prometheus", timeout=10).read().decode()
        line = [l for l in text.splitlines() if l.startswith("seldon_model_infer_total{") and 'model="iris"' in l
                and 'code="200"' in l]
        check("seldon_model_infer_total with Core 2's labels",
              line and all(k in line[0] for k in ('server="mlserver"', 'server_replica="0"',
                                                   'model_internal="iris"', 'method_type="rest"',
                                                   'namespace="seldon-mesh"', 'pod="mlserver-')), line)
        check("seldon_model_aggregate_infer_total", "seldon_model_aggregate_infer_total{" in text)
        loaded = [l for l in text.splitlines() if l.startswith("seldon_loaded_model_gauge{")]
        check("seldon_loaded_model_gauge: iris and iris-path on replica 0, 1 each",
              len([l for l in loaded if 'server_replica="0"' in l and l.endswith(" 1")]) == 2 and
              any('model_internal="iris-path"' in l for l in loaded), loaded)
        mem = [l for l in text.splitlines() if l.startswith("seldon_loaded_model_memory_bytes_gauge{")
               and 'model_internal="iris"' in l]
        check("seldon_loaded_model_memory_bytes_gauge: iris's 3M", mem and mem[0].endswith(" 3000000"), mem)
        cap = [l for l in text.splitlines()
               if l.startswith("seldon_server_replica_memory_capacity_bytes_gauge{")]
        check("seldon_server_replica_memory_capacity_bytes_gauge: 1 GiB", cap and cap[0].endswith(" 1073741824"),
              cap)
        check("seldon_load_model_counter counts the loads",
              any(l.startswith("seldon_load_model_counter{") and not l.endswith(" 0")
                  for l in text.splitlines()))
        check("seldon_model_infer_inflight for iris",
              any(l.startswith("seldon_model_infer_inflight{") and 'model="iris"' in l
                  for l in text.splitlines()))

        def rps():
            v2(gw, "iris", infer_body(ROWS[:1]))  # a rate needs requests in the window
            rc, out, _ = d.kubectl("get", "--raw", "/apis/custom.metrics.k8s.io/v1beta1/namespaces/%s/"
                                   "models.mlops.seldon.io/iris/infer_rps" % NS)
            return rc == 0 and json.loads(out).get("items") and json.loads(out)
        got = wait_until(rps, 40, 1)
        check("custom metrics API: infer_rps of models.mlops.seldon.io/iris",
              got and got["items"][0]["describedObject"]["kind"] == "Model", got)

        # ---- deleting a model unloads it ----
        rc, out, err = d.kubectl("delete", "model", "iris-path", "-n", NS)
        check("kubectl delete model iris-path", rc == 0, out + err)
        gone = wait_until(lambda: v2(gw, "iris-path", infer_body(ROWS[:1]), timeout=5)[0] == 404, 20)
        check("... then it is not found (404)", gone)
        loaded = wait_until(lambda: d.kubectl("get", "server", "mlserver", "-n", NS, "-o",
                                              "jsonpath={.status.loadedModels}")[1] == "1", 20)
        check("... and unloaded from the server (loadedModels 1)", loaded)
        gauge_gone = wait_until(lambda: not [
            l for l in urllib.request.urlopen(gw + "/prometheus", timeout=10).read().decode().splitlines()
            if l.startswith("seldon_loaded_model") and 'model_internal="iris-path"' in l], 20)
        check("... and its seldon_loaded_model_gauge is gone", gauge_gone)
        p = subprocess.run([BINARY, "describe", "model", "iris", "-n", NS], env=d.kubectl_env(),
                           capture_output=True, timeout=30)
        out = p.stdout.decode()
        check("servescale describe model iris: status and events",
              p.returncode == 0 and "ModelReady" in out and "Loaded" in out, out[-1500:] + p.stderr.decode())

        # ---- a killed server replica comes back with its models ----
        pids = ms_pids(d)
        check("one model-server process", len(pids) == 1, d.children())
        if pids:
            os.kill(pids[0], signal.SIGKILL)
            ok = wait_until(lambda: v2(gw, "iris", infer_body(ROWS), timeout=5)[0] == 200 and
                            [p for p in ms_pids(d) if p != pids[0]], 60, 0.5)
            check("after its replica was killed, iris is loaded again and answers", ok)
            st, body = v2(gw, "iris", infer_body(ROWS))
            check("... with scikit-learn's answers", st == 200 and body["outputs"][0]["data"] == want["predict"],
                  body)

        # ---- deleting the Server ----
        rc, out, err = d.kubectl("delete", "server", "mlserver", "-n", NS)
        check("kubectl delete server with models on it: allowed, as on a cluster", rc == 0, out + err)
        c = wait_until(lambda: condition(d, "iris").get("reason") == "ScheduleFailed" and condition(d, "iris"), 30)
        check("its models go unready: ScheduleFailed, no matching servers",
              c and c.get("status") == "False" and "no matching servers" in c.get("message", ""), c)
        ok = wait_until(lambda: v2(gw, "iris", infer_body(ROWS[:1]), timeout=5)[0] == 503, 30)
        check("... and are answered 503 at once", ok)
        check("no model-server process left",
              wait_until(lambda: not ms_pids(d), 30))
        rc, out, err = d.kubectl("apply", "-f", os.path.join(SOURCE, "examples/core2/server.yaml"))
        check("kubectl apply the Server again", rc == 0, out + err)
        rc, out, err = d.kubectl("wait", "--for=condition=Ready", "model/iris", "-n", NS, "--timeout=90s",
                                 timeout=120)
        check("the new Server takes iris again (Ready)", rc == 0, out + err)
        st, body = v2(gw, "iris", infer_body(ROWS))
        check("... and it answers as scikit-learn", st == 200 and body["outputs"][0]["data"] == want["predict"],
              body)
    except Exception as e:  # noqa: BLE001 -- report, then clean up
        import traceback
        traceback.print_exc()
        check("no exception", False, repr(e))
    finally:
        stop_daemon(d, checks, work, tail=4000)
    sys.exit(checks.finish())


if __name__ == "__main__":
    main()
