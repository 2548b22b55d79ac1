"""Shared helpers of the end-to-end tests that drive `servescale serve` (not a
test file itself: CTest runs only tests/e2e/test_*.py).

    from ss_e2e import Checks, Daemon
    checks = Checks()
    d = Daemon(BINARY, backoff_base_ms=200)
    try:
        d.start()
        code, obj, hdrs = d.request("GET", "/api/v1/namespaces")
        rc, out, err = d.kubectl("get", "sdep", "-n", "seldon")
        checks.check("listed", rc == 0, err)
    finally:
        d.stop()
        stop_all()
    sys.exit(checks.finish())

Everything is on 127.0.0.1; every daemon gets a fresh temporary state dir
and --api-port 0 (it prints the port it got); every wait is bounded; every
process started here is remembered and stopped by stop_all().
"""
import base64
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid

START_TIMEOUT_S = 30.0   # sanitizer builds start slowly
STOP_TIMEOUT_S = 15.0    # SIGTERM, then SIGKILL after this
KUBECTL_TIMEOUT_S = 60.0

_started = []            # every Popen started through this module
_lock = threading.Lock()


def _remember(p):
    with _lock:
        _started.append(p)
    return p


def stop_process(p, timeout=STOP_TIMEOUT_S):
    """SIGTERM, then SIGKILL after timeout; reaps it."""
    if p is None or p.poll() is not None:
        return
    try:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
    except ProcessLookupError:
        pass


def stop_all():
    """Stops every process started through this module (newest first)."""
    with _lock:
        procs = list(reversed(_started))
    for p in procs:
        stop_process(p)


class Checks:
    """One printed line per check; finish() prints the tally and returns the
    exit status."""

    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.skipped = 0

    def check(self, name, cond, detail=""):
        if cond:
            self.passed += 1
            print("ok    " + name, flush=True)
        else:
            self.failed += 1
            d = str(detail)
            if len(d) > 1500:
                d = d[:1500] + "..."
            print("FAIL  " + name + (": " + d if d else ""), flush=True)
        return bool(cond)

    def skip(self, name, why):
        self.skipped += 1
        print("skip  " + name + ": " + why, flush=True)

    def finish(self):
        print("%d passed, %d failed" % (self.passed, self.failed), flush=True)
        return 1 if self.failed else 0


def run_timed(main, checks):
    """A test script's entry: runs main(), prints how long it took (also
    when it raised) and exits with the checks' status."""
    t0 = time.monotonic()
    try:
        main()
    finally:
        print("(%.1f s)" % (time.monotonic() - t0))
    sys.exit(checks.finish())


def wait_until(fn, timeout, interval=0.1):
    """Calls fn until it returns something true or timeout passes; returns
    the last value."""
    deadline = time.monotonic() + timeout
    v = None
    while True:
        try:
            v = fn()
        except Exception:  # a transient error (connection refused...) counts as not yet
            v = None
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


# ---- /proc ----

def proc_environ(pid):
    try:
        with open("/proc/%d/environ" % pid, "rb") as f:
            raw = f.read()
    except OSError:
        return None
    env = {}
    for kv in raw.split(b"\0"):
        if b"=" in kv:
            k, v = kv.split(b"=", 1)
            env[k.decode("utf-8", "replace")] = v.decode("utf-8", "replace")
    return env


