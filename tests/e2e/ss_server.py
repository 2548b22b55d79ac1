"""ss_server.py: one built-in server process (`servescale mock-classifier`,
`servescale model-server`) on a free loopback port, for the tests that
drive a server alone. A subclass names its subcommand, the environment it
must not inherit, and how to ask it whether it is ready."""
import os
import socket
import subprocess
import tempfile
import time


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    subcommand = None  # "mock-classifier", "model-server"
    env_drop = ()      # variables of the test's environment the server would read
    start_timeout_s = 20.0

    def __init__(self, binary, procs, args=(), env=None):
        """procs: the test's list of started processes, stopped at its end."""
        self.binary, self.procs, self.args = binary, procs, list(args)
        self.env = dict(os.environ)
        for k in self.env_drop:
            self.env.pop(k, None)
        self.env.update(env or {})
        self.retries = 5
        self._spawn()

    def _spawn(self):
        self.port = free_port()
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([self.binary, self.subcommand, "--port", str(self.port),
                                      *self.args],
                                     stdout=subprocess.DEVNULL, stderr=self.log, env=self.env)
        self.procs.append(self.proc)

    def ready(self, path):
        """Whether the server answers ready at path (OSError when it cannot be asked)."""
        raise NotImplementedError

    def wait_ready(self, path=None):
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                # another test's process may have taken the free port between
                # our probe and the bind: try another one
                if self.retries > 0 and "cannot listen" in self.stderr():
                    self.retries -= 1
                    self._spawn()
                    continue
                return False
            try:
                if self.ready(path):
                    return True
            except OSError:
                pass
            time.sleep(0.05)
        return False

    def stderr(self):
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")
