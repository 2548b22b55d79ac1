#!/usr/bin/env python3
"""End-to-end: bad input through the control API gets Kubernetes' Status
(code and reason), and nothing stored changes: malformed JSON and YAML,
an invalid spec (422 with field paths), a body over 3 MiB (413), wrong and
missing tokens (401), a stale resourceVersion (409 Conflict), create twice
(409 AlreadyExists), get and delete of a missing object (404), a watch from
a resourceVersion the server no longer has (410), and kubectl's view of
the same: an invalid file, and --validate=strict|warn|false on an unknown
field.

Usage: test_api_errors.py SERVESCALE_BINARY SOURCE_DIR
"""
import copy
import http.client
import json
import os
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ss_e2e import Checks, Daemon, stop_all, wait_until, args_or_default  # noqa: E402

BINARY, SOURCE = args_or_default()
EXAMPLES = os.path.join(SOURCE, "examples")
NS = "seldon"
NAME = "seldon-model"
WATCH_HISTORY = 4096      # changes the store keeps for watches
TOO_OLD_BUDGET_S = 25.0   # give up on provoking 410 by writes after this long

checks = Checks()
check = checks.check


def load(name):
    with open(os.path.join(EXAMPLES, name)) as f:
        return json.load(f)


def status_is(resp, code, reason):
    c, body, _ = resp
    return c == code and isinstance(body, dict) and body.get("kind") == "Status" \
        and body.get("code") == code and body.get("reason") == reason \
        and body.get("status") == "Failure"


def snapshot(d):
    """What is stored in namespace seldon: {name: (uid, resourceVersion,
    generation, spec, labels)}."""
    code, body, _ = d.request("GET", d.sdep_path(NS))
    if code != 200:
        return ("list failed", code)
    out = {}
    for it in body["items"]:
        md = it["metadata"]
        out[md["name"]] = (md.get("uid"), md.get("resourceVersion"), md.get("generation"),
                           json.dumps(it.get("spec"), sort_keys=True),
                           json.dumps(md.get("labels"), sort_keys=True))
    return out


class Unchanged:
    """Asserts (as one extra check) that a block of requests left the store
    as it was."""

    def __init__(self, d, what):
        self.d, self.what = d, what

    def __enter__(self):
        self.before = snapshot(self.d)
        return self

    def __exit__(self, et, ev, tb):
        if et is None:
            after = snapshot(self.d)
            check("  ... and nothing stored changed (" + self.what + ")", after == self.before,
                  {"before": self.before, "after": after})
        return False


def wait_stable(d, seconds=1.0, timeout=30):
    """Waits until the deployment is Available and its resourceVersion has
    not moved for `seconds` (the reconciler has nothing left to write)."""
    def stable():
        o = d.get_sdep(NS, NAME)
        if not o or o.get("status", {}).get("state") != "Available":
            return False
        rv = o["metadata"]["resourceVersion"]
        time.sleep(seconds)
        o2 = d.get_sdep(NS, NAME)
        return o2 and o2["metadata"]["resourceVersion"] == rv
    return wait_until(stable, timeout)


