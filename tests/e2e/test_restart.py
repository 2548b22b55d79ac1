#!/usr/bin/env python3
"""End-to-end: crashes. The daemon killed with SIGKILL while a deployment
runs 2 replicas, then started again on the same state dir: every stored
resource is back (same uid, resourceVersion continues upward), the
replicas are back to the spec's count and Available, and no orphan or
duplicate replica process remains. Then one replica killed with SIGKILL is
restarted after its back-off: restartCount in kubectl get pods, BackOff and
Started in the events.

Every replica inherits the daemon's environment, so both daemons run with
the same SS_TEST_TAG=<uuid>, and the replicas of this state dir are the
processes in /proc whose environment has that tag and SERVESCALE_REPLICA.

Usage: test_restart.py SERVESCALE_BINARY SOURCE_DIR
"""
import json
import os
import signal
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ss_e2e import Checks, Daemon, kill_tagged, predict, proc_stat, stop_all, wait_until, \
    args_or_default  # noqa: E402

BINARY, SOURCE = args_or_default()
EXAMPLES = os.path.join(SOURCE, "examples")
NS, NAME = "seldon", "seldon-model"
NS2, NAME2 = "other", "second"
BACKOFF_MS = 200

checks = Checks()
check = checks.check


def deployment(name, replicas):
    """The hpaspecs example without its autoscaler (so that nothing but the
    spec decides the count), with a fixed replica count."""
    with open(os.path.join(EXAMPLES, "seldon-hpaspecs.json")) as f:
        obj = json.load(f)
    obj["metadata"]["name"] = name
    p = obj["spec"]["predictors"][0]
    p.pop("hpaSpecs", None)
    p["replicas"] = replicas
    return obj


def stored(d):
    """{(kind, ns, name): metadata} of the sdeps and namespaces."""
    out = {}
    for kind, path in (("sdep", "/apis/machinelearning.seldon.io/v1/seldondeployments"),
                       ("ns", "/api/v1/namespaces")):
        code, body, _ = d.request("GET", path)
        if code != 200:
            return None
        for it in body["items"]:
            md = it["metadata"]
            out[(kind, md.get("namespace", ""), md["name"])] = {
                "uid": md.get("uid"), "rv": int(md.get("resourceVersion", "0")),
                "generation": md.get("generation"), "spec": it.get("spec"),
                "created": md.get("creationTimestamp")}
    return out


def list_rv(d):
    code, body, _ = d.request("GET", d.sdep_path(NS))
    return int(body["metadata"]["resourceVersion"]) if code == 200 else -1


def replica_ids(d):
    return sorted(e["SERVESCALE_REPLICA"] for e in d.replicas().values())


def wait_available(d, ns, name, replicas, timeout=60):
    def ok():
        o = d.get_sdep(ns, name)
        st = (o or {}).get("status", {})
        return st.get("state") == "Available" and st.get("replicas") == replicas
    return wait_until(ok, timeout, 0.2)


def pods(d, ns):
    """[(name, ready, status, restarts)] from `kubectl get pods`."""
    rc, out, err = d.kubectl("get", "pods", "-n", ns, "--no-headers")
    if rc != 0:
        return None
    rows = []
    for ln in out.splitlines():
        f = ln.split()
        if len(f) >= 4:
            rows.append((f[0], f[1], f[2], f[3]))
    return rows


