#!/usr/bin/env python3
"""End-to-end test of `servescale model-server`, the multi-model V2 server
of Core 2 Servers: the repository API (load from a path and a file:// URL,
refused schemes, missing files, reload, unload, index), Open Inference
requests (predictions equal to sklearn's own, predict_proba, malformed
tensors naming the field), the mock runtime, the sklearn co-process killed
and restarted, SIGTERM draining, and --seldon (Seldon's v1 protocol for one
model, as SKLEARN_SERVER).

Usage: test_model_server.py SERVESCALE_BINARY SOURCE_DIR
Models are trained here with Debian's python3 and sklearn (/usr/bin/python3)
into a temporary folder; every server runs on a free loopback port.
"""
import http.client
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ss_server import ServerProcess  # noqa: E402

BINARY = sys.argv[1] if len(sys.argv) > 1 else "servescale"
PYTHON = "/usr/bin/python3"   # Debian's, with python3-sklearn
START_TIMEOUT_S = 30.0        # sanitizer builds start slowly
EXIT_TIMEOUT_S = 20.0         # drain bound (5 s) plus the co-process's stop
RESTART_TIMEOUT_S = 60.0      # python, numpy and sklearn import again

results = []                  # (name, ok, detail)
procs = []                    # every server started, stopped in the finally block

ROWS = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3], [5.9, 3.0, 4.2, 1.5], [6.3, 2.9, 5.6, 1.8]]

TRAIN = r"""
import json, sys, joblib
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeRegressor
out, rows = sys.argv[1], json.loads(sys.argv[2])
X, y = load_iris(return_X_y=True)
clf = LogisticRegression(max_iter=1000).fit(X, y)
reg = DecisionTreeRegressor(random_state=0).fit(X, X[:, 0] * 2.0)
joblib.dump(clf, out + "/iris/model.joblib")
joblib.dump(reg, out + "/reg/model.joblib")
joblib.dump({"not": "a model"}, out + "/notmodel/model.joblib")
open(out + "/garbage/model.joblib", "wb").write(b"this is not a pickle")
print(json.dumps({"predict": clf.predict(rows).tolist(),
                  "proba": clf.predict_proba(rows).tolist(),
                  "reg": reg.predict(rows).tolist()}))
"""


def check(name, cond, detail=""):
    results.append((name, bool(cond), detail))
    print(("ok    " if cond else "FAIL  ") + name + ("" if cond else ": " + str(detail)),
          flush=True)
    return cond


def request(port, method, path, body=None, timeout=30):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        data = body if body is None or isinstance(body, (bytes, str)) else json.dumps(body)
        conn.request(method, path, body=data,
                     headers={"Content-Type": "application/json"} if data is not None else {})
        resp = conn.getresponse()
        raw = resp.read()
        try:
            doc = json.loads(raw)
        except ValueError:
            doc = raw
        return resp.status, doc
    finally:
        conn.close()


class Server(ServerProcess):
    """One `servescale model-server` process on its own port."""
    subcommand = "model-server"
    env_drop = ("PORT", "PREDICTIVE_UNIT_PARAMETERS", "PREDICTIVE_UNIT_HTTP_SERVICE_PORT",
                "PREDICTIVE_UNIT_ID", "SERVESCALE_PYTHON")
    start_timeout_s = START_TIMEOUT_S

    def __init__(self, args=(), env=None):
        super().__init__(BINARY, procs, args, env)

    def ready(self, path):
        status, _ = request(self.port, "GET", path or "/v2/health/ready", timeout=2)
        return status == 200

    def children(self):
        """The pids of the server's child processes, from /proc."""
        kids = []
        try:
            for tid in os.listdir("/proc/%d/task" % self.proc.pid):
                with open("/proc/%d/task/%s/children" % (self.proc.pid, tid)) as f:
                    kids += [int(x) for x in f.read().split()]
        except OSError:
            pass
        return kids

    def req(self, method, path, body=None, timeout=30):
        return request(self.port, method, path, body, timeout)

    def load(self, name, **body):
        return self.req("POST", "/v2/repository/models/%s/load" % name, body)

    def infer(self, name, rows, datatype="FP32", outputs=None, rid=None, path=None):
        body = {"inputs": [{"name": "predict", "shape": [len(rows), len(rows[0])],
                            "datatype": datatype, "data": rows}]}
        if outputs:
            body["outputs"] = [{"name": o} for o in outputs]
        if rid:
            body["id"] = rid
        return self.req("POST", path or "/v2/models/%s/infer" % name, body)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=EXIT_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def close(a, b, tol=1e-9):
    return len(a) == len(b) and all(abs(x - y) <= tol for x, y in zip(a, b))