def api_cases(d):
    P = d.sdep_path(NS)
    OBJ = P + "/" + NAME
    base = load("seldon-hpaspecs.json")
    r = d.request("POST", P, base)
    check("create seldon-model (201)", r[0] == 201, r[:2])
    check("it becomes Available and settles", wait_stable(d), d.get_sdep(NS, NAME))
    cur = d.get_sdep(NS, NAME)

    with Unchanged(d, "malformed bodies"):
        r = d.request("POST", P, b'{"apiVersion": "machinelearning.seldon.io/v1", "kind": ',
                      "application/json")
        check("malformed JSON: 400 BadRequest", status_is(r, 400, "BadRequest"), r[:2])
        r = d.request("POST", P, b"apiVersion: machinelearning.seldon.io/v1\nkind: [SeldonDeployment\n"
                      b"metadata: {name: y\n", "application/yaml")
        check("malformed YAML (application/yaml): 400 BadRequest", status_is(r, 400, "BadRequest")
              and "line" in r[1].get("message", ""), r[:2])
        r = d.request("PUT", OBJ, b'{"metadata": {"name": "seldon-model"', "application/json")
        check("malformed JSON on update: 400 BadRequest", status_is(r, 400, "BadRequest"), r[:2])
        r = d.request("POST", P, b"[1, 2]", "application/json")
        check("a body that is not one object: 400 BadRequest", status_is(r, 400, "BadRequest"), r[:2])
        r = d.request("POST", P, b"[" * 500 + b"]" * 500, "application/json")
        check("a small body nested too deep: 400 BadRequest (not 413)",
              status_is(r, 400, "BadRequest"), r[:2])
        r = d.request("POST", P, None)
        check("no body: 400 BadRequest", status_is(r, 400, "BadRequest"), r[:2])

    with Unchanged(d, "invalid specs"):
        bad = load("seldon-0.2.7-hpaspec.json")
        bad["metadata"]["name"] = "bad-hpa"
        bad["spec"]["predictors"][0]["componentSpecs"][0]["hpaSpec"]["minReplicas"] = 5
        r = d.request("POST", P, bad)
        fields = [c.get("field") for c in (r[1] or {}).get("details", {}).get("causes", [])] \
            if isinstance(r[1], dict) else []
        want = "spec.predictors[0].componentSpecs[0].hpaSpec.maxReplicas"
        check("minReplicas > maxReplicas: 422 Invalid", status_is(r, 422, "Invalid"), r[:2])
        check("  details.causes names " + want, want in fields, fields)
        check("  the message names the field too", want in (r[1] or {}).get("message", ""), r[1])
        check("  details.name and kind", isinstance(r[1], dict)
              and r[1].get("details", {}).get("name") == "bad-hpa"
              and r[1]["details"].get("kind") == "SeldonDeployment", r[1])
        r = d.request("GET", P + "/bad-hpa")
        check("  the invalid object was not stored (404)", r[0] == 404, r[:2])

        two = load("seldon-hpaspecs.json")
        two["metadata"]["name"] = "bad-two"
        two["spec"]["predictors"][0]["hpaSpecs"][0]["minReplicas"] = 9
        two["spec"]["predictors"][0]["graph"]["type"] = "NOT_A_TYPE"
        r = d.request("POST", P, two)
        fields = [c.get("field") for c in r[1].get("details", {}).get("causes", [])] \
            if isinstance(r[1], dict) else []
        check("two errors: 422 with a cause each (hpaSpecs[0].maxReplicas, graph.type)",
              status_is(r, 422, "Invalid")
              and "spec.predictors[0].hpaSpecs[0].maxReplicas" in fields
              and any(f and f.startswith("spec.predictors[0].graph") for f in fields), r[1])

        upd = copy.deepcopy(cur)
        upd.pop("status", None)
        upd["spec"]["predictors"][0]["hpaSpecs"][0]["maxReplicas"] = 0
        r = d.request("PUT", OBJ, upd)
        check("failed update (invalid spec, current resourceVersion): 422 Invalid",
              status_is(r, 422, "Invalid"), r[:2])
        r = d.request("PATCH", OBJ, {"spec": {"predictors": [{"name": "example", "replicas": -3,
                                                              "componentSpecs": []}]}},
                      "application/merge-patch+json")
        check("failed merge patch (invalid result): 422 Invalid", status_is(r, 422, "Invalid"), r[:2])
        r = d.request("PATCH", OBJ, [{"op": "replace", "path": "/spec/nope/x", "value": 1}],
                      "application/json-patch+json")
        check("JSON patch on a missing path: 422", r[0] == 422, r[:2])
        r = d.request("PATCH", OBJ, {"spec": {}}, "application/strategic-merge-patch+json")
        check("strategic merge patch: 415 UnsupportedMediaType",
              status_is(r, 415, "UnsupportedMediaType"), r[:2])
        r = d.request("PUT", OBJ + "/scale", {"apiVersion": "autoscaling/v1", "kind": "Scale",
                                              "metadata": {"name": NAME, "namespace": NS},
                                              "spec": {"replicas": -1}})
        check("scale to -1: 422 Invalid", status_is(r, 422, "Invalid"), r[:2])
        other = copy.deepcopy(base)
        other["metadata"]["name"] = "another-name"
        r = d.request("PUT", OBJ, other)
        check("update whose body names another object: 400 BadRequest",
              status_is(r, 400, "BadRequest"), r[:2])
        wrongns = copy.deepcopy(base)
        wrongns["metadata"]["namespace"] = "elsewhere"
        r = d.request("POST", P, wrongns)
        check("create whose body names another namespace: 400 BadRequest",
              status_is(r, 400, "BadRequest"), r[:2])

    with Unchanged(d, "too large"):
        big = json.dumps({"apiVersion": "machinelearning.seldon.io/v1", "kind": "SeldonDeployment",
                          "metadata": {"name": "big", "annotations": {"a": "x" * (3 * 1024 * 1024)}},
                          "spec": base["spec"]}).encode()
        r = d.request("POST", P, big, "application/json", timeout=60)
        check("create with a body over 3 MiB: 413 RequestEntityTooLarge",
              status_is(r, 413, "RequestEntityTooLarge"), (r[0], r[1] if r[0] != 201 else "created"))
        r = d.request("PUT", OBJ, big.replace(b'"big"', b'"seldon-model"'), "application/json",
                      timeout=60)
        check("update with a body over 3 MiB: 413 RequestEntityTooLarge",
              status_is(r, 413, "RequestEntityTooLarge"), r[:2])

    with Unchanged(d, "unauthorized"):
        r = d.request("GET", P, token="0" * 64)
        check("wrong token: 401 Unauthorized", status_is(r, 401, "Unauthorized"), r[:2])
        r = d.request("GET", P, token=None)
        check("no token: 401 Unauthorized", status_is(r, 401, "Unauthorized"), r[:2])
        r = d.request("GET", P, token=d.token[:-1])
        check("a token one character short: 401", r[0] == 401, r[:2])
        r = d.request("GET", P, headers={"Authorization": "Basic " + d.token})
        check("the token as Basic credentials: 401", r[0] == 401, r[:2])
        intr = load("seldon-hpaspecs.json")
        intr["metadata"]["name"] = "intruder"
        r = d.request("POST", P, intr, token="not-the-token")
        check("create with a wrong token: 401 and not stored", r[0] == 401
              and d.request("GET", P + "/intruder")[0] == 404, r[:2])
        r = d.request("DELETE", OBJ, token=None)
        check("delete with no token: 401 and still there", r[0] == 401
              and d.get_sdep(NS, NAME) is not None, r[:2])
        r = d.request("GET", "/apis", token=None)
        check("discovery with no token: 401", r[0] == 401, r[:2])

    with Unchanged(d, "conflicts"):
        stale = copy.deepcopy(cur)
        stale.pop("status", None)
        stale["metadata"]["resourceVersion"] = str(int(cur["metadata"]["resourceVersion"]) - 1)
        stale["spec"]["predictors"][0]["replicas"] = 3
        r = d.request("PUT", OBJ, stale)
        check("update with a stale resourceVersion: 409 Conflict", status_is(r, 409, "Conflict"), r[:2])
        r = d.request("PATCH", OBJ, {"metadata": {"resourceVersion": "1"},
                                     "spec": {"name": "changed"}}, "application/merge-patch+json")
        check("merge patch pinning an old resourceVersion: 409 Conflict",
              status_is(r, 409, "Conflict"), r[:2])
        r = d.request("POST", P, base)
        check("create twice: 409 AlreadyExists", status_is(r, 409, "AlreadyExists")
              and r[1].get("details", {}).get("name") == NAME, r[:2])

    with Unchanged(d, "missing"):
        r = d.request("GET", P + "/no-such-model")
        check("get missing: 404 NotFound with details.name",
              status_is(r, 404, "NotFound") and r[1].get("details", {}).get("name") == "no-such-model",
              r[:2])
        r = d.request("DELETE", P + "/no-such-model")
        check("delete missing: 404 NotFound", status_is(r, 404, "NotFound"), r[:2])
        upd = copy.deepcopy(base)
        upd["metadata"]["name"] = "no-such-model"
        r = d.request("PUT", P + "/no-such-model", upd)
        check("update missing: 404 NotFound", status_is(r, 404, "NotFound"), r[:2])
        r = d.request("GET", "/apis/machinelearning.seldon.io/v1/namespaces/seldon/nosuchkind")
        check("unknown resource: 404 NotFound", r[0] == 404, r[:2])
        r = d.request("GET", P + "?watch=true&resourceVersion=abc")
        check("watch from a resourceVersion that is not a number: 400", r[0] == 400, r[:2])

    after = d.get_sdep(NS, NAME)
    check("after all that, seldon-model is as it was (uid, resourceVersion, generation, spec)",
          after and after["metadata"]["uid"] == cur["metadata"]["uid"]
          and after["metadata"]["resourceVersion"] == cur["metadata"]["resourceVersion"]
          and after["metadata"]["generation"] == cur["metadata"]["generation"]
          and after["spec"] == cur["spec"], (cur["metadata"], after and after["metadata"]))
    return cur


