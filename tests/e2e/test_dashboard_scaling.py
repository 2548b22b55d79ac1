#!/usr/bin/env python3
"""End-to-end: issue 15's "done when", as a user does it. The daemon starts
with the seed applied, as ./scripts/run.sh starts it (`serve -f
examples/seldon-0.2.7-hpaspec.json`: oauth_key/oauth_secret, an hpaSpec of
cpu targetAverageUtilization 10, min 1, max 4), on free loopback ports and
with `--autoscale-sync-ms 1000` (its HPA decides every second instead of
every 15 s, so the test is short). `servescale loadtest sdep/seldon-model
-o json` loads it, fetching the OAuth token itself; while it runs, headless
Chromium (Debian's chromium, --dump-dom with a virtual time budget, as in
test_ui_timeline.py) loads /ui/ again and again until the page shows the
seed scaling:

  - the chart's desired replicas above 1, its desiredReplicas line at two
    heights (it went up from 1), ready replicas above 1 on the chart or in
    the table;
  - a SuccessfulRescale event marked on the chart with its reason ("New
    size: N; reason: cpu resource utilization (percentage of request)
    above target") and listed in the events table;
  - all of it seen before loadtest ended.

Then loadtest's -o json is held against the gateway's own counters
(seldon_api_executor_server_requests_seconds on /prometheus, moved during
the run): its requests equal the counter's count, its codes the counter's
codes (all 200, no failures), its mean latency at least the gateway's (a
client waits for what the gateway measures, plus the loopback); its
progress saw the replicas go above 1 too. Last, `servescale timeline -o
png` saves the chart as a picture whose data holds the scale. Every loop
is bounded; loadtest, Chromium and the daemon are stopped on failure too.
The load saturates the machine, so CTest runs this test alone (RUN_SERIAL).

Usage: test_dashboard_scaling.py SERVESCALE_BINARY SOURCE_DIR
"""
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ss_e2e import (Checks, Daemon, LineReader, _remember, args_or_default,  # noqa: E402
                    stop_all, stop_process, wait_until)

BINARY, SOURCE = args_or_default()
SEED = os.path.join(SOURCE, "examples", "seldon-0.2.7-hpaspec.json")
NS, NAME = "default", "seldon-model"  # the seed names no namespace
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
USERS = 4
DURATION_S = 40       # loadtest's; the page showed the scale after 7 s of it
CHROMIUM_BUDGET_MS = 6000
checks = Checks()
check = checks.check


def chromium(url, budget_ms=CHROMIUM_BUDGET_MS):
    """The page's DOM after budget_ms of its own (virtual) time."""
    profile = tempfile.mkdtemp(prefix="ss-chromium-")
    try:
        p = _remember(subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--user-data-dir=" + profile, "--virtual-time-budget=%d" % budget_ms,
             "--dump-dom", url], stdout=subprocess.PIPE, stderr=subprocess.PIPE))
        try:
            out, err = p.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            stop_process(p)
            return -1, "", "chromium timed out"
        return p.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def chart(dom):
    """The seed's chart in the DOM: its data- attributes and its markup."""
    m = re.search(r'<section class="chart" id="chart-%s-%s"([^>]*)>(.*?)</section>' % (NS, NAME),
                  dom, re.S)
    if not m:
        return {}, ""
    return dict(re.findall(r'(data-[a-z]+)="([^"]*)"', m.group(1))), m.group(2)


def path_heights(markup, series):
    """The distinct y of a series' path on the chart."""
    m = re.search(r'data-series="%s"[^>]* d="([^"]*)"' % series, markup)
    return set(re.findall(r"[ML][\d.]+ ([\d.]+)", m.group(1))) if m else set()


def rescale_marks(markup):
    """The SuccessfulRescale events marked on the chart: their titles."""
    return re.findall(r'<g class="event" data-reason="SuccessfulRescale"><title>([^<]*)</title>',
                      markup)


def as_int(s):
    try:
        return int(s)
    except (TypeError, ValueError):
        return 0


def gateway_counters(gateway):
    """The gateway's predictions histogram for the seed: count by code, and
    the sum of seconds."""
    text = urllib.request.urlopen(gateway + "/prometheus", timeout=10).read().decode()
    codes, total_s = {}, 0.0
    for line in text.splitlines():
        if 'deployment_name="%s"' % NAME not in line or 'service="predictions"' not in line:
            continue
        value = float(line.rsplit(" ", 1)[1])
        if line.startswith("seldon_api_executor_server_requests_seconds_count{"):
            m = re.search(r'code="(\d+)"', line)
            code = m.group(1) if m else "?"
            codes[code] = codes.get(code, 0) + value
        elif line.startswith("seldon_api_executor_server_requests_seconds_sum{"):
            total_s += value
    return codes, total_s


