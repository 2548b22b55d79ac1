"""Helpers shared by the autoscaling end-to-end tests: the seed's kedaSpec
deployment with a test-shortened schedule, a real Prometheus, load from
`hey`, and reading the ScaledObject the daemon stores."""
import json
import os
import re
import shutil
import subprocess
import time

from ss_e2e import _remember, wait_until
from ss_prometheus import Prometheus, free_port, http_get  # noqa: F401 - the tests use A.<name>

NS, NAME = "seldon", "seldon-model"
RS = "seldon-model-example-0-classifier"  # the replica set Seldon names
HEY = shutil.which("hey") or "/usr/bin/hey"
BODY = '{"data":{"ndarray":[[1,2,3,4]]}}'


def seed_query(source):
    """The seed's query, read from examples/model_with_keda_prom.yaml as is."""
    with open(os.path.join(source, "examples", "model_with_keda_prom.yaml")) as f:
        m = re.search(r"^\s*query:\s*(.+?)\s*$", f.read(), re.M)
    return m.group(1)


def keda_sdep(source, server_address=None, min_replicas=1, fallback=None, sync_ms=1000,
              cooldown=5, stabilization=5):
    """The seed's kedaSpec deployment (its query unchanged) with a test
    schedule: polls every sync_ms, pollingInterval 1, cooldownPeriod 5,
    scale-down stabilization 5 s."""
    meta = {"metricName": "access_frequency", "threshold": "10", "query": seed_query(source)}
    if server_address:
        meta["serverAddress"] = server_address
    keda = {"pollingInterval": 1, "cooldownPeriod": cooldown, "minReplicaCount": min_replicas,
            "maxReplicaCount": 5,
            "advanced": {"horizontalPodAutoscalerConfig": {"behavior": {
                "scaleDown": {"stabilizationWindowSeconds": stabilization}}}},
            "triggers": [{"type": "prometheus", "metadata": meta}]}
    if fallback:
        keda["fallback"] = fallback
    return {
        "apiVersion": "machinelearning.seldon.io/v1", "kind": "SeldonDeployment",
        "metadata": {"name": NAME, "namespace": NS,
                     "annotations": {"servescale.io/sync-period-ms": str(sync_ms)}},
        "spec": {"name": "test-deployment", "predictors": [{
            "componentSpecs": [{"spec": {"containers": [{
                "image": "seldonio/mock_classifier:1.19.0-dev",
                "imagePullPolicy": "IfNotPresent", "name": "classifier",
                "resources": {"requests": {"cpu": "0.5"}}}]},
                "kedaSpec": keda}],
            "graph": {"children": [], "endpoint": {"type": "REST"}, "name": "classifier",
                      "type": "MODEL"},
            "name": "example"}]}}


def apply(d, obj, tmp):
    path = os.path.join(tmp, "sdep.json")
    with open(path, "w") as f:
        json.dump(obj, f)
    return d.kubectl("apply", "-f", path)


def scaled_object(d):
    code, obj, _ = d.request(
        "GET", "/apis/keda.sh/v1alpha1/namespaces/%s/scaledobjects/%s" % (NS, RS))
    return obj if code == 200 else None


def desired(d):
    so = scaled_object(d) or {}
    return so.get("status", {}).get("desiredReplicas")


def ready_replicas(d):
    st = (d.get_sdep(NS, NAME) or {}).get("status", {})
    return st.get("deploymentStatus", {}).get(RS, {}).get("availableReplicas", 0)


def condition(obj, type_):
    for c in (obj or {}).get("status", {}).get("conditions", []):
        if c.get("type") == type_:
            return c.get("status")
    return None


class Sizes:
    """Records (seconds since start, desired, ready) whenever they change."""

    def __init__(self, d):
        self.d = d
        self.t0 = time.monotonic()
        self.seen = []

    def sample(self):
        v = (desired(self.d), ready_replicas(self.d))
        if not self.seen or self.seen[-1][1:] != v:
            self.seen.append((round(time.monotonic() - self.t0, 1),) + v)
        return v

    def wait(self, fn, timeout, interval=0.25):
        return wait_until(lambda: fn(*self.sample()), timeout, interval)


def hey(url, seconds, workers=10, qps=30):
    """Starts `hey` against url; returns the process (stdout: its summary)."""
    return _remember(subprocess.Popen(
        [HEY, "-z", "%ds" % seconds, "-c", str(workers), "-q", str(qps), "-m", "POST",
         "-T", "application/json", "-d", BODY, url],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT))


def hey_codes(out):
    """{status: count} from hey's summary."""
    codes = {}
    for m in re.finditer(r"\[(\d+)\]\s+(\d+) responses", out):
        codes[int(m.group(1))] = int(m.group(2))
    return codes


def prometheus_config(binary, gateway, tmp):
    cfg = subprocess.run([binary, "prometheus-config", "--gateway", gateway, "--interval", "1s"],
                         capture_output=True, timeout=30)
    path = os.path.join(tmp, "prometheus.yml")
    with open(path, "wb") as f:
        f.write(cfg.stdout)
    return path if cfg.returncode == 0 else None
