#!/usr/bin/env python3
"""End-to-end: the data plane. One daemon runs several SeldonDeployments of
the built-in mock classifier; the test talks to its gateway only.

  (a) Seldon messages round trip (ndarray, tensor, names; meta.puid;
      meta.requestPath names each node's image) and the error shapes
      (malformed JSON 400 and bad data with Seldon's status object, unknown
      deployment 404, a body over 10 MiB 413);
  (b) OAuth (examples/seldon-0.2.7-hpaspec.json): no token 401, a wrong
      token 401, a token from /oauth/token passes, wrong key:secret 401;
  (c) traffic 75/25 between two predictors, measured over 2000 requests
      (the predictors' mocks have different thresholds, so the answer says
      which one served);
  (d) ROUTER RANDOM_ABTEST (ratioA) and AVERAGE_COMBINER, built into the
      gateway, over mock models: meta.routing and the answers;
  (e) hey under load while the replica set goes 3 -> 1 -> 3: no failed
      request;
  (f) kill -9 of one of 3 replicas under load: only requests in flight on
      it fail, the rest and everything after succeed, the replica restarts;
  (g) scale to zero: a request waits in the queue and is answered once a
      replica is back; with --queue-timeout-ms 1500 (a second daemon) and
      no replica, 503 after about 1.5 s.

An expired token is not tested: tokens live SS_GW_TOKEN_TTL_S (12 h) and
the daemon has no flag to shorten it; tests/unit/test_oauth.c gives
ss__gw_oauth_check an explicit clock and tests expiry there.

Usage: test_gateway.py SERVESCALE_BINARY SOURCE_DIR
"""
import concurrent.futures
import http.client
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ss_e2e import Checks, Daemon, args_or_default, oauth_token, run_timed, stop_all, \
    wait_until  # noqa: E402

BINARY, SOURCE = args_or_default()
EXAMPLES = os.path.join(SOURCE, "examples")
NS = "gw"
IMAGE = "seldonio/mock_classifier:1.0"
ROW = [[1.0, 2.0, 3.0, 4.0]]  # mean 2.5
PAYLOAD = {"data": {"ndarray": ROW}}

checks = Checks()
check = checks.check


def sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


def answer_of(threshold, row=ROW[0]):
    """The mock classifier's answer for one row."""
    return sigmoid(sum(row) / len(row) - threshold)


# ---- resources ----

def model_node(name, threshold=None, delay_ms=None, children=()):
    params = []
    if threshold is not None:
        params.append({"name": "threshold", "value": str(threshold), "type": "FLOAT"})
    if delay_ms is not None:
        params.append({"name": "delay_ms", "value": str(delay_ms), "type": "INT"})
    n = {"name": name, "type": "MODEL", "endpoint": {"type": "REST"}, "children": list(children)}
    if params:
        n["parameters"] = params
    return n


def component(container):
    return {"spec": {"containers": [{"image": IMAGE, "name": container}],
                     "terminationGracePeriodSeconds": 1}}


def predictor(name, containers, graph, traffic=None):
    p = {"name": name, "graph": graph, "componentSpecs": [component(c) for c in containers]}
    if traffic is not None:
        p["traffic"] = traffic
    return p


def sdep(name, predictors, replicas=None):
    """replicas goes to spec.replicas, the field `kubectl scale` sets (the
    scale subresource's specReplicasPath): as in Seldon, a predictor's or
    componentSpec's own replicas would take precedence over it."""
    o = {"apiVersion": "machinelearning.seldon.io/v1", "kind": "SeldonDeployment",
         "metadata": {"name": name, "namespace": NS},
         "spec": {"name": name, "predictors": predictors}}
    if replicas is not None:
        o["spec"]["replicas"] = replicas
    return o


def write_json(dirpath, name, obj):
    path = os.path.join(dirpath, name + ".json")
    with open(path, "w") as f:
        json.dump(obj, f)
    return path


# ---- the client side ----

class Client:
    """One keep-alive HTTP/1.1 connection to the gateway."""

    def __init__(self, base, timeout=15):
        m = re.match(r"http://([^:/]+):(\d+)", base)
        self.host, self.port = m.group(1), int(m.group(2))
        self.timeout = timeout
        self.conn = None

    def post(self, path, body, headers=None):
        """(status, bytes); status 0 and the exception's text when the
        connection failed."""
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        h = {"Content-Type": "application/json"}
        h.update(headers or {})
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self.conn.request("POST", path, body=body, headers=h)
            r = self.conn.getresponse()
            data = r.read()
            if r.getheader("Connection", "").lower() == "close":
                self.close()
            return r.status, data
        except (OSError, http.client.HTTPException) as e:
            self.close()
            return 0, str(e).encode()

    def close(self):
        if self.conn:
            self.conn.close()
            self.conn = None


