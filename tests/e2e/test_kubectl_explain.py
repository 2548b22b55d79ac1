#!/usr/bin/env python3
"""End-to-end: kubectl explain, with the machine's kubectl, as against a cluster.

kubectl explain reads the OpenAPI v3 documents the control API serves
(src/api/schemas.c): the SeldonDeployment, Model and Server as Seldon's CRDs
define them, the ScaledObject as KEDA's, and the Kubernetes kinds
servescale serves. Each command prints the GROUP/KIND/VERSION header, the
fields with their types and descriptions, and the required ones marked.

Usage: test_kubectl_explain.py SERVESCALE_BINARY SOURCE_DIR
"""
import os
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ss_e2e import Checks, Daemon, stop_all, args_or_default  # noqa: E402

BINARY, SOURCE = args_or_default()
checks = Checks()
check = checks.check

# (what to explain, GROUP or None for core, KIND, VERSION, FIELD line or
#  None, lines that must be in the output)
CASES = [
    ("sdep", "machinelearning.seldon.io", "SeldonDeployment", "v1", None,
     ["spec\t<SeldonDeploymentSpec>", "status\t<SeldonDeploymentStatus>",
      "metadata\t<ObjectMeta>", "inference graph"]),
    ("sdep.spec", "machinelearning.seldon.io", "SeldonDeployment", "v1",
     "FIELD: spec <SeldonDeploymentSpec>",
     ["predictors\t<[]PredictorSpec> -required-", "protocol\t<string>",
      "enum: seldon, tensorflow, kfserving, v2", "replicas\t<integer>",
      "scale subresource"]),
    ("sdep.spec.predictors", "machinelearning.seldon.io", "SeldonDeployment", "v1",
     "FIELD: predictors <[]PredictorSpec>",
     ["graph\t<PredictiveUnit> -required-", "componentSpecs\t<[]SeldonPodSpec>",
      "traffic\t<integer>", "Traffic weight", "svcOrchSpec\t<SvcOrchSpec>"]),
    ("sdep.spec.predictors.componentSpecs.hpaSpec", "machinelearning.seldon.io",
     "SeldonDeployment", "v1", "FIELD: hpaSpec <SeldonHpaSpec>",
     ["maxReplicas\t<integer> -required-", "minReplicas\t<integer>",
      "metrics\t<[]MetricSpec>", "metricsv2\t<[]MetricSpec>", "upper limit"]),
    ("sdep.spec.predictors.componentSpecs.kedaSpec.triggers", "machinelearning.seldon.io",
     "SeldonDeployment", "v1", "FIELD: triggers <[]ScaleTriggers>",
     ["type\t<string> -required-", "metadata\t<map[string]string> -required-",
      "authenticationRef\t<AuthenticationRef>", "prometheus"]),
    ("model.spec", "mlops.seldon.io", "Model", "v1alpha1", "FIELD: spec <ModelSpec>",
     ["storageUri\t<string> -required-", "requirements\t<[]string>", "server\t<string>",
      "Storage URI for the model repository"]),
    ("server.spec", "mlops.seldon.io", "Server", "v1alpha1", "FIELD: spec <ServerSpec>",
     ["serverConfig\t<string> -required-", "replicas\t<integer>", "capabilities\t<[]string>",
      "ServerConfig"]),
    ("deployment.spec.template.spec.containers", "apps", "Deployment", "v1",
     "FIELD: containers <[]Container>",
     ["name\t<string> -required-", "image\t<string>", "command\t<[]string>",
      "args\t<[]string>", "env\t<[]EnvVar>", "ports\t<[]ContainerPort>",
      "resources\t<ResourceRequirements>", "readinessProbe\t<Probe>",
      "A single application container"]),
    ("hpa.spec.metrics", "autoscaling", "HorizontalPodAutoscaler", "v2",
     "FIELD: metrics <[]MetricSpec>",
     ["type\t<string> -required-", "resource\t<ResourceMetricSource>",
      "external\t<ExternalMetricSource>", "type of metric source"]),
    ("scaledobject.spec", "keda.sh", "ScaledObject", "v1alpha1",
     "FIELD: spec <ScaledObjectSpec>",
     ["scaleTargetRef\t<ScaleTarget> -required-", "triggers\t<[]ScaleTriggers> -required-",
      "pollingInterval\t<integer>", "cooldownPeriod\t<integer>", "check each trigger on"]),
    ("pods.spec", None, "Pod", "v1", "FIELD: spec <PodSpec>",
     ["containers\t<[]Container> -required-", "terminationGracePeriodSeconds\t<integer>"]),
    ("namespace", None, "Namespace", "v1", None, ["spec\t<NamespaceSpec>"]),
    ("events", None, "Event", "v1", None,
     ["involvedObject\t<ObjectReference> -required-", "reason\t<string>"]),
    ("podmonitor.spec", "monitoring.coreos.com", "PodMonitor", "v1",
     "FIELD: spec <PodMonitorSpec>", ["podMetricsEndpoints\t<[]PodMetricsEndpoint>"]),
    ("servicemonitor.spec", "monitoring.coreos.com", "ServiceMonitor", "v1",
     "FIELD: spec <ServiceMonitorSpec>", ["endpoints\t<[]Endpoint>"]),
]


