#!/usr/bin/env python3
"""End-to-end: the dashboard (/ui/ on the gateway) in headless Chromium,
and `servescale timeline -o svg`.

Debian's chromium, driven without a protocol: --dump-dom and --screenshot
with a virtual time budget (its timers and fetches run, nothing waits on
the wall clock). The page lists the deployments and draws a chart per
SeldonDeployment; after `kubectl scale sdep` its DOM shows the new
replicas in the table and the chart, and the scaling event; a screenshot
has the window's size and is not blank. /ui/state.json?since= answers only
later points; the timeline SVG has every series and the events; the
timeline PNG is a valid PNG (chunks and CRCs, inflated to the SVG's size)
with the series' colours in its pixels; a bad --since and -o yaml are
refused naming the field.

Usage: test_ui_timeline.py SERVESCALE_BINARY SOURCE_DIR
"""
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import zlib

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ss_e2e import Checks, Daemon, stop_all, wait_until, args_or_default  # noqa: E402

BINARY, SOURCE = args_or_default()
PLAIN = os.path.join(SOURCE, "tests", "cases", "valid-plain.yaml")
NS = "plain"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
checks = Checks()
check = checks.check


def chromium(url, *flags, budget_ms=8000):
    profile = tempfile.mkdtemp(prefix="ss-chromium-")
    try:
        p = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                            "--no-first-run", "--user-data-dir=" + profile,
                            "--virtual-time-budget=%d" % budget_ms] + list(flags) + [url],
                           capture_output=True, timeout=90)
        return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def png_facts(path):
    """(width, height, distinct byte values in the first rows) of a PNG."""
    data = open(path, "rb").read()
    w, h = struct.unpack(">II", data[16:24])
    idat, i = b"", 8
    while i < len(data):
        n, kind = struct.unpack(">I4s", data[i:i + 8])
        if kind == b"IDAT":
            idat += data[i + 8:i + 8 + n]
        i += 12 + n
    raw = zlib.decompress(idat)
    return w, h, len(set(raw[:w * 4 * 400]))


SERIES_RGB = {"requestRate": (0x29, 0x80, 0xb9), "latencyP50": (0x27, 0xae, 0x60),
              "latencyP99": (0xc0, 0x39, 0x2b), "desiredReplicas": (0xe6, 0x7e, 0x22),
              "readyReplicas": (0x16, 0xa0, 0x85)}


def png_pixels(data):
    """An 8-bit RGB PNG's (width, height, {rgb: count}), every chunk's CRC
    checked and its rows unfiltered; raises ValueError on anything else."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("no PNG signature")
    i, idat, kinds, w, h = 8, b"", [], 0, 0
    while i < len(data):
        n, kind = struct.unpack(">I4s", data[i:i + 8])
        body = data[i + 8:i + 8 + n]
        if struct.unpack(">I", data[i + 8 + n:i + 12 + n])[0] != zlib.crc32(kind + body):
            raise ValueError("bad CRC in " + kind.decode())
        kinds.append(kind)
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if (depth, ctype, interlace) != (8, 2, 0):
                raise ValueError("not 8-bit RGB: %r" % ((depth, ctype, interlace),))
        elif kind == b"IDAT":
            idat += body
        i += 12 + n
    if kinds[0] != b"IHDR" or kinds[-1] != b"IEND":
        raise ValueError("chunks: %r" % kinds)
    raw, stride, prev, colours = zlib.decompress(idat), w * 3, bytearray(w * 3), {}
    if len(raw) != h * (stride + 1):
        raise ValueError("%d bytes inflated for %dx%d" % (len(raw), w, h))
    for y in range(h):
        f, row = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = row[x - 3] if x >= 3 else 0
            b, c = prev[x], prev[x - 3] if x >= 3 else 0
            if f == 1:
                row[x] = (row[x] + a) & 255
            elif f == 2:
                row[x] = (row[x] + b) & 255
            elif f == 3:
                row[x] = (row[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                row[x] = (row[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        for x in range(0, stride, 3):
            px = (row[x], row[x + 1], row[x + 2])
            colours[px] = colours.get(px, 0) + 1
        prev = row
    return w, h, colours


def check_png(env, svg):
    """servescale timeline -o png: the SVG's chart as a valid PNG."""
    p = subprocess.run([BINARY, "timeline", "sdep/seldon-model", "-n", NS, "--since", "5m",
                        "-o", "png"], env=env, capture_output=True, timeout=30)
    check("servescale timeline -o png", p.returncode == 0 and p.stdout[:4] == b"\x89PNG",
          p.stderr.decode())
    try:
        w, h, colours = png_pixels(p.stdout)
    except (ValueError, struct.error, zlib.error, IndexError) as e:
        check("the PNG decodes (chunks, CRCs, deflate, filters)", False, e)
        return
    m = re.search(r'<svg [^>]*width="(\d+)" height="(\d+)"', svg)
    check("the PNG has the SVG's size (%dx%d)" % (w, h), m and (w, h) == (int(m.group(1)),
                                                                    int(m.group(2))), m and m.groups())
    for series, rgb in SERIES_RGB.items():
        check("the PNG draws %s in its colour (%d pixels)" % (series, colours.get(rgb, 0)),
              colours.get(rgb, 0) >= 40)
    # a series with values is a line, more than its 12x4 legend (latency is
    # null without requests; desired may hide under ready where they agree)
    p = subprocess.run([BINARY, "timeline", "sdep/seldon-model", "-n", NS, "--since", "5m",
                        "-o", "json"], env=env, capture_output=True, timeout=30)
    data = json.loads(p.stdout or b"{}").get("series", {})
    drawn = [s for s in ("requestRate", "latencyP50", "latencyP99", "readyReplicas")
             if any(v is not None for v in data.get(s, []))]
    check("the lines of %s drawn past their legends" % ", ".join(drawn),
          "requestRate" in drawn and "readyReplicas" in drawn and
          all(colours.get(SERIES_RGB[s], 0) > 48 for s in drawn),
          {s: colours.get(rgb, 0) for s, rgb in SERIES_RGB.items()})
    check("the event marks and text are drawn", colours.get((0x7f, 0x8c, 0x8d), 0) > 20 and
          colours.get((0x33, 0x33, 0x33), 0) > 500)


