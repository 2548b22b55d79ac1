#!/usr/bin/env python3
"""End-to-end: the gateway against a careless or hostile client (loopback
only). Each part is a regression test of something an outside probe broke:

(a) Basic credentials that are all padding (the sanitizer build aborted on
    the first one) and other bad base64: 401 with a JSON body
(b) OAuth tokens: error bodies are JSON; a changed oauth_secret and a
    deployment deleted and recreated revoke the tokens issued before
(c) request heads over 16 KiB: 431; HTTP versions other than 1.0/1.1: 505;
    Expect: 100-continue gets its interim answer before the body is sent;
    another Expect: 417
(d) right after a restart, predictions get 503 with Retry-After until the
    routes are published, never 404
(e) descriptors: the daemon runs with a low descriptor limit; far more idle
    connections than it may hold are opened; predictions and the control API
    keep working, the oldest idle connections are shed (with a log line),
    and the daemon's CPU stays low while they sit there

Usage: test_hardening_gateway.py SERVESCALE_BINARY SOURCE_DIR
"""
import http.client
import json
import os
import resource
import socket
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ss_e2e import Checks, Daemon, oauth_token, predict, stop_all, wait_until, \
    args_or_default  # noqa: E402

BINARY, SOURCE = args_or_default()
checks = Checks()
check = checks.check

SDEP = """apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata:
  name: %(name)s
  namespace: default
spec:
  %(oauth)s
  predictors:
  - name: default
    replicas: 1
    graph: {name: classifier, type: MODEL}
    componentSpecs:
    - spec:
        containers:
        - name: classifier
          image: seldonio/mock_classifier:1.0
"""


def sdep(name, secret=None):
    oauth = "oauth_key: key-%s\n  oauth_secret: %s" % (name, secret) if secret else ""
    return SDEP % {"name": name, "oauth": oauth}


def gw_hostport(d):
    host, port = d.gateway.replace("http://", "").split(":")
    return host, int(port)


def raw(d, data, read_timeout=5.0, shut=False):
    """Sends bytes on a fresh connection; returns what comes back until the
    peer closes or read_timeout passes."""
    s = socket.create_connection(gw_hostport(d), timeout=read_timeout)
    try:
        s.sendall(data)
        if shut:
            s.shutdown(socket.SHUT_WR)
        out = b""
        deadline = time.time() + read_timeout
        while time.time() < deadline:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            out += chunk
            if b"\r\n\r\n" in out:
                head, _, body = out.partition(b"\r\n\r\n")
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        if len(body) >= int(line.split(b":")[1]):
                            return out
        return out
    finally:
        s.close()


