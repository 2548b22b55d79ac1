#!/usr/bin/env python3
"""End-to-end: custom and external metrics through the built-in
prometheus-adapter, with the machine's kubectl.

A SeldonDeployment whose hpaSpec (metricsv2, Seldon 1.15+) scales on an
Object metric, the request rate of the SeldonDeployment from the default
adapter rules over the embedded metrics, goes up under load and back; the
custom and external metrics APIs answer `kubectl get --raw` as
prometheus-adapter does (discovery, a named object, pods by label
selector, an external metric with a label selector, an unknown metric);
a user's HPA on an External metric scales a Deployment; an adapter
configuration given with --adapter-config (a ConfigMap, as users keep it)
serves its own rules; a broken rule stops the start, naming it; a
Prometheus that is down is a condition on the HPA, and predictions go on.

Usage: test_custom_metrics.py SERVESCALE_BINARY SOURCE_DIR
"""
import json
import os
import socket
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ss_e2e import Checks, Daemon, Load, stop_all, wait_until, args_or_default, predict  # noqa: E402

BINARY, SOURCE = args_or_default()
NS = "metrics"
checks = Checks()
check = checks.check
METRIC = "seldon_requests_per_second"

SDEP = """apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata:
  name: rps
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
        - type: Object
          object:
            describedObject: {apiVersion: machinelearning.seldon.io/v1, kind: SeldonDeployment, name: rps}
            metric: {name: seldon_requests_per_second}
            target: {type: Value, value: "4"}
        behavior:
          scaleDown: {stabilizationWindowSeconds: 0}
"""

ADAPTER_CONFIGMAP = """apiVersion: v1
kind: ConfigMap
metadata: {name: adapter-config, namespace: monitoring}
data:
  config.yaml: |-
    rules:
    - seriesQuery: '{__name__="servescale_replica_ready",namespace!=""}'
      resources:
        overrides:
          namespace: {resource: namespace}
          replica: {resource: pod}
      name: {matches: "^servescale_replica_(.*)$", as: "replica_${1}"}
      metricsQuery: 'max(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)'
"""


def raw(d, path):
    rc, out, err = d.kubectl("get", "--raw", path)
    try:
        return rc, json.loads(out) if rc == 0 else None, err
    except ValueError:
        return rc, None, out + err


def dep_replicas(d, name, ns=NS):
    rc, out, err = d.kubectl("get", "deployment", name, "-n", ns, "-o", "json")
    obj = json.loads(out) if rc == 0 else {}
    return obj.get("spec", {}).get("replicas"), obj.get("status", {}).get("readyReplicas", 0)


def raw_paths(d):
    base = "/apis/custom.metrics.k8s.io/v1beta1"
    rc, disc, err = raw(d, base)
    names = [r["name"] for r in (disc or {}).get("resources", [])]
    check("kubectl get --raw %s: the rules' metrics (%s)" % (base, names),
          rc == 0 and "seldondeployments.machinelearning.seldon.io/" + METRIC in names
          and "namespaces/" + METRIC in names, (disc, err))
    path = "%s/namespaces/%s/seldondeployments.machinelearning.seldon.io/rps/%s" % (base, NS, METRIC)
    rc, lst, err = raw(d, path)
    item = ((lst or {}).get("items") or [{}])[0]
    check("... %s: a MetricValueList, the SeldonDeployment described, a value" % path,
          rc == 0 and lst.get("kind") == "MetricValueList"
          and item.get("describedObject", {}).get("kind") == "SeldonDeployment"
          and item.get("describedObject", {}).get("name") == "rps"
          and item.get("metricName") == METRIC and item.get("value"), (lst, err))
    path = "%s/namespaces/%s/%s?labelSelector=deployment_name%%3Drps" % (
        base.replace("custom", "external"), NS, METRIC)
    rc, lst, err = raw(d, path)
    item = ((lst or {}).get("items") or [{}])[0]
    check("... %s: an ExternalMetricValueList" % path,
          rc == 0 and lst.get("kind") == "ExternalMetricValueList"
          and item.get("metricName") == METRIC and "value" in item, (lst, err))
    rc, lst, err = raw(d, "%s/namespaces/%s/seldondeployments.machinelearning.seldon.io/rps/nope"
                       % (base, NS))
    check("an unknown metric: NotFound naming it", rc != 0 and "nope" in err, err)


