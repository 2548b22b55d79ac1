#!/usr/bin/env python3
"""End-to-end: the built-in prometheus-adapter over a real Prometheus.

Debian's Prometheus scrapes the replicas as the seed's PodMonitor says
(`servescale prometheus-config`, which gives each series the namespace and
pod labels the operator gives them on a cluster); the daemon's adapter asks
that Prometheus (--prometheus-url) with a rule written as for a cluster
(--adapter-config): mock_classifier_predictions_total per pod as
mock_predictions_per_second. A SeldonDeployment whose hpaSpec scales on
that Pods metric (AverageValue 2) goes up under load and back, and
`kubectl get --raw .../pods/*/mock_predictions_per_second?labelSelector=...`
answers with each pod's rate.

Usage: test_adapter_prometheus.py SERVESCALE_BINARY SOURCE_DIR
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ss_e2e import Checks, Daemon, Load, args_or_default, stop_all, wait_until  # noqa: E402
from ss_prometheus import Prometheus, free_port  # noqa: E402

BINARY, SOURCE = args_or_default()
NS = "seldon"
DEP = "pods-main-0-classifier"
checks = Checks()
check = checks.check

RULES = """rules:
- seriesQuery: 'mock_classifier_predictions_total{namespace!="",pod!=""}'
  resources:
    overrides:
      namespace: {resource: namespace}
      pod: {resource: pod}
  name:
    matches: "^mock_classifier_(.*)_total$"
    as: "mock_${1}_per_second"
  metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[20s])) by (<<.GroupBy>>)'
"""

SDEP = """apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata:
  name: pods
  annotations: {servescale.io/sync-period-ms: "1000"}
spec:
  predictors:
  - name: main
    graph: {name: classifier, type: MODEL}
    componentSpecs:
    - spec:
        containers:
        - name: classifier
          image: seldonio/mock_classifier:1.0
      hpaSpec:
        minReplicas: 1
        maxReplicas: 3
        metricsv2:
        - type: Pods
          pods:
            metric: {name: mock_predictions_per_second}
            target: {type: AverageValue, averageValue: "2"}
        behavior:
          scaleDown: {stabilizationWindowSeconds: 0}
"""


def replicas(d):
    rc, out, err = d.kubectl("get", "deployment", DEP, "-n", NS, "-o", "json")
    obj = json.loads(out) if rc == 0 else {}
    return obj.get("spec", {}).get("replicas"), obj.get("status", {}).get("readyReplicas", 0)


def main():
    tmp = tempfile.mkdtemp(prefix="ss-adprom-")
    rules = os.path.join(tmp, "adapter.yaml")
    with open(rules, "w") as f:
        f.write(RULES)
    port = free_port()
    d = Daemon(BINARY, extra_args=["--adapter-config", rules,
                                   "--prometheus-url", "http://127.0.0.1:%d" % port])
    prom = None
    load = None
    try:
        d.start()
        rc, out, err = d.kubectl("apply", "-f", os.path.join(SOURCE, "examples", "pod-monitor.yaml"))
        rc2, out2, err2 = d.kubectl("apply", "-n", NS, "-f", "-", stdin=SDEP)
        check("the seed's PodMonitor and a SeldonDeployment scaled on a Pods metric apply",
              rc == 0 and rc2 == 0, err + err2)
        check("it runs 1", wait_until(lambda: replicas(d) == (1, 1), 60), replicas(d))
        cfg = subprocess.run([BINARY, "prometheus-config", "--kubeconfig", d.kubeconfig,
                              "--interval", "1s"], capture_output=True, timeout=30)
        cfg_path = os.path.join(tmp, "prometheus.yml")
        with open(cfg_path, "wb") as f:
            f.write(cfg.stdout)
        prom = Prometheus(cfg_path, tmp)
        started = prom.start(attempts=1, port=port)
        check("Prometheus scrapes as the PodMonitor says, on the port the adapter asks",
              started and cfg.returncode == 0, prom.logs()[-1500:])
        if not started:
            return
        url = d.gateway + "/seldon/%s/pods/api/v1.0/predictions" % NS
        load = Load(url, rate=12).start()
        up = wait_until(lambda: replicas(d)[0] == 3, 60)
        check("under 12 requests/s (2/s per pod wanted) it scales to maxReplicas 3", up,
              replicas(d))
        path = ("/apis/custom.metrics.k8s.io/v1beta1/namespaces/%s/pods/*/"
                "mock_predictions_per_second?labelSelector=app%%3D%s" % (NS, DEP))
        rc, out, err = d.kubectl("get", "--raw", path)
        items = json.loads(out).get("items", []) if rc == 0 else []
        check("kubectl get --raw %s: a value per pod, from Prometheus" % path,
              items and all(i["describedObject"]["kind"] == "Pod"
                            and i["describedObject"]["name"].startswith(DEP) for i in items),
              out + err)
        load.stop()
        down = wait_until(lambda: replicas(d)[0] == 1, 90)
        check("without load it comes back to 1", down, replicas(d))
        rc, out, err = d.kubectl("get", "hpa", DEP, "-n", NS, "-o", "json")
        st = json.loads(out).get("status", {}) if rc == 0 else {}
        check("the HPA's currentMetrics show the Pods metric",
              any(m.get("type") == "Pods" for m in st.get("currentMetrics", [])), st)
    finally:
        if load:
            load.stop()
        if prom:
            prom.stop()
        d.stop()
        if checks.failed:
            print(d.stderr()[-3000:])
            if prom:
                print(prom.logs()[-2000:])
        d.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    t0 = time.monotonic()
    try:
        main()
    finally:
        stop_all()
    print("(%.1f s)" % (time.monotonic() - t0))
    sys.exit(checks.finish())
