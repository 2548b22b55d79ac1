#!/usr/bin/env python3
"""End-to-end test of `servescale mock-classifier`, the built-in model server
behind seldonio/mock_classifier: Seldon's REST endpoints, the answer, the
limits, the test knobs (delay_ms, cpu_ms, fail_after) and graceful SIGTERM.

Usage: test_mock_classifier.py SERVESCALE_BINARY SOURCE_DIR
Every server runs on a free loopback port chosen at run time.
"""
import http.client
import json
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ss_server import ServerProcess  # noqa: E402

BINARY = sys.argv[1] if len(sys.argv) > 1 else "servescale"
START_TIMEOUT_S = 20.0   # sanitizer builds start slowly
EXIT_TIMEOUT_S = 15.0    # drain bound (5 s) plus slack
BODY_MAX = 1 << 20       # the server's request body limit

results = []             # (name, ok, detail)
procs = []               # every server started, killed in the finally block


def check(name, cond, detail=""):
    results.append((name, bool(cond), detail))
    print(("ok    " if cond else "FAIL  ") + name + ("" if cond else ": " + str(detail)), flush=True)
    return cond


def sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


class Server(ServerProcess):
    """One `servescale mock-classifier` process on its own port."""
    subcommand = "mock-classifier"
    env_drop = ("PREDICTIVE_UNIT_PARAMETERS", "PREDICTIVE_UNIT_HTTP_SERVICE_PORT", "PORT")
    start_timeout_s = START_TIMEOUT_S

    def __init__(self, args=(), env=None):
        super().__init__(BINARY, procs, args, env)

    def ready(self, path):
        status, _, body = request(self.port, "GET", path or "/health/ping", timeout=1)
        return status == 200 and body == b"pong"

    def cpu_seconds(self):
        """utime + stime of the process, from /proc/PID/stat."""
        with open("/proc/%d/stat" % self.proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        # fields[0] is state (field 3); utime and stime are fields 14 and 15.
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def request(port, method, path, body=None, headers=None, timeout=10, conn=None):
    own = conn is None
    if own:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp, resp.read()
    finally:
        if own:
            conn.close()


def predict(port, message, path="/api/v1.0/predictions", **kw):
    body = message if isinstance(message, (bytes, str)) else json.dumps(message)
    status, resp, data = request(port, "POST", path, body=body,
                                 headers={"Content-Type": "application/json"}, **kw)
    try:
        doc = json.loads(data)
    except ValueError:
        doc = None
    return status, resp, doc


def is_bad_data(status, doc, code=400):
    st = (doc or {}).get("status", {})
    return (status == code and st.get("reason") == "MICROSERVICE_BAD_DATA"
            and st.get("status") == "FAILURE" and st.get("code") in (code, -1)
            and isinstance(st.get("info"), str) and st.get("info"))


def exited(proc, timeout):
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return None


def test_protocol():
    srv = Server()
    if not check("server starts and answers /health/ping", srv.wait_ready(), srv.stderr()):
        return
    p = srv.port

    status, resp, doc = predict(p, {"data": {"ndarray": [[1, 2, 3, 4]]}})
    got = doc and doc["data"]["ndarray"]
    check("ndarray [[1,2,3,4]] gives sigmoid(2.5-0.5)",
          status == 200 and len(got) == 1 and round(got[0][0], 6) == round(sigmoid(2.0), 6),
          (status, doc))
    check("answer names [\"proba\"], meta {}, application/json",
          doc and doc["data"]["names"] == ["proba"] and doc.get("meta") == {}
          and resp.getheader("Content-Type", "").startswith("application/json"), (doc, resp.getheaders()))

    status, _, doc = predict(p, {"data": {"names": ["a", "b", "c", "d"],
                                          "ndarray": [[1, 2, 3, 4], [0, 0, 0, 0]]}}, path="/predict")
    got = doc and doc["data"]["ndarray"]
    check("two rows give two answers",
          status == 200 and len(got) == 2 and round(got[0][0], 6) == round(sigmoid(2.0), 6)
          and round(got[1][0], 6) == round(sigmoid(-0.5), 6), (status, doc))

    status, _, doc = predict(p, {"data": {"tensor": {"shape": [2, 2], "values": [1, 1, 3, 3]}}})
    t = (doc or {}).get("data", {}).get("tensor", {})
    check("tensor in gives tensor out",
          status == 200 and t.get("shape") == [2, 1] and "ndarray" not in doc["data"]
          and [round(v, 6) for v in t.get("values", [])] == [round(sigmoid(0.5), 6), round(sigmoid(2.5), 6)],
          (status, doc))

    status, _, doc = predict(p, {"data": {"ndarray": [[3.0]]}, "meta": {"puid": "req-42"}})
    check("meta.puid is echoed", status == 200 and doc["meta"] == {"puid": "req-42"}, doc)

    status, _, doc = predict(p, {"data": {"ndarray": [1, 2, 3, 4]}})
    check("1-D input: 400 MICROSERVICE_BAD_DATA", is_bad_data(status, doc), (status, doc))
    status, _, doc = predict(p, {"data": {"ndarray": [[[1, 2]]]}})
    check("3-D input: 400 MICROSERVICE_BAD_DATA", is_bad_data(status, doc), (status, doc))
    status, _, doc = predict(p, {"data": {"ndarray": [[1, "x"]]}})
    check("non-numeric value: 400", is_bad_data(status, doc), (status, doc))
    status, _, doc = predict(p, {"data": {"ndarray": [[]]}})
    check("empty row: 400", is_bad_data(status, doc), (status, doc))
    status, _, doc = predict(p, b'{"data": {"ndarray": [[1, 2')
    check("malformed JSON: 400 with Seldon status", is_bad_data(status, doc), (status, doc))
    status, _, doc = predict(p, b"")
    check("empty body: 400", is_bad_data(status, doc), (status, doc))

    # Over the limit by one byte, sent whole before reading, as most clients do.
    status, _, doc = predict(p, b"[" + b" " * (BODY_MAX - 1) + b"]")
    check("body of 1 MiB + 1 byte: 413 with Seldon status", is_bad_data(status, doc, 413), (status, doc))
    msg = b'{"data": {"ndarray": [[1, 2, 3, 4]]}}'
    status, _, doc = predict(p, msg + b" " * (BODY_MAX - len(msg)))
    check("body of exactly 1 MiB is accepted", status == 200, (status, doc))

    # Declared too large and waiting for 100 Continue: refused before any body.
    with socket.create_connection(("127.0.0.1", p), timeout=10) as s:
        s.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 104857600\r\nExpect: 100-continue\r\n\r\n")
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    check("Content-Length of 100 MiB with Expect: 413 at once", data.startswith(b"HTTP/1.1 413"), data[:80])

    form = urllib.parse.urlencode({"json": json.dumps({"data": {"ndarray": [[1, 2, 3, 4]]}})})
    status, _, body = request(p, "POST", "/predict", body=form,
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
    doc = json.loads(body) if status == 200 else None
    check("form field json= is read, as the Python wrapper does",
          status == 200 and round(doc["data"]["ndarray"][0][0], 6) == round(sigmoid(2.0), 6), (status, body))

    conn = http.client.HTTPConnection("127.0.0.1", p, timeout=10)
    try:
        a = predict(p, {"data": {"ndarray": [[1]]}}, conn=conn)[0]
        sock1 = conn.sock
        b = predict(p, {"data": {"ndarray": [[1]]}}, conn=conn)[0]
        check("keep-alive: two requests on one connection", a == 200 and b == 200 and conn.sock is sock1, (a, b))
    finally:
        conn.close()

    for path in ("/send-feedback", "/api/v1.0/feedback"):
        status, _, body = request(p, "POST", path, body=json.dumps(
            {"request": {"data": {"ndarray": [[1]]}}, "response": {"meta": {"puid": "f1"}}, "reward": 1}),
            headers={"Content-Type": "application/json"})
        doc = json.loads(body) if status == 200 else None
        check("feedback %s answers 200 with meta" % path, status == 200 and "meta" in doc, (status, body))

    for path in ("/metadata", "/api/v1.0/metadata"):
        status, _, body = request(p, "GET", path)
        doc = json.loads(body) if status == 200 else {}
        check("metadata %s" % path,
              status == 200 and doc.get("platform") == "seldon" and isinstance(doc.get("name"), str)
              and isinstance(doc.get("versions"), list)
              and doc.get("inputs") == [{"messagetype": "tensor",
                                         "schema": {"names": ["a", "b", "c", "d"], "shape": [4]}}]
              and doc.get("outputs") == [{"messagetype": "tensor", "schema": {"shape": [1]}}], (status, body))

    status, _, body = request(p, "GET", "/health/status")
    doc = json.loads(body) if status == 200 else {}
    check("/health/status answers a prediction",
          status == 200 and doc.get("data", {}).get("names") == ["proba"], (status, body))
    codes = [request(p, "GET", path)[0] for path in ("/live", "/ready")]
    check("/live and /ready answer 200", codes == [200, 200], codes)
    codes = [request(p, "GET", "/nope")[0], request(p, "DELETE", "/predict")[0]]
    check("unknown path 404, wrong method 405", codes == [404, 405], codes)

    srv.proc.send_signal(signal.SIGTERM)
    rc = exited(srv.proc, EXIT_TIMEOUT_S)
    lines = [l for l in srv.stderr().splitlines() if l.strip()]
    check("idle server exits 0 on SIGTERM", rc == 0, rc)
    check("stderr has one start and one stop line, none per request",
          len(lines) == 2 and "event=start" in lines[0] and "event=stop" in lines[1]
          and "port=%d" % p in lines[0], lines)


def test_delay():
    params = json.dumps([{"name": "delay_ms", "value": "400", "type": "INT"}])
    srv = Server(env={"PREDICTIVE_UNIT_PARAMETERS": params})
    if not check("server with delay_ms starts", srv.wait_ready(), srv.stderr()):
        return
    t0 = time.monotonic()
    status, _, _ = predict(srv.port, {"data": {"ndarray": [[1, 2]]}})
    took = time.monotonic() - t0
    check("delay_ms=400 makes a prediction take >= 0.4 s", status == 200 and took >= 0.4, (status, took))
    t0 = time.monotonic()
    request(srv.port, "GET", "/health/ping")
    check("delay_ms does not slow the probes", time.monotonic() - t0 < 0.4, time.monotonic() - t0)


def test_workers():
    """workers=1: one prediction at a time, the others queued in order; 4
    sent at once at delay_ms=200 finish about 0.2, 0.4, 0.6, 0.8 s after
    (without it, all at about 0.2 s), and probes are not queued."""
    n, ms = 4, 200

    def burst(srv):
        took, lock = [], threading.Lock()

        def one():
            t0 = time.monotonic()
            status, _, _ = predict(srv.port, {"data": {"ndarray": [[1, 2]]}}, timeout=20)
            with lock:
                took.append((time.monotonic() - t0, status))

        ts = [threading.Thread(target=one) for _ in range(n)]
        for t in ts:
            t.start()
        time.sleep(0.05)
        t0 = time.monotonic()
        request(srv.port, "GET", "/health/ping")
        probe = time.monotonic() - t0
        for t in ts:
            t.join(30)
        return sorted(took), probe

    params = json.dumps([{"name": "delay_ms", "value": str(ms), "type": "INT"},
                         {"name": "workers", "value": "1", "type": "INT"}])
    srv = Server(env={"PREDICTIVE_UNIT_PARAMETERS": params})
    if not check("server with workers=1 starts", srv.wait_ready(), srv.stderr()):
        return
    took, probe = burst(srv)
    ok = len(took) == n and all(s == 200 for _, s in took)
    check("workers=1: %d at once are served one after another (%s)" % (n, [round(t, 2) for t, _ in took]),
          ok and all(took[i][0] >= (i + 1) * ms / 1000.0 - 0.02 for i in range(n))
          and took[-1][0] < n * ms / 1000.0 + 1.0, took)
    check("workers=1: a probe is not queued behind them (%.3f s)" % probe, probe < ms / 1000.0, probe)
    check("workers=1 is in the start line", "workers=1" in srv.stderr(), srv.stderr())
    srv = Server(args=("--delay-ms", str(ms)))
    if not check("server without workers starts", srv.wait_ready(), srv.stderr()):
        return
    took, _ = burst(srv)
    # together: all within 3 delays (one after another would take 4)
    check("no workers limit: %d at once all finish within %d ms (%s)"
          % (n, 3 * ms, [round(t, 2) for t, _ in took]),
          len(took) == n and took[-1][0] < 3 * ms / 1000.0, took)


def test_cpu():
    n, ms = 3, 200
    params = json.dumps([{"name": "cpu_ms", "value": str(ms), "type": "INT"}])
    srv = Server(env={"PREDICTIVE_UNIT_PARAMETERS": params})
    if not check("server with cpu_ms starts", srv.wait_ready(), srv.stderr()):
        return
    before = srv.cpu_seconds()
    for _ in range(n):
        predict(srv.port, {"data": {"ndarray": [[1, 2]]}})
    grew = srv.cpu_seconds() - before
    want = n * ms / 1000.0
    # Clock ticks are 10 ms; the rest of the request costs little beside it.
    check("cpu_ms=%d: CPU time grows by about %d ms per request" % (ms, ms),
          0.85 * want <= grew <= 1.5 * want + 0.2, "grew %.3f s for %d requests" % (grew, n))


def test_sigterm_drains():
    srv = Server(args=("--delay-ms", "1500"))
    if not check("server with --delay-ms starts", srv.wait_ready(), srv.stderr()):
        return
    answer = {}

    def slow():
        try:
            answer["status"], _, answer["doc"] = predict(srv.port, {"data": {"ndarray": [[1, 2, 3, 4]]}},
                                                         timeout=20)
        except Exception as e:  # noqa: BLE001 - reported below
            answer["error"] = repr(e)

    t = threading.Thread(target=slow)
    t.start()
    time.sleep(0.4)
    srv.proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    refused = False
    try:
        socket.create_connection(("127.0.0.1", srv.port), timeout=2).close()
    except ConnectionRefusedError:
        refused = True
    check("after SIGTERM new connections are refused", refused)
    t.join(20)
    doc = answer.get("doc") or {}
    check("the request in flight at SIGTERM still gets its answer",
          answer.get("status") == 200 and round(doc["data"]["ndarray"][0][0], 6) == round(sigmoid(2.0), 6),
          answer)
    rc = exited(srv.proc, EXIT_TIMEOUT_S)
    check("SIGTERM exits 0 after draining", rc == 0 and "drained=true" in srv.stderr(), (rc, srv.stderr()))


def test_fail_after():
    srv = Server(args=("--fail-after", "2"))
    if not check("server with --fail-after starts", srv.wait_ready(), srv.stderr()):
        return
    codes = [predict(srv.port, {"data": {"ndarray": [[1]]}})[0] for _ in range(2)]
    rc = exited(srv.proc, EXIT_TIMEOUT_S)
    check("--fail-after 2: two answers, then exit 1", codes == [200, 200] and rc == 1, (codes, rc))


def test_bad_parameters():
    params = json.dumps([{"name": "treshold", "value": "1", "type": "FLOAT"}])
    srv = Server(env={"PREDICTIVE_UNIT_PARAMETERS": params})
    rc = exited(srv.proc, EXIT_TIMEOUT_S)
    check("unknown parameter: exit 2 naming it", rc == 2 and "treshold" in srv.stderr(), (rc, srv.stderr()))
    srv = Server(args=("--cpu-ms", "lots"))
    rc = exited(srv.proc, EXIT_TIMEOUT_S)
    check("bad flag value: exit 2 naming the flag", rc == 2 and "--cpu-ms" in srv.stderr(), (rc, srv.stderr()))


def main():
    try:
        for t in (test_protocol, test_delay, test_workers, test_cpu, test_sigterm_drains, test_fail_after,
                  test_bad_parameters):
            try:
                t()
            except Exception as e:  # noqa: BLE001 - one broken group must not hide the others
                check(t.__name__ + " ran without an exception", False, repr(e))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    failed = sum(1 for _, ok, _ in results if not ok)
    print("%d passed, %d failed" % (len(results) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
