#!/usr/bin/env python3
"""End-to-end: `servescale gateway` alone, as `servescale render` runs it in
a cluster: it serves the SeldonDeployments in a file and calls each
predictor's components at a Service address (here a mock classifier on a
loopback port, through --service-address). Predictions, metrics, a bad file
and SIGTERM.

Usage: test_gateway_alone.py SERVESCALE_BINARY SOURCE_DIR
"""
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ss_e2e import Checks, predict, stop_all, stop_process, wait_until, _remember, \
    args_or_default  # noqa: E402

BINARY, SOURCE = args_or_default()
checks = Checks()
check = checks.check

SDEP = """apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata:
  name: alone
  namespace: prod
spec:
  predictors:
  - name: default
    graph: {name: classifier, type: MODEL}
    componentSpecs:
    - spec:
        containers:
        - name: classifier
          image: seldonio/mock_classifier:1.0
"""


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_model():
    """A mock classifier on a free port (tried again if another test took it)."""
    for _ in range(5):
        port = free_port()
        p = _remember(subprocess.Popen([BINARY, "mock-classifier", "--port", str(port)],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        ok = wait_until(lambda: p.poll() is None and _get("http://127.0.0.1:%d/health/ping" % port)
                        == 200, 10)
        if ok:
            return p, port
        stop_process(p)
    raise RuntimeError("mock classifier did not start")


def _get(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status
    except Exception:
        return None


def main():
    t0 = time.monotonic()
    work = tempfile.mkdtemp(prefix="ss-gwalone-")
    path = os.path.join(work, "sdep.yaml")
    with open(path, "w") as f:
        f.write(SDEP)
    gw = None
    try:
        model, mport = start_model()
        gw = _remember(subprocess.Popen(
            [BINARY, "gateway", "--addr", "127.0.0.1", "--port", "0", "-f", path,
             "--service-address", "127.0.0.1:%d" % mport],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE))
        line = gw.stdout.readline().decode()
        m = re.search(r"gateway on http://127\.0\.0\.1:(\d+)", line)
        check("the gateway starts and says where", bool(m), line)
        base = "http://127.0.0.1:%s" % (m.group(1) if m else "0")
        url = base + "/seldon/prod/alone/api/v1.0/predictions"
        ok = wait_until(lambda: predict(url, timeout=3)[0] == 200, 15)
        status, body = predict(url)
        check("a prediction through the gateway answers", ok and status == 200 and
              body.get("data", {}).get("names") == ["proba"], (status, body))
        check("meta.requestPath names the image",
              body.get("meta", {}).get("requestPath", {}).get("classifier") ==
              "seldonio/mock_classifier:1.0", body)
        status, body = predict(base + "/seldon/prod/missing/api/v1.0/predictions")
        check("an unknown deployment is 404", status == 404, (status, body))
        with urllib.request.urlopen(base + "/prometheus", timeout=5) as r:
            text = r.read().decode()
        check("/prometheus counts the calls under Seldon's names",
              'seldon_api_executor_client_requests_seconds_count{deployment_name="alone"' in text,
              text[:1500])
        gw.send_signal(signal.SIGTERM)
        try:
            code = gw.wait(timeout=15)
        except subprocess.TimeoutExpired:
            code = None
        check("SIGTERM stops it with exit 0", code == 0, code)
        stop_process(model)

        bad = os.path.join(work, "bad.yaml")
        with open(bad, "w") as f:
            f.write(SDEP.replace("name: alone", "name: Bad_Name"))
        p = subprocess.run([BINARY, "gateway", "--addr", "127.0.0.1", "--port", "0", "-f", bad],
                           capture_output=True, text=True, timeout=20)
        check("an invalid file stops it with FILE:LINE:COL and the field",
              p.returncode == 1 and re.search(re.escape(bad) + r":\d+:\d+: metadata.name", p.stderr)
              is not None, (p.returncode, p.stderr))
        p = subprocess.run([BINARY, "gateway", "--addr", "127.0.0.1", "--port", "0", "-f", path,
                            "--service-address", "no-port-here"],
                           capture_output=True, text=True, timeout=20)
        check("a service address without a port is refused", p.returncode == 2 and
              "--service-address" in p.stderr, (p.returncode, p.stderr))
    except Exception as e:
        import traceback
        traceback.print_exc()
        check("test ran to the end", False, "%s: %s" % (type(e).__name__, e))
    finally:
        stop_all()
    print("elapsed %.1fs" % (time.monotonic() - t0))
    sys.exit(checks.finish())


if __name__ == "__main__":
    main()