def crash_and_restart(d):
    """Part 1: SIGKILL the daemon with replicas running; start it again."""
    rc, out, err = d.kubectl("apply", "-f", "-", "-n", NS, stdin=json.dumps(deployment(NAME, 2)))
    check("apply %s with 2 replicas" % NAME, rc == 0, (rc, out, err))
    rc, out, err = d.kubectl("apply", "-f", "-", "-n", NS2, stdin=json.dumps(deployment(NAME2, 1)))
    check("apply %s/%s with 1 replica" % (NS2, NAME2), rc == 0, (rc, out, err))
    check("both Available", wait_available(d, NS, NAME, 2) and wait_available(d, NS2, NAME2, 1),
          (d.get_sdep(NS, NAME) or {}).get("status"))
    reps = d.replicas()
    check("3 replica processes, all children of the daemon",
          len(reps) == 3 and set(reps) <= set(d.children()), (reps.keys(), d.children()))
    before = stored(d)
    rv_before = max(v["rv"] for v in before.values())
    list_rv_before = list_rv(d)
    old_pids = set(reps)
    pods_before = pods(d, NS)

    d.kill9()
    check("daemon killed with SIGKILL", d.proc.returncode == -signal.SIGKILL, d.proc.returncode)
    # replicas ask for SIGKILL when their parent dies (PR_SET_PDEATHSIG);
    # any that outlive it are orphans the next start must sweep
    wait_until(lambda: not [p for p in old_pids if (proc_stat(p) or ("Z",))[0] != "Z"], 2)
    alive = [p for p in old_pids if (proc_stat(p) or ("Z",))[0] != "Z"]
    print("note  %d of 3 replicas outlived the daemon's SIGKILL by 2s" % len(alive), flush=True)

    d2 = Daemon(BINARY, state_dir=d.state_dir, backoff_base_ms=BACKOFF_MS, tag=d.tag)
    d2.start()
    check("daemon started again on the same state dir (port %d)" % d2.port, d2.alive())
    check("the orphans of the killed daemon are gone",
          wait_until(lambda: not [p for p in old_pids if (proc_stat(p) or ("Z",))[0] != "Z"], 10),
          [p for p in old_pids if proc_stat(p)])

    after = stored(d2)
    missing = [k for k in before if k not in after]
    check("every stored resource is back (%d: sdeps and namespaces)" % len(before),
          after is not None and not missing, missing)
    same = [k for k in before if k in after and after[k]["uid"] == before[k]["uid"]
            and after[k]["spec"] == before[k]["spec"]
            and after[k]["generation"] == before[k]["generation"]
            and after[k]["created"] == before[k]["created"]]
    check("  with the same uid, spec, generation and creationTimestamp", len(same) == len(before),
          {str(k): (before[k], after.get(k)) for k in before if k not in same})
    check("  and no resourceVersion went down",
          all(after[k]["rv"] >= before[k]["rv"] for k in before if k in after),
          {str(k): (before[k]["rv"], after[k]["rv"]) for k in before if k in after})

    rc, out, err = d2.kubectl("wait", "--for=condition=ready", "sdep/" + NAME, "--timeout=60s",
                              "-n", NS, timeout=75)
    check("kubectl wait --for=condition=ready after the restart", rc == 0, (rc, out, err))
    check("Available with 2 and 1 replicas again",
          wait_available(d2, NS, NAME, 2) and wait_available(d2, NS2, NAME2, 1),
          (d2.get_sdep(NS, NAME) or {}).get("status"))

    def settled():
        reps = d2.replicas()
        return len(reps) == 3 and set(reps) <= set(d2.children())
    check("3 replica processes, children of the new daemon", wait_until(settled, 30),
          (d2.replicas().keys(), d2.children()))
    time.sleep(1.5)  # a duplicate would be started by now
    reps = d2.replicas()
    ids = replica_ids(d2)
    check("still exactly 3 (no duplicate), distinct replica ids, none of the old pids",
          len(reps) == 3 and len(set(ids)) == 3 and not (set(reps) & old_pids), (reps.keys(), ids))
    p = pods(d2, NS)
    check("kubectl get pods -n seldon: 2 Running, 1/1", p is not None and len(p) == 2
          and all(r[1] == "1/1" and r[2] == "Running" for r in p), (p, pods_before))

    rc, out, err = d2.kubectl("label", "sdep", NAME, "-n", NS, "after-restart=yes")
    check("a write after the restart (kubectl label)", rc == 0, (rc, out, err))
    o = d2.get_sdep(NS, NAME)
    new_rv = int(o["metadata"]["resourceVersion"]) if o else -1
    check("  gets a resourceVersion above every one before the crash (%d > %d)"
          % (new_rv, rv_before), new_rv > rv_before and new_rv > list_rv_before,
          (new_rv, rv_before, list_rv_before))
    check("  the list's resourceVersion continues upward",
          list_rv(d2) >= new_rv > list_rv_before, (list_rv(d2), list_rv_before))

    url = (o or {}).get("status", {}).get("address", {}).get("url")
    status, body = predict(url) if url else (None, None)
    check("a prediction at status.address.url after the restart", status == 200
          and isinstance(body, dict) and body.get("data", {}).get("names") == ["proba"],
          (url, status, body))
    return d2


