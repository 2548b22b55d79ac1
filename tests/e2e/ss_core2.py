"""What the Core 2 end-to-end tests share: the iris model trained with
Debian's scikit-learn, V2 requests, Model and Server state through the
control API, and hey as the load (its status code counts say whether any
request failed)."""
import json
import os
import re
import subprocess
import urllib.error
import urllib.request

from ss_e2e import _remember, stop_process

NS = "seldon-mesh"
PY = "/usr/bin/python3"  # Debian's, with python3-sklearn
BODY = {"inputs": [{"name": "predict", "shape": [1, 4], "datatype": "FP64",
                    "data": [5.9, 3.0, 4.2, 1.5]}]}


def train_iris(source, out_dir):
    subprocess.run([PY, os.path.join(source, "examples/core2/train_iris.py"), out_dir],
                   check=True, capture_output=True, timeout=180)
    return out_dir


def v2(gw, name, body, headers=None, method="POST", timeout=20):
    """A V2 call: POST .../infer with body, or GET the model's metadata;
    (status, the parsed JSON answer or its raw bytes)."""
    data = json.dumps(body).encode() if body is not None else None
    h = {"Content-Type": "application/json"}
    h.update(headers or {})
    req = urllib.request.Request(gw + "/v2/models/%s%s" % (name, "/infer" if method == "POST" else ""),
                                 data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, raw


def infer(gw, name, body=None, timeout=20):
    return v2(gw, name, body or BODY, timeout=timeout)


def get(d, plural, name):
    st, obj, _ = d.request("GET", "/apis/mlops.seldon.io/v1alpha1/namespaces/%s/%s/%s" % (NS, plural, name))
    return obj if st == 200 else {}


def spec_replicas(d, plural, name):
    return get(d, plural, name).get("spec", {}).get("replicas")


def status_of(d, plural, name):
    return get(d, plural, name).get("status", {})


def condition(d, name, ctype="ModelReady"):
    """Model name's condition ctype ({} when it has none)."""
    for c in status_of(d, "models", name).get("conditions", []):
        if c.get("type") == ctype:
            return c
    return {}


def reason(d, name):
    return condition(d, name).get("reason", "")


class Hey:
    """hey sending V2 requests with c concurrent clients for secs seconds (or
    at q requests a second per client)."""

    def __init__(self, gw, model, secs, c, q=None):
        args = ["hey", "-z", "%ds" % secs, "-c", str(c), "-m", "POST", "-T", "application/json",
                "-d", json.dumps(BODY)]
        if q:
            args += ["-q", str(q)]
        args.append(gw + "/v2/models/%s/infer" % model)
        self.proc = _remember(subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT))
        self.out = ""

    def wait(self, timeout):
        try:
            self.out = self.proc.communicate(timeout=timeout)[0].decode("utf-8", "replace")
        except subprocess.TimeoutExpired:
            stop_process(self.proc)
            self.out = ""
        return self

    def codes(self):
        """{status: count} from hey's "Status code distribution"; errors
        (no answer at all) under "error"."""
        res = {}
        for code, n in re.findall(r"\[(\d+)\]\s+(\d+) responses", self.out):
            res[int(code)] = int(n)
        err = re.search(r"Error distribution:(.*)", self.out, re.S)
        if err:
            res["error"] = sum(int(n) for n in re.findall(r"\[(\d+)\]", err.group(1)))
        return res
