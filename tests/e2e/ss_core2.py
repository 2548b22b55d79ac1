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


def infer(gw, name, body=None, timeout=20):
    data = json.dumps(body or BODY).encode()
    req = urllib.request.Request(gw + "/v2/models/%s/infer" % name, data=data, method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def get(d, plural, name):
    st, obj, _ = d.request("GET", "/apis/mlops.seldon.io/v1alpha1/namespaces/%s/%s/%s" % (NS, plural, name))
    return obj if st == 200 else {}


def spec_replicas(d, plural, name):
    return get(d, plural, name).get("spec", {}).get("replicas")


def status_of(d, plural, name):
    return get(d, plural, name).get("status", {})


def reason(d, name):
    for c in status_of(d, "models", name).get("conditions", []):
        if c.get("type") == "ModelReady":
            return c.get("reason", "")
    return ""


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