def pred_path(name, ns=NS, kind="predictions"):
    return "/seldon/%s/%s/api/v1.0/%s" % (ns, name, kind)


def jload(b):
    try:
        return json.loads(b)
    except (ValueError, TypeError):
        return None


def proba(body):
    """The first answer of a mock's reply (ndarray or tensor), or None."""
    o = jload(body) if isinstance(body, (bytes, str)) else body
    try:
        d = o["data"]
        if "ndarray" in d:
            return d["ndarray"][0][0]
        return d["tensor"]["values"][0]
    except (KeyError, IndexError, TypeError):
        return None


def is_status(o, code):
    """Seldon's status object: {"status": {"code", "info", "reason", "status": "FAILURE"}}."""
    s = (o or {}).get("status") if isinstance(o, dict) else None
    return isinstance(s, dict) and s.get("code") == code and s.get("status") == "FAILURE" \
        and isinstance(s.get("reason"), str) and isinstance(s.get("info"), str)


# ---- the daemon side ----

def rs_replicas(d, rs):
    """{pid: replica id} of the live replica processes of replica set rs."""
    prefix = "%s.%s-" % (NS, rs)
    return {pid: env["SERVESCALE_REPLICA"] for pid, env in d.replicas().items()
            if env["SERVESCALE_REPLICA"].startswith(prefix)}


def available(d, name, replicas):
    """Whether every replica set of sdep name has availableReplicas == replicas."""
    st = (d.get_sdep(NS, name) or {}).get("status", {})
    ds = st.get("deploymentStatus") or {}
    return st.get("state") == "Available" and ds and all(
        v.get("availableReplicas", 0) == replicas and v.get("replicas") == replicas
        for v in ds.values())


def scale(d, name, n):
    rc, out, err = d.kubectl("scale", "sdep/" + name, "-n", NS, "--replicas=%d" % n)
    return rc == 0, out + err


def hey(url, seconds, conc, body):
    """Runs hey; (exit code, {status: count}, error lines, raw output)."""
    p = subprocess.run(["hey", "-z", "%ds" % seconds, "-c", str(conc), "-m", "POST",
                        "-T", "application/json", "-d", body, url],
                       capture_output=True, timeout=seconds + 40)
    out = p.stdout.decode("utf-8", "replace")
    codes = {}
    for m in re.finditer(r"\[(\d+)\]\s+(\d+) responses", out):
        codes[int(m.group(1))] = codes.get(int(m.group(1)), 0) + int(m.group(2))
    errors = []
    if "Error distribution:" in out:
        errors = [l.strip() for l in out.split("Error distribution:", 1)[1].splitlines()
                  if l.strip()]
    return p.returncode, codes, errors, out


# ---- the parts ----