def proc_stat(pid):
    """(state, ppid) of pid, or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
    except OSError:
        return None
    rest = s[s.rindex(")") + 2:].split()
    return rest[0], int(rest[1])


def proc_cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return [a.decode("utf-8", "replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return None


def tagged_processes(tag_value, key="SS_TEST_TAG"):
    """Live (non-zombie) pids whose environment has key=tag_value, with
    their environments: {pid: env}."""
    out = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        pid = int(name)
        env = proc_environ(pid)
        if not env or env.get(key) != tag_value:
            continue
        st = proc_stat(pid)
        if not st or st[0] == "Z":
            continue
        out[pid] = env
    return out


def kill_tagged(tag_value):
    """SIGKILLs what is left of the processes carrying SS_TEST_TAG=tag_value
    (replicas a killed daemon orphaned); returns how many."""
    n = 0
    for pid in tagged_processes(tag_value):
        try:
            os.kill(pid, signal.SIGKILL)
            n += 1
        except OSError:
            pass
    return n


# ---- the daemon ----

class Daemon:
    """One `servescale serve` on a temporary state dir (or a given one, to
    restart on it). Its environment carries SS_TEST_TAG=<uuid>, which every
    replica inherits, so replicas can be counted in /proc."""

    def __init__(self, binary, state_dir=None, backoff_base_ms=None, extra_args=(), tag=None):
        self.binary = binary
        self.own_dir = state_dir is None
        self.state_dir = state_dir or tempfile.mkdtemp(prefix="ss-e2e-")
        self.backoff_base_ms = backoff_base_ms
        self.extra_args = list(extra_args)
        self.tag = tag or uuid.uuid4().hex
        self.proc = None
        self.port = None
        self.gateway = None      # "http://127.0.0.1:PORT" of the data plane
        self.token = None
        self.ca_pem = None
        self.ssl_ctx = None
        self.kubeconfig = os.path.join(self.state_dir, "kubeconfig")
        self.log_path = None
        self._log = None
        self.preexec = None      # run in the child before exec (e.g. setrlimit)

    # -- life --

    def start(self, files=()):
        args = [self.binary, "serve", "--state-dir", self.state_dir, "--api-port", "0",
                "--gateway-port", "0"]
        if self.backoff_base_ms is not None:
            args += ["--backoff-base-ms", str(self.backoff_base_ms)]
        args += self.extra_args
        for f in files:
            args += ["-f", f]
        env = dict(os.environ)
        env["SS_TEST_TAG"] = self.tag
        env.pop("KUBECONFIG", None)
        env.pop("SERVESCALE_REPLICA", None)
        self.log_path = os.path.join(self.state_dir, "daemon-%d.log" % int(time.time() * 1000))
        self._log = open(self.log_path, "wb")
        self.proc = _remember(subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self._log,
                                               env=env, start_new_session=False,
                                               preexec_fn=self.preexec))
        line = self._read_banner()
        m = re.search(r"control API on https://127\.0\.0\.1:(\d+)", line or "")
        if not m:
            raise RuntimeError("daemon did not start: stdout %r, stderr %s" % (line, self.stderr()[-2000:]))
        self.port = int(m.group(1))
        # the second line names the gateway: "predictions on http://127.0.0.1:PORT/seldon/..."
        line2 = self._read_banner() or ""
        g = re.search(r"predictions on (http://127\.0\.0\.1:\d+)/", line2)
        self.gateway = g.group(1) if g else None
        # drain the rest of stdout so the daemon never blocks on a full pipe
        threading.Thread(target=self._drain, daemon=True).start()
        self._read_kubeconfig()
        if not wait_until(lambda: self.request("GET", "/healthz", raw=True)[0] == 200, 10):
            raise RuntimeError("control API does not answer /healthz")
        return self

    def _read_banner(self):
        result = []

        def reader():
            result.append(self.proc.stdout.readline().decode("utf-8", "replace"))
        t = threading.Thread(target=reader, daemon=True)
        t.start()
        t.join(START_TIMEOUT_S)
        return result[0] if result else None

    def _drain(self):
        try:
            for _ in self.proc.stdout:
                pass
        except (OSError, ValueError):
            pass

    def _read_kubeconfig(self):
        with open(self.kubeconfig) as f:
            text = f.read()
        ca = re.search(r"certificate-authority-data:\s*(\S+)", text).group(1)
        self.ca_pem = base64.b64decode(ca).decode()
        self.token = re.search(r"token:\s*(\S+)", text).group(1)
        server = re.search(r"server:\s*(\S+)", text).group(1)
        if server != "https://127.0.0.1:%d" % self.port:
            raise RuntimeError("kubeconfig server %s, banner port %d" % (server, self.port))
        self.ssl_ctx = ssl.create_default_context(cadata=self.ca_pem)

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=STOP_TIMEOUT_S):
        """SIGTERM and wait (SIGKILL after timeout); returns the exit code."""
        if self.proc is None:
            return None
        stop_process(self.proc, timeout)
        if self._log:
            self._log.close()
            self._log = None
        return self.proc.returncode

    def kill9(self):
        self.proc.kill()
        self.proc.wait(timeout=10)
        if self._log:
            self._log.close()
            self._log = None

    def cleanup(self):
        """Removes the state dir when this object made it (call after stop)."""
        if self.own_dir:
            shutil.rmtree(self.state_dir, ignore_errors=True)

    def stderr(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except (OSError, TypeError):
            return ""

    # -- processes --

    def replicas(self):
        """{pid: env} of the live replica processes of this daemon (by the
        SS_TEST_TAG they inherit and SERVESCALE_REPLICA)."""
        return {pid: env for pid, env in tagged_processes(self.tag).items()
                if "SERVESCALE_REPLICA" in env}

    def children(self):
        """Live pids whose parent is the daemon."""
        out = []
        if not self.alive():
            return out
        for name in os.listdir("/proc"):
            if name.isdigit():
                st = proc_stat(int(name))
                if st and st[1] == self.pid and st[0] != "Z":
                    out.append(int(name))
        return out

    # -- the API --

    def url(self, path):
        return "https://127.0.0.1:%d%s" % (self.port, path)

    def request(self, method, path, body=None, content_type=None, token="default",
                headers=None, raw=False, timeout=15):
        """An HTTPS request with the kubeconfig's CA and token. body: bytes,
        str, or an object (sent as JSON). token=None sends no Authorization.
        Returns (status, parsed JSON or raw bytes, headers)."""
        data = None
        h = {"Accept": "application/json"}
        if body is not None:
            if isinstance(body, (dict, list)):
                data = json.dumps(body).encode()
                content_type = content_type or "application/json"
            elif isinstance(body, str):
                data = body.encode()
            else:
                data = body
            h["Content-Type"] = content_type or "application/json"
        tok = self.token if token == "default" else token
        if tok is not None:
            h["Authorization"] = "Bearer " + tok
        h.update(headers or {})
        req = urllib.request.Request(self.url(path), data=data, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, context=self.ssl_ctx, timeout=timeout) as r:
                status, payload, rh = r.status, r.read(), r.headers
        except urllib.error.HTTPError as e:
            status, payload, rh = e.code, e.read(), e.headers
        if raw:
            return status, payload, rh
        try:
            return status, json.loads(payload) if payload else None, rh
        except ValueError:
            return status, payload, rh

    def sdep_path(self, ns, name=None, sub=None, version="v1"):
        p = "/apis/machinelearning.seldon.io/%s/namespaces/%s/seldondeployments" % (version, ns)
        if name:
            p += "/" + name
        if sub:
            p += "/" + sub
        return p

    def get_sdep(self, ns, name):
        code, obj, _ = self.request("GET", self.sdep_path(ns, name))
        return obj if code == 200 else None

    # -- kubectl --

    def kubectl_env(self):
        env = dict(os.environ)
        env["KUBECONFIG"] = self.kubeconfig
        # kubectl keeps a discovery cache; keep it inside the state dir so
        # runs never share one
        env["HOME"] = self.state_dir
        env.pop("SS_TEST_TAG", None)
        return env

    def kubectl(self, *args, timeout=KUBECTL_TIMEOUT_S, stdin=None):
        """Runs kubectl with this daemon's kubeconfig; (rc, stdout, stderr)."""
        cmd = ["kubectl", "--cache-dir", os.path.join(self.state_dir, "kcache")] + list(args)
        try:
            p = subprocess.run(cmd, env=self.kubectl_env(), capture_output=True,
                               timeout=timeout, input=stdin.encode() if isinstance(stdin, str) else stdin)
        except subprocess.TimeoutExpired as e:
            return -1, (e.stdout or b"").decode("utf-8", "replace"), "timed out after %ss" % timeout
        return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")

    def kubectl_bg(self, *args):
        """Starts kubectl in the background (stdout to a pipe); stopped by
        stop_all() if not before."""
        cmd = ["kubectl", "--cache-dir", os.path.join(self.state_dir, "kcache")] + list(args)
        return _remember(subprocess.Popen(cmd, env=self.kubectl_env(), stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE))


