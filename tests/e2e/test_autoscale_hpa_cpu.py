#!/usr/bin/env python3
"""End-to-end (issue 5, scenario 1): the seed's hpaSpecs deployment
(examples/seldon-hpaspecs.json: scaleTargetRef my-dep, cpu
targetAverageUtilization 10, min 1, max 4, cpu request 0.5) with a test
schedule (servescale.io/sync-period-ms 1000, behavior.scaleDown
stabilizationWindowSeconds 5) and the mock classifier burning cpu_ms of CPU
per request. Paced load drives it from 1 up toward 4; when the load stops
it returns to 1 after the shortened stabilization window.

What is checked against the algorithm (src/autoscale/hpa.c, Kubernetes'):
every sync whose outcome differs writes a new version of the
HorizontalPodAutoscaler's status (a new resourceVersion), and the version
written with a new desiredReplicas carries the currentMetrics
averageUtilization U and currentReplicas N of that very sync. The test
polls the object every 50 ms (a sync is every 1 s) and keeps every version
it sees; a version stands for every sync until the next one. For each size change C -> P it computes what the
algorithm allows from U:
  - first pass over the ready replicas: ratio U/10, nothing if within the
    0.1 tolerance, else ceil(ratio * R);
  - when some of the N replicas are unready (a new replica's CPU window
    still reaches back before it became ready) or have no sample yet, a
    scale up recounts them as using nothing: u2 = floor(total*100 /
    (N*request)), kept at C if back within tolerance, else ceil(u2/10 * N);
  - clamped to [min, max] and to the scale-up policy limit
    (max(4 pods, 100 %) per 15 s over the changes the test saw).
How many of the N replicas were ready for CPU at that sync is not in the
HPA's status, so R ranges over 1..N (and with it the total the ready
average came from); the exact-match property asserted is: P is the
algorithm's result for the U reported by the deciding sync for some such
R. Should the poller have missed the deciding version (it never should at
50 ms against a 1 s sync), the U of the version seen just before (one sync
earlier) is allowed too, and the report says so.

Scale down: after the load stops the 15 s CPU rate window drains; each
sync's recommendation is recomputed from its U and N (all replicas ready by
then). The size must come back to 1, and only when no recommendation above
1 was made within the stabilization window (5 s) before it, and not much
later than that (the window is the shortened one, not the 300 s default).

Usage: test_autoscale_hpa_cpu.py SERVESCALE_BINARY SOURCE_DIR
"""
import json
import math
import os
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ss_e2e import Checks, Daemon, args_or_default, run_timed, stop_daemon, wait_until  # noqa: E402

BINARY, SOURCE = args_or_default()
checks = Checks()
check = checks.check

NS = "default"           # the seed names no namespace
TARGET, MIN, MAX = 10, 1, 4  # the seed's numbers
TOL = 0.1
SYNC_MS = 1000
STAB_S = 5
CPU_MS = 10              # CPU burned per request
RATE = 20                # requests/s: 20 * 10 ms = 0.2 core = 40 % of the 0.5 request
SETTLE_S = 17           # > the 15 s CPU rate window
BODY = b'{"data":{"ndarray":[[1,2,3,4]]}}'


def sdep():
    with open(os.path.join(SOURCE, "examples", "seldon-hpaspecs.json")) as f:
        obj = json.load(f)
    obj["metadata"]["annotations"] = {"servescale.io/sync-period-ms": str(SYNC_MS)}
    pred = obj["spec"]["predictors"][0]
    pred["graph"]["parameters"] = [{"name": "cpu_ms", "value": str(CPU_MS), "type": "INT"}]
    hs = pred["hpaSpecs"][0]
    assert (hs["minReplicas"], hs["maxReplicas"]) == (MIN, MAX)
    assert hs["metrics"][0]["resource"]["targetAverageUtilization"] == TARGET
    hs["behavior"] = {"scaleDown": {"stabilizationWindowSeconds": STAB_S}}
    return obj


