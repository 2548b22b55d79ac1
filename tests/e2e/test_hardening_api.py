#!/usr/bin/env python3
"""End-to-end: the control API holds against clients without the token and
against values the reconciler would refuse.

- 64 connections offering 3 MB bodies with a wrong token each get 401 on
  the request head, before any body byte is read, and the daemon does not
  grow (VmRSS and VmHWM from /proc);
- 600 idle TCP connections, and connections that stop half way through a
  TLS ClientHello, block neither kubectl nor an authenticated request, and
  are closed within the handshake timeout, as are connections that trickle
  a byte a second into the handshake or the request head;
- a `kubectl get -w` stream that stays quiet longer than that timeout is
  not cut: the next change still reaches it;
- /scale (kubectl scale, PUT, PATCH) and patches with replicas 2147483648
  or 1001 are 422 naming the field and the limit, the stored object stays
  as it was and the deployment keeps serving predictions through the
  gateway; creating a SeldonDeployment (or a Model) over the limit is 422;
- the SQLite database (which holds the API token and OAuth secrets) is
  mode 0600, with its -wal and -shm, also after a restart on a database
  that had been left readable by others.

Usage: test_hardening_api.py SERVESCALE_BINARY SOURCE_DIR
"""
import json
import os
import re
import resource
import select
import socket
import ssl
import stat
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ss_e2e import (Checks, Daemon, LineReader, args_or_default, predict, stop_all,  # noqa: E402
                    stop_process, wait_until)

BINARY, SOURCE = args_or_default()
NS = "hardening"
NAME = "hard"
LIMIT = 1000                       # SS_MAX_REPLICAS (src/model/replicas.h)
DEFAULT_HANDSHAKE_TIMEOUT_S = 10   # SS_API_HANDSHAKE_TIMEOUT_S (src/api/api.h)
SHORT_HANDSHAKE_TIMEOUT_S = 3      # when the daemon has a flag for it
CLOSE_GRACE_S = 8.0                # scheduling, a sanitized daemon, 1 s timer steps
BODY = 3 * 1024 * 1024
BAD_BODY_CONNECTIONS = 64
GROWTH_LIMIT_KB = 50 * 1024
IDLE_CONNECTIONS = 600
HALF_HANDSHAKES = 40
TRICKLERS = 10                     # of each kind: into the handshake, into the head

checks = Checks()
check = checks.check


def sdep(name, replicas):
    return {"apiVersion": "machinelearning.seldon.io/v1", "kind": "SeldonDeployment",
            "metadata": {"name": name, "namespace": NS},
            "spec": {"predictors": [{
                "name": "p", "replicas": replicas,
                "componentSpecs": [{"spec": {"containers": [
                    {"name": "classifier", "image": "seldonio/mock_classifier:1.0"}],
                    "terminationGracePeriodSeconds": 1}}],
                "graph": {"name": "classifier", "type": "MODEL"}}]}}


