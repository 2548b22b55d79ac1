#!/usr/bin/env python3
"""End-to-end: `servescale loadtest` against a real daemon.

Against the seed (oauth_key/oauth_secret and an hpaSpec), sdep/NAME finds
the gateway from the daemon's state dir beside the kubeconfig and gets a
token itself; its request count equals the gateway's own counter
(seldon_api_executor_server_requests_seconds_count) moved during the run,
with no failures, a progress line each second with the replicas and a
summary; -o json carries the same numbers. A URL without the token is
401s counted as failures (exit 1); bad targets and flags name the field.

Usage: test_loadtest.py SERVESCALE_BINARY SOURCE_DIR
"""
import json
import os
import re
import subprocess
import sys
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ss_e2e import Checks, Daemon, stop_all, wait_until, args_or_default  # noqa: E402

BINARY, SOURCE = args_or_default()
SEED = os.path.join(SOURCE, "examples", "seldon-0.2.7-hpaspec.json")
checks = Checks()
check = checks.check


def served(gateway):
    """The gateway's predictions counter for the seed, summed over codes."""
    text = urllib.request.urlopen(gateway + "/prometheus", timeout=10).read().decode()
    total = 0.0
    for line in text.splitlines():
        if line.startswith("seldon_api_executor_server_requests_seconds_count{") and \
                'deployment_name="seldon-model"' in line and 'service="predictions"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


def loadtest(d, *args, timeout=60):
    env = d.kubectl_env()
    env.pop("SERVESCALE_GATEWAY", None)
    p = subprocess.run([BINARY, "loadtest"] + list(args), env=env, capture_output=True,
                       timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def main():
    d = Daemon(BINARY)
    try:
        d.start(files=[SEED])
        check("the seed is ready",
              wait_until(lambda: d.kubectl("wait", "--for=condition=ready", "sdep/seldon-model",
                                           "--timeout=5s")[0] == 0, 90))
        before = served(d.gateway)
        rc, out, err = loadtest(d, "sdep/seldon-model", "--users", "3", "--spawn-rate", "6",
                                "--duration", "3s", "-o", "json")
        after = served(d.gateway)
        check("loadtest sdep/NAME -o json exits 0", rc == 0, err)
        res = json.loads(out) if rc == 0 else {}
        n = res.get("requests", -1)
        check("it sent requests (%d)" % n, n > 10, out)
        check("its count equals the gateway's counter (%d == %d)" % (n, after - before),
              n == after - before, (before, after))
        check("no failures, all 200", res.get("failures") == 0 and res.get("codes") == {"200": n},
              res.get("codes"))
        check("it found the gateway from the state dir", res.get("url", "").startswith(d.gateway),
              res.get("url"))
        lat = res.get("latency_ms", {})
        check("latency quantiles ordered", 0 < lat.get("p50", 0) <= lat.get("p99", 0) <= lat.get("max", 0) * 1.02 + 0.01,
              lat)
        check("rate is requests over duration",
              abs(res.get("requests_per_second", 0) - n / res.get("duration_s", 1)) < 1, res)
        check("replicas read from the API", res.get("replicas", {}).get("ready", 0) >= 1, res)
        prog = res.get("progress", [])
        check("a progress entry per second (%d)" % len(prog), 2 <= len(prog) <= 4, prog)
        lines = [l for l in err.splitlines() if "req/s" in l]
        check("progress lines on stderr with p50/p99, failures, replicas",
              len(lines) >= 2 and all(re.search(r"p50 .* ms  p99 .* ms  failures 0  replicas \d+/\d+", l)
                                      for l in lines), err)

        rc, out, err = loadtest(d, "sdep/seldon-model", "--users", "2", "--duration", "2s",
                                "--rps", "20")
        m = re.search(r"requests:\s+(\d+) in", out)
        check("--rps paces the total (%s in 2 s at 20/s)" % (m and m.group(1)),
              rc == 0 and m and 30 <= int(m.group(1)) <= 42, out + err)
        check("the summary has latency and codes", "latency:" in out and "codes:" in out, out)

        url = d.gateway + "/seldon/default/seldon-model/api/v1.0/predictions"
        rc, out, err = loadtest(d, url, "--duration", "1s", "--rps", "10", "-o", "json")
        res = json.loads(out) if out.strip() else {}
        check("a URL without the OAuth token: 401s are failures, exit 1",
              rc == 1 and res.get("failures") == res.get("requests") and
              list(res.get("codes", {})) == ["401"], out + err)

        for args, want in [(["sdep/Bad_Name"], "target: name"),
                           (["pods/x"], "target: kind \"pods\""),
                           (["localhost:8000"], "target: \"localhost:8000\" is neither a URL"),
                           (["sdep/nope", "--duration", "1s"], "not found"),
                           (["sdep/seldon-model", "--users", "0"], "--users must be"),
                           (["sdep/seldon-model", "--duration", "soon"], "invalid --duration"),
                           (["sdep/seldon-model", "-o", "yaml"], "output:"),
                           (["sdep/seldon-model", "--v2"], "v2:")]:
            rc, out, err = loadtest(d, *args)
            check("loadtest %s: refused naming %r" % (" ".join(args), want),
                  rc != 0 and want in err, err)
    finally:
        d.stop()
        stop_all()
        d.cleanup()
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