class Poller(threading.Thread):
    """Keeps every version of the HPA object (by resourceVersion) with the
    monotonic time it was first seen."""

    def __init__(self, d, path, t0):
        super().__init__(daemon=True)
        self.d, self.path, self.t0 = d, path, t0
        self.stop_ev = threading.Event()
        self.lock = threading.Lock()
        self.versions = []  # (t, status)
        self.last_rv = None
        self.errors = 0

    def run(self):
        while not self.stop_ev.is_set():
            try:
                code, obj, _ = self.d.request("GET", self.path, timeout=5)
                if code == 200 and isinstance(obj, dict):
                    rv = obj.get("metadata", {}).get("resourceVersion")
                    st = obj.get("status") or {}
                    if rv != self.last_rv:
                        self.last_rv = rv
                        with self.lock:
                            self.versions.append((time.monotonic() - self.t0, st))
            except Exception:  # noqa: BLE001 - counted, the next poll retries
                self.errors += 1
            self.stop_ev.wait(0.05)

    def snapshot(self):
        with self.lock:
            return list(self.versions)

    def latest(self):
        with self.lock:
            return self.versions[-1][1] if self.versions else {}


def util_of(st):
    for m in st.get("currentMetrics") or []:
        cur = (m.get("resource") or {}).get("current") or {}
        if "averageUtilization" in cur:
            return cur["averageUtilization"]
    return None


def cond(st, type_):
    for c in st.get("conditions") or []:
        if c.get("type") == type_:
            return c
    return {}


def within(ratio):
    return abs(1.0 - ratio) <= TOL