def watch_gone_by_writes(d, old_rv):
    """Writes more changes than the watch history holds (labels on a
    namespace, over one keep-alive connection), then watches from old_rv."""
    conn = http.client.HTTPSConnection("127.0.0.1", d.port, context=d.ssl_ctx, timeout=10)
    hdr = {"Authorization": "Bearer " + d.token, "Content-Type": "application/merge-patch+json",
           "Accept": "application/json"}
    conn.request("POST", "/api/v1/namespaces", json.dumps(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "churn"}}),
        {**hdr, "Content-Type": "application/json"})
    conn.getresponse().read()
    t0 = time.monotonic()
    n = 0
    while n < WATCH_HISTORY + 16:
        if time.monotonic() - t0 > TOO_OLD_BUDGET_S:
            return None, n
        conn.request("PATCH", "/api/v1/namespaces/churn",
                     json.dumps({"metadata": {"labels": {"n": str(n)}}}), hdr)
        resp = conn.getresponse()
        resp.read()
        if resp.status != 200:
            return ("patch failed", resp.status), n
        n += 1
    conn.close()
    r = d.request("GET", d.sdep_path(NS) + "?watch=true&resourceVersion=%s&timeoutSeconds=2" % old_rv)
    return r, n


def watch_too_old(d, first_rv):
    t0 = time.monotonic()
    r, n = watch_gone_by_writes(d, first_rv)
    if r is None:
        checks.skip("watch from a resourceVersion the history dropped: 410",
                    "%d writes took over %.0fs" % (n, TOO_OLD_BUDGET_S))
        return
    check("watch from resourceVersion %s after %d writes (%.1fs): 410 Expired"
          % (first_rv, n, time.monotonic() - t0), status_is(r, 410, "Expired"), r[:2])