def replica_crash(d):
    """Part 2: SIGKILL one replica; it comes back after its back-off."""
    p = pods(d, NS)
    reps = {e["SERVESCALE_REPLICA"]: pid for pid, e in d.replicas().items()}
    victim_pid, victim_id = None, None
    # a replica of seldon-model (not of other/second): its pod is listed in seldon
    names = [r[0] for r in p or []]
    for rid, pid in sorted(reps.items()):
        if any(rid in n or n in rid for n in names):
            victim_pid, victim_id = pid, rid
            break
    if victim_pid is None and reps:
        # the replica id is not the pod name: take one of seldon-model by its port
        o = d.get_sdep(NS, NAME)
        for pid, e in d.replicas().items():
            if e.get("PORT") and o and e["PORT"] in json.dumps(o.get("status", {})):
                victim_pid, victim_id = pid, e["SERVESCALE_REPLICA"]
    check("found a replica of %s to kill (pods %s)" % (NAME, names), victim_pid is not None,
          (reps, names))
    if victim_pid is None:
        return
    t0 = time.monotonic()
    os.kill(victim_pid, signal.SIGKILL)

    def restarted():
        rows = pods(d, NS)
        if not rows or len(rows) != 2:
            return None
        if not all(r[2] == "Running" and r[1] == "1/1" for r in rows):
            return None
        if not any(r[3].startswith("1") for r in rows):
            return None
        return rows
    rows = wait_until(restarted, 30, 0.2)
    check("the killed replica is restarted (%.1fs): 2 Running, one with RESTARTS 1"
          % (time.monotonic() - t0), rows, pods(d, NS))
    rc, out, err = d.kubectl("get", "pods", "-n", NS, "-o",
                             "jsonpath={range .items[*]}{.status.containerStatuses[0].restartCount}"
                             "{\"\\n\"}{end}")
    counts = sorted(out.split())
    check("restartCount in the pods' status is [0, 1]", rc == 0 and counts == ["0", "1"],
          (rc, out, err))
    reps_after = d.replicas()
    check("3 replica processes again, the killed pid gone",
          len(reps_after) == 3 and victim_pid not in reps_after, reps_after.keys())
    check("the restarted replica keeps its id", victim_id in replica_ids(d),
          (victim_id, replica_ids(d)))
    check("Available with 2 replicas", wait_available(d, NS, NAME, 2, 20),
          (d.get_sdep(NS, NAME) or {}).get("status"))

    rc, out, err = d.kubectl("describe", "sdep", NAME, "-n", NS)
    ev = out.split("\nEvents:", 1)[1] if "\nEvents:" in out else ""
    check("kubectl describe: Events show BackOff (Warning) and Started",
          rc == 0 and "BackOff" in ev and "Warning" in ev and "Started" in ev, (rc, ev, err))
    rc, out, err = d.kubectl("get", "events", "-n", NS, "--field-selector", "reason=BackOff")
    check("kubectl get events --field-selector reason=BackOff lists it",
          rc == 0 and "BackOff" in out, (rc, out, err))


def main():
    d = Daemon(BINARY, backoff_base_ms=BACKOFF_MS)
    d2 = None
    t0 = time.monotonic()
    try:
        d.start()
        check("daemon started on 127.0.0.1:%d" % d.port, d.alive())
        d2 = crash_and_restart(d)
        replica_crash(d2)
        check("daemon still running", d2.alive(), d2.stderr()[-2000:])
    except Exception as e:
        import traceback
        traceback.print_exc()
        check("test ran to the end", False, "%s: %s" % (type(e).__name__, e))
    finally:
        code = d2.stop() if d2 else None
        d.stop()
        stop_all()
        if d2:
            check("daemon exits 0 on SIGTERM", code == 0, (code, d2.stderr()[-2000:]))
        san = [ln for x in (d, d2) if x for ln in x.stderr().splitlines()
               if "Sanitizer" in ln or "runtime error" in ln]
        check("no sanitizer report in the daemons' stderr", not san, san[:5])
        check("no replica process left", wait_until(lambda: not d.replicas(), 10),
              d.replicas().keys())
        kill_tagged(d.tag)  # orphans of a failed run, if any
        d.cleanup()
    print("elapsed %.1fs" % (time.monotonic() - t0))
    sys.exit(checks.finish())


if __name__ == "__main__":
    main()