def explain(d, *args):
    rc, out, err = d.kubectl("explain", *args)
    return rc, out, err


def header_ok(out, group, kind, version):
    lines = [ln.strip() for ln in out.splitlines()[:4]]
    want = ["KIND:       " + kind, "VERSION:    " + version]
    if group:
        want.insert(0, "GROUP:      " + group)
    return all(w in lines for w in want) and (group or not any(
        ln.startswith("GROUP:") for ln in lines))


def check_case(d, what, group, kind, version, field, lines):
    rc, out, err = explain(d, what)
    ok = rc == 0 and header_ok(out, group, kind, version)
    ok = ok and (field is None or field in out) and "DESCRIPTION:" in out and "FIELDS:" in out
    missing = [ln for ln in lines if ln not in out]
    check("kubectl explain %s: %s %s fields with descriptions" % (what, kind, version),
          ok and not missing, "missing %r\n%s%s" % (missing, out[-3000:], err))


def check_recursive(d):
    rc, out, err = explain(d, "sdep", "--recursive")
    want = ["    predictors\t<[]PredictorSpec> -required-",
            "      componentSpecs\t<[]SeldonPodSpec>",
            "        spec\t<PodSpec>",
            "          containers\t<[]Container> -required-",
            "        kedaSpec\t<SeldonScaledObjectSpec>",
            "        children\t<[]PredictiveUnit>",
            "    state\t<string>"]
    missing = [w for w in want if w not in out]
    check("kubectl explain sdep --recursive: the whole tree, PodSpec included, "
          "the recursive graph cut where it recurs",
          rc == 0 and not missing and len(out.splitlines()) > 200,
          "missing %r\n%s%s" % (missing, out[-2000:], err))


def check_versions(d):
    rc, out, err = explain(d, "sdep.spec", "--api-version=machinelearning.seldon.io/v1alpha2")
    check("kubectl explain at v1alpha2: the same schema",
          rc == 0 and "VERSION:    v1alpha2" in out and "predictors\t<[]PredictorSpec>" in out,
          out + err)
    rc, out, err = explain(d, "sdep.spec.predictors.nosuchfield")
    check("kubectl explain of a field that does not exist: an error naming it",
          rc != 0 and "nosuchfield" in err, out + err)


def main():
    d = Daemon(BINARY)
    try:
        d.start()
        for case in CASES:
            check_case(d, *case)
        check_recursive(d)
        check_versions(d)
    finally:
        stop_all()


if __name__ == "__main__":
    t0 = time.monotonic()
    try:
        main()
    finally:
        stop_all()
    print("(%.1f s)" % (time.monotonic() - t0))
    sys.exit(checks.finish())