def state_has_points(gateway):
    """/ui/state.json answers with points of the seed (the daemon builds the
    state only once the page polls: the first answers may be 503)."""
    try:
        st = json.loads(urllib.request.urlopen(gateway + "/ui/state.json", timeout=10).read())
    except (OSError, ValueError):
        return False
    return any(t["metadata"]["name"] == NAME and t["series"]["t"] for t in st.get("timelines", []))


def hpa_measures(d):
    """The seed's HPA has measured its CPU (so the load is what moves it)."""
    rc, out, _ = d.kubectl("get", "hpa", "-n", NS, "-o", "json")
    try:
        items = json.loads(out).get("items", []) if rc == 0 else []
    except ValueError:
        return False
    return any(m.get("resource", {}).get("current", {}).get("averageUtilization") is not None
               for h in items for m in (h.get("status", {}).get("currentMetrics") or []))


def watch_page(d, lt, deadline):
    """Loads /ui/ while loadtest runs, until the seed's chart shows it
    scaled with the event marked; what was seen last."""
    seen = {"loads": 0}
    while time.monotonic() < deadline and lt.poll() is None:
        rc, dom, err = chromium(d.gateway + "/ui/")
        running = lt.poll() is None
        attrs, markup = chart(dom)
        seen.update(rc=rc, err=err, attrs=attrs, markup=markup, dom=dom, running=running,
                    loads=seen["loads"] + 1, at=time.monotonic())
        if (running and as_int(attrs.get("data-desired")) > 1 and rescale_marks(markup)
                and len(path_heights(markup, "desiredReplicas")) > 1):
            seen["scaled"] = True
            return seen
        time.sleep(1)
    return seen