def chart_attrs(dom, name):
    m = re.search(r'<section class="chart" id="chart-%s-%s"([^>]*)>' % (NS, name), dom)
    return dict(re.findall(r'(data-[a-z]+)="([^"]*)"', m.group(1))) if m else {}


def relay(d, method, path, body=None, token=None):
    """A write the page makes: to its own origin, /ui/api/<API path>."""
    headers = {"Content-Type": "application/merge-patch+json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    req = urllib.request.Request(d.gateway + "/ui/api/" + path, method=method, headers=headers,
                                 data=json.dumps(body).encode() if body is not None else None)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def relay_writes(d):
    """The page's scale and delete buttons, as the page sends them."""
    st, page = http_text(d.gateway + "/ui/")
    check("the page sends its writes to /ui/api/ on its own origin", st == 200 and
          'fetch("/ui/api/"' in page, page[:200])
    path = "apis/machinelearning.seldon.io/v1/namespaces/%s/seldondeployments/seldon-model" % NS
    st, body = relay(d, "PATCH", path + "/scale", {"spec": {"replicas": 3}})
    check("without the token the relay answers 401, as the API", st == 401, (st, body))
    st, body = relay(d, "PATCH", path + "/scale", {"spec": {"replicas": 3}}, d.token)
    check("with it, scale through the page's path: 200, spec.replicas 3",
          st == 200 and body.get("spec", {}).get("replicas") == 3, (st, body))
    check("... and the SeldonDeployment is scaled", wait_until(lambda: d.kubectl(
        "get", "sdep/seldon-model", "-n", NS, "-o", "jsonpath={.spec.replicas}")[1] == "3", 20))
    st, body = relay(d, "PATCH", path + "/scale", {"spec": {"replicas": -1}}, d.token)
    check("a bad scale is the API's 422, relayed", st == 422, (st, body))
    st, body = relay(d, "DELETE", path, None, d.token)
    check("delete through the page's path", st == 200, (st, body))
    check("... and it is gone", wait_until(lambda: d.kubectl(
        "get", "sdep/seldon-model", "-n", NS)[0] != 0, 20))


