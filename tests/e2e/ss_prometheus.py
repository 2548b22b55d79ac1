"""A real Prometheus (Debian's /usr/bin/prometheus) for the end-to-end
tests: on a loopback port, its TSDB in a given directory, stopped by
stop_all() when a test forgets, and its instant-query API."""
import json
import os
import shutil
import socket
import subprocess
import urllib.parse
import urllib.request

from ss_e2e import _remember, stop_process, wait_until

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def http_get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read()


class Prometheus:
    """Debian's Prometheus on a free loopback port (or a given one, to come
    back on the same address), its TSDB in workdir."""

    def __init__(self, config_path, workdir):
        self.config = config_path
        self.dir = workdir
        self.port = None
        self.proc = None
        self.log = None

    def start(self, attempts=3, port=None):
        """On port, or a free one (tried attempts times)."""
        for _ in range(attempts):
            self.port = port or free_port()
            self.log = open(os.path.join(self.dir, "prometheus.log"), "ab")
            self.proc = _remember(subprocess.Popen(
                [PROMETHEUS, "--config.file=" + self.config,
                 "--storage.tsdb.path=" + os.path.join(self.dir, "tsdb"),
                 "--web.listen-address=127.0.0.1:%d" % self.port,
                 "--log.level=warn"],
                stdout=self.log, stderr=self.log, cwd=self.dir))
            if wait_until(lambda: self.proc.poll() is None and
                          http_get(self.url("/-/ready"))[0] == 200, 30, 0.2):
                return True
            stop_process(self.proc)  # the port was taken after all, or it failed
        return False

    def url(self, path=""):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def query(self, q):
        """The result list of an instant query, or None (also when
        Prometheus does not answer: a test probe)."""
        try:
            st, body = http_get(self.url("/api/v1/query?" + urllib.parse.urlencode({"query": q})))
            o = json.loads(body)
        except (OSError, ValueError):
            return None
        return o["data"]["result"] if st == 200 and o.get("status") == "success" else None

    def value(self, q):
        """The single value of an instant query, or None when empty."""
        r = self.query(q)
        return float(r[0]["value"][1]) if r else None

    def stop(self):
        stop_process(self.proc)
        if self.log:
            self.log.close()
            self.log = None

    def logs(self):
        try:
            with open(os.path.join(self.dir, "prometheus.log"), "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""