def proposals(u, n, current):
    """Every count the metric step can propose from a reported ready-average
    utilization u with n replicas, for each possible number ready."""
    out = set()
    ratio = u / TARGET
    if within(ratio):
        return {current}
    for r in range(1, n + 1):
        if r == n or ratio < 1.0:
            # all measured (or a scale down, where unready ones are left out)
            out.add(math.ceil(ratio * r - 1e-9))
            if ratio < 1.0:
                out.add(current)  # missing ones filled at 100 % can cancel it
            continue
        # scale up with n - r unready/missing counted as using nothing: the
        # total (percent x replicas) lies in [u*r, (u+1)*r)
        for u2 in range((u * r) // n, ((u + 1) * r - 1) // n + 1):
            r2 = u2 / TARGET
            if within(r2) or r2 < 1.0:
                out.add(current)
            else:
                out.add(max(math.ceil(r2 * n - 1e-9), current))
    return out


def limited(p, current, ups):
    """min/max and the default scale-up policies (4 pods or 100 % per 15 s,
    the larger), ups: replicas added within the last 15 s."""
    if p > current:
        start = current - ups
        lim = max(start + 4, math.ceil(start * 2.0))
        lim = max(lim, current)
        p = min(p, MAX, lim)
    return max(MIN, min(MAX, p))


class Load:
    """RATE requests/s from a few threads, paced; counts answers by status."""

    def __init__(self, url, rate, workers=4):
        self.url, self.rate, self.workers = url, rate, workers
        self.stop_ev = threading.Event()
        self.codes = {}
        self.errors = []
        self.lock = threading.Lock()
        self.threads = []

    def _run(self, k):
        period = self.workers / self.rate
        nxt = time.monotonic() + k * period / self.workers
        while not self.stop_ev.is_set():
            delay = nxt - time.monotonic()
            if delay > 0 and self.stop_ev.wait(delay):
                break
            nxt += period
            code = None
            try:
                req = urllib.request.Request(self.url, data=BODY, method="POST",
                                             headers={"Content-Type": "application/json"})
                with urllib.request.urlopen(req, timeout=10) as r:
                    r.read()
                    code = r.status
            except urllib.error.HTTPError as e:
                code = e.code
            except Exception as e:  # noqa: BLE001 - a failed request, reported
                code = "error"
                with self.lock:
                    self.errors.append(repr(e)[:200])
            with self.lock:
                self.codes[code] = self.codes.get(code, 0) + 1

    def start(self):
        for k in range(self.workers):
            t = threading.Thread(target=self._run, args=(k,), daemon=True)
            t.start()
            self.threads.append(t)

    def stop(self):
        self.stop_ev.set()
        for t in self.threads:
            t.join(15)


def main():
    tmp = tempfile.mkdtemp(prefix="ss-hpacpu-")
    d = Daemon(BINARY, backoff_base_ms=200)
    poller = load = None
    t0 = time.monotonic()
    try:
        d.start()
        path = os.path.join(tmp, "sdep.json")
        with open(path, "w") as f:
            json.dump(sdep(), f)
        rc, out, err = d.kubectl("apply", "-f", path)
        check("apply the seed's hpaSpecs deployment (+cpu_ms, sync 1 s, scale-down window 5 s)",
              rc == 0, out + err)
        lst = "/apis/autoscaling/v2/namespaces/%s/horizontalpodautoscalers" % NS

        def hpa_name():
            code, obj, _ = d.request("GET", lst)
            items = (obj or {}).get("items") or []
            return items[0]["metadata"]["name"] if code == 200 and items else None
        name = wait_until(hpa_name, 20, 0.2)
        check("the daemon stores a HorizontalPodAutoscaler for it (%s)" % name, name)
        if not name:
            return
        poller = Poller(d, lst + "/" + name, t0)
        poller.start()
        active = wait_until(lambda: (lambda st: st.get("desiredReplicas") == 1 and
                                     util_of(st) is not None and
                                     cond(st, "ScalingActive").get("status") == "True")(
                                         poller.latest()), 40, 0.2)
        check("it is active at 1 replica with a measured utilization (%s %%) after %.1f s"
              % (util_of(poller.latest()), time.monotonic() - t0), active, poller.latest())
        if not active:
            return

        url = d.gateway + "/seldon/%s/seldon-model/api/v1.0/predictions" % NS
        load = Load(url, RATE)
        t_load = time.monotonic() - t0
        load.start()
        # load until the size has held for SETTLE_S since its last change
        # (at least one scale up), so that every replica's 15 s CPU window
        # starts after it became ready and the scale down sees them all
        def settled():
            v = poller.snapshot()
            ch = [v[i][0] for i in range(1, len(v))
                  if v[i][1].get("desiredReplicas") != v[i - 1][1].get("desiredReplicas")]
            return ch and ch[0] > t_load and time.monotonic() - t0 - ch[-1] > SETTLE_S
        wait_until(settled, 45, 0.2)
        t_stop = time.monotonic() - t0
        load.stop()
        down = wait_until(lambda: poller.latest().get("desiredReplicas") == 1, 40, 0.2)
        wait_until(lambda: False, 1.5, 0.5)  # a sync more at 1
        poller.stop_ev.set()
        poller.join(10)
        versions = poller.snapshot()

        # ---- the sizes ----
        seq = []  # (t, from, to, U, N, U_before, reason cond)
        prev = None
        for i, (t, st) in enumerate(versions):
            want = st.get("desiredReplicas")
            if prev is not None and want != prev:
                before = versions[i - 1][1] if i else {}
                seq.append((t, prev, want, util_of(st), st.get("currentReplicas"),
                            util_of(before)))
            prev = want
        sizes = [1] + [s[2] for s in seq]
        desc = ", ".join("%.1fs %d->%d (U %s%%, N %s)" % (t, a, b, u, n)
                         for t, a, b, u, n, _ in seq)
        print("      load %.1f..%.1f s; %d versions of the HPA seen (%d failed polls); "
              "changes: %s" % (t_load, t_stop, len(versions), poller.errors, desc), flush=True)
        peak = max(sizes)
        check("under load it scales up from 1 to %d (at least 3)" % peak, peak >= 3, desc)
        check("never above maxReplicas %d, never below 1" % MAX,
              all(MIN <= s <= MAX for s in sizes), sizes)
        up = [s for s in seq if s[2] > s[1]]
        check("the first change is a scale up from 1 after the load started",
              seq and seq[0][1] == 1 and seq[0][2] > 1 and seq[0][0] > t_load, desc)

        # ---- each change against the algorithm ----
        exact, loose, bad = 0, 0, []
        for t, c, p, u, n, ub in up:
            if u is None or n is None:
                bad.append((t, c, p, "no utilization reported"))
                continue
            ups = sum(b - a for tt, a, b, *_ in seq if b > a and t - 15.5 < tt < t - 0.05)
            ups_lo = sum(b - a for tt, a, b, *_ in seq if b > a and t - 14.5 < tt < t - 0.05)
            ok = any(limited(x, c, k) == p for x in proposals(u, n, c) for k in (ups, ups_lo))
            if ok:
                exact += 1
                continue
            if ub is not None and any(limited(x, c, k) == p for x in proposals(ub, n, c)
                                      for k in (ups, ups_lo)):
                loose += 1
                continue
            bad.append((t, c, p, "U %s%% N %s, candidates %s" %
                        (u, n, sorted(limited(x, c, ups) for x in proposals(u, n, c)))))
        check("every scale up (%d) is the algorithm's result for the utilization its sync "
              "reported (%d exact, %d from the sync before)" % (len(up), exact, loose),
              up and not bad, bad)

        # ---- back to 1 after the stabilization window ----
        check("after the load stops it returns to 1 (%.1f s after the stop)"
              % ((seq[-1][0] - t_stop) if seq else -1), down and seq and seq[-1][2] == 1, desc)
        if down and seq and seq[-1][2] == 1:
            t_one = seq[-1][0]
            # each version of the status holds the decision of every sync
            # until the next version is written (an unchanged status is not
            # rewritten): its recommendation, from its U and N with all
            # replicas ready (the load held for SETTLE_S), holds from the
            # sync that wrote it (~its first sight) to the last sync before
            # the next version (~the next one's first sight - 1 sync)
            recs = []  # (first sync, last sync, rec, U, N)
            for i, (t, st) in enumerate(versions):
                u, n = util_of(st), st.get("currentReplicas")
                if t <= t_stop or u is None or not n:
                    continue
                start = versions[i - 1][1].get("desiredReplicas")
                rec = start if within(u / TARGET) else math.ceil(u / TARGET * n - 1e-9)
                end = versions[i + 1][0] - SYNC_MS / 1000.0 if i + 1 < len(versions) else t
                recs.append((t, max(t, end), rec, u, n))
            high = [r for r in recs if r[0] < t_one and r[2] > 1]
            last_hi = high[-1] if high else None
            gap = t_one - last_hi[1] if last_hi else None
            check("it reaches 1 only when the window has passed since the last recommendation "
                  "above 1 (%s; %.1f s later, window %d s)"
                  % ("U %s%% x %s replicas -> %s" % (last_hi[3], last_hi[4], last_hi[2])
                     if last_hi else "none", gap or 0, STAB_S),
                  last_hi and gap >= STAB_S - 0.6, recs)
            check("and not much after it (the shortened window, not the default 300 s)",
                  last_hi and gap <= STAB_S + 2.5, recs)
            # every scale-down step: min(current, the highest recommendation
            # of the syncs in the window), the default policy (100 %% / 15 s)
            # letting it go straight there
            bad_down = []
            for t, c, p, u, n, _ in seq:
                if p >= c:
                    continue
                allowed = set()
                for slack in (-0.5, 0.5):
                    cut = t - STAB_S + slack
                    inw = [r[2] for r in recs if r[1] > cut and r[0] <= t + 0.05]
                    if inw:
                        allowed.add(max(MIN, min(c, max(inw))))
                if p not in allowed:
                    bad_down.append((t, c, p, sorted(allowed)))
            check("each scale-down step is the highest recommendation within the window",
                  not bad_down, {"bad": bad_down, "recs": recs})
            stab = [t for t, st in versions if t > t_stop and
                    cond(st, "AbleToScale").get("reason") == "ScaleDownStabilized"]
            check("the HPA reports ScaleDownStabilized while the window holds it (%d versions)"
                  % len(stab), stab, [cond(st, "AbleToScale") for _, st in versions[-8:]])
            downs = [s for s in seq if s[2] < s[1]]
            check("scale-downs only after the load stopped (%d)" % len(downs),
                  all(t > t_stop for t, *_ in downs), downs)

        # ---- events ----
        rc, out, err = d.kubectl("get", "events", "-n", NS, "-o", "json")
        evs = []
        try:
            evs = [e for e in json.loads(out).get("items", [])
                   if e.get("reason") == "SuccessfulRescale"]
        except ValueError:
            pass
        msgs = [e.get("message", "") for e in evs]
        want_msgs = ["New size: %d; reason: %s" % (b, "cpu resource utilization (percentage of "
                                                   "request) above target" if b > a else
                                                   "All metrics below target")
                     for _, a, b, *_ in seq]
        got = sorted(msgs)
        check("one SuccessfulRescale event per size change, with the size and reason (%d)"
              % len(msgs), got == sorted(want_msgs), {"events": msgs, "expected": want_msgs})

        # ---- requests ----
        codes = dict(load.codes)
        check("every request answered 200 (%s)" % codes,
              codes and set(codes) == {200} and sum(codes.values()) > RATE * 5,
              load.errors[:5])
    finally:
        if load:
            load.stop()
        if poller:
            poller.stop_ev.set()
        stop_daemon(d, checks, tmp)


if __name__ == "__main__":
    run_timed(main, checks)