def part_a(d):
    gw = d.gateway
    c = Client(gw)
    path = pred_path("plain")
    status, body = c.post(path, PAYLOAD)
    o = jload(body) or {}
    meta = o.get("meta", {})
    check("(a) ndarray round trip: 200, names [\"proba\"], the mock's answer",
          status == 200 and o.get("data", {}).get("names") == ["proba"]
          and abs((proba(o) or 0) - answer_of(0.5)) < 1e-9, (status, body))
    check("(a) meta.puid present", isinstance(meta.get("puid"), str) and len(meta["puid"]) > 0,
          meta)
    check("(a) meta.requestPath maps the node to its image",
          meta.get("requestPath") == {"classifier": IMAGE}, meta)
    status, body = c.post(path, {"data": {"tensor": {"shape": [2, 4],
                                                      "values": [1, 2, 3, 4, 0, 0, 0, 0]}},
                                 "meta": {"puid": "my-puid-1"}})
    o = jload(body) or {}
    t = o.get("data", {}).get("tensor", {})
    check("(a) tensor round trip: shape [2, 1], values, puid kept",
          status == 200 and t.get("shape") == [2, 1]
          and abs(t.get("values", [0, 0])[0] - answer_of(0.5)) < 1e-9
          and abs(t.get("values", [0, 0])[1] - answer_of(0.5, [0, 0, 0, 0])) < 1e-9
          and o.get("meta", {}).get("puid") == "my-puid-1", (status, body))
    status, body = c.post(path, {"data": {"names": ["a", "b", "c", "d"], "ndarray": ROW}})
    o = jload(body) or {}
    check("(a) names + ndarray round trip: names [\"proba\"], ndarray [[p]]",
          status == 200 and o.get("data", {}).get("names") == ["proba"]
          and isinstance(o.get("data", {}).get("ndarray"), list)
          and abs((proba(o) or 0) - answer_of(0.5)) < 1e-9, (status, body))
    # errors
    status, body = c.post(path, b'{"data": {"ndarray": [[1, 2,')
    check("(a) malformed JSON: 400 with Seldon's status object",
          status == 400 and is_status(jload(body), 400), (status, body))
    status, body = c.post(path, {"data": {"ndarray": [1, 2, 3]}})  # 1-D: bad data for the mock
    o = jload(body)
    check("(a) data the model rejects: 4xx/5xx with Seldon's status object",
          400 <= status < 600 and is_status(o, status), (status, body))
    status, body = c.post(pred_path("no-such-model"), PAYLOAD)
    check("(a) unknown deployment: 404 with Seldon's status object",
          status == 404 and is_status(jload(body), 404), (status, body))
    status, body = c.post(pred_path("plain", ns="no-such-ns"), PAYLOAD)
    check("(a) unknown namespace: 404", status == 404, (status, body))
    big = b'{"data":{"ndarray":[[' + b"1," * (5 << 20) + b'1]]}}'  # > 10 MiB
    status, body = c.post(path, big)
    check("(a) body over 10 MiB: 413 with Seldon's status object (%d bytes)" % len(big),
          status == 413 and is_status(jload(body), 413), (status, body[:300]))
    status, body = Client(gw).post(path, PAYLOAD)
    check("(a) the gateway answers after the 413", status == 200, (status, body))
    c.close()


def part_b(d):
    gw = d.gateway
    path = pred_path("seldon-model")
    c = Client(gw)
    status, body = c.post(path, PAYLOAD)
    check("(b) OAuth deployment without a token: 401 with Seldon's status object",
          status == 401 and is_status(jload(body), 401), (status, body))
    status, body = c.post(path, PAYLOAD, {"Authorization": "Bearer " + "0" * 64})
    check("(b) a wrong bearer token: 401", status == 401, (status, body))
    status, body = c.post(path, PAYLOAD, {"Authorization": "Basic b2F1dGgta2V5Om9hdXRoLXNlY3JldA=="})
    check("(b) Basic key:secret instead of a token: 401", status == 401, (status, body))
    tok = oauth_token(gw, "oauth-key", "oauth-secret")
    check("(b) /oauth/token with the deployment's oauth_key:oauth_secret issues a token",
          isinstance(tok, str) and len(tok) >= 32, tok)
    status, body = c.post(path, PAYLOAD, {"Authorization": "Bearer %s" % tok})
    check("(b) the token passes: 200 and the mock's answer",
          status == 200 and abs((proba(body) or 0) - answer_of(0.5)) < 1e-9, (status, body))
    status, body = c.post(path, PAYLOAD, {"Authorization": "Bearer %s" % (tok[:-1] + ("0" if tok[-1] != "0" else "1"))})
    check("(b) the token with one character changed: 401", status == 401, (status, body))
    check("(b) wrong key:secret at /oauth/token: no token (401)",
          oauth_token(gw, "oauth-key", "wrong-secret") is None
          and oauth_token(gw, "wrong-key", "oauth-secret") is None)
    # the exact status of a wrong secret
    import base64
    basic = base64.b64encode(b"oauth-key:nope").decode()
    status, body = c.post("/oauth/token", b"grant_type=client_credentials",
                          {"Authorization": "Basic " + basic,
                           "Content-Type": "application/x-www-form-urlencoded"})
    check("(b) /oauth/token with a wrong secret answers 401", status == 401, (status, body))
    status, body = c.post(pred_path("plain"), PAYLOAD)
    check("(b) a deployment without oauth_key needs no token", status == 200, (status, body))
    c.close()


