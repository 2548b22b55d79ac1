#!/usr/bin/env python3
"""End-to-end test of the CLI's API commands (apply, get, describe, wait,
scale, logs, events, delete, kubeconfig) and of examples/client/sdep_flow,
against a real `servescale serve` on a loopback port chosen at run time.

Usage: test_cli.py SERVESCALE_BINARY SOURCE_DIR
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ss_e2e import Checks, Daemon, stop_all, stop_process, wait_until  # noqa: E402

BINARY = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "servescale")
SOURCE = os.path.abspath(sys.argv[2] if len(sys.argv) > 2 else ".")
# scaled by hand in these tests: a SeldonDeployment without an autoscaler
EXAMPLE = os.path.join(SOURCE, "tests", "cases", "valid-plain.yaml")
SDEP_FLOW = os.path.join(os.path.dirname(BINARY), "examples", "client", "sdep_flow")
NS = "clitest"
CMD_TIMEOUT_S = 150        # one CLI command, waits included
LABEL = "seldondeployment.machinelearning.seldon.io/seldon-model"

BAD_YAML = """apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata:
  name: bad-model
spec:
  predictors:
  - name: example
    graph:
      name: classifier
      type: MODEL
    componentSpecs:
    - spec:
        containers:
        - name: classifier
          image: seldonio/mock_classifier:1.0
          resources:
            requests:
              cpu: 100m
      hpaSpec:
        minReplicas: 3
        maxReplicas: 1