def object_metric_scales(d):
    rc, out, err = d.kubectl("apply", "-n", NS, "-f", "-", stdin=SDEP)
    check("a SeldonDeployment whose hpaSpec (metricsv2) scales on an Object metric applies",
          rc == 0, out + err)
    dep = "rps-main-0-classifier"
    ok = wait_until(lambda: dep_replicas(d, dep) == (1, 1), 60)
    check("it runs 1", ok, dep_replicas(d, dep))
    url = d.gateway + "/seldon/%s/rps/api/v1.0/predictions" % NS
    load = Load(url, rate=16)
    load.start()
    try:
        up = wait_until(lambda: dep_replicas(d, dep)[0] == 3, 60)
        check("under 16 requests/s (target 4/s) it scales to maxReplicas 3", up,
              dep_replicas(d, dep))
        raw_paths(d)
        rc, out, err = d.kubectl("get", "hpa", dep, "-n", NS)
        check("kubectl get hpa: TARGETS shows the Object metric's value against 4", rc == 0
              and "/4" in out, out + err)
    finally:
        load.stop()
    check("no request failed under load (%d answered)" % load.ok, load.failed == 0, load.failed)
    down = wait_until(lambda: dep_replicas(d, dep)[0] == 1, 120)
    check("without load it comes back to 1 (the [1m] rate falls first)", down,
          dep_replicas(d, dep))


def hpa_status(d, name):
    rc, out, err = d.kubectl("get", "hpa", name, "-n", NS, "-o", "json")
    st = json.loads(out).get("status", {}) if rc == 0 else {}
    return st, {c["type"]: c for c in st.get("conditions", [])}


def external_metric_hpa(d):
    """A user's HPA on an External metric (the default externalRules' rate
    over the namespace) aimed at another SeldonDeployment's Deployment; a
    second HPA on a target that has one already: AmbiguousSelector, as the
    HPA controller says, and neither scales."""
    d.kubectl("apply", "-n", NS, "-f", os.path.join(SOURCE, "tests", "cases", "valid-plain.yaml"))
    plain = "seldon-model-example-0-classifier"
    wait_until(lambda: dep_replicas(d, plain) == (1, 1), 60)
    hpa = """apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: %s
  annotations: {servescale.io/sync-period-ms: "1000"}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: %s}
  minReplicas: 1
  maxReplicas: 2
  metrics:
  - type: External
    external:
      metric: {name: seldon_requests_per_second, selector: {matchLabels: {deployment_name: rps}}}
      target: {type: AverageValue, averageValue: "%s"}
"""
    rc, out, err = d.kubectl("apply", "-n", NS, "-f", "-", stdin=hpa % ("ext", plain, "1m"))
    check("a user's HPA on an External metric applies", rc == 0, out + err)
    # any rate at all is above 1m per replica: it goes to its maxReplicas
    url = d.gateway + "/seldon/%s/rps/api/v1.0/predictions" % NS
    load = Load(url, rate=4)
    load.start()
    try:
        up = wait_until(lambda: dep_replicas(d, plain)[0] == 2, 40)
    finally:
        load.stop()
    st, conds = hpa_status(d, "ext")
    check("it reads the metric (ScalingActive True, currentMetrics External) and scales to 2",
          up and conds.get("ScalingActive", {}).get("status") == "True"
          and any(m.get("type") == "External" for m in st.get("currentMetrics", [])), st)
    rc, out, err = d.kubectl("apply", "-n", NS, "-f", "-",
                             stdin=hpa % ("dup", "rps-main-0-classifier", "100"))

    def ambiguous():
        st, conds = hpa_status(d, "dup")
        c = conds.get("ScalingActive", {})
        return c if c.get("reason") == "AmbiguousSelector" else None
    c = wait_until(ambiguous, 20)
    check("a second HPA on a target that has one: ScalingActive False, AmbiguousSelector, "
          "naming both", c and c.get("status") == "False" and "rps-main-0-classifier" in
          c.get("message", "") and "dup" in c.get("message", ""), c)
    d.kubectl("delete", "hpa", "ext", "dup", "-n", NS)