def proc_kb(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def serve_flags():
    """Flags of `servescale serve` whose names hold the API's timeouts, if
    the daemon has them: {"handshake": "--...", "idle": "--..."}."""
    try:
        p = subprocess.run([BINARY, "serve", "--help"], capture_output=True, timeout=20)
        text = (p.stdout + p.stderr).decode("utf-8", "replace")
    except (OSError, subprocess.TimeoutExpired):
        return {}
    out = {}
    for name in re.findall(r"--([a-z0-9-]+)", text):
        if "handshake" in name and "timeout" in name:
            out["handshake"] = "--" + name
    return out


def invalid(resp, field, text):
    """422 Invalid with a cause at field whose message holds text."""
    code, body, _ = resp
    if code != 422 or not isinstance(body, dict) or body.get("reason") != "Invalid":
        return False
    for c in body.get("details", {}).get("causes", []):
        if c.get("field") == field and text in c.get("message", ""):
            return True
    return False


def snapshot(d, name):
    obj = d.get_sdep(NS, name)
    if not obj:
        return None
    md = obj["metadata"]
    return (md.get("uid"), md.get("resourceVersion"), md.get("generation"),
            json.dumps(obj.get("spec"), sort_keys=True))


def file_modes(d):
    db = os.path.join(d.state_dir, "servescale.db")
    out = {}
    for suffix in ("", "-wal", "-shm"):
        p = db + suffix
        if os.path.exists(p):
            out[os.path.basename(p)] = oct(stat.S_IMODE(os.stat(p).st_mode))
    return out


def tls_socket(d, timeout=10):
    raw = socket.create_connection(("127.0.0.1", d.port), timeout=timeout)
    return d.ssl_ctx.wrap_socket(raw, server_hostname="127.0.0.1")


# ---- no token, big bodies ----

def offer_bodies(d, n, size):
    """n connections each announce a body of size bytes with a wrong token,
    look for an answer before sending any of it, then offer all of it but
    the last byte; the daemon's memory is read while every body is on
    offer. Returns (how many were answered 401 before their body, growth
    in kB of VmRSS or VmHWM, whichever grew more)."""
    path = d.sdep_path(NS)
    head = ("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
            "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
            % (path, "0" * 64, size)).encode()
    body = b" " * max(size - 1, 0)
    early = [b""] * n
    offered = threading.Barrier(n + 1, timeout=120)
    measured = threading.Barrier(n + 1, timeout=120)

    def one(i):
        s = None
        try:
            s = tls_socket(d)
            s.sendall(head)
            s.settimeout(5)
            try:
                while b"\r\n\r\n" not in early[i]:
                    got = s.recv(4096)
                    if not got:
                        break
                    early[i] += got
            except (socket.timeout, ssl.SSLError, OSError):
                pass
            s.settimeout(30)
            try:
                s.sendall(body)
            except (OSError, ssl.SSLError):
                pass  # the server closed after its 401
        except Exception:  # noqa: BLE001 (a thread must reach the barriers)
            pass
        finally:
            try:
                offered.wait()
                measured.wait()
            except threading.BrokenBarrierError:
                pass
            if s is not None:
                try:
                    if size:
                        s.sendall(b" ")
                    s.recv(4096)
                except (OSError, ssl.SSLError):
                    pass
                s.close()

    rss0, hwm0 = proc_kb(d.pid, "VmRSS"), proc_kb(d.pid, "VmHWM")
    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    try:
        offered.wait()
        time.sleep(0.5)
        rss1, hwm1 = proc_kb(d.pid, "VmRSS"), proc_kb(d.pid, "VmHWM")
        measured.wait()
    except threading.BrokenBarrierError:
        rss1, hwm1 = proc_kb(d.pid, "VmRSS"), proc_kb(d.pid, "VmHWM")
    for t in threads:
        t.join(30)
    answered = sum(1 for e in early if e.startswith(b"HTTP/1.1 401"))
    return answered, max(rss1 - rss0, hwm1 - hwm0)


def bad_token_bodies(d):
    """What 64 connections with a wrong token cost (threads, TLS, and under
    AddressSanitizer its quarantine) is measured first with empty bodies;
    3 MB bodies must cost nothing more: none of them is read."""
    n = BAD_BODY_CONNECTIONS
    _, base = offer_bodies(d, n, 0)
    answered, growth = offer_bodies(d, n, BODY)
    check("%d connections announcing 3 MB with a wrong token: each gets 401 before sending "
          "any of its body" % n, answered == n, {"answered": answered})
    check("the daemon did not grow while %d x 3 MB unauthenticated bodies were on offer: "
          "%d kB, against %d kB for %d empty ones (limit: %d kB more)"
          % (n, growth, base, n, GROWTH_LIMIT_KB), growth - base < GROWTH_LIMIT_KB,
          {"growth": growth, "base": base})
    r = d.request("GET", d.sdep_path(NS, NAME))
    check("  and the API still answers", r[0] == 200, r[:2])


# ---- idle and half-open connections ----

def idle_connections(d, handshake_s):
    """600 connections that send nothing and some that stop inside a TLS
    ClientHello; kubectl and a request go through at once; the server
    closes them all within the handshake timeout."""
    socks = []
    t0 = time.monotonic()
    try:
        for _ in range(IDLE_CONNECTIONS):
            socks.append(socket.create_connection(("127.0.0.1", d.port), timeout=10))
        # a TLS record header and the start of a ClientHello that never ends
        partial = bytes([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03])
        for _ in range(HALF_HANDSHAKES):
            s = socket.create_connection(("127.0.0.1", d.port), timeout=10)
            s.sendall(partial)
            socks.append(s)
        opened = time.monotonic() - t0
        t1 = time.monotonic()
        rc, out, err = d.kubectl("get", "sdep", NAME, "-n", NS, "--request-timeout=10s",
                                 timeout=30)
        took = time.monotonic() - t1
        check("with %d idle and %d half-handshake connections open (%.1fs to open), kubectl "
              "get answers (%.1fs)" % (IDLE_CONNECTIONS, HALF_HANDSHAKES, opened, took),
              rc == 0 and NAME in out and took < handshake_s, (rc, out, err))
        try:
            r = d.request("GET", d.sdep_path(NS, NAME), timeout=10)
        except OSError as e:  # URLError, a reset, a timed-out handshake
            r = (None, "%s: %s" % (type(e).__name__, e))
        check("  and so does an authenticated request", r[0] == 200, r[:2])

        open_ = {s.fileno(): s for s in socks}
        for s in socks:
            s.setblocking(False)
        deadline = t0 + handshake_s + CLOSE_GRACE_S
        poller = select.poll()
        for fd in open_:
            poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
        while open_ and time.monotonic() < deadline:
            for fd, _ev in poller.poll(200):
                s = open_.get(fd)
                if s is None:
                    continue
                try:
                    data = s.recv(4096)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if not data:  # EOF or reset: the server closed it
                    poller.unregister(fd)
                    del open_[fd]
        elapsed = time.monotonic() - t0
        check("the server closed all %d within the handshake timeout (%ds + %.0fs grace): "
              "%d left open after %.1fs" % (len(socks), handshake_s, CLOSE_GRACE_S, len(open_),
                                            elapsed),
              not open_, len(open_))
    finally:
        for s in socks:
            s.close()


def trickling_connections(d, handshake_s):
    """Connections that keep sending a byte a second, never finishing the
    TLS handshake or the request head: busy, never authenticated. They
    are closed by the handshake deadline all the same."""
    socks = []
    t0 = time.monotonic()
    for _ in range(TRICKLERS):
        s = socket.create_connection(("127.0.0.1", d.port), timeout=10)
        s.sendall(bytes([0x16, 0x03, 0x01, 0x02, 0x00]))  # a record of 512 bytes to come
        socks.append(s)
    for _ in range(TRICKLERS):
        s = tls_socket(d)
        s.sendall(b"GET /apis HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        socks.append(s)
    alive = list(socks)
    deadline = t0 + handshake_s + CLOSE_GRACE_S
    while alive and time.monotonic() < deadline:
        time.sleep(1.0)
        for s in list(alive):
            try:
                s.sendall(b"a")
                s.settimeout(0.01)
                if s.recv(4096) == b"":
                    alive.remove(s)
            except (socket.timeout, ssl.SSLWantReadError):
                pass
            except (OSError, ssl.SSLError):
                alive.remove(s)  # reset or closed: the server ended it
    check("%d connections trickling a byte a second into the TLS handshake or the request "
          "head were closed within the handshake timeout (%ds + %.0fs grace): %d still open "
          "after %.1fs" % (len(socks), handshake_s, CLOSE_GRACE_S, len(alive),
                           time.monotonic() - t0), not alive, len(alive))
    for s in socks:
        s.close()


# ---- a quiet watch ----

def quiet_watch(d, handshake_s):
    """kubectl get -w, silent for longer than the handshake timeout, then a
    change: it must still arrive."""
    w = d.kubectl_bg("get", "sdep", "-w", "-n", NS)
    try:
        r = LineReader(w.stdout)
        wait_until(lambda: any(NAME in ln for ln in r.snapshot()), 20)
        quiet = handshake_s + 5
        time.sleep(quiet)
        before = len(r.snapshot())
        patch = {"metadata": {"labels": {"watched": str(int(time.time()))}}}
        resp = d.request("PATCH", d.sdep_path(NS, NAME), patch, "application/merge-patch+json")
        got = wait_until(lambda: len(r.snapshot()) > before, 15)
        check("kubectl get -w quiet for %ds (handshake timeout %ds) still gets the next change"
              % (quiet, handshake_s), resp[0] == 200 and got and w.poll() is None,
              (resp[0], r.snapshot()[-3:], w.poll()))
    finally:
        stop_process(w, 5)


# ---- values the reconciler would refuse ----

def serving(d):
    url = "%s/seldon/%s/%s/api/v1.0/predictions" % (d.gateway, NS, NAME)
    status, body = predict(url)
    return status == 200 and isinstance(body, dict) and "data" in body, (status, body)


def unchanged_and_serving(d, before, after_what):
    time.sleep(1.0)  # several reconcile passes
    now = snapshot(d, NAME)
    check("after %s: the stored object is as it was (uid, resourceVersion, generation, spec)"
          % after_what, now == before, (before, now))
    obj = d.get_sdep(NS, NAME) or {}
    check("  still Available", obj.get("status", {}).get("state") == "Available",
          obj.get("status"))
    ok, detail = serving(d)
    check("  and serving predictions through the gateway", ok, detail)


def replica_limits(d):
    before = snapshot(d, NAME)
    sc = d.sdep_path(NS, NAME, "scale")

    rc, out, err = d.kubectl("scale", "sdep/" + NAME, "--replicas=2147483648", "-n", NS)
    check("kubectl scale --replicas=2147483648 fails naming spec.replicas",
          rc != 0 and "spec.replicas" in err and "32 bits" in err, (rc, out, err))
    r = d.request("PUT", sc, {"apiVersion": "autoscaling/v1", "kind": "Scale",
                              "metadata": {"name": NAME, "namespace": NS},
                              "spec": {"replicas": 2147483648}})
    check("PUT /scale replicas 2147483648: 422 at spec.replicas",
          invalid(r, "spec.replicas", "32 bits"), r[:2])
    r = d.request("PATCH", sc, {"spec": {"replicas": 2147483648}}, "application/merge-patch+json")
    check("PATCH /scale replicas 2147483648: 422 at spec.replicas",
          invalid(r, "spec.replicas", "32 bits"), r[:2])
    r = d.request("PATCH", d.sdep_path(NS, NAME),
                  [{"op": "replace", "path": "/spec/predictors/0/replicas", "value": 2147483648}],
                  "application/json-patch+json")
    check("JSON patch predictors[0].replicas 2147483648: 422 at that field",
          invalid(r, "spec.predictors[0].replicas", "32 bits"), r[:2])
    unchanged_and_serving(d, before, "replicas 2147483648")

    rc, out, err = d.kubectl("scale", "sdep/" + NAME, "--replicas=%d" % (LIMIT + 1), "-n", NS)
    check("kubectl scale --replicas=%d fails naming the limit of %d" % (LIMIT + 1, LIMIT),
          rc != 0 and "spec.replicas" in err and str(LIMIT) in err, (rc, out, err))
    r = d.request("PATCH", sc, {"spec": {"replicas": LIMIT + 1}}, "application/merge-patch+json")
    check("PATCH /scale replicas %d: 422 at spec.replicas naming %d" % (LIMIT + 1, LIMIT),
          invalid(r, "spec.replicas", str(LIMIT)), r[:2])
    r = d.request("PATCH", d.sdep_path(NS, NAME), {"spec": {"replicas": LIMIT + 1}},
                  "application/merge-patch+json")
    check("merge patch spec.replicas %d: 422 naming %d" % (LIMIT + 1, LIMIT),
          invalid(r, "spec.replicas", str(LIMIT)), r[:2])
    r = d.request("PATCH", d.sdep_path(NS, NAME),
                  [{"op": "replace", "path": "/spec/predictors/0/replicas", "value": LIMIT + 1}],
                  "application/json-patch+json")
    check("JSON patch predictors[0].replicas %d: 422 naming %d" % (LIMIT + 1, LIMIT),
          invalid(r, "spec.predictors[0].replicas", str(LIMIT)), r[:2])
    unchanged_and_serving(d, before, "replicas %d" % (LIMIT + 1))

    r = d.request("POST", d.sdep_path(NS), sdep("too-many", LIMIT + 1))
    check("create a SeldonDeployment with %d replicas: 422 at spec.predictors[0].replicas "
          "naming %d" % (LIMIT + 1, LIMIT),
          invalid(r, "spec.predictors[0].replicas", str(LIMIT)), r[:2])
    check("  and nothing stored", d.request("GET", d.sdep_path(NS, "too-many"))[0] == 404)
    r = d.request("POST", "/apis/mlops.seldon.io/v1alpha1/namespaces/%s/models" % NS,
                  {"apiVersion": "mlops.seldon.io/v1alpha1", "kind": "Model",
                   "metadata": {"name": "iris"},
                   "spec": {"storageUri": "gs://x", "maxReplicas": LIMIT + 1}})
    check("create a Model with maxReplicas %d: 422 at spec.maxReplicas" % (LIMIT + 1),
          invalid(r, "spec.maxReplicas", str(LIMIT)), r[:2])

    rc, out, err = d.kubectl("scale", "sdep/" + NAME, "--replicas=2", "-n", NS)
    check("kubectl scale --replicas=2 still works", rc == 0 and "scaled" in out, (rc, out, err))


def stored_over_limit(db):
    """What an older servescale let in: the deployment with 1001 replicas,
    written into the stopped daemon's database."""
    import sqlite3
    con = sqlite3.connect(db)
    try:
        row = con.execute("SELECT json FROM objects WHERE plural='seldondeployments' AND ns=? "
                          "AND name=?", (NS, NAME)).fetchone()
        obj = json.loads(row[0])
        obj["spec"]["predictors"][0]["replicas"] = LIMIT + 1
        con.execute("UPDATE objects SET json=? WHERE plural='seldondeployments' AND ns=? AND "
                    "name=?", (json.dumps(obj), NS, NAME))
        con.commit()
    finally:
        con.close()


def refused_by_runtime(d):
    """A stored deployment over the limit (the reconciler validates with the
    same rules, and the runtime would refuse it): the status says so
    (Failed, with the limit), an event tells the truth, the log has one
    line, and no event claims the replica set was created."""
    st = wait_until(lambda: (d.get_sdep(NS, NAME) or {}).get("status", {})
                    if (d.get_sdep(NS, NAME) or {}).get("status", {}).get("state") == "Failed"
                    else None, 20)
    check("a stored deployment with %d replicas (an older servescale's): Failed, naming the "
          "limit of %d" % (LIMIT + 1, LIMIT),
          st and str(LIMIT) in st.get("description", ""), d.get_sdep(NS, NAME))
    code, evs, _ = d.request("GET", "/api/v1/namespaces/%s/events" % NS)
    mine = [(e.get("reason"), e.get("message")) for e in (evs or {}).get("items", [])
            if e.get("involvedObject", {}).get("name") == NAME]
    check("  no event claims a replica set of %d was created or scaled" % (LIMIT + 1),
          code == 200 and not any(str(LIMIT + 1) in (m or "") and r in ("Created",
                                                                        "ScalingReplicaSet")
                                  for r, m in mine), mine)
    check("  a Warning event says why", any(r == "Failed" and str(LIMIT) in (m or "")
                                            for r, m in mine), mine)
    logged = wait_until(lambda: [ln for ln in d.stderr().splitlines()
                                 if "event=deployment_failed" in ln
                                 and "sdep=%s/%s " % (NS, NAME) in ln and str(LIMIT) in ln], 5)
    time.sleep(1.0)  # more passes: still one line
    logged = [ln for ln in d.stderr().splitlines() if "event=deployment_failed" in ln
              and "sdep=%s/%s " % (NS, NAME) in ln]
    check("  one log line says it (event=deployment_failed sdep=%s/%s reason=...)" % (NS, NAME),
          len(logged) == 1 and str(LIMIT) in logged[0], logged or d.stderr()[-1500:])


def main():
    resource.setrlimit(resource.RLIMIT_NOFILE, (resource.getrlimit(resource.RLIMIT_NOFILE)[1],) * 2)
    flags = serve_flags()
    handshake_s = DEFAULT_HANDSHAKE_TIMEOUT_S
    extra = []
    if "handshake" in flags:
        handshake_s = SHORT_HANDSHAKE_TIMEOUT_S
        extra = [flags["handshake"], str(handshake_s)]
    print("note  handshake timeout %ds (%s)" % (handshake_s, " ".join(extra) or "default"),
          flush=True)
    d = Daemon(BINARY, extra_args=extra)
    logs = []  # the stderr of runs before the current one
    t0 = time.monotonic()
    try:
        d.start()
        check("daemon started on 127.0.0.1:%d" % d.port, d.alive())
        modes = file_modes(d)
        check("the database, its -wal and -shm are 0600", modes and all(
            m == "0o600" for m in modes.values()), modes)

        r = d.request("POST", d.sdep_path(NS), sdep(NAME, 1))
        check("create %s" % NAME, r[0] == 201, r[:2])
        up = wait_until(lambda: (d.get_sdep(NS, NAME) or {}).get("status", {}).get("state")
                        == "Available", 60)
        check("  Available", up, d.get_sdep(NS, NAME))
        ok = wait_until(lambda: serving(d)[0], 20)
        check("  serving predictions through the gateway", ok, serving(d)[1])

        bad_token_bodies(d)
        idle_connections(d, handshake_s)
        trickling_connections(d, handshake_s)
        quiet_watch(d, handshake_s)
        replica_limits(d)

        check("daemon still running", d.alive(), d.stderr()[-2000:])
        code = d.stop()
        check("daemon exits 0 on SIGTERM", code == 0, (code, d.stderr()[-2000:]))
        logs.append(d.stderr())
        db = os.path.join(d.state_dir, "servescale.db")
        stored_over_limit(db)
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(db + suffix):
                os.chmod(db + suffix, 0o644)
        d.start()
        modes = file_modes(d)
        check("restarted on a database left 0644: it is 0600 again, with its -wal and -shm",
              modes and all(m == "0o600" for m in modes.values()), modes)
        refused_by_runtime(d)
    except Exception as e:
        import traceback
        traceback.print_exc()
        check("test ran to the end", False, "%s: %s" % (type(e).__name__, e))
    finally:
        code = d.stop()
        stop_all()
        san = [ln for text in logs + [d.stderr()] for ln in text.splitlines()
               if "Sanitizer" in ln or "runtime error" in ln]
        check("no sanitizer report in the daemon's stderr", not san, san[:5])
        check("daemon exited 0", code == 0, code)
        check("no replica process left", wait_until(lambda: not d.replicas(), 10))
        d.cleanup()
    print("elapsed %.1fs" % (time.monotonic() - t0))
    sys.exit(checks.finish())


if __name__ == "__main__":
    main()
