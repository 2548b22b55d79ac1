"""bench/reaction_common.py: what bench/reaction.sh's driver and
bench/reaction_own.py both need against the daemon they run: the control
API's address and credentials from its kubeconfig, kept-alive connections
to it and to the gateway, and stopping a load generator."""
import base64
import http.client
import json
import re
import ssl
import subprocess


class Api:
    """The control API as the daemon's kubeconfig (in its state dir) gives it."""

    def __init__(self, work):
        kc = open(work + "/state/kubeconfig").read()
        ca = base64.b64decode(re.search(r"certificate-authority-data:\s*(\S+)", kc).group(1))
        self.token = re.search(r"token:\s*(\S+)", kc).group(1)
        self.port = int(re.search(r"server:\s*https://127\.0\.0\.1:(\d+)", kc).group(1))
        self.ctx = ssl.create_default_context(cadata=ca.decode())


class Conn:
    """A kept-alive connection, reopened when the peer closed it; TLS with
    the API's token when api is given."""

    def __init__(self, port, api=None):
        self.port, self.api, self.c = port, api, None

    def _open(self, timeout):
        if self.api:
            return http.client.HTTPSConnection("127.0.0.1", self.port, context=self.api.ctx,
                                               timeout=timeout)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def req(self, method, path, body=None, timeout=5):
        h = {"Accept": "application/json"}
        if self.api:
            h["Authorization"] = "Bearer " + self.api.token
        if body is not None:
            h["Content-Type"] = "application/json"
        for attempt in (0, 1):
            try:
                if self.c is None:
                    self.c = self._open(timeout)
                self.c.request(method, path, body=body, headers=h)
                r = self.c.getresponse()
                data = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    self.c.close()
                    self.c = None
                return r.status, data
            except (OSError, http.client.HTTPException):
                if self.c:
                    self.c.close()
                self.c = None
                if attempt:
                    return 0, b""

    def json(self, path):
        st, data = self.req("GET", path)
        try:
            return json.loads(data) if st == 200 else None
        except ValueError:
            return None


def stop_process(p):
    """Stops a load generator: SIGTERM, then SIGKILL after 5 s."""
    if p and p.poll() is None:
        p.terminate()
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