def stop_daemon(d, checks, tmp=None, tail=3000):
    """A test's teardown: stops the daemon and every process started here,
    prints the daemon's log tail (the last tail characters) when a check
    failed, and removes the daemon's state and tmp (when given)."""
    d.stop()
    stop_all()
    if checks.failed:
        sys.stdout.write("--- daemon log (tail)\n%s\n" % d.stderr()[-tail:])
    d.cleanup()
    if tmp:
        shutil.rmtree(tmp, ignore_errors=True)


def stop_daemon_no_orphans(d, check):
    """A teardown that also checks the daemon's promise: once it stopped,
    no replica process of it is left (any that is, is killed after)."""
    d.stop()
    stop_all()
    check("no replica process left", wait_until(lambda: not d.replicas(), 10),
          d.replicas().keys())
    kill_tagged(d.tag)
    d.cleanup()


class LineReader:
    """Collects the stdout lines of a background process on a thread."""

    def __init__(self, stream):
        self.lines = []
        self._lock = threading.Lock()
        self._t = threading.Thread(target=self._run, args=(stream,), daemon=True)
        self._t.start()

    def _run(self, stream):
        try:
            for line in stream:
                with self._lock:
                    self.lines.append(line.decode("utf-8", "replace").rstrip("\n"))
        except (OSError, ValueError):
            pass

    def snapshot(self):
        with self._lock:
            return list(self.lines)