def status_of(resp):
    try:
        return int(resp.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return None


def body_of(resp):
    return resp.partition(b"\r\n\r\n")[2]


def token_post(d, authorization):
    c = http.client.HTTPConnection(*gw_hostport(d), timeout=10)
    try:
        c.request("POST", "/oauth/token", body=b"", headers={"Authorization": authorization})
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def is_json(b):
    try:
        json.loads(b)
        return True
    except ValueError:
        return False


def apply(d, text):
    rc, out, err = d.kubectl("apply", "-f", "-", stdin=text)
    return rc == 0, out + err


def wait_available(d, name, timeout=60):
    def ok():
        o = d.get_sdep("default", name)
        return o and o.get("status", {}).get("state") == "Available"
    return wait_until(ok, timeout)


def pred_url(d, name):
    return d.gateway + "/seldon/default/%s/api/v1.0/predictions" % name


def part_a(d):
    for value in ["====", "=" * 600, "=" * 599, "a===", "ab=c", "YWJj", "!!!!", "YQ==YQ==",
                  "Og==", "Zm9vOmJhcgA6eA=="]:
        st, body = token_post(d, "Basic " + value)
        check("(a) Basic %r...: 401 with a JSON body" % value[:12],
              st == 401 and is_json(body), (st, body[:200]))
    check("(a) the daemon is alive after them", d.alive(), d.stderr()[-2000:])


def part_b(d):
    ok, out = apply(d, sdep("locked", "s3cret-1"))
    check("(b) a deployment with oauth_key/oauth_secret applies", ok, out)
    check("(b) it becomes Available", wait_available(d, "locked"))
    st, body = token_post(d, "Basic bm8tc3VjaDprZXk=")  # no-such:key
    check("(b) bad credentials: 401, the body is JSON with error invalid_client",
          st == 401 and is_json(body) and json.loads(body).get("error") == "invalid_client",
          (st, body))
    st, body = token_post(d, "Bearer x")
    check("(b) no Basic credentials: 401, the body is JSON",
          st == 401 and is_json(body) and b"\x00" not in body, (st, body))
    tok = oauth_token(d.gateway, "key-locked", "s3cret-1")
    check("(b) good credentials get a token", tok is not None)
    st, _ = predict(pred_url(d, "locked"), token=tok)
    check("(b) the token is accepted", st == 200, st)
    # the secret changes: the old token is refused, the new secret works
    ok, out = apply(d, sdep("locked", "s3cret-2"))
    check("(b) the secret is changed", ok, out)
    revoked = wait_until(lambda: predict(pred_url(d, "locked"), token=tok)[0] == 401, 20)
    check("(b) a changed oauth_secret revokes the token issued before", revoked)
    check("(b) the old secret gets no new token",
          oauth_token(d.gateway, "key-locked", "s3cret-1") is None)
    tok2 = oauth_token(d.gateway, "key-locked", "s3cret-2")
    st, _ = predict(pred_url(d, "locked"), token=tok2)
    check("(b) the new secret's token is accepted", tok2 is not None and st == 200, st)
    # deleted and recreated with the same name and secret: a new deployment
    rc, out, err = d.kubectl("delete", "sdep", "locked", "-n", "default")
    check("(b) deleted", rc == 0, err)
    wait_until(lambda: d.get_sdep("default", "locked") is None, 20)
    ok, out = apply(d, sdep("locked", "s3cret-2"))
    check("(b) recreated", ok and wait_available(d, "locked"), out)
    st, body = predict(pred_url(d, "locked"), token=tok2)
    check("(b) a token of the deleted deployment is refused by the recreated one", st == 401,
          (st, body))
    tok3 = oauth_token(d.gateway, "key-locked", "s3cret-2")
    st, _ = predict(pred_url(d, "locked"), token=tok3)
    check("(b) the recreated deployment issues its own tokens", st == 200, st)
    # a flood of token requests with good credentials: every one is answered
    # with a token, and predictions still pass
    basic = "Basic " + __import__("base64").b64encode(b"key-locked:s3cret-2").decode()
    c = http.client.HTTPConnection(*gw_hostport(d), timeout=10)
    good = 0
    for _ in range(3000):
        c.request("POST", "/oauth/token", body=b"", headers={"Authorization": basic})
        r = c.getresponse()
        good += r.status == 200 and "access_token" in json.loads(r.read())
    c.close()
    check("(b) 3000 token requests on one client all get tokens", good == 3000, good)
    st, _ = predict(pred_url(d, "locked"), token=tok3)
    check("(b) past 1024 tokens a client's oldest are evicted: the one issued before the "
          "flood is refused", st == 401, st)
    check("(b) predictions pass with a fresh token after the flood",
          predict(pred_url(d, "locked"), token=oauth_token(d.gateway, "key-locked",
                                                             "s3cret-2"))[0] == 200)


def part_c(d):
    ok, out = apply(d, sdep("open"))
    check("(c) a deployment without OAuth applies", ok and wait_available(d, "open"), out)
    path = b"/seldon/default/open/api/v1.0/predictions"
    big = b"GET /ready HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * (17 << 10) + b"\r\n\r\n"
    resp = raw(d, big)
    check("(c) a 17 KiB request head: 431", status_of(resp) == 431, resp[:200])
    resp = raw(d, b"GET /ready HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * (15 << 10) + b"\r\n\r\n")
    check("(c) a 15 KiB request head: 200", status_of(resp) == 200, resp[:200])
    for ver in (b"HTTP/2.0", b"HTTP/1.2", b"HTTP/0.9", b"HTTP/3.0"):
        resp = raw(d, b"GET /ready " + ver + b"\r\nHost: x\r\n\r\n")
        check("(c) %s: 505" % ver.decode(), status_of(resp) == 505, resp[:200])
    # Expect: 100-continue: the interim answer comes before the body is sent
    s = socket.create_connection(gw_hostport(d), timeout=5)
    body = json.dumps({"data": {"ndarray": [[1, 2, 3, 4]]}}).encode()
    s.sendall(b"POST " + path + b" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Expect: 100-continue\r\nContent-Length: %d\r\n\r\n" % len(body))
    try:
        first = s.recv(4096)
    except socket.timeout:
        first = b""
    check("(c) Expect: 100-continue is answered 100 Continue before the body",
          first.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"), first[:100])
    s.sendall(body)
    rest = first[len(b"HTTP/1.1 100 Continue\r\n\r\n"):]
    deadline = time.time() + 10
    while b"\r\n\r\n" not in rest and time.time() < deadline:
        chunk = s.recv(65536)
        if not chunk:
            break
        rest += chunk
    s.close()
    check("(c) ... and then the prediction", status_of(rest) == 200, rest[:200])
    resp = raw(d, b"POST " + path + b" HTTP/1.1\r\nHost: x\r\nExpect: something-else\r\n"
               b"Content-Length: 2\r\n\r\n{}")
    check("(c) another Expect: 417", status_of(resp) == 417, resp[:200])
    resp = raw(d, b"POST " + path + b" HTTP/1.0\r\nExpect: 100-continue\r\n"
               b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    check("(c) HTTP/1.0 ignores Expect and is answered", status_of(resp) == 200, resp[:200])


def part_d(binary):
    """A restart on the same state: nothing may be answered 404."""
    d = Daemon(binary)
    try:
        d.start()
        ok, out = apply(d, sdep("again"))
        check("(d) applied", ok and wait_available(d, "again"), out)
        state = d.state_dir
        host, port = gw_hostport(d)
        d.stop()
        d2 = Daemon(binary, state_dir=state, extra_args=["--gateway-port", str(port)])
        # --gateway-port given twice: the last one wins (getopt), the same port
        seen = []
        stop = threading.Event()

        def hammer():
            while not stop.is_set() and len(seen) < 20000:
                try:
                    c = http.client.HTTPConnection(host, port, timeout=2)
                    c.request("POST", "/seldon/default/again/api/v1.0/predictions",
                              body=b'{"data":{"ndarray":[[1,2,3,4]]}}',
                              headers={"Content-Type": "application/json"})
                    r = c.getresponse()
                    seen.append((r.status, r.getheader("Retry-After")))
                    r.read()
                    c.close()
                except OSError:
                    time.sleep(0.002)
        t = threading.Thread(target=hammer, daemon=True)
        t.start()
        try:
            d2.start()
            wait_until(lambda: seen and seen[-1][0] == 200, 60)
        finally:
            stop.set()
            t.join(10)
        codes = sorted(set(s for s, _ in seen))
        check("(d) after a restart every prediction is 200 or 503, never 404 (codes %s, %d "
              "requests)" % (codes, len(seen)), seen and set(codes) <= {200, 503}, codes)
        check("(d) each 503 carries Retry-After",
              all(ra for s, ra in seen if s == 503), [x for x in seen if x[0] == 503][:3])
        check("(d) it ends serving", seen and seen[-1][0] == 200, seen[-3:])
        d2.stop()
        d2.cleanup()
    finally:
        d.stop()
        d.cleanup()


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def part_e(binary):
    """A low descriptor limit (hard 400: it cannot be raised), far more
    idle connections than that."""
    limit = 400

    def low_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))
    d = Daemon(binary, extra_args=["--gateway-workers", "2"])
    d.preexec = low_limit
    try:
        d.start()
        ok, out = apply(d, sdep("busy"))
        check("(e) applied under a %d-descriptor limit" % limit, ok and wait_available(d, "busy"),
              out)
        before = set(d.replicas())
        socks = []
        # our own limit must hold them: raise it as far as we may
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        for _ in range(1100):
            try:
                socks.append(socket.create_connection(gw_hostport(d), timeout=5))
            except OSError:
                break
        check("(e) 1100 idle connections were opened (or the gateway shed them)",
              len(socks) >= 1000, len(socks))
        time.sleep(1.0)
        cpu0 = cpu_seconds(d.pid)
        time.sleep(3.0)
        cpu1 = cpu_seconds(d.pid)
        check("(e) the daemon idles with them: %.2f s of CPU in 3 s" % (cpu1 - cpu0),
              cpu1 - cpu0 < 0.6, cpu1 - cpu0)
        st, _ = predict(pred_url(d, "busy"))
        check("(e) a prediction is answered meanwhile", st == 200, st)
        code, _, _ = d.request("GET", "/apis/machinelearning.seldon.io/v1/namespaces/default/"
                                      "seldondeployments/busy")
        check("(e) the control API answers meanwhile", code == 200, code)
        rc, out, err = d.kubectl("get", "sdep", "busy", "-n", "default")
        check("(e) kubectl answers meanwhile", rc == 0, err)
        check("(e) the connection limit is logged",
              "event=gateway_connection_limit" in d.stderr(), d.stderr()[-1500:])
        o = d.get_sdep("default", "busy")
        check("(e) the replica was not restarted (same process), the deployment Available",
              before and set(d.replicas()) == before
              and o and o.get("status", {}).get("state") == "Available",
              (before, set(d.replicas()), o and o.get("status")))
        for s in socks:
            s.close()
    finally:
        d.stop()
        d.cleanup()


def main():
    d = Daemon(BINARY)
    try:
        d.start()
        part_a(d)
        part_b(d)
        part_c(d)
    finally:
        d.stop()
        if checks.failed:
            print(d.stderr()[-3000:])
        d.cleanup()
    part_d(BINARY)
    part_e(BINARY)


if __name__ == "__main__":
    try:
        main()
    finally:
        stop_all()
    sys.exit(checks.finish())