def watch_after_restart(d, old_rv):
    """The history is in memory: after a restart every older resourceVersion
    is gone; the current one is not."""
    r = d.request("GET", d.sdep_path(NS) + "?watch=true&resourceVersion=%s&timeoutSeconds=1" % old_rv)
    check("after a restart, watch from resourceVersion %s: 410 Expired" % old_rv,
          status_is(r, 410, "Expired"), r[:2])
    code, lst, _ = d.request("GET", d.sdep_path(NS))
    rv = lst["metadata"]["resourceVersion"] if code == 200 else "0"
    r = d.request("GET", d.sdep_path(NS) + "?watch=true&resourceVersion=%s&timeoutSeconds=1" % rv,
                  raw=True)
    check("after a restart, watch from the list's resourceVersion %s: 200" % rv, r[0] == 200, r[:2])


def kubectl_cases(d, tmp):
    def write(name, obj):
        p = os.path.join(tmp, name)
        with open(p, "w") as f:
            json.dump(obj, f)
        return p

    bad = load("seldon-0.2.7-hpaspec.json")
    bad["metadata"]["name"] = "kbad"
    bad["spec"]["predictors"][0]["componentSpecs"][0]["hpaSpec"]["minReplicas"] = 7
    rc, out, err = d.kubectl("apply", "-f", write("invalid.json", bad), "-n", NS)
    check("kubectl apply of an invalid file exits non-zero",
          rc != 0, (rc, out, err))
    check("  and prints the field path spec.predictors[0].componentSpecs[0].hpaSpec.maxReplicas",
          "spec.predictors[0].componentSpecs[0].hpaSpec.maxReplicas" in err, err)
    rc, out, err = d.kubectl("get", "sdep", "kbad", "-n", NS)
    check("  and nothing was stored", rc != 0 and "NotFound" in err, (rc, out, err))

    with Unchanged(d, "kubectl apply of an invalid update"):
        upd = load("seldon-hpaspecs.json")
        upd["spec"]["predictors"][0]["hpaSpecs"][0]["maxReplicas"] = 0
        rc, out, err = d.kubectl("apply", "-f", write("invalid-update.json", upd), "-n", NS)
        check("kubectl apply of an invalid update fails with the field path",
              rc != 0 and "spec.predictors[0].hpaSpecs[0].maxReplicas" in err, (rc, out, err))

    unk = load("seldon-hpaspecs.json")
    unk["spec"]["predictors"][0]["bogusField"] = True
    for name, flag in (("unk-strict", "--validate=strict"), ("unk-default", None)):
        unk["metadata"]["name"] = name
        args = ["apply", "-f", write(name + ".json", unk), "-n", NS] + ([flag] if flag else [])
        rc, out, err = d.kubectl(*args)
        check("kubectl apply %s with an unknown field fails naming it" % (flag or "(default strict)"),
              rc != 0 and "bogusField" in err, (rc, out, err))
        rc2, _, err2 = d.kubectl("get", "sdep", name, "-n", NS)
        check("  and nothing was stored", rc2 != 0 and "NotFound" in err2, (rc2, err2))

    unk["metadata"]["name"] = "unk-warn"
    rc, out, err = d.kubectl("apply", "-f", write("unk-warn.json", unk), "-n", NS, "--validate=warn")
    check("kubectl apply --validate=warn with an unknown field succeeds with a Warning naming it",
          rc == 0 and "created" in out and "Warning" in err and "bogusField" in err, (rc, out, err))
    rc, out, err = d.kubectl("get", "sdep", "unk-warn", "-n", NS, "-o",
                             "jsonpath={.spec.predictors[0].bogusField}")
    check("  the unknown field is kept as written", rc == 0 and out.strip() == "true", (rc, out, err))

    unk["metadata"]["name"] = "unk-false"
    rc, out, err = d.kubectl("apply", "-f", write("unk-false.json", unk), "-n", NS, "--validate=false")
    check("kubectl apply --validate=false with an unknown field succeeds without an error",
          rc == 0 and "created" in out and "rror" not in err, (rc, out, err))
    print("note  --validate=false stderr: %r" % err.strip()[:200], flush=True)

    rc, out, err = d.kubectl("delete", "sdep", "unk-warn", "unk-false", "-n", NS, timeout=60)
    check("delete the two accepted ones", rc == 0, (rc, out, err))


