# sklearn_runtime.py: the sklearn co-process of `servescale model-server`
# (embedded in the binary at configure time, run with python3 -c). It holds
# the loaded models and answers one JSON line per request line on stdin:
#   {"op": "load", "key": K, "path": P}        -> {"ok": true, "info": {...}}
#   {"op": "unload", "key": K}                 -> {"ok": true}
#   {"op": "predict", "key": K, "output": "predict"|"predict_proba",
#    "rows": [[...], ...], "bytes": false}     -> {"ok": true, "output": V2 tensor}
# or {"ok": false, "kind": "input"|"model"|"notfound", "error": "..."}.
# The first line it writes says whether numpy, joblib and sklearn import.
# It exits at EOF on stdin, when the server exits. HTTP, the V2 checks and
# the restarts are the C server's; this file only calls the model.
import json
import signal
import sys


def main():
    out = sys.stdout
    # The server ends us by closing our stdin; a terminal's ^C or a group's
    # SIGTERM is the server's to handle.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)

    def send(obj):
        out.write(json.dumps(obj, allow_nan=False) + "\n")
        out.flush()

    try:
        import numpy as np
        import joblib
        import sklearn
    except Exception as e:  # an import error of any kind is the reason a load fails
        send({"ok": False, "error": "%s (with %s)" % (e, sys.executable)})
        return 1
    send({"ok": True, "python": sys.version.split()[0], "sklearn": sklearn.__version__,
          "numpy": np.__version__})

    models = {}

    def datatype(a):
        k = a.dtype.kind
        if k == "b":
            return "BOOL", a.tolist()
        if k in "iu":
            return "INT64", a.astype(np.int64).tolist()
        if k == "f":
            return "FP64", [None if x != x or x in (float("inf"), float("-inf")) else x
                            for x in a.astype(np.float64).tolist()]
        return "BYTES", [x.decode("utf-8", "replace") if isinstance(x, bytes) else str(x)
                         for x in a.tolist()]

    def load(req):
        m = joblib.load(req["path"])
        if not hasattr(m, "predict"):
            return {"ok": False, "kind": "model",
                    "error": "%s holds a %s, which has no predict()" % (req["path"],
                                                                        type(m).__name__)}
        info = {"type": type(m).__name__, "proba": hasattr(m, "predict_proba")}
        features = getattr(m, "n_features_in_", None)
        if features is not None:
            info["features"] = int(features)
            # Loaded means answering: one prediction on zeros.
            y = np.asarray(m.predict(np.zeros((1, int(features)))))
            info["datatype"] = datatype(y.ravel())[0]
        classes = getattr(m, "classes_", None)
        if classes is not None and info["proba"]:
            info["classes"] = int(len(classes))
        models[req["key"]] = m
        return {"ok": True, "info": info}

    def predict(req):
        m = models.get(req["key"])
        if m is None:
            return {"ok": False, "kind": "notfound", "error": "model %s is not loaded in the "
                    "sklearn runtime" % req["key"]}
        output = req.get("output", "predict")
        if output not in ("predict", "predict_proba", "decision_function") or \
                not hasattr(m, output):
            return {"ok": False, "kind": "input",
                    "error": "the model (%s) has no output %s" % (type(m).__name__, output)}
        x = np.asarray(req["rows"], dtype=object if req.get("bytes") else np.float64)
        try:
            y = np.asarray(getattr(m, output)(x))
        except (ValueError, TypeError) as e:
            return {"ok": False, "kind": "input", "error": str(e)}
        shape = list(y.shape) if y.ndim > 1 else [int(y.shape[0]) if y.ndim else 1, 1]
        dt, data = datatype(y.ravel())
        return {"ok": True, "output": {"name": output, "shape": shape, "datatype": dt,
                                       "data": data}}

    while True:
        line = sys.stdin.readline()
        if not line:
            return 0
        try:
            req = json.loads(line)
            op = req.get("op")
            if op == "load":
                resp = load(req)
            elif op == "unload":
                models.pop(req.get("key"), None)
                resp = {"ok": True}
            elif op == "predict":
                resp = predict(req)
            else:
                resp = {"ok": False, "kind": "input", "error": "unknown op %r" % op}
        except Exception as e:  # the model's own failure, reported, never fatal
            resp = {"ok": False, "kind": "model", "error": "%s: %s" % (type(e).__name__, e)}
        send(resp)


sys.exit(main())