def oauth_token(gateway, key, secret, timeout=10):
    """A bearer token from the gateway's client-credentials endpoint, or None."""
    import base64
    basic = base64.b64encode(("%s:%s" % (key, secret)).encode()).decode()
    req = urllib.request.Request(gateway.rstrip("/") + "/oauth/token",
                                 data=b"grant_type=client_credentials", method="POST",
                                 headers={"Authorization": "Basic " + basic,
                                          "Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.loads(r.read()).get("access_token")
    except (urllib.error.HTTPError, ValueError):
        return None


def predict(url, payload=None, timeout=10, token=None):
    """POSTs a Seldon prediction to url (plain HTTP); (status, JSON or bytes)."""
    data = json.dumps(payload or {"data": {"ndarray": [[1.0, 2.0, 3.0, 4.0]]}}).encode()
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    req = urllib.request.Request(url, data=data, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            status, body = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, body = e.code, e.read()
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body


def args_or_default():
    binary = sys.argv[1] if len(sys.argv) > 1 else "servescale"
    source = sys.argv[2] if len(sys.argv) > 2 else os.path.dirname(os.path.dirname(
        os.path.dirname(os.path.abspath(__file__))))
    return os.path.abspath(binary) if os.path.sep in binary else binary, source


class Load:
    """rate Seldon predictions a second to url from a few threads, until
    stopped; counts what was answered and what failed."""

    BODY = b'{"data":{"ndarray":[[1,2,3,4]]}}'

    def __init__(self, url, rate=20, workers=4):
        self.url, self.rate, self.workers = url, rate, workers
        self.stop_ev = threading.Event()
        self.threads = []
        self.ok = self.failed = 0

    def _run(self):
        period = self.workers / self.rate
        while not self.stop_ev.wait(period):
            try:
                req = urllib.request.Request(self.url, data=self.BODY, method="POST",
                                             headers={"Content-Type": "application/json"})
                with urllib.request.urlopen(req, timeout=10) as r:
                    r.read()
                    self.ok += 1
            except (urllib.error.URLError, OSError):
                self.failed += 1

    def start(self):
        for _ in range(self.workers):
            t = threading.Thread(target=self._run, daemon=True)
            t.start()
            self.threads.append(t)
        return self

    def stop(self):
        self.stop_ev.set()
        for t in self.threads:
            t.join(15)