"""

checks = Checks()


def cli_env(d, kubeconfig=True):
    env = dict(os.environ)
    env.pop("SS_TEST_TAG", None)
    env["HOME"] = d.state_dir
    if kubeconfig:
        env["KUBECONFIG"] = d.kubeconfig
    else:
        env.pop("KUBECONFIG", None)
    return env


def ss(d, *args, env=None, timeout=CMD_TIMEOUT_S):
    """Runs `servescale ARGS`; (rc, stdout, stderr)."""
    try:
        p = subprocess.run([BINARY] + list(args), env=env or cli_env(d), capture_output=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired as e:
        return -1, (e.stdout or b"").decode("utf-8", "replace"), "timed out after %ss" % timeout
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def predict(url):
    req = urllib.request.Request(url, data=json.dumps({"data": {"ndarray": [[1, 2, 3, 4]]}}).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status, json.loads(r.read())


def replicas_of(d, ns, name):
    """Live replica processes of deployment ns/name: their SERVESCALE_REPLICA
    is "<namespace>.<replica set>-<suffix>", the replica set named after the
    deployment."""
    out = []
    for pid, env in d.replicas().items():
        rid = env.get("SERVESCALE_REPLICA", "")
        if rid.startswith("%s.%s-" % (ns, name)) or rid.startswith(name + "-"):
            out.append(pid)
    return out


def test_cli(d, tmp):
    c = checks.check
    rc, out, err = ss(d, "kubeconfig")
    c("kubeconfig prints $KUBECONFIG", rc == 0 and out.strip() == d.kubeconfig, out + err)
    env = cli_env(d, kubeconfig=False)
    env["SERVESCALE_STATE_DIR"] = d.state_dir
    rc, out, err = ss(d, "kubeconfig", env=env)
    c("kubeconfig falls back to the daemon's state dir", rc == 0 and out.strip() == d.kubeconfig,
      out + err)

    rc, out, err = ss(d, "apply", "-f", EXAMPLE, "-n", NS)
    c("apply creates", rc == 0 and out.strip() == LABEL + " created", out + err)
    rc, out, err = ss(d, "apply", "-f", EXAMPLE, "-n", NS, "--kubeconfig", d.kubeconfig, env=env)
    c("apply again is unchanged (--kubeconfig)", rc == 0 and out.strip() == LABEL + " unchanged",
      out + err)

    rc, out, err = ss(d, "wait", "sdep/seldon-model", "-n", NS, "--for=condition=Ready",
                      "--timeout=120s")
    c("wait --for=condition=Ready", rc == 0 and out.strip() == LABEL + " condition met", out + err)
    c("wait shows no progress when not on a terminal", "\r" not in err and "\033" not in err, repr(err))

    rc, out, err = ss(d, "get", "sdep", "-n", NS)
    lines = out.splitlines()
    c("get sdep prints the table header",
      rc == 0 and lines and lines[0].split() == ["NAME", "STATE", "REPLICAS", "ADDRESS", "AGE"], out + err)
    row = lines[1].split() if len(lines) > 1 else []
    c("get sdep prints name, state, replicas and address",
      len(row) == 5 and row[0] == "seldon-model" and row[1] == "Available" and row[2] == "1"
      and row[3].startswith("http://"), out)

    rc, out, err = ss(d, "get", "sdep/seldon-model", "-n", NS, "-o", "json")
    try:
        obj = json.loads(out)
    except ValueError:
        obj = {}
    c("get -o json", rc == 0 and obj.get("kind") == "SeldonDeployment"
      and obj.get("metadata", {}).get("name") == "seldon-model", out[:500] + err)
    url = obj.get("status", {}).get("address", {}).get("url", "")
    rc, out, err = ss(d, "get", "sdep", "seldon-model", "-n", NS, "-o", "yaml")
    c("get -o yaml", rc == 0 and "kind: SeldonDeployment" in out and "name: seldon-model" in out,
      out[:500] + err)
    rc, out, err = ss(d, "get", "sdep", "-n", NS, "-o", "name")
    c("get -o name", rc == 0 and out.strip() == LABEL, out + err)
    rc, out, err = ss(d, "get", "pods", "-n", NS)
    c("get pods", rc == 0 and "seldon-model-example-0-classifier-" in out and "Running" in out, out + err)
    rc, out, err = ss(d, "get", "namespaces")
    c("get namespaces", rc == 0 and re.search(r"^%s\s+Active" % NS, out, re.M), out + err)
    rc, out, err = ss(d, "get", "sdep", "-A")
    c("get -A adds NAMESPACE", rc == 0 and out.split()[:2] == ["NAMESPACE", "NAME"] and NS in out,
      out + err)

    try:
        status, body = predict(url)
        ok = status == 200 and body.get("data", {}).get("names") == ["proba"]
    except Exception as e:  # noqa: BLE001 - any failure is the check's detail
        ok, body = False, repr(e)
    c("a prediction to status.address.url answers", ok, "%s: %s" % (url, body))

    keda_ns = NS + "-keda"
    ss(d, "apply", "-f", os.path.join(SOURCE, "examples", "model_with_keda_prom.yaml"), "-n", keda_ns)
    rc, out, err = ss(d, "describe", "sdep/seldon-model", "-n", keda_ns)
    c("describe shows spec, replica sets and autoscaling",
      rc == 0 and "Predictors:" in out and "seldon-model-example-0-classifier" in out
      and "KEDA: min 1, max 5" in out, out + err)
    ss(d, "delete", "sdep/seldon-model", "-n", keda_ns)
    rc, out, err = ss(d, "describe", "sdep/seldon-model", "-n", NS)
    c("describe shows status, conditions and events",
      "State:" in out and "Conditions:" in out and "Events:" in out and "Created replica set" in out,
      out)

    # events --watch in the background sees the scaling as it happens
    watcher = subprocess.Popen([BINARY, "events", "sdep/seldon-model", "-n", NS, "--watch",
                                "--timeout=120s"], env=cli_env(d), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    seen = []

    def read():
        for line in watcher.stdout:
            seen.append(line.decode("utf-8", "replace"))
    t = threading.Thread(target=read, daemon=True)
    t.start()
    wait_until(lambda: any("Created" in s for s in seen), 20)

    rc, out, err = ss(d, "scale", "sdep/seldon-model", "-n", NS, "--replicas=2")
    c("scale", rc == 0 and out.strip() == LABEL + " scaled", out + err)
    rc, out, err = ss(d, "wait", "sdep/seldon-model", "-n", NS, "--for=jsonpath={.status.replicas}=2",
                      "--timeout=120s")
    c("wait --for=jsonpath={.status.replicas}=2", rc == 0 and out.strip() == LABEL + " condition met",
      out + err)
    rc, out, err = ss(d, "wait", "sdep/seldon-model", "-n", NS, "--for=replicas=2", "--timeout=120s")
    c("wait --for=replicas=2 (ready, as the spec asks)", rc == 0 and "condition met" in out, out + err)
    got = wait_until(lambda: any("ScalingReplicaSet" in s for s in seen), 20)
    c("events --watch prints the scaling as it happens", got, "".join(seen))
    stop_process(watcher, 5)

    rc, out, err = ss(d, "get", "sdep", "-n", NS)
    c("get shows 2 replicas", rc == 0 and re.search(r"^seldon-model\s+\S+\s+2\s", out, re.M), out + err)

    rc, out, err = ss(d, "logs", "sdep/seldon-model", "-n", NS)
    c("logs sdep/NAME prints the first replica's log", rc == 0 and "mock-classifier" in out, out[:500] + err)
    rc, pods, _ = ss(d, "get", "pods", "-n", NS, "-o", "name")
    first = pods.split()[0] if pods.split() else "pod/none"
    rc, out, err = ss(d, "logs", first, "-n", NS)
    c("logs pod/NAME", rc == 0 and "event=start" in out, out[:500] + err)

    rc, out, err = ss(d, "events", "sdep/seldon-model", "-n", NS)
    c("events lists the deployment's events",
      rc == 0 and out.split()[:3] == ["LAST", "SEEN", "TYPE"] and "ScalingReplicaSet" in out
      and "seldondeployment/seldon-model" in out, out + err)
    rc, out, err = ss(d, "describe", "sdep/seldon-model", "-n", NS)
    c("describe shows the scaling reason", rc == 0 and "Scaled up replica set" in out, out + err)

    rc, out, err = ss(d, "wait", "ns/" + NS, "--for=jsonpath={.status.phase}=Nope", "--timeout=2s")
    c("wait times out with kubectl's message", rc == 1 and "timed out waiting for the condition" in err,
      out + err)

    before = replicas_of(d, NS, "seldon-model")
    c("replica processes run", len(before) == 2, before)
    rc, out, err = ss(d, "delete", "sdep/seldon-model", "-n", NS)
    c("delete", rc == 0 and out.strip() == LABEL + " deleted", out + err)
    rc, out, err = ss(d, "wait", "sdep/seldon-model", "-n", NS, "--for=delete", "--timeout=60s")
    c("wait --for=delete", rc == 0 and out.strip() == LABEL + " condition met", out + err)
    gone = wait_until(lambda: not replicas_of(d, NS, "seldon-model"), 30)
    c("no mock-classifier of the deployment remains", gone, replicas_of(d, NS, "seldon-model"))
    rc, out, err = ss(d, "get", "sdep/seldon-model", "-n", NS)
    c("get after delete: NotFound", rc == 1 and "Error from server (NotFound)" in err, out + err)
    # the same name again: describe shows this object's events, not the
    # deleted one's (which was scaled to 2)
    rc, out, err = ss(d, "apply", "-f", EXAMPLE, "-n", NS)
    rc2, _, err2 = ss(d, "wait", "sdep/seldon-model", "-n", NS, "--for=condition=Ready",
                      "--timeout=60s")
    rc3, out, err3 = ss(d, "describe", "sdep/seldon-model", "-n", NS)
    events_part = out.split("Events:", 1)[-1]
    c("describe of a recreated deployment shows only its own events",
      rc == 0 and rc2 == 0 and rc3 == 0 and "Created replica set" in events_part
      and "Scaled down" not in events_part
      and " to 2" not in events_part, events_part + err + err2 + err3)
    ss(d, "delete", "sdep/seldon-model", "-n", NS)
    ss(d, "wait", "sdep/seldon-model", "-n", NS, "--for=delete", "--timeout=60s")

    # errors
    bad = os.path.join(tmp, "bad.yaml")
    with open(bad, "w") as f:
        f.write(BAD_YAML)
    rc, out, err = ss(d, "apply", "-f", bad, "-n", NS)
    c("an invalid file fails with FILE:LINE:COL and the field",
      rc == 1 and re.search(re.escape(bad) + r":21:\d+: spec\.predictors\[0\]\.componentSpecs\[0\]"
                            r"\.hpaSpec\.maxReplicas", err), err)
    c("nothing of an invalid file is sent", "created" not in out, out)
    syntax = os.path.join(tmp, "syntax.yaml")
    with open(syntax, "w") as f:
        f.write("apiVersion: v1\nkind: [\n")
    rc, out, err = ss(d, "create", "-f", syntax)
    c("a syntax error fails with FILE:LINE:COL", rc == 1 and re.search(re.escape(syntax) + r":\d+:\d+: ", err), err)
    rc, out, err = ss(d, "apply", "--validate=false", "-f", bad, "-n", NS)
    c("an API error prints Error from server (Invalid) with the field path",
      rc == 1 and "Error from server (Invalid)" in err
      and "spec.predictors[0].componentSpecs[0].hpaSpec.maxReplicas" in err, err)
    rc, out, err = ss(d, "get", "nonsense")
    c("an unknown kind fails", rc == 1 and "doesn't have a resource type" in err, err)
    env = cli_env(d, kubeconfig=False)
    env["KUBECONFIG"] = os.path.join(tmp, "missing-kubeconfig")
    rc, out, err = ss(d, "get", "sdep", env=env)
    c("a missing kubeconfig fails clearly", rc == 1 and "missing-kubeconfig" in err, err)


def test_sdep_flow(d):
    c = checks.check
    if not os.access(SDEP_FLOW, os.X_OK):
        c("sdep_flow is built next to servescale", False, SDEP_FLOW)
        return
    env = cli_env(d)
    try:
        p = subprocess.run([SDEP_FLOW, "-n", "flow", "-f", EXAMPLE, "--timeout", "120"], env=env,
                           capture_output=True, timeout=CMD_TIMEOUT_S * 2)
        out, err, rc = p.stdout.decode(), p.stderr.decode(), p.returncode
    except subprocess.TimeoutExpired:
        out, err, rc = "", "timed out", -1
    c("sdep_flow succeeds", rc == 0, out + err)
    c("sdep_flow waits until it runs what its spec asks", "ready: seldon-model runs 1 of 1 replicas" in out, out)
    c("sdep_flow scales to one more", "scaling: seldon-model from 1 to 2 replicas" in out
      and "ready: seldon-model runs 2 of 2 replicas" in out, out)
    c("sdep_flow prints the events as they happen",
      re.search(r"^event: Normal ScalingReplicaSet: Scaled up", out, re.M), out)
    c("sdep_flow deletes and waits for the deletion",
      "deleted: " + LABEL in out and out.rstrip().endswith("gone: seldon-model")
      or re.search(r"^gone: seldon-model$", out, re.M), out)
    rc, out, err = ss(d, "get", "sdep", "-n", "flow")
    c("nothing is left after sdep_flow", rc == 0 and out.strip() == "", out + err)


def main():
    d = Daemon(BINARY)
    tmp = tempfile.mkdtemp(prefix="ss-cli-")
    try:
        d.start()
        test_cli(d, tmp)
        test_sdep_flow(d)
    except Exception as e:  # noqa: BLE001 - reported as a failed check
        checks.check("no unexpected exception", False, repr(e) + "\n" + d.stderr()[-2000:])
    finally:
        d.stop()
        stop_all()
        d.cleanup()
        subprocess.run(["rm", "-rf", tmp], check=False)
    sys.exit(checks.finish())


if __name__ == "__main__":
    main()
