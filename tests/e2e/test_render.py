#!/usr/bin/env python3
"""End-to-end: `servescale render` on every example (and a few inline cases):
the objects pass the Kubernetes, KEDA and Prometheus Operator schemas
(tests/k8s/validate.mjs, npm packages installed by `npm ci` in tests/k8s),
kubectl takes them (`apply --dry-run=client` against a loopback discovery
stub, since there is no cluster), the output is byte-stable, the seeds'
numbers land in the HPA and ScaledObject, and the YAML equals the reviewed
golden files in tests/golden/ (SS_UPDATE_GOLDEN=1 rewrites them).

Usage: test_render.py SERVESCALE_BINARY SOURCE_DIR
"""
import glob
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ss_e2e import Checks, args_or_default  # noqa: E402

BINARY, SOURCE = args_or_default()
K8S = os.path.join(SOURCE, "tests", "k8s")
GOLDEN = os.path.join(SOURCE, "tests", "golden")
SELDON_KIND = re.compile(r'"?kind"?\s*:\s*"?(SeldonDeployment|Model|Server)\b')
# the seeds' numbers (seeds 000, 001, 003)
SEED_HPA = {"minReplicas": 1, "maxReplicas": 4, "cpu": 10}
SEED_KEDA = {"pollingInterval": 15, "minReplicaCount": 1, "maxReplicaCount": 5, "threshold": "10",
             "query": 'rate(seldon_api_executor_client_requests_seconds_count{model_name="classifier"}[1m])'}

checks = Checks()
check = checks.check


def run(args, stdin=None, env=None, timeout=60):
    p = subprocess.run(args, input=stdin, capture_output=True, text=True, env=env, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def render(*args, stdin=None):
    return run([BINARY, "render"] + list(args), stdin=stdin)


def validate(text):
    return run(["node", os.path.join(K8S, "validate.mjs")], stdin=text)


def objects(json_text):
    return json.loads(json_text)["items"]


def find(objs, kind):
    return [o for o in objs if o["kind"] == kind]


# ---- kubectl against a discovery stub ----

# What kubectl needs to map each rendered kind to its resource; the stub
# answers discovery and 404 for every object, so apply --dry-run=client
# reports each as "created (dry run)" after parsing and mapping it.
API = {
    "v1": [("secrets", "Secret"), ("services", "Service"), ("configmaps", "ConfigMap")],
    "apps/v1": [("deployments", "Deployment"), ("statefulsets", "StatefulSet")],
    "autoscaling/v2": [("horizontalpodautoscalers", "HorizontalPodAutoscaler")],
    "keda.sh/v1alpha1": [("scaledobjects", "ScaledObject")],
    "monitoring.coreos.com/v1": [("podmonitors", "PodMonitor")],
    "mlops.seldon.io/v1alpha1": [("models", "Model"), ("servers", "Server")],
}


class Stub(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def send(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path = self.path.split("?")[0].rstrip("/")
        groups = sorted({gv.split("/")[0] for gv in API if "/" in gv})
        if path == "/api":
            return self.send(200, {"kind": "APIVersions", "versions": ["v1"]})
        if path == "/apis":
            return self.send(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
                {"name": g, "versions": [{"groupVersion": gv, "version": gv.split("/")[1]}
                                         for gv in API if gv.startswith(g + "/")],
                 "preferredVersion": {"groupVersion": next(gv for gv in API if gv.startswith(g + "/")),
                                      "version": next(gv for gv in API if gv.startswith(g + "/")).split("/")[1]}}
                for g in groups]})
        for gv, res in API.items():
            prefix = "/api/v1" if gv == "v1" else "/apis/" + gv
            if path == prefix:
                return self.send(200, {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv,
                                       "resources": [{"name": r, "singularName": k.lower(), "kind": k,
                                                      "namespaced": True,
                                                      "verbs": ["create", "get", "list", "patch", "update"]}
                                                     for r, k in res]})
        self.send(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound",
                        "code": 404, "message": "not found"})


def kubectl_dry_run(text, tmp):
    kubectl = shutil.which("kubectl")
    if not kubectl:
        return None, "kubectl not installed"
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Stub)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    cfg = os.path.join(tmp, "kubeconfig")
    with open(cfg, "w") as f:
        f.write("apiVersion: v1\nkind: Config\nclusters:\n- name: stub\n  cluster: {server: 'http://127.0.0.1:%d'}\n"
                "contexts:\n- name: stub\n  context: {cluster: stub, user: stub, namespace: seldon}\n"
                "current-context: stub\nusers:\n- name: stub\n  user: {token: stub}\n" % srv.server_address[1])
    env = dict(os.environ, KUBECONFIG=cfg, HOME=tmp)
    try:
        # --validate=false: the stub serves no OpenAPI (the schemas are
        # validate.mjs's job); parsing and kind mapping remain kubectl's.
        return run([kubectl, "apply", "--dry-run=client", "--validate=false", "-f", "-"], stdin=text,
                   env=env), ""
    finally:
        srv.shutdown()
        srv.server_close()


