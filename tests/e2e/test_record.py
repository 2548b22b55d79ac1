#!/usr/bin/env python3
"""End-to-end: `servescale record sdep/NAME --duration D -o trace.csv` under a
known load (`servescale loadtest --rps`): the file is a trace simulate reads
(`servescale simulate --trace` of it works, for the same resource), and its
mean rate while the load ran is within 10 % of the load's rate, as the
gateway counted it. A deployment that does not exist is refused, naming it,
and leaves no file; the request count route answers what record reads.
What simulate models is measured too: the file ends with the service time
(the mock sleeps 20 ms a prediction) and the replicas' start-up, as the
comments simulate reads, and simulate takes them.

Usage: test_record.py SERVESCALE_BINARY SOURCE_DIR
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ss_e2e import Checks, Daemon, _remember, args_or_default, run_timed, \
    stop_daemon, wait_until  # noqa: E402
import ss_autoscale as A  # noqa: E402

BINARY, SOURCE = args_or_default()
checks = Checks()
check = checks.check

RPS = 40          # the load
LOAD_S = 14       # how long it runs
RECORD_S = 10     # recorded inside it, from its second second
SERVICE_MS = 20   # the mock's delay_ms


def sdep():
    obj = A.keda_sdep(SOURCE)  # a kedaSpec, so that simulate has autoscaling to replay
    obj["metadata"]["annotations"] = {}
    obj["spec"]["predictors"][0]["graph"]["parameters"] = [
        {"name": "delay_ms", "value": str(SERVICE_MS), "type": "INT"}]
    return obj


def run(d, *args, timeout=60):
    env = d.kubectl_env()
    p = subprocess.run([BINARY] + list(args), env=env, capture_output=True, timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def read_trace(path):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#") or line.startswith("time"):
                continue
            t, r = line.split(",")
            rows.append((float(t), float(r)))
    return rows


def main():
    tmp = tempfile.mkdtemp(prefix="ss-record-")
    d = Daemon(BINARY)
    try:
        d.start()
        rc, out, err = A.apply(d, sdep(), tmp)
        check("apply", rc == 0, out + err)
        check("ready", wait_until(lambda: d.kubectl("wait", "--for=condition=ready",
                                                    "sdep/" + A.NAME, "-n", A.NS,
                                                    "--timeout=5s")[0] == 0, 90))
        code, obj, _ = d.request("GET", "/apis/servescale.io/v1/namespaces/%s/requestcounts/%s"
                                 % (A.NS, A.NAME))
        check("the request count route answers answered, outstanding and timeMs",
              code == 200 and {"answered", "outstanding", "timeMs"} <= set(obj or {}), obj)
        starts = (obj or {}).get("replicaStartups") or []
        check("and the replicas' start-up (%s) and the service seconds so far"
              % [round(s.get("startupSeconds", -1), 3) for s in starts],
              len(starts) == 1 and 0 <= starts[0]["startupSeconds"] < 30
              and starts[0]["replica"].startswith(A.RS) and "serviceSeconds" in obj
              and "serviceCalls" in obj, obj)
        code, obj, _ = d.request("GET", "/apis/servescale.io/v1/namespaces/%s/requestcounts/nope"
                                 % A.NS)
        check("a missing deployment's count is 404", code == 404, obj)

        missing = os.path.join(tmp, "missing.csv")
        rc, out, err = run(d, "record", "sdep/nope", "-n", A.NS, "--duration", "2s",
                           "-o", missing)
        check("record of a missing deployment fails naming it, with no file",
              rc != 0 and "nope" in err and not os.path.exists(missing), err)

        env = d.kubectl_env()
        env.pop("SERVESCALE_GATEWAY", None)
        load = _remember(subprocess.Popen(
            [BINARY, "loadtest", "sdep/" + A.NAME, "-n", A.NS, "--users", "4", "--rps", str(RPS),
             "--duration", "%ds" % LOAD_S, "-o", "json"], env=env, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE))
        time.sleep(2)
        trace = os.path.join(tmp, "trace.csv")
        t0 = time.monotonic()
        rc, out, err = run(d, "record", "sdep/" + A.NAME, "-n", A.NS,
                           "--duration", "%ds" % RECORD_S, "-o", trace, timeout=RECORD_S + 30)
        took = time.monotonic() - t0
        check("record runs for its duration (%.1f s) and says what it wrote (%s)"
              % (took, err.strip()), rc == 0 and RECORD_S - 0.5 <= took <= RECORD_S + 5
              and "recorded" in err, out + err)
        lout, lerr = load.communicate(timeout=LOAD_S + 30)
        summary = {}
        try:
            summary = json.loads(lout.decode())
        except ValueError:
            pass
        rows = read_trace(trace) if os.path.exists(trace) else []
        check("one row a second (%d)" % len(rows), RECORD_S - 1 <= len(rows) <= RECORD_S, rows)
        check("times start at 0 and step by a second",
              rows and rows[0][0] == 0 and all(abs((b[0] - a[0]) - 1) < 0.2
                                               for a, b in zip(rows, rows[1:])), rows)
        mean = sum(r for _, r in rows) / len(rows) if rows else 0
        check("its mean rate (%.2f/s) is within 10 %% of the load's %d/s" % (mean, RPS),
              abs(mean - RPS) <= 0.1 * RPS, (rows, summary))

        yaml_path = os.path.join(tmp, "sdep.json")
        rc, out, err = run(d, "simulate", "-f", yaml_path, "--trace", trace, "-o", "json")
        res = {}
        try:
            res = json.loads(out)
        except ValueError:
            pass
        check("simulate --trace replays the recorded file (%d results)"
              % len(res.get("results", [])), rc == 0 and len(res.get("results", [])) == 5,
              out[-800:] + err)
        text = open(trace).read() if os.path.exists(trace) else ""
        measured = dict(re.findall(r"^# (service-time-ms|startup-ms): (\d+)$", text, re.M))
        svc = int(measured.get("service-time-ms", -1))
        up = int(measured.get("startup-ms", -1))
        want_up = round(1000 * starts[0]["startupSeconds"]) if starts else -2
        check("the file ends with the measured service time (%d ms; the mock sleeps %d)"
              % (svc, SERVICE_MS), SERVICE_MS <= svc <= 2 * SERVICE_MS, text[-400:])
        check("and the replica's start-up (%d ms, as the route said: %d)" % (up, want_up),
              up >= 0 and abs(up - want_up) <= 1, text[-400:])
        check("its one replica counted once over the ten readings",
              "the median of 1 replicas'" in text, text[-400:])
        rc, out, err = run(d, "simulate", "-f", yaml_path, "--trace", trace, "--policy",
                           "servescale")
        check("simulate takes them from the file",
              rc == 0 and "service %d ms (as recorded)" % svc in out
              and "start-up %d ms (as recorded)" % up in out, out + err)
        rc, out, err = run(d, "simulate", "-f", yaml_path, "--trace", trace, "--policy",
                           "servescale", "--service-time-ms", "7")
        check("a flag wins over the file", rc == 0 and "service 7 ms," in out, out + err)
    finally:
        stop_daemon(d, checks, tmp)


if __name__ == "__main__":
    run_timed(main, checks)