def main():
    d = Daemon(BINARY)
    d2 = None
    t0 = time.monotonic()
    try:
        d.start()
        check("daemon started on 127.0.0.1:%d" % d.port, d.alive())
        code, lst, _ = d.request("GET", d.sdep_path(NS))
        first_rv = lst["metadata"]["resourceVersion"] if code == 200 else "1"
        cur = api_cases(d)
        kubectl_cases(d, d.state_dir)
        watch_too_old(d, first_rv)
        check("daemon still running", d.alive(), d.stderr()[-2000:])
        code = d.stop()
        check("daemon exits 0 on SIGTERM", code == 0, (code, d.stderr()[-2000:]))

        d2 = Daemon(BINARY, state_dir=d.state_dir)
        d2.start()
        check("restarted on the same state dir", d2.alive())
        after = d2.get_sdep(NS, NAME)
        check("seldon-model is back with the same uid and spec",
              after and after["metadata"]["uid"] == cur["metadata"]["uid"]
              and after["spec"] == cur["spec"], after and after["metadata"])
        watch_after_restart(d2, cur["metadata"]["resourceVersion"])
    except Exception as e:
        import traceback
        traceback.print_exc()
        check("test ran to the end", False, "%s: %s" % (type(e).__name__, e))
    finally:
        codes = [x.stop() for x in (d, d2) if x]
        stop_all()
        san = [ln for x in (d, d2) if x for ln in x.stderr().splitlines()
               if "Sanitizer" in ln or "runtime error" in ln]
        check("no sanitizer report in the daemons' stderr", not san, san[:5])
        check("daemons exited 0", all(c == 0 for c in codes), codes)
        check("no replica process left",
              wait_until(lambda: not any(x.replicas() for x in (d, d2) if x), 10))
        d.cleanup()
    print("elapsed %.1fs" % (time.monotonic() - t0))
    sys.exit(checks.finish())


if __name__ == "__main__":
    main()
