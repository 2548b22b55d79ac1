#!/usr/bin/env python3
"""End-to-end: servescale simulate, the binary as a user runs it.

Every example trace (examples/traces/*.csv) under every policy against the
example resources, with -o json (the documented shape, one entry per
policy), csv (a row per policy per second of the trace) and svg (a picture
with a panel per policy); an HPA and a ScaledObject given as themselves;
a bad trace refused naming its line and why, bad flags naming the flag, a
resource without autoscaling refused naming it. Offline: no daemon.

Usage: test_simulate.py SERVESCALE_BINARY SOURCE_DIR
"""
import csv
import glob
import io
import json
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ss_e2e import Checks, args_or_default  # noqa: E402

BINARY, SOURCE = args_or_default()
TRACES = os.path.join(SOURCE, "examples", "traces")
POLICIES = ["hpa", "keda", "kpa", "ray", "servescale"]
KEYS = {"policy", "replicaSeconds", "sloViolationSeconds", "failedRequests", "scaleEvents"}
checks = Checks()
check = checks.check


def simulate(*args, timeout=120):
    p = subprocess.run([BINARY, "simulate"] + list(args), capture_output=True, text=True,
                       timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def resource_for(trace):
    name = "keda-zero.yaml" if os.path.basename(trace) == "on-off.csv" else "hpa-cpu.yaml"
    return os.path.join(TRACES, name)


def trace_seconds(trace):
    rows = [l for l in open(trace) if l.strip() and not l.startswith("#")][1:]
    return int(float(rows[-1].split(",")[0])) + 1


def every_trace_every_policy():
    traces = sorted(glob.glob(os.path.join(TRACES, "*.csv")))
    names = {os.path.basename(t) for t in traces}
    check("the six example traces", {"step.csv", "ramp.csv", "spike.csv", "diurnal.csv",
                                     "on-off.csv", "one-user.csv"} <= names, names)
    for trace in traces:
        res = resource_for(trace)
        rc, out, err = simulate("-f", res, "--trace", trace, "-o", "json")
        doc = json.loads(out) if rc == 0 else {}
        got = doc.get("results", [])
        check("%s: -o json, every policy, the documented keys" % os.path.basename(trace),
              rc == 0 and list(doc) == ["results"] and [r.get("policy") for r in got] == POLICIES
              and all(set(r) == KEYS for r in got)
              and all(r["replicaSeconds"] > 0 for r in got), out + err)
        for policy in POLICIES:
            rc, out, err = simulate("-f", res, "--trace", trace, "--policy", policy)
            check("%s --policy %s: a table row" % (os.path.basename(trace), policy),
                  rc == 0 and any(l.split()[:1] == [policy] for l in out.splitlines()), out + err)


def csv_timeline():
    trace = os.path.join(TRACES, "step.csv")
    rc, out, err = simulate("-f", resource_for(trace), "--trace", trace, "-o", "csv")
    rows = list(csv.DictReader(io.StringIO(out))) if rc == 0 else []
    n = trace_seconds(trace)
    per = {p: [r for r in rows if r["policy"] == p] for p in POLICIES}
    check("-o csv: a row per policy per second", rc == 0 and all(len(per[p]) == n for p in POLICIES),
          (rc, err, {p: len(v) for p, v in per.items()}))
    hpa = per.get("hpa", [])
    check("-o csv: the step's load and the HPA growing under it",
          len(hpa) == n and 100 < float(hpa[300]["rps"]) < 200 and
          int(hpa[600]["replicas"]) > int(hpa[60]["replicas"]), hpa[:1] + hpa[600:601])
    # the metric against its target, in replicas: the HPA's CPU metric is
    # 15 s old and read at a 15 s sync, so it first asks for more than one
    # replica at least 15 s after the step at 120 s
    asks = [s for s in range(n) if hpa and float(hpa[s]["metric_replicas"]) > 1]
    check("-o csv: the HPA's metric (15 s old) asks for more 15 s or more after the step "
          "(first at %s s)" % (asks[:1] or "never"),
          len(hpa) == n and asks and 135 <= asks[0] < 200, hpa[118:140])
    own = per.get("servescale", [])
    check("-o csv: servescale's metric (the last second's rate) asks at the step's second",
          len(own) == n and float(own[121]["metric_replicas"]) >= 4, own[119:123])


def svg_picture():
    trace = os.path.join(TRACES, "spike.csv")
    rc, out, err = simulate("-f", resource_for(trace), "--trace", trace, "-o", "svg")
    root = None
    try:
        root = ET.fromstring(out)
    except ET.ParseError as e:
        err += str(e)
    texts = [t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text")] if root is not None else []
    check("-o svg: well-formed, a panel per policy and the load",
          rc == 0 and root is not None and all(p in texts for p in POLICIES) and "load" in texts,
          (rc, err, texts[:12]))
    polylines = list(root.iter("{http://www.w3.org/2000/svg}polyline")) if root is not None else []
    dashed = [p for p in polylines if p.get("stroke-dasharray")]
    check("-o svg: eleven lines (the load, and per policy its replicas and, dashed, what its "
          "metric asks for)", len(polylines) == 11 and len(dashed) == 5,
          (len(polylines), len(dashed)))


HPA = """apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 1
  maxReplicas: 4
  metrics:
  - type: External
    external:
      metric: {name: seldon_requests_per_second}
      target: {type: AverageValue, averageValue: "20"}
"""

SCALED_OBJECT = """apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: web}
spec:
  scaleTargetRef: {name: web}
  minReplicaCount: 0
  maxReplicaCount: 4
  triggers:
  - type: prometheus
    metadata: {serverAddress: "http://prometheus:9090", threshold: "20", query: "sum(rate(x[1m]))"}
"""

SDEP_PLAIN = """apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata: {name: plain}
spec:
  predictors:
  - name: p
    componentSpecs:
    - spec:
        containers: [{name: c, image: seldonio/mock_classifier:1.0}]
    graph: {name: c, type: MODEL}
"""


def other_kinds_and_errors(tmp):
    trace = os.path.join(TRACES, "one-user.csv")
    for name, text in [("hpa", HPA), ("scaledobject", SCALED_OBJECT)]:
        f = os.path.join(tmp, name + ".yaml")
        open(f, "w").write(text)
        rc, out, err = simulate("-f", f, "--trace", trace, "-o", "json")
        got = json.loads(out)["results"] if rc == 0 else []
        check("a %s as itself: every policy" % name, len(got) == 5, out + err)
    bad = os.path.join(tmp, "bad.csv")
    open(bad, "w").write("time,rps\n0,10\n30,twenty\n")
    rc, out, err = simulate("-f", resource_for(trace), "--trace", bad)
    check("a bad trace: the file, the line and why",
          rc == 1 and bad + ":3:" in err and "rps: not a number" in err and not out, err)
    open(bad, "w").write("0,10\n20,5\n10,5\n")
    rc, out, err = simulate("-f", resource_for(trace), "--trace", bad)
    check("rows out of order: the line", rc == 1 and ":3:" in err and "not after" in err, err)
    rc, out, err = simulate("-f", resource_for(trace), "--trace", os.path.join(tmp, "nope.csv"))
    check("a missing trace: named", rc == 1 and "nope.csv" in err, err)
    rc, out, err = simulate("-f", resource_for(trace), "--trace", trace, "--policy", "fast")
    check("an unknown policy: the flag and the choices",
          rc == 1 and "--policy" in err and "servescale" in err, err)
    rc, out, err = simulate("-f", resource_for(trace), "--trace", trace, "--service-time-ms", "0")
    check("a bad number: the flag and its range", rc == 1 and "--service-time-ms" in err, err)
    rc, out, err = simulate("-f", resource_for(trace), "--trace", trace, "--arrivals", "bursty")
    check("an unknown arrivals: the flag and the choices",
          rc == 1 and "--arrivals" in err and "paced" in err, err)
    # paced arrivals: every second of a constant trace has its rate exactly
    const = os.path.join(tmp, "const.csv")
    open(const, "w").write("time,rps\n0,30\n59,30\n")
    rc, out, err = simulate("-f", resource_for(trace), "--trace", const, "--policy", "servescale",
                            "--arrivals", "paced", "-o", "csv")
    rows = list(csv.DictReader(io.StringIO(out))) if rc == 0 else []
    counts = {round(float(r["rps"])) for r in rows[1:]}
    check("--arrivals paced: every second brings the trace's 30 (%s)" % sorted(counts),
          rows and counts == {30}, out[:300] + err)
    rc, out, err = simulate("-f", resource_for(trace), "--trace", const, "--policy", "servescale",
                            "-o", "csv")
    rows = list(csv.DictReader(io.StringIO(out))) if rc == 0 else []
    check("Poisson arrivals (the default) vary about it",
          len({round(float(r["rps"])) for r in rows}) > 3, out[:300] + err)
    rc, out, err = simulate("-f", resource_for(trace), "--trace", trace, "-o", "png")
    check("an unknown output", rc == 2 and "svg" in err, err)
    plain = os.path.join(tmp, "plain.yaml")
    open(plain, "w").write(SDEP_PLAIN)
    rc, out, err = simulate("-f", plain, "--trace", trace)
    check("nothing autoscaled: said", rc == 1 and "nothing autoscaled" in err, err)
    rc, out, err = simulate("-f", resource_for(trace))
    check("no trace: usage", rc == 2 and "--trace" in err, err)


def main():
    every_trace_every_policy()
    csv_timeline()
    svg_picture()
    with tempfile.TemporaryDirectory() as tmp:
        other_kinds_and_errors(tmp)
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