def http_text(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.status, r.read().decode("utf-8", "replace")


def main():
    if not CHROMIUM:
        print("chromium not installed (scripts/deps.sh test installs it)")
        return 1
    d = Daemon(BINARY, extra_args=["--autoscale-sync-ms", "1000"])
    try:
        d.start()
        rc, out, err = d.kubectl("apply", "-n", NS, "-f", PLAIN)
        check("kubectl apply the plain deployment", rc == 0, err)
        check("it is ready", wait_until(lambda: d.kubectl(
            "wait", "--for=condition=ready", "sdep/seldon-model", "-n", NS, "--timeout=5s")[0] == 0, 90))
        ui = d.gateway + "/ui/"
        page = urllib.request.urlopen(ui, timeout=10).read().decode()
        check("/ui/ is one self-contained page", "<script>" in page and "http://" not in
              page.replace("http://www.w3.org/2000/svg", "") and "src=" not in page, page[:300])

        # the daemon builds the state once it is polled: the first answer may be 503
        def state_ready():
            try:
                st = json.loads(urllib.request.urlopen(d.gateway + "/ui/state.json", timeout=10).read())
            except (OSError, ValueError):
                return False
            return any(t["series"]["t"] for t in st.get("timelines", []))
        check("/ui/state.json answers, with points, once polled", wait_until(state_ready, 30, interval=0.5))
        rc, dom1, err = chromium(ui, "--dump-dom")
        a1 = chart_attrs(dom1, "seldon-model")
        check("chromium loads the page (rc %d)" % rc, rc == 0 and "<h1>servescale</h1>" in dom1, err[-800:])
        check("the deployment is listed with its address",
              'data-name="seldon-model"' in dom1 and "/seldon/plain/seldon-model/api/v1.0/predictions" in dom1,
              dom1[-1500:])
        check("its chart is drawn with every series", a1.get("data-desired") == "1" and all(
            'data-series="%s"' % s in dom1 for s in
            ("requestRate", "latencyP50", "latencyP99", "desiredReplicas", "readyReplicas")), a1)

        rc, out, err = d.kubectl("scale", "sdep/seldon-model", "-n", NS, "--replicas=2")
        check("kubectl scale sdep --replicas=2", rc == 0, err)
        check("2 ready", wait_until(lambda: d.kubectl(
            "get", "sdep/seldon-model", "-n", NS, "-o", "jsonpath={.status.replicas}")[1] == "2", 60))
        state = {}

        def updated():
            rc, dom, _ = chromium(ui, "--dump-dom")
            state["dom"] = dom
            return chart_attrs(dom, "seldon-model").get("data-desired") == "2"
        check("after the scale the chart shows 2 desired", wait_until(updated, 40, interval=1),
              chart_attrs(state.get("dom", ""), "seldon-model"))
        dom2 = state.get("dom", "")
        a2 = chart_attrs(dom2, "seldon-model")
        check("and 2 ready, in the table too", a2.get("data-ready") == "2" and
              re.search(r'data-name="seldon-model" data-ready="2" data-desired="2"', dom2), a2)
        check("the scaling event is marked on the chart and listed",
              'class="event" data-reason="ScalingReplicaSet"' in dom2 and
              "Scaled up replica set" in dom2, dom2[-2000:])
        check("the chart gained points", int(a2.get("data-points", 0)) >= int(a1.get("data-points", 0)),
              (a1, a2))

        shot = os.path.join(d.state_dir, "ui.png")
        rc, out, err = chromium(ui, "--screenshot=" + shot, "--window-size=1100,1300")
        w, h, distinct = png_facts(shot) if os.path.exists(shot) else (0, 0, 0)
        check("a screenshot of the window's size (%dx%d)" % (w, h), (w, h) == (1100, 1300), err[-500:])
        check("it is not blank (%d distinct values)" % distinct, distinct > 20)

        s = json.loads(urllib.request.urlopen(d.gateway + "/ui/state.json", timeout=10).read())
        tl = [t for t in s["timelines"] if t["metadata"]["namespace"] == NS][0]
        ts = tl["series"]["t"]
        mid = ts[len(ts) // 2] if ts else 0
        inc = json.loads(urllib.request.urlopen(d.gateway + "/ui/state.json?since=%d" % mid,
                                                timeout=10).read())
        itl = [t for t in inc["timelines"] if t["metadata"]["namespace"] == NS][0]
        check("state.json?since= answers only later points",
              inc.get("incremental") and all(t > mid for t in itl["series"]["t"]) and
              len(itl["series"]["t"]) < len(ts) + 2, (mid, itl["series"]["t"]))

        env = d.kubectl_env()
        p = subprocess.run([BINARY, "timeline", "sdep/seldon-model", "-n", NS, "--since", "5m",
                            "-o", "svg"], env=env, capture_output=True, timeout=30)
        svg = p.stdout.decode()
        check("servescale timeline -o svg", p.returncode == 0 and svg.startswith("<?xml") and
              svg.rstrip().endswith("</svg>"), p.stderr.decode())
        for series in ("requestRate", "latencyP50", "latencyP99", "desiredReplicas", "readyReplicas"):
            check("the SVG has the %s series" % series, 'data-series="%s"' % series in svg)
        m = re.search(r'data-series="desiredReplicas"[^>]* d="([^"]*)"', svg)
        check("its desired line has points", m and m.group(1).count("L") >= 1, m and m.group(1))
        check("the SVG marks the scaling event", 'data-reason="ScalingReplicaSet"' in svg)
        check_png(env, svg)
        for args, want in [(["--since", "forever"], "invalid --since"),
                           (["-o", "yaml"], "output:")]:
            p = subprocess.run([BINARY, "timeline", "sdep/seldon-model", "-n", NS] + args, env=env,
                               capture_output=True, timeout=30)
            check("timeline %s refused naming %r" % (" ".join(args), want),
                  p.returncode != 0 and want in p.stderr.decode(), p.stderr.decode())
        code, body, _ = d.request("GET", "/apis/servescale.io/v1/namespaces/%s/timelines/seldon-model"
                                  "?since=forever" % NS)
        check("the API refuses a bad since naming it (400)", code == 400 and "since:" in json.dumps(body),
              (code, body))
        code, body, _ = d.request("GET", "/apis/servescale.io/v1/namespaces/%s/timelines/nope" % NS)
        check("an unknown deployment's timeline is 404", code == 404, (code, body))
        relay_writes(d)
    finally:
        d.stop()
        stop_all()
        d.cleanup()
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