def check_examples(tmp):
    examples = sorted(f for f in glob.glob(os.path.join(SOURCE, "examples", "*"))
                      if os.path.isfile(f) and f.endswith((".json", ".yaml", ".yml")))
    for path in examples:
        base = os.path.basename(path)
        stem = os.path.splitext(base)[0]
        with open(path) as f:
            if not SELDON_KIND.search(f.read()):
                print("skip  [%s] not a SeldonDeployment, Model or Server" % base, flush=True)
                continue
        tag = "[%s] " % base
        rc, out, err = render("-f", path)
        if not check(tag + "render exits 0", rc == 0 and out, (rc, err)):
            continue
        rc2, out2, _ = render("-f", path)
        check(tag + "render is byte-stable across runs", rc2 == 0 and out2 == out)
        vrc, vout, verr = validate(out)
        check(tag + "every object passes the schemas (%s)" % (vout.strip().splitlines() or ["?"])[-1],
              vrc == 0, vout + verr)
        jrc, jout, jerr = render("-f", path, "-o", "json")
        vrc, vout, verr = validate(jout)
        check(tag + "-o json passes the schemas too", jrc == 0 and vrc == 0, vout + verr + jerr)
        r, why = kubectl_dry_run(out, tmp)
        if r is None:
            checks.skip(tag + "kubectl apply --dry-run=client", why)
        else:
            krc, kout, kerr = r
            n = out.count("\n---\n") + 1
            check(tag + "kubectl apply --dry-run=client takes all %d objects" % n,
                  krc == 0 and kout.count("(dry run)") == n, (krc, kout, kerr))
        objs = objects(jout)
        check_seed_numbers(tag, path, objs)
        golden = os.path.join(GOLDEN, stem + ".yaml")
        if os.environ.get("SS_UPDATE_GOLDEN") == "1":
            os.makedirs(GOLDEN, exist_ok=True)
            with open(golden, "w") as f:
                f.write(out)
            print("note  %swrote %s" % (tag, golden), flush=True)
        if os.path.exists(golden):
            with open(golden) as f:
                want = f.read()
            check(tag + "output equals tests/golden/%s.yaml" % stem, out == want,
                  diff(want, out))
        else:
            check(tag + "golden file tests/golden/%s.yaml exists" % stem, False,
                  "run with SS_UPDATE_GOLDEN=1 and review it")


def diff(a, b):
    import difflib
    return "".join(difflib.unified_diff(a.splitlines(True), b.splitlines(True), "golden", "render", n=1))


def check_seed_numbers(tag, path, objs):
    with open(path) as f:
        text = f.read()
    hpas, sos = find(objs, "HorizontalPodAutoscaler"), find(objs, "ScaledObject")
    deps = {o["metadata"]["name"]: o for o in find(objs, "Deployment")}
    if "hpaSpec" in text:  # hpaSpec and hpaSpecs
        ok = len(hpas) == 1 and not sos
        h = hpas[0]["spec"] if hpas else {}
        m = (h.get("metrics") or [{}])[0]
        check(tag + "hpaSpec(s) -> one autoscaling/v2 HPA: min 1 max 4, cpu Utilization 10%",
              ok and h["minReplicas"] == SEED_HPA["minReplicas"] and h["maxReplicas"] == SEED_HPA["maxReplicas"]
              and m == {"type": "Resource", "resource": {"name": "cpu", "target": {
                  "type": "Utilization", "averageUtilization": SEED_HPA["cpu"]}}}, hpas)
        ref = h.get("scaleTargetRef", {})
        check(tag + "the HPA targets the rendered apps/v1 Deployment %s" % ref.get("name"),
              ref.get("apiVersion") == "apps/v1" and ref.get("kind") == "Deployment" and ref.get("name") in deps
              and "replicas" not in deps[ref["name"]]["spec"], ref)
    if "kedaSpec" in text:
        ok = len(sos) == 1 and not hpas
        s = sos[0]["spec"] if sos else {}
        t = (s.get("triggers") or [{}])[0]
        md = t.get("metadata", {})
        check(tag + "kedaSpec -> one ScaledObject: polling 15, min 1, max 5, threshold '10', query unchanged",
              ok and s.get("pollingInterval") == SEED_KEDA["pollingInterval"]
              and s.get("minReplicaCount") == SEED_KEDA["minReplicaCount"]
              and s.get("maxReplicaCount") == SEED_KEDA["maxReplicaCount"]
              and t.get("type") == "prometheus" and md.get("threshold") == SEED_KEDA["threshold"]
              and md.get("query") == SEED_KEDA["query"] and SEED_KEDA["query"] in text, sos)
        check(tag + "the seed's serverAddress is kept",
              md.get("serverAddress") == "http://seldon-monitoring-prometheus.seldon-monitoring.svc.cluster.local:9090",
              md)
        ref = s.get("scaleTargetRef", {})
        check(tag + "the ScaledObject targets the rendered Deployment %s" % ref.get("name"),
              ref.get("name") in deps and "replicas" not in deps[ref["name"]]["spec"], ref)
    for d in deps.values():
        labels = d["spec"]["template"]["metadata"]["labels"]
        ports = [p.get("name") for c in d["spec"]["template"]["spec"]["containers"] for p in c.get("ports", [])]
        check(tag + "Deployment %s: pods labelled seldon.io/model=true with a metrics port" % d["metadata"]["name"],
              labels.get("seldon.io/model") == "true" and "metrics" in ports, (labels, ports))