def main():
    if not CHROMIUM:
        print("chromium not installed (scripts/deps.sh test installs it)")
        return 1
    t_start = time.monotonic()
    d = Daemon(BINARY, extra_args=["--autoscale-sync-ms", "1000"])
    lt = None
    try:
        d.start(files=[SEED])
        check("the seed is ready", wait_until(lambda: d.kubectl(
            "wait", "--for=condition=ready", "sdep/" + NAME, "-n", NS, "--timeout=5s")[0] == 0, 90))
        check("its HPA measures the CPU", wait_until(lambda: hpa_measures(d), 60, interval=0.5))
        check("/ui/state.json has the seed's points", wait_until(
            lambda: state_has_points(d.gateway), 30, interval=0.5))
        rc, dom, err = chromium(d.gateway + "/ui/")
        attrs, markup = chart(dom)
        check("before the load the page shows the seed at 1 replica (rc %d)" % rc,
              rc == 0 and attrs.get("data-desired") == "1" and not rescale_marks(markup),
              (attrs, err[-500:]))

        before, before_s = gateway_counters(d.gateway)
        env = d.kubectl_env()
        env.pop("SERVESCALE_GATEWAY", None)  # found from the state dir, as a user's
        t_load = time.monotonic()
        lt = _remember(subprocess.Popen(
            [BINARY, "loadtest", "sdep/" + NAME, "-n", NS, "--users", str(USERS), "--spawn-rate",
             str(USERS), "--duration", "%ds" % DURATION_S, "-o", "json"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE))
        progress, result = LineReader(lt.stderr), LineReader(lt.stdout)
        seen = watch_page(d, lt, t_load + DURATION_S - 2)
        attrs, markup, dom = seen.get("attrs", {}), seen.get("markup", ""), seen.get("dom", "")
        t_seen = seen.get("at", time.monotonic()) - t_load
        print("      %d page loads; the scale seen %.1f s into the load" % (seen["loads"], t_seen),
              flush=True)
        check("chromium loads the page while loadtest runs (rc %s)" % seen.get("rc"),
              seen.get("rc") == 0 and seen.get("running"), seen.get("err", "")[-800:])
        check("the chart shows desired replicas above 1 (%s)" % attrs.get("data-desired"),
              as_int(attrs.get("data-desired")) > 1, attrs)
        heights = path_heights(markup, "desiredReplicas")
        check("its desired line went up from 1 (%d heights)" % len(heights), len(heights) > 1,
              markup[:1500])
        row = re.search(r'<tr class="deployment" data-name="%s" data-ready="(\d+)" '
                        r'data-desired="(\d+)"' % NAME, dom)
        check("ready replicas above 1, on the chart or in the table (%s, %s)"
              % (attrs.get("data-ready"), row and row.group(1)),
              as_int(attrs.get("data-ready")) > 1 or (row and int(row.group(1)) > 1)
              or wait_until(lambda: (lambda a: as_int(a.get("data-ready")) > 1)(
                  chart(chromium(d.gateway + "/ui/")[1])[0]), 30, interval=1), (attrs, row and row.groups()))
        marks = rescale_marks(markup)
        check("a scale event is marked on the chart with its reason: %s" % (marks[:1],),
              any(re.match(r"SuccessfulRescale: New size: [2-4]; reason: cpu resource utilization "
                           r"\(percentage of request\) above target", m) for m in marks), marks)
        check("and listed in the events", re.search(
            r"<td>SuccessfulRescale</td><td>HorizontalPodAutoscaler/[^<]*</td><td>New size: [2-4]; reason: cpu",
            dom), dom[-2000:])
        check("all seen while loadtest ran", seen.get("scaled") and seen.get("running"))

        try:
            lt.wait(timeout=DURATION_S + 60)
        except subprocess.TimeoutExpired:
            stop_process(lt)
        wait_until(lambda: not result._t.is_alive() and not progress._t.is_alive(), 10)
        out = "\n".join(result.snapshot())
        after, after_s = gateway_counters(d.gateway)
        check("loadtest -o json exits 0 (rc %s)" % lt.returncode, lt.returncode == 0,
              "\n".join(progress.snapshot()[-10:]))
        try:
            res = json.loads(out)
        except ValueError:
            res = {}
        n = res.get("requests", -1)
        moved = {c: int(after.get(c, 0) - before.get(c, 0)) for c in set(before) | set(after)}
        moved = {c: v for c, v in moved.items() if v}
        check("it sent requests (%d in %.0f s)" % (n, res.get("duration_s", 0)), n > 100, res)
        check("its requests equal the gateway's counter (%d == %d)" % (n, sum(moved.values())),
              n == sum(moved.values()), (before, after))
        check("its codes are the gateway's (%s == %s)" % (res.get("codes"), moved),
              res.get("codes") == moved and moved == {"200": n} and res.get("failures") == 0)
        gw_mean = (after_s - before_s) * 1000 / n if n > 0 else 0
        lt_mean = res.get("latency_ms", {}).get("mean", 0)
        check("its mean latency (%.2f ms) at least the gateway's (%.2f ms)" % (lt_mean, gw_mean),
              0 < gw_mean <= lt_mean * 1.02 + 0.01, res.get("latency_ms"))
        check("its rate is requests over duration",
              abs(res.get("requests_per_second", 0) - n / max(res.get("duration_s", 1), 1e-9)) < 1,
              res)
        prog = res.get("progress", [])
        peak = max([p.get("ready_replicas", 0) for p in prog] + [0])
        check("its progress saw the replicas go above 1 (peak %d ready; at most %s)"
              % (peak, res.get("replicas", {}).get("max_ready")),
              peak > 1 and res.get("replicas", {}).get("max_ready", 0) > 1, prog[-3:])
        check("a progress line a second on stderr (%d)" % len(prog),
              len(prog) >= DURATION_S - 2 and
              sum("req/s" in line for line in progress.snapshot()) >= DURATION_S - 2)

        # ... and saves the timeline as a picture (test_ui_timeline.py decodes one)
        t = time.monotonic()
        p = subprocess.run([BINARY, "timeline", "sdep/" + NAME, "-n", NS, "-o", "png"], env=env,
                           capture_output=True, timeout=60)
        took = time.monotonic() - t
        png = p.stdout
        w, h = struct.unpack(">II", png[16:24]) if len(png) > 24 else (0, 0)
        check("the timeline saved as a PNG (%d bytes, %dx%d, %.2f s)" % (len(png), w, h, took),
              p.returncode == 0 and png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
              and w == 960 and h > 500 and png[-8:-4] == b"IEND", p.stderr.decode()[-500:])
        p = subprocess.run([BINARY, "timeline", "sdep/" + NAME, "-n", NS, "-o", "json"], env=env,
                           capture_output=True, timeout=60)
        tl = json.loads(p.stdout or b"{}")
        check("whose data has the scale: desired above 1, the SuccessfulRescale event",
              max([v or 0 for v in tl.get("series", {}).get("desiredReplicas", [])] + [0]) > 1 and
              any(e.get("reason") == "SuccessfulRescale" for e in tl.get("events", [])),
              p.stderr.decode()[-500:])
        print("      loadtest: %d requests, %.0f/s, mean %.2f ms; the test took %.0f s"
              % (n, res.get("requests_per_second", 0), lt_mean, time.monotonic() - t_start),
              flush=True)
    finally:
        stop_process(lt)
        d.stop()
        stop_all()
        d.cleanup()
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