def flat(rows):
    return [x for r in rows for x in r]


def sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


def test_v2(tmp, ref):
    s = Server(["--server", "mlserver", "--replica", "0"])
    check("server starts and is ready", s.wait_ready(), s.stderr())
    check("live is 200 {}", s.req("GET", "/v2/health/live") == (200, {}))
    check("ready is 200 {}", s.req("GET", "/v2/health/ready") == (200, {}))
    check("/health/ping is pong", s.req("GET", "/health/ping") == (200, b"pong"))

    # load from a path, timed
    t0 = time.monotonic()
    st, doc = s.load("iris", storageUri=tmp + "/iris", requirements=["sklearn"])
    load_ms = (time.monotonic() - t0) * 1000
    check("sklearn load from a path is 200 {}", (st, doc) == (200, {}), (st, doc))
    print("measure sklearn first load (co-process start included): %.0f ms" % load_ms)
    t0 = time.monotonic()
    st, doc = s.load("iris-again", storageUri=tmp + "/iris")
    print("measure sklearn load (co-process running): %.0f ms" % ((time.monotonic() - t0) * 1000))
    check("a folder with model.joblib is sklearn without requirements", st == 200, (st, doc))
    check("model ready is 200", s.req("GET", "/v2/models/iris/ready")[0] == 200)

    # infer: sklearn's own predictions
    t0 = time.monotonic()
    st, doc = s.infer("iris", ROWS)
    infer_ms = (time.monotonic() - t0) * 1000
    print("measure one infer of %d rows: %.1f ms" % (len(ROWS), infer_ms))
    out = doc.get("outputs", [{}])[0] if isinstance(doc, dict) else {}
    check("infer is 200", st == 200, (st, doc))
    check("predict equals sklearn's predict", out.get("data") == ref["predict"], (out, ref))
    check("predict is INT64 [N,1] with content_type np",
          out.get("datatype") == "INT64" and out.get("shape") == [len(ROWS), 1] and
          out.get("name") == "predict" and out.get("parameters") == {"content_type": "np"}, out)
    check("the answer names the model, has parameters and a uuid id",
          doc.get("model_name") == "iris" and doc.get("parameters") == {} and
          str(uuid.UUID(doc.get("id", "0" * 32))) == doc.get("id"), doc)
    times = []
    for _ in range(20):
        t0 = time.monotonic()
        s.infer("iris", ROWS[:1])
        times.append((time.monotonic() - t0) * 1000)
    times.sort()
    print("measure infer of one row, median of 20: %.1f ms" % times[10])
    st, doc = s.req("POST", "/v2/models/iris/infer",
                    {"id": "req-7", "inputs": [{"name": "x", "shape": [2, 4], "datatype": "FP32",
                                                "data": flat(ROWS[:2])}]})
    check("flat data with shape [2,4] is two rows; the request's id", st == 200 and
          doc.get("id") == "req-7" and doc["outputs"][0]["data"] == ref["predict"][:2], doc)
    st, doc = s.infer("iris", ROWS, outputs=["predict_proba"])
    out = doc.get("outputs", [{}])[0] if isinstance(doc, dict) else {}
    check("predict_proba equals sklearn's", st == 200 and out.get("datatype") == "FP64" and
          out.get("shape") == [len(ROWS), 3] and close(out.get("data", []), flat(ref["proba"])),
          (st, doc))
    st, doc = s.infer("iris", ROWS, outputs=["predict", "predict_proba"])
    check("both outputs asked for", st == 200 and [o["name"] for o in doc["outputs"]] ==
          ["predict", "predict_proba"], doc)
    st, doc = s.infer("iris", ROWS, path="/v2/models/iris/versions/1/infer")
    check("versions/{v}/infer", st == 200 and doc["outputs"][0]["data"] == ref["predict"], doc)
    st, doc = s.infer("iris", [[5, 3, 1, 0]], datatype="INT64")
    check("INT64 inputs predict too", st == 200 and doc["outputs"][0]["datatype"] == "INT64", doc)

    # file:// URL
    st, doc = s.load("iris-url", storageUri="file://" + tmp + "/iris", requirements=["sklearn"])
    check("sklearn load from a file:// URL is 200", (st, doc) == (200, {}), (st, doc))
    st, doc = s.infer("iris-url", ROWS)
    check("file:// model predicts as sklearn", st == 200 and
          doc["outputs"][0]["data"] == ref["predict"], doc)

    # metadata
    st, doc = s.req("GET", "/v2/models/iris")
    check("metadata", st == 200 and doc.get("name") == "iris" and doc.get("platform") ==
          "sklearn" and doc.get("versions") == [] and doc["inputs"][0]["shape"] == [-1, 4] and
          [o["name"] for o in doc["outputs"]] == ["predict", "predict_proba"], doc)

    # refused loads
    for scheme in ("gs", "s3", "http"):
        st, doc = s.load("x", storageUri=scheme + "://bucket/iris", requirements=["sklearn"])
        check("%s:// is 400 with the message" % scheme, st == 400 and doc == {
            "error": "storageUri: unsupported scheme \"%s\" (servescale loads local paths and "
                     "file:// URLs)" % scheme}, (st, doc))
    st, doc = s.load("x", storageUri="/nonexistent/iris", requirements=["sklearn"])
    check("a missing folder is 404 naming it", st == 404 and doc == {
        "error": "storageUri: /nonexistent/iris: No such file or directory"}, (st, doc))
    st, doc = s.load("x", storageUri=tmp + "/empty", requirements=["sklearn"])
    check("a folder without model.joblib is 404 naming the file", st == 404 and doc == {
        "error": "storageUri: %s/empty/model.joblib: No such file or directory" % tmp}, (st, doc))
    st, doc = s.load("x", storageUri=tmp + "/garbage")
    check("a file that does not load is 422 with the runtime's message",
          st == 422 and "garbage/model.joblib" in doc.get("error", ""), (st, doc))
    st, doc = s.load("x", storageUri=tmp + "/notmodel")
    check("a joblib without predict() is 422", st == 422 and "no predict()" in
          doc.get("error", ""), (st, doc))
    st, doc = s.load("x")
    check("no requirements and no storageUri is 400", st == 400 and "requirements" in
          doc.get("error", ""), (st, doc))
    st, doc = s.load("x", storageUri=tmp + "/empty")
    check("an undecidable folder is 404 (no model.joblib)", st == 404, (st, doc))
    st, doc = s.req("POST", "/v2/repository/models/x/load", "{bad json")
    check("a load body that is not JSON is 400", st == 400, (st, doc))
    check("refused loads left nothing", "x" not in [m["name"] for m in
                                                    s.req("POST", "/v2/repository/index")[1]])

    # mock runtime
    st, doc = s.load("mock", requirements=["mock"],
                     parameters=[{"name": "threshold", "value": "1.0"}])
    check("mock load without storageUri is 200", (st, doc) == (200, {}), (st, doc))
    st, doc = s.infer("mock", [[1, 2, 3, 4], [0, 0, 0, 0]], datatype="FP64")
    want = [sigmoid(2.5 - 1.0), sigmoid(0 - 1.0)]
    out = doc.get("outputs", [{}])[0] if isinstance(doc, dict) else {}
    check("mock answers proba sigmoid(mean - threshold) FP64 [N,1]", st == 200 and
          out.get("name") == "proba" and out.get("datatype") == "FP64" and
          out.get("shape") == [2, 1] and close(out.get("data", []), want), (st, doc))
    st, doc = s.load("mock2", requirements=["mock"], storageUri="gs://seldon-models/mock")
    check("mock ignores its storageUri", st == 200, (st, doc))
    st, doc = s.load("mock3", requirements=["mock"], parameters=[{"name": "treshold",
                                                                  "value": "1"}])
    check("a misspelt mock parameter is 400 naming it", st == 400 and "treshold" in
          doc.get("error", ""), (st, doc))
    st, doc = s.infer("mock", [[1, 2, 3, 4]], outputs=["predict"])
    check("an unknown output is 400 naming it", st == 400 and doc.get("error", "").startswith(
        "outputs[0].name:"), (st, doc))

    # malformed tensors: 400 naming the field
    bad = [
        ({"inputs": [{"name": "p", "shape": [1, 4], "datatype": "FP32", "data": [1, 2, 3]}]},
         "inputs[0].data: expected 4 values for shape [1,4], got 3"),
        ({"inputs": [{"name": "p", "shape": [1, 4], "datatype": "FP99", "data": [1, 2, 3, 4]}]},
         "inputs[0].datatype: unknown datatype \"FP99\""),
        ({"inputs": [{"name": "p", "shape": [1, 2], "datatype": "INT64", "data": [1, 2.5]}]},
         "inputs[0].data[1]: expected an integer for INT64, got 2.5"),
        ({"inputs": [{"name": "p", "shape": [1, 2], "datatype": "FP64", "data": [[1, "a"]]}]},
         "inputs[0].data[0][1]: expected a number for FP64, got a string"),
        ({"inputs": [{"name": "p", "shape": [1], "datatype": "BYTES", "data": [1]}]},
         "inputs[0].data[0]: expected a string for BYTES, got 1"),
        ({"inputs": [{"name": "p", "shape": [-1, 4], "datatype": "FP32", "data": []}]},
         "inputs[0].shape[0]: must be a non-negative integer, got -1"),
        ({"inputs": []}, "inputs: required, a non-empty array of tensors"),
        ({"inputs": [{"shape": [1], "datatype": "FP32", "data": [1]}]},
         "inputs[0].name: required, a non-empty string"),
        ("{not json", "invalid JSON"),
    ]
    for body, msg in bad:
        st, doc = s.req("POST", "/v2/models/iris/infer", body)
        check("malformed: %s" % msg, st == 400 and isinstance(doc, dict) and
              doc.get("error", "").startswith(msg), (st, doc))
    st, doc = s.infer("iris", [[1, 2, 3]])
    check("sklearn's own refusal (3 features) is 400", st == 400 and "features" in
          doc.get("error", ""), (st, doc))

    # unknown models
    for method, path in (("GET", "/v2/models/nope"), ("GET", "/v2/models/nope/ready"),
                         ("POST", "/v2/models/nope/infer")):
        st, doc = s.req(method, path, {"inputs": []} if method == "POST" else None)
        check("unknown model %s %s is 404 in MLServer's words" % (method, path),
              st == 404 and doc == {"error": "Model nope not found"}, (st, doc))

    # index
    st, doc = s.req("POST", "/v2/repository/index", {})
    names = sorted(m["name"] for m in doc) if st == 200 else []
    check("index lists the models READY", st == 200 and names ==
          sorted(["iris", "iris-again", "iris-url", "mock", "mock2"]) and
          all(m["state"] == "READY" for m in doc), doc)

    # concurrent requests, and a reload under them: never a failure, and
    # the new model answers after
    errors, stop = [], threading.Event()

    def hammer():
        while not stop.is_set():
            try:
                st, doc = s.infer("iris", ROWS[:1])
                if st != 200:
                    errors.append((st, doc))
            except OSError as e:
                errors.append(str(e))
    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    st, doc = s.load("iris", storageUri=tmp + "/reg", requirements=["sklearn"])
    time.sleep(0.5)
    stop.set()
    for t in threads:
        t.join()
    check("reload under concurrent inference is 200", (st, doc) == (200, {}), (st, doc))
    check("no request failed during the reload", not errors, errors[:3])
    st, doc = s.infer("iris", ROWS)
    out = doc.get("outputs", [{}])[0] if isinstance(doc, dict) else {}
    check("the reloaded model answers (FP64 regression)", st == 200 and
          out.get("datatype") == "FP64" and close(out.get("data", []), ref["reg"]), (st, doc))

    # unload
    check("unload is 200 {}", s.req("POST", "/v2/repository/models/iris-url/unload") == (200, {}))
    st, doc = s.infer("iris-url", ROWS)
    check("an unloaded model is 404", st == 404, (st, doc))
    st, doc = s.req("POST", "/v2/repository/models/iris-url/unload")
    check("unloading it again is 404", st == 404 and doc == {"error": "Model iris-url not found"},
          (st, doc))

    # the co-process killed: the server survives, answers 503 meanwhile,
    # and every sklearn model answers again
    kids = s.children()
    check("one python co-process", len(kids) == 1, kids)
    if kids:
        os.kill(kids[0], signal.SIGKILL)
        seen, ok = set(), False
        deadline = time.monotonic() + RESTART_TIMEOUT_S
        while time.monotonic() < deadline:
            st, doc = s.infer("iris-again", ROWS)
            seen.add(st)
            if st == 200:
                ok = doc["outputs"][0]["data"] == ref["predict"]
                break
            time.sleep(0.1)
        check("requests during the restart are 503", seen <= {200, 503}, seen)
        check("the server survives and the model answers again", ok and s.proc.poll() is None,
              (seen, s.stderr()[-2000:]))
        check("a new co-process", len(s.children()) == 1 and s.children() != kids,
              s.children())
        st, doc = s.infer("iris", ROWS)
        check("the reloaded model came back too", st == 200 and
              doc["outputs"][0]["datatype"] == "FP64", (st, doc))

    # SIGTERM drains a slow request, then the co-process ends with it
    st, doc = s.load("slow", requirements=["mock"], parameters=[{"name": "delay_ms",
                                                                 "value": "1500"}])
    check("a slow mock model loads", st == 200, (st, doc))
    box = {}

    def slow():
        box["r"] = s.infer("slow", [[1, 2]], datatype="FP64")
    t = threading.Thread(target=slow)
    t.start()
    time.sleep(0.5)
    kids = s.children()
    s.proc.send_signal(signal.SIGTERM)
    t.join(timeout=EXIT_TIMEOUT_S)
    check("the request in flight at SIGTERM is answered", box.get("r", (0,))[0] == 200, box)
    try:
        rc = s.proc.wait(timeout=EXIT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        rc = None
    check("SIGTERM exits 0", rc == 0, (rc, s.stderr()[-2000:]))
    check("the log says drained", "event=stop reason=SIGTERM drained=true" in s.stderr(),
          s.stderr()[-1000:])
    check("a refused load is one log line, its quotes made single",
          "event=load model=x ok=false code=400 error=\"storageUri: unsupported scheme 'gs' " in
          s.stderr(), s.stderr()[-3000:])
    time.sleep(0.5)
    check("the co-process exits with the server", kids and
          not any(os.path.exists("/proc/%d/cmdline" % k) and
                  open("/proc/%d/cmdline" % k).read() for k in kids), kids)


def test_missing_python(tmp):
    s = Server(env={"SERVESCALE_PYTHON": "/nonexistent/python3"})
    check("a server without python starts", s.wait_ready(), s.stderr())
    st, doc = s.load("iris", storageUri=tmp + "/iris")
    check("a sklearn load without python3 is 422 with the reason", st == 422 and
          "/nonexistent/python3" in doc.get("error", ""), (st, doc))
    check("the mock runtime still loads", s.load("m", requirements=["mock"])[0] == 200)
    s.stop()
    # a python3 without sklearn: Debian's without its site-packages (-S)
    fake = os.path.join(tmp, "python-without-sklearn")
    with open(fake, "w") as f:
        f.write("#!/bin/sh\nexec %s -S \"$@\"\n" % PYTHON)
    os.chmod(fake, 0o755)
    s = Server(env={"SERVESCALE_PYTHON": fake})
    check("a server whose python lacks numpy and sklearn starts", s.wait_ready(), s.stderr())
    st, doc = s.load("iris", storageUri=tmp + "/iris")
    check("a sklearn load without sklearn is 422 naming the missing module", st == 422 and
          "No module named" in doc.get("error", ""), (st, doc))
    st, doc = s.load("iris", storageUri=tmp + "/iris")
    check("and again (no co-process left behind)", st == 422 and not s.children(),
          (st, doc, s.children()))
    s.stop()
    s = Server(["--capabilities", "mock"])
    check("a mock-only server starts", s.wait_ready(), s.stderr())
    st, doc = s.load("iris", storageUri=tmp + "/iris")
    check("a runtime beyond the capabilities is 400", st == 400 and "capabilities" in
          doc.get("error", ""), (st, doc))
    check("a mock-only server exits 0", s.stop() == 0)


SLOW = """
import time


class Slow:
    \"\"\"A model that hangs on a first feature of 99 and fails on -1.\"\"\"
    n_features_in_ = 4

    def predict(self, X):
        if X[0][0] == 99:
            time.sleep(60)
        if X[0][0] == -1:
            raise RuntimeError("the model broke")
        return [0 for _ in X]
"""


def test_hang(tmp):
    """A prediction past $SERVESCALE_SKLEARN_TIMEOUT_MS is 503 and restarts the
    co-process; a model's own exception is 500 with its message."""
    mod = os.path.join(tmp, "slowmod")
    os.makedirs(os.path.join(tmp, "slow"))
    os.makedirs(mod)
    with open(os.path.join(mod, "slowmodel.py"), "w") as f:
        f.write(SLOW)
    env = {"PYTHONPATH": mod}
    p = subprocess.run([PYTHON, "-c", "import joblib, slowmodel, sys; "
                        "joblib.dump(slowmodel.Slow(), sys.argv[1])",
                        os.path.join(tmp, "slow", "model.joblib")],
                       capture_output=True, text=True, timeout=120, env=dict(os.environ, **env))
    check("a slow model pickled", p.returncode == 0, p.stderr)
    s = Server(env=dict(env, SERVESCALE_SKLEARN_TIMEOUT_MS="1500"))
    check("a server with a 1.5 s prediction bound starts", s.wait_ready(), s.stderr())
    st, doc = s.load("slow", storageUri=tmp + "/slow")
    check("the slow model loads", (st, doc) == (200, {}), (st, doc))
    st, doc = s.infer("slow", [[-1, 0, 0, 0]], datatype="FP64")
    check("the model's own exception is 500 with its message", st == 500 and
          "RuntimeError: the model broke" in doc.get("error", ""), (st, doc))
    kids = s.children()
    t0 = time.monotonic()
    st, doc = s.infer("slow", [[99, 0, 0, 0]], datatype="FP64")
    took = time.monotonic() - t0
    check("a prediction past the bound is 503 after it", st == 503 and 1.4 < took < 10 and
          "did not answer within 1500 ms" in doc.get("error", ""), (st, doc, took))
    ok = False
    deadline = time.monotonic() + RESTART_TIMEOUT_S
    while time.monotonic() < deadline and not ok:
        st, doc = s.infer("slow", [[1, 0, 0, 0]], datatype="FP64")
        ok = st == 200 and doc["outputs"][0]["data"] == [0]
        time.sleep(0.1)
    check("the co-process is restarted and the model answers again", ok and
          s.children() and s.children() != kids, (st, doc, kids, s.children()))
    check("the log says why", "event=runtime_exit runtime=sklearn" in s.stderr() and
          "signal=9" in s.stderr(), s.stderr()[-2000:])
    check("a server with a hung model exits 0", s.stop() == 0)


def test_usage():
    for args, why in ((["--bogus"], "an unknown flag"), (["--model-uri", "/x"],
                                                         "--model-uri without --seldon"),
                      (["--seldon"], "--seldon without a model"),
                      (["--port", "70000"], "a port out of range"),
                      (["--memory", "lots"], "a memory that is no number"),
                      ([], "a bad SERVESCALE_SKLEARN_TIMEOUT_MS")):
        p = subprocess.run([BINARY, "model-server", *args], capture_output=True, text=True,
                           timeout=30, env=dict({k: v for k, v in os.environ.items()
                                                 if k not in ("PORT",
                                                              "PREDICTIVE_UNIT_PARAMETERS")},
                                                **({} if args else
                                                   {"SERVESCALE_SKLEARN_TIMEOUT_MS": "soon"})))
        check("%s is a usage error (exit 2)" % why, p.returncode == 2 and p.stderr,
              (p.returncode, p.stderr))
    p = subprocess.run([BINARY, "model-server", "--help"], capture_output=True, text=True,
                       timeout=30)
    check("--help exits 0 and names the endpoints", p.returncode == 0 and
          "/v2/repository/models/NAME/load" in p.stdout, p.stdout)


def test_seldon(tmp, ref):
    s = Server(["--seldon", "--model-uri", "file://" + tmp + "/iris"])
    check("--seldon serves once its model is loaded", s.wait_ready("/health/ping"), s.stderr())
    st, doc = s.req("POST", "/api/v1.0/predictions", {"data": {"ndarray": ROWS}})
    check("--seldon ndarray answers predict_proba as Seldon's SKLEARN_SERVER",
          st == 200 and doc.get("data", {}).get("names") == ["t:0", "t:1", "t:2"] and
          close(flat(doc["data"]["ndarray"]), flat(ref["proba"])) and doc.get("meta") == {},
          (st, doc))
    st, doc = s.req("POST", "/predict", {"data": {"tensor": {"shape": [2, 4],
                                                             "values": flat(ROWS[:2])}}})
    check("--seldon tensor in, tensor out", st == 200 and
          doc["data"]["tensor"]["shape"] == [2, 3] and
          close(doc["data"]["tensor"]["values"], flat(ref["proba"][:2])), (st, doc))
    st, doc = s.req("POST", "/api/v1.0/predictions", {"data": {"ndarray": [[1, {}]]}})
    check("--seldon bad data is Seldon's 400 status", st == 400 and doc.get("status", {}).get(
        "reason") == "MICROSERVICE_BAD_DATA" and doc["status"]["status"] == "FAILURE" and
        doc["status"]["info"].startswith("data.ndarray[0][1]:"), (st, doc))
    st, doc = s.req("POST", "/api/v1.0/predictions", "{oops")
    check("--seldon bad JSON is 400", st == 400 and doc["status"]["code"] == 400, (st, doc))
    for path in ("/api/v1.0/feedback", "/send-feedback"):
        check("--seldon takes feedback at " + path, s.req("POST", path, {"reward": 1}) ==
              (200, {"meta": {}}))
    check("--seldon exits 0 on SIGTERM", s.stop() == 0)
    s = Server(["--seldon", "--model-uri", tmp + "/iris", "--method", "predict"])
    check("--seldon --method predict starts", s.wait_ready("/health/ping"), s.stderr())
    st, doc = s.req("POST", "/api/v1.0/predictions", {"data": {"ndarray": ROWS}})
    check("--method predict answers the labels", st == 200 and
          flat(doc["data"]["ndarray"]) == ref["predict"], (st, doc))
    s.stop()
    p = subprocess.run([BINARY, "model-server", "--seldon", "--port", "0", "--model-uri",
                        "gs://x/y"], capture_output=True, text=True, timeout=60)
    check("--seldon with a gs:// model exits 1 saying why", p.returncode == 1 and
          "unsupported scheme" in p.stderr, (p.returncode, p.stderr))


def main():
    tmp = tempfile.mkdtemp(prefix="ss-model-server-")
    try:
        for d in ("iris", "reg", "notmodel", "garbage", "empty"):
            os.makedirs(os.path.join(tmp, d))
        p = subprocess.run([PYTHON, "-c", TRAIN, tmp, json.dumps(ROWS)], capture_output=True,
                           text=True, timeout=300)
        if not check("models trained with %s and sklearn" % PYTHON, p.returncode == 0,
                     p.stderr[-2000:]):
            return 1
        ref = json.loads(p.stdout)
        test_v2(tmp, ref)
        test_missing_python(tmp)
        test_usage()
        test_hang(tmp)
        test_seldon(tmp, ref)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        subprocess.run(["rm", "-rf", tmp])
    failed = [r for r in results if not r[1]]
    print("%d passed, %d failed" % (len(results) - len(failed), len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