INLINE = {
    # hpaSpec and kedaSpec on one componentSpec: the ScaledObject only;
    # a trigger without serverAddress gets --prometheus-url; two containers
    # give two Deployments; replicas from the predictor.
    "both-scalers": """
apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata: {name: both}
spec:
  predictors:
  - name: p
    replicas: 3
    graph: {name: a, type: MODEL, children: [{name: b, type: MODEL}]}
    componentSpecs:
    - spec:
        containers:
        - {name: a, image: 'seldonio/mock_classifier:1.0', resources: {requests: {cpu: 100m}}}
        - {name: b, image: 'seldonio/mock_classifier:1.0'}
      hpaSpec: {minReplicas: 1, maxReplicas: 3, metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}}]}
      kedaSpec:
        triggers:
        - type: prometheus
          metadata: {query: 'sum(rate(x[1m]))', threshold: '5'}
    - metadata: {name: fixed}
      spec:
        containers:
        - {name: c, image: 'seldonio/mock_classifier:1.0'}
""",
    "core2": """
apiVersion: mlops.seldon.io/v1alpha1
kind: Server
metadata: {name: mlserver}
spec: {serverConfig: mlserver, replicas: 2}
---
apiVersion: mlops.seldon.io/v1alpha1
kind: Model
metadata: {name: iris}
spec: {storageUri: 'gs://seldon-models/mlserver/iris', requirements: [sklearn], minReplicas: 1, maxReplicas: 3}
""",
}


def check_inline(tmp):
    rc, out, err = render("-f", "-", "-o", "json", "--namespace", "seldon",
                          "--prometheus-url", "http://prom.example:9090", stdin=INLINE["both-scalers"])
    if check("[both-scalers] render exits 0", rc == 0, err):
        objs = objects(out)
        deps = sorted(o["metadata"]["name"] for o in find(objs, "Deployment"))
        check("[both-scalers] one Deployment per container, named as replica sets",
              deps == ["both-p-0-a-b-a", "both-p-0-a-b-b", "both-p-1-fixed", "servescale-gateway"], deps)
        check("[both-scalers] kedaSpec wins: ScaledObjects only, one per container Deployment",
              not find(objs, "HorizontalPodAutoscaler") and len(find(objs, "ScaledObject")) == 2)
        so = find(objs, "ScaledObject")[0]
        md = so["spec"]["triggers"][0]["metadata"]
        check("[both-scalers] missing serverAddress filled from --prometheus-url, said in an annotation",
              md.get("serverAddress") == "http://prom.example:9090" and md.get("threshold") == "5"
              and "servescale.io/prometheus-url" in so["metadata"].get("annotations", {}), so)
        fixed = next(o for o in objs if o["metadata"]["name"] == "both-p-1-fixed")
        check("[both-scalers] an unscaled Deployment takes the predictor's replicas (3)",
              fixed["spec"].get("replicas") == 3, fixed["spec"].get("replicas"))
        check("[both-scalers] --namespace lands on every object",
              all(o["metadata"].get("namespace") == "seldon" for o in objs))
        vrc, vout, verr = validate(out)
        check("[both-scalers] passes the schemas", vrc == 0, vout + verr)
    rc, out, err = render("-f", "-", stdin=INLINE["core2"])
    if check("[core2] render exits 0", rc == 0, err):
        kinds = re.findall(r"^kind: (\S+)", out, re.M)
        check("[core2] Server then Model, kept as mlops.seldon.io objects", kinds == ["Server", "Model"], kinds)
        vrc, vout, verr = validate(out)
        check("[core2] passes the shape checks", vrc == 0, vout + verr)
    rc, out, err = render("-f", os.path.join(SOURCE, "examples", "pod-monitor.yaml"))
    check("[pod-monitor.yaml] other kinds render to nothing, with a warning",
          rc == 0 and out == "" and "warning" in err, (rc, out, err))
    rc, out, err = render("-o", "xml", "-f", "-", stdin="")
    check("render -o xml is a usage error (exit 2)", rc == 2, (rc, err))


def main():
    if not (shutil.which(BINARY) or os.access(BINARY, os.X_OK)):
        check("the servescale binary exists", False, BINARY)
        return checks.finish()
    if not shutil.which("node"):
        check("node is installed (scripts/deps.sh test installs nodejs)", False, "node not found")
        return checks.finish()
    if not os.path.isdir(os.path.join(K8S, "node_modules", "kubernetes-models")):
        check("tests/k8s/node_modules present", False,
              "the schema packages are missing: run `(cd tests/k8s && npm ci --no-audit --no-fund)` "
              "(scripts/test.sh does)")
        return checks.finish()
    tmp = tempfile.mkdtemp(prefix="ss-render-")
    try:
        check_examples(tmp)
        check_inline(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