def adapter_config(binary, tmp):
    path = os.path.join(tmp, "adapter.yaml")
    with open(path, "w") as f:
        f.write(ADAPTER_CONFIGMAP)
    d = Daemon(binary, extra_args=["--adapter-config", path])
    try:
        d.start()
        rc, out, err = d.kubectl("apply", "-n", NS, "-f",
                                 os.path.join(SOURCE, "tests", "cases", "valid-plain.yaml"))
        ok = wait_until(lambda: dep_replicas(d, "seldon-model-example-0-classifier") == (1, 1), 60)
        check("(--adapter-config) a deployment runs", rc == 0 and ok, err)
        base = "/apis/custom.metrics.k8s.io/v1beta1"
        got = wait_until(lambda: raw(d, "%s/namespaces/%s/pods/*/replica_ready?labelSelector="
                                        "app%%3Dseldon-model-example-0-classifier" % (base, NS))[1], 15)
        items = (got or {}).get("items", [])
        check("(--adapter-config) the ConfigMap's rule answers pods/*/replica_ready by label "
              "selector: one pod, value 1",
              len(items) == 1 and items[0]["describedObject"]["kind"] == "Pod"
              and items[0]["value"] == "1", got)
    finally:
        d.stop()
        d.cleanup()
    bad = os.path.join(tmp, "bad.yaml")
    with open(bad, "w") as f:
        f.write("rules:\n- seriesQuery: up\n  metricsQuery: 'sum(<<.Nope>>)'\n")
    d = Daemon(binary, extra_args=["--adapter-config", bad])
    try:
        d.start()
        started = True
    except RuntimeError:
        started = False
    log = d.stderr()
    check("a broken rule stops the start, naming rules[0].metricsQuery",
          not started and "rules[0].metricsQuery" in log, log[-500:])
    d.stop()
    d.cleanup()


def prometheus_down(binary):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there
    d = Daemon(binary, extra_args=["--prometheus-url", "http://127.0.0.1:%d" % port])
    try:
        d.start()
        d.kubectl("apply", "-n", NS, "-f", "-", stdin=SDEP)
        dep = "rps-main-0-classifier"
        wait_until(lambda: dep_replicas(d, dep) == (1, 1), 60)

        def failing():
            rc, out, err = d.kubectl("get", "hpa", dep, "-n", NS, "-o", "json")
            conds = {c["type"]: c for c in (json.loads(out).get("status", {}).get("conditions", [])
                                           if rc == 0 else [])}
            c = conds.get("ScalingActive", {})
            return c if c.get("status") == "False" else None
        cond = wait_until(failing, 20)
        check("(Prometheus down) the HPA says so: ScalingActive False (%s)"
              % (cond or {}).get("reason"), cond, cond)
        rc, lst, err = raw(d, "/apis/external.metrics.k8s.io/v1beta1/namespaces/%s/%s" % (NS, METRIC))
        check("(Prometheus down) the metrics API answers an error, not a hang",
              rc != 0 and err, err)
        st, body = predict(d.gateway + "/seldon/%s/rps/api/v1.0/predictions" % NS)
        check("(Prometheus down) predictions go on (200)", st == 200, body)
        check("(Prometheus down) the size holds at 1", dep_replicas(d, dep)[0] == 1,
              dep_replicas(d, dep))
    finally:
        d.stop()
        d.cleanup()


def main():
    tmp = tempfile.mkdtemp(prefix="ss-cm-")
    d = Daemon(BINARY)
    try:
        d.start()
        object_metric_scales(d)
        external_metric_hpa(d)
    finally:
        d.stop()
        if checks.failed:
            print(d.stderr()[-3000:])
        d.cleanup()
    adapter_config(BINARY, tmp)
    prometheus_down(BINARY)


if __name__ == "__main__":
    t0 = time.monotonic()
    try:
        main()
    finally:
        stop_all()
    print("(%.1f s)" % (time.monotonic() - t0))
    sys.exit(checks.finish())
