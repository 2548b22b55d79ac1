#!/usr/bin/env python3
"""End-to-end: `kubectl logs` as on a cluster: the whole log, --tail N, and
-f following what the replica writes after (it must not return at once).

Usage: test_kubectl_logs.py SERVESCALE_BINARY SOURCE_DIR
"""
import os
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ss_e2e import Checks, Daemon, stop_all, stop_process, wait_until, _remember, \
    args_or_default  # noqa: E402

BINARY, SOURCE = args_or_default()
checks = Checks()
check = checks.check
NS = "logs"


def log_file(d, pod):
    for root, _, files in os.walk(d.state_dir):
        for f in files:
            if pod in f and f.endswith(".log"):
                return os.path.join(root, f)
    return None


def main():
    d = Daemon(BINARY)
    try:
        d.start()
        rc, out, err = d.kubectl("apply", "-f", os.path.join(SOURCE, "tests", "cases",
                                                             "valid-plain.yaml"), "-n", NS)
        ok = wait_until(lambda: d.kubectl("get", "pods", "-n", NS, "-o", "name")[1].strip(), 60)
        check("a pod runs", rc == 0 and ok, err)
        pod = d.kubectl("get", "pods", "-n", NS, "-o", "name")[1].split()[0].split("/", 1)[1]
        path = log_file(d, pod)
        check("its log file is in the state directory", path is not None, pod)
        with open(path, "a") as f:
            for i in range(5):
                f.write("line %d\n" % i)
        rc, out, err = d.kubectl("logs", pod, "-n", NS)
        check("kubectl logs: the whole log", rc == 0 and "line 4" in out and "event=start" in out,
              out + err)
        rc, out, err = d.kubectl("logs", pod, "-n", NS, "--tail=2")
        check("kubectl logs --tail=2: the last two lines", rc == 0 and out == "line 3\nline 4\n",
              repr(out))
        rc, out, err = d.kubectl("logs", pod, "-n", NS, "--tail=0")
        check("kubectl logs --tail=0: nothing", rc == 0 and out == "", repr(out))
        p = _remember(subprocess.Popen(["kubectl", "logs", "-f", pod, "-n", NS, "--tail=1"],
                                       env=d.kubectl_env(), stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE))
        time.sleep(1.5)
        check("kubectl logs -f does not return at once", p.poll() is None, p.poll())
        with open(path, "a") as f:
            f.write("appended after\n")
        got = []

        def reader():
            got.append(p.stdout.readline().decode())
            got.append(p.stdout.readline().decode())
        import threading
        t = threading.Thread(target=reader, daemon=True)
        t.start()
        t.join(10)
        stop_process(p, 5)
        check("kubectl logs -f --tail=1: the last line, then what is appended",
              got == ["line 4\n", "appended after\n"], got)
        rc, out, err = d.kubectl("logs", pod, "-n", NS, "--tail=-1")
        check("--tail=-1 is all of it (kubectl sends no tailLines)", rc == 0 and "line 0" in out,
              out + err)
        code, body, _ = d.request("GET", "/api/v1/namespaces/%s/pods/%s/log?tailLines=x" % (NS, pod))
        check("tailLines=x: 400", code == 400, (code, body))
    finally:
        d.stop()
        if checks.failed:
            print(d.stderr()[-3000:])
        d.cleanup()


if __name__ == "__main__":
    try:
        main()
    finally:
        stop_all()
    sys.exit(checks.finish())