def run_parallel(gw, path, n, conc, headers=None):
    """n POSTs of PAYLOAD over conc keep-alive connections; the list of
    (status, body)."""
    per = [n // conc + (1 if i < n % conc else 0) for i in range(conc)]

    def worker(k):
        c = Client(gw)
        out = [c.post(path, PAYLOAD, headers) for _ in range(k)]
        c.close()
        return out
    with concurrent.futures.ThreadPoolExecutor(conc) as ex:
        return [r for rs in ex.map(worker, per) for r in rs]


def part_c(d):
    n = 2000
    res = run_parallel(d.gateway, pred_path("split"), n, 8)
    a_ans, b_ans = answer_of(0.9), answer_of(0.1)
    na = sum(1 for s, b in res if s == 200 and abs((proba(b) or -1) - a_ans) < 1e-9)
    nb = sum(1 for s, b in res if s == 200 and abs((proba(b) or -1) - b_ans) < 1e-9)
    sd = math.sqrt(n * 0.75 * 0.25)
    check("(c) all %d requests answered by one of the two predictors (%d + %d)" % (n, na, nb),
          na + nb == n, [r for r in res if r[0] != 200][:3])
    check("(c) traffic 75/25: predictor a served %d of %d (%.1f%%), expected 1500 +- 5 sd "
          "(%.0f)" % (na, n, 100.0 * na / n, 5 * sd), abs(na - 0.75 * n) <= 5 * sd, (na, nb))
    return na, nb


def part_d(d):
    n = 400
    res = run_parallel(d.gateway, pred_path("abtest"), n, 4)
    a_ans, b_ans = answer_of(0.9), answer_of(0.1)
    routes = {0: 0, 1: 0}
    bad = []
    for s, b in res:
        o = jload(b) or {}
        r = o.get("meta", {}).get("routing", {}).get("router")
        p = proba(o)
        if s != 200 or r not in (0, 1) or p is None:
            bad.append((s, b))
            continue
        want = a_ans if r == 0 else b_ans
        if abs(p - want) > 1e-9:
            bad.append((s, b))
            continue
        routes[r] += 1
    check("(d) RANDOM_ABTEST: every answer has meta.routing.router in {0, 1} and comes from "
          "that child", not bad, bad[:3])
    sd = math.sqrt(n * 0.3 * 0.7)
    check("(d) RANDOM_ABTEST ratioA 0.3: child 0 took %d of %d (expected 120 +- 5 sd %.0f)"
          % (routes[0], n, 5 * sd), abs(routes[0] - 0.3 * n) <= 5 * sd, routes)
    status, body = Client(d.gateway).post(pred_path("abtest"), PAYLOAD)
    o = jload(body) or {}
    rp = o.get("meta", {}).get("requestPath", {})
    check("(d) RANDOM_ABTEST: requestPath names the chosen model's image",
          status == 200 and rp.get("a" if o["meta"]["routing"]["router"] == 0 else "b") == IMAGE,
          o.get("meta"))
    status, body = Client(d.gateway).post(pred_path("combiner"), PAYLOAD)
    o = jload(body) or {}
    want = (answer_of(0.9) + answer_of(0.1)) / 2
    check("(d) AVERAGE_COMBINER: the mean of its two models' answers (%.6f)" % want,
          status == 200 and abs((proba(o) or 0) - want) < 1e-9, (status, body))
    rp = o.get("meta", {}).get("requestPath", {})
    check("(d) AVERAGE_COMBINER: requestPath names both models",
          rp.get("a") == IMAGE and rp.get("b") == IMAGE, o.get("meta"))
    status, body = Client(d.gateway).post(pred_path("combiner"),
                                          {"data": {"tensor": {"shape": [1, 4],
                                                               "values": [1, 2, 3, 4]}}})
    o = jload(body) or {}
    check("(d) AVERAGE_COMBINER keeps the tensor form",
          status == 200 and "tensor" in o.get("data", {})
          and abs((proba(o) or 0) - want) < 1e-9, (status, body))


def part_e(d):
    name, rs = "scaler", "scaler-p-0-classifier"
    url = d.gateway + pred_path(name)
    result = {}

    def load():
        result["hey"] = hey(url, 8, 8, json.dumps(PAYLOAD))
    t = threading.Thread(target=load)
    t0 = time.monotonic()
    t.start()
    time.sleep(1.5)
    ok, out = scale(d, name, 1)
    check("(e) kubectl scale 3 -> 1 under load", ok, out)
    down = wait_until(lambda: len(rs_replicas(d, rs)) == 1, 5, 0.05)
    t_down = time.monotonic() - t0
    check("(e) the replica set went down to 1 replica while the load ran (at %.1f s)" % t_down,
          down and t_down < 7.5, rs_replicas(d, rs))
    time.sleep(0.5)
    ok, out = scale(d, name, 3)
    check("(e) kubectl scale 1 -> 3 under load", ok, out)
    up = wait_until(lambda: available(d, name, 3), 6, 0.05)
    t_up = time.monotonic() - t0
    check("(e) back to 3 available replicas while the load ran (at %.1f s)" % t_up,
          up and t_up < 8, (d.get_sdep(NS, name) or {}).get("status"))
    t.join(60)
    rc, codes, errors, out = result.get("hey", (None, {}, ["hey did not finish"], ""))
    total = sum(codes.values())
    failed = total - codes.get(200, 0) + len(errors)
    check("(e) hey -z 8s -c 8: %d requests, %d failed (status codes %s)" % (total, failed, codes),
          rc == 0 and total > 100 and failed == 0, (errors, out[-1500:]))
    return total, failed


def part_f(d):
    name, rs = "killer", "killer-p-0-classifier"
    path = pred_path(name)
    conc = 8
    stop = threading.Event()
    log = []  # (start, end, status)
    lock = threading.Lock()

    def worker():
        c = Client(d.gateway)
        while not stop.is_set():
            s = time.monotonic()
            status, body = c.post(path, PAYLOAD)
            e = time.monotonic()
            if status != 200:
                c.close()
            with lock:
                log.append((s, e, status, body[:200]))
        c.close()
    before = rs_replicas(d, rs)
    check("(f) 3 replicas before the kill", len(before) == 3, before)
    threads = [threading.Thread(target=worker) for _ in range(conc)]
    for t in threads:
        t.start()
    try:
        time.sleep(2.0)
        victim = sorted(before)[0]
        t_kill = time.monotonic()
        os.kill(victim, signal.SIGKILL)
        t_killed = time.monotonic()
        back = wait_until(lambda: len(rs_replicas(d, rs)) == 3 and victim not in rs_replicas(d, rs)
                          and available(d, name, 3), 15, 0.05)
        t_back = time.monotonic()
        check("(f) the killed replica was restarted (3 replicas again after %.1f s)"
              % (t_back - t_kill), back, rs_replicas(d, rs))
        time.sleep(2.0)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    failures = [r for r in log if r[2] != 200]
    in_flight_at_kill = [r for r in log if r[0] <= t_killed and r[1] >= t_kill]
    late = [r for r in failures if r[0] > t_killed + 0.1]
    check("(f) %d requests, %d failed; at most the %d in flight at the kill may fail"
          % (len(log), len(failures), conc),
          len(failures) <= conc and len(failures) <= len(in_flight_at_kill),
          [(round(r[0] - t_kill, 3), r[2], r[3]) for r in failures][:10])
    check("(f) every failure was a request in flight when the replica died",
          not late, [(round(r[0] - t_kill, 3), r[2], r[3]) for r in late][:10])
    after = [r for r in log if r[0] >= t_back]
    check("(f) after the restart all %d requests succeeded" % len(after),
          len(after) > 20 and all(r[2] == 200 for r in after),
          [r for r in after if r[2] != 200][:5])
    return len(log), len(failures)


def part_g(d, d2):
    name = "zero"
    ok, out = scale(d, name, 0)
    check("(g) kubectl scale --replicas=0", ok, out)
    gone = wait_until(lambda: not rs_replicas(d, "zero-p-0-classifier"), 10, 0.05)
    check("(g) no replica left", gone, rs_replicas(d, "zero-p-0-classifier"))
    result = {}

    def req():
        s = time.monotonic()
        result["r"] = Client(d.gateway, timeout=30).post(pred_path(name), PAYLOAD)
        result["t"] = time.monotonic() - s
    t = threading.Thread(target=req)
    t.start()
    t_wait = time.monotonic()

    def queued_gauge():
        with urllib.request.urlopen(d.gateway + "/prometheus", timeout=5) as r:
            text = r.read().decode()
        for line in text.splitlines():
            if line.startswith("servescale_replica_set_queued_requests{") and \
                    'zero-p-0-classifier"' in line:
                return float(line.rsplit(" ", 1)[1]) >= 1
        return False
    gauge = wait_until(queued_gauge, 0.9, 0.05)
    time.sleep(max(0.0, 1.0 - (time.monotonic() - t_wait)))
    check("(g) the request waits while the replica set has no replica", t.is_alive())
    check("(g) servescale_replica_set_queued_requests counts it", gauge)
    ok, out = scale(d, name, 1)
    t_scale = time.monotonic()
    check("(g) kubectl scale --replicas=1 while it waits", ok, out)
    t.join(30)
    status, body = result.get("r", (None, b""))
    check("(g) the waiting request is answered 200 once a replica is ready "
          "(after %.2f s; %.2f s after the scale)" % (result.get("t", -1),
                                                        time.monotonic() - t_scale),
          status == 200 and abs((proba(body) or 0) - answer_of(0.5)) < 1e-9, (status, body))
    # the second daemon: --queue-timeout-ms 1500, no replica ever
    s = time.monotonic()
    status, body = Client(d2.gateway, timeout=30).post(pred_path("empty"), PAYLOAD)
    el = time.monotonic() - s
    check("(g) --queue-timeout-ms 1500 and no replica: 503 after %.2f s (about 1.5)" % el,
          status == 503 and 1.3 <= el <= 4.0 and is_status(jload(body), 503), (status, body))


def main():
    tmp = tempfile.mkdtemp(prefix="ss-gw-")
    d = Daemon(BINARY, backoff_base_ms=200, extra_args=["--queue-timeout-ms", "20000"])
    d2 = Daemon(BINARY, extra_args=["--queue-timeout-ms", "1500"])
    try:
        d.start()
        d2.start()
        check("gateway URLs in the banners", d.gateway and d2.gateway, (d.gateway, d2.gateway))
        with open(os.path.join(EXAMPLES, "seldon-0.2.7-hpaspec.json")) as f:
            oauth = json.load(f)
        oauth["metadata"]["namespace"] = NS
        objs = {
            "plain": sdep("plain", [predictor("p", ["classifier"], model_node("classifier"))]),
            "oauth": oauth,
            "split": sdep("split", [
                predictor("a", ["classifier"], model_node("classifier", threshold=0.9),
                          traffic=75),
                predictor("b", ["classifier"], model_node("classifier", threshold=0.1),
                          traffic=25)]),
            "abtest": sdep("abtest", [predictor("p", ["a", "b"], {
                "name": "router", "type": "ROUTER", "implementation": "RANDOM_ABTEST",
                "parameters": [{"name": "ratioA", "value": "0.3", "type": "FLOAT"}],
                "children": [model_node("a", threshold=0.9), model_node("b", threshold=0.1)]})]),
            "combiner": sdep("combiner", [predictor("p", ["a", "b"], {
                "name": "combiner", "type": "COMBINER", "implementation": "AVERAGE_COMBINER",
                "children": [model_node("a", threshold=0.9), model_node("b", threshold=0.1)]})]),
            "scaler": sdep("scaler", [predictor("p", ["classifier"],
                                                model_node("classifier", delay_ms=20))],
                           replicas=3),
            "killer": sdep("killer", [predictor("p", ["classifier"],
                                                model_node("classifier", delay_ms=20))],
                           replicas=3),
            "zero": sdep("zero", [predictor("p", ["classifier"], model_node("classifier"))]),
        }
        for k, o in objs.items():
            rc, out, err = d.kubectl("apply", "-f", write_json(tmp, k, o), "-n", NS)
            check("kubectl apply %s" % k, rc == 0, out + err)
        empty = sdep("empty", [predictor("p", ["classifier"], model_node("classifier"))],
                     replicas=0)
        rc, out, err = d2.kubectl("apply", "-f", write_json(tmp, "empty", empty), "-n", NS)
        check("kubectl apply a deployment with replicas 0 to the second daemon", rc == 0,
              out + err)
        names = {"plain": 1, "seldon-model": 1, "split": 1, "abtest": 1, "combiner": 1,
                 "scaler": 3, "killer": 3, "zero": 1}
        ready = wait_until(lambda: all(available(d, n, r) for n, r in names.items()), 60, 0.2)
        check("all deployments Available", ready,
              {n: (d.get_sdep(NS, n) or {}).get("status") for n in names
               if not available(d, n, names[n])})
        if not ready:
            return
        part_a(d)
        part_b(d)
        part_c(d)
        part_d(d)
        part_e(d)
        part_f(d)
        part_g(d, d2)
    finally:
        for x in (d, d2):
            x.stop()
        stop_all()
        if checks.failed:
            for x in (d, d2):
                sys.stdout.write("--- daemon log (tail) %s\n%s\n" % (x.log_path, x.stderr()[-3000:]))
        for x in (d, d2):
            x.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    run_timed(main, checks)
