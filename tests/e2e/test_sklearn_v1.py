#!/usr/bin/env python3
"""End-to-end: Seldon's prepackaged SKLEARN_SERVER. examples/sklearn-iris-v1.yaml
(a graph node with implementation SKLEARN_SERVER and modelUri, no container)
runs under the daemon as Seldon's operator would run it: a container named
after the node with the image seldonio/sklearnserver (here `servescale
model-server --seldon`), and its predictions through the gateway equal
sklearn's predict_proba on the same rows. render shows the same container.

Usage: test_sklearn_v1.py SERVESCALE_BINARY SOURCE_DIR
The model is trained with Debian's python3 and sklearn into a temporary folder.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ss_e2e import Checks, Daemon, predict, stop_daemon_no_orphans, wait_until, \
    args_or_default  # noqa: E402

BINARY, SOURCE = args_or_default()
PYTHON = "/usr/bin/python3"  # Debian's, with python3-sklearn
EXAMPLE = os.path.join(SOURCE, "examples", "sklearn-iris-v1.yaml")
EXAMPLE_URI = "file:///tmp/sklearn-iris"
ROWS = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3], [5.9, 3.0, 4.2, 1.5]]
checks = Checks()
check = checks.check

TRAIN = r"""
import json, sys, joblib
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
X, y = load_iris(return_X_y=True)
m = LogisticRegression(max_iter=1000).fit(X, y)
joblib.dump(m, sys.argv[1] + "/model.joblib")
print(json.dumps(m.predict_proba(json.loads(sys.argv[2])).tolist()))
"""


def main():
    t0 = time.monotonic()
    work = tempfile.mkdtemp(prefix="ss-sklearn-v1-")
    d = Daemon(BINARY)
    try:
        model = os.path.join(work, "iris")
        os.makedirs(model)
        p = subprocess.run([PYTHON, "-c", TRAIN, model, json.dumps(ROWS)], capture_output=True,
                           text=True, timeout=300)
        if not check("model trained with %s and sklearn" % PYTHON, p.returncode == 0,
                     p.stderr[-2000:]):
            return
        proba = json.loads(p.stdout)
        with open(EXAMPLE) as f:
            text = f.read()
        check("the example names its model folder", EXAMPLE_URI in text)
        path = os.path.join(work, "sklearn-iris-v1.yaml")
        with open(path, "w") as f:
            f.write(text.replace(EXAMPLE_URI, "file://" + model))

        r = subprocess.run([BINARY, "render", "-f", path], capture_output=True, text=True,
                           timeout=60)
        check("render shows the node's container with seldonio/sklearnserver",
              r.returncode == 0 and "- name: classifier\n" in r.stdout and
              "image: seldonio/sklearnserver:" in r.stdout, (r.returncode, r.stderr[-1000:]))

        d.start()
        rc, out, err = d.kubectl("apply", "-f", path)
        check("apply the example", rc == 0, (rc, out, err))
        ok = wait_until(lambda: ((d.get_sdep("seldon", "sklearn-iris") or {})
                                 .get("status", {}).get("state")) == "Available", 90)
        check("the SeldonDeployment is Available", ok,
              (d.get_sdep("seldon", "sklearn-iris") or {}).get("status"))
        url = d.gateway + "/seldon/seldon/sklearn-iris/api/v1.0/predictions"
        status, body = predict(url, {"data": {"ndarray": ROWS}}, timeout=30)
        got = body.get("data", {}).get("ndarray") if isinstance(body, dict) else None
        check("the prediction equals sklearn's predict_proba",
              status == 200 and got is not None and len(got) == len(proba) and
              all(abs(a - b) <= 1e-9 for ra, rb in zip(got, proba) for a, b in zip(ra, rb)),
              (status, body, proba))
        check("names are Seldon's t:0..t:2",
              isinstance(body, dict) and body["data"].get("names") == ["t:0", "t:1", "t:2"],
              body)
        check("meta.requestPath names the image",
              isinstance(body, dict) and body.get("meta", {}).get("requestPath", {})
              .get("classifier", "").startswith("seldonio/sklearnserver"), body)
        status, body = predict(url, {"data": {"ndarray": [[1, 2]]}}, timeout=30)
        check("too few features is a 4xx/5xx with sklearn's reason, not a hang",
              status >= 400 and "features" in json.dumps(body), (status, body))
        check("daemon still running", d.alive(), d.stderr()[-2000:])
        code = d.stop()
        check("daemon exits 0 on SIGTERM", code == 0, (code, d.stderr()[-1500:]))
    except Exception as e:
        import traceback
        traceback.print_exc()
        check("test ran to the end", False, "%s: %s" % (type(e).__name__, e))
    finally:
        stop_daemon_no_orphans(d, check)
        subprocess.run(["rm", "-rf", work])
    print("elapsed %.1fs" % (time.monotonic() - t0))


if __name__ == "__main__":
    main()
    sys.exit(checks.finish())
