#!/usr/bin/env bash
# bench/many.sh: a burst of SeldonDeployments (one replica each) applied at
# once. Prints how fast they become Available (deployments per second,
# from the apply to the last one Available; the issue's bar is 50/s for
# 500), and the daemon's memory per deployment (RSS growth over the count,
# replicas' own processes not included). Where the time goes: when the apply
# ended, when a tenth, half, nine tenths and all were Available, and the
# daemon's own CPU time (user, system) over the run.
#
# Availability is followed by a watch on the SeldonDeployments (as kubectl
# wait does), not by listing all of them a few times a second: on a small
# host such polling of hundreds of objects takes a good part of a core from
# the daemon and the replicas it measures. SS_BENCH_POLL=1 polls instead
# (`get sdep -o json` every 0.25 s), as the first version of this script did.
#   bench/many.sh [BUILD_DIR] [COUNT]
# Defaults: build, 500. SS_BENCH_ERR=FILE keeps the daemon's stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
count=${2:-500}
bin=$build/servescale
command -v python3 >/dev/null || { echo "bench/many: python3 is missing" >&2; exit 1; }
work=$(mktemp -d)
daemon=""
watcher=""
cleanup() {
  [ -n "$watcher" ] && kill "$watcher" 2>/dev/null || true
  [ -n "$daemon" ] && kill "$daemon" 2>/dev/null || true
  for _ in $(seq 1 100); do [ -n "$daemon" ] && kill -0 "$daemon" 2>/dev/null || break; sleep 0.2; done
  [ -n "$daemon" ] && kill -9 "$daemon" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

python3 - "$count" > "$work/many.yaml" <<'PY'
import sys
for i in range(int(sys.argv[1])):
    print("""---
apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata:
  name: m%04d
  namespace: many
spec:
  predictors:
  - name: p
    replicas: 1
    graph: {name: c, type: MODEL}
    componentSpecs:
    - spec:
        containers:
        - name: c
          image: seldonio/mock_classifier:1.0""" % i)
PY
"$bin" serve --state-dir "$work/state" --api-port 0 --gateway-port 0 >"$work/out" \
  2>"${SS_BENCH_ERR:-$work/err}" &
daemon=$!
for _ in $(seq 1 100); do [ -s "$work/state/kubeconfig" ] && break; sleep 0.1; done
export KUBECONFIG="$work/state/kubeconfig"
for _ in $(seq 1 100); do "$bin" get ns >/dev/null 2>&1 && break; sleep 0.1; done
rss() { awk '/^VmRSS/ {print $2}' "/proc/$daemon/status"; }
# utime and stime (fields 14 and 15 of /proc/PID/stat, in clock ticks)
cpu() { awk '{print $14, $15}' "/proc/$daemon/stat"; }
available() {
  "$bin" get sdep -n many -o json | python3 -c '
import json, sys
items = json.load(sys.stdin).get("items", [])
print(sum(1 for i in items if i.get("status", {}).get("state") == "Available"))'
}

if [ -z "${SS_BENCH_POLL:-}" ]; then
  # Lists once, then watches; prints "ready" once watching, then, when all
  # are Available (or after 300 s), "<available> <wall time> <mark>..." where
  # a mark is "<percent>:<wall time>" of the first time that share was.
  python3 - "$KUBECONFIG" "$count" > "$work/watch" <<'PY' &
import base64, json, re, ssl, sys, time, urllib.request
text = open(sys.argv[1]).read()
count = int(sys.argv[2])
server = re.search(r"server:\s*(\S+)", text).group(1)
token = re.search(r"token:\s*(\S+)", text).group(1)
ca = base64.b64decode(re.search(r"certificate-authority-data:\s*(\S+)", text).group(1)).decode()
ctx = ssl.create_default_context(cadata=ca)
path = "/apis/machinelearning.seldon.io/v1/namespaces/many/seldondeployments"
def get(query, timeout):
    req = urllib.request.Request(server + path + query, headers={"Authorization": "Bearer " + token})
    return urllib.request.urlopen(req, context=ctx, timeout=timeout)
available, marks, rv = set(), {}, None
def seen(obj):
    name = obj["metadata"]["name"]
    if obj.get("status", {}).get("state") == "Available":
        available.add(name)
    else:
        available.discard(name)
    now = time.time()
    for f in (10, 50, 90):
        if f not in marks and len(available) * 100 >= count * f:
            marks[f] = now
deadline = time.time() + 300
first = True
while len(available) < count and time.time() < deadline:
    if rv is None:  # (re)list
        with get("", 30) as r:
            body = json.load(r)
        available.clear()
        for it in body.get("items", []):
            seen(it)
        rv = body["metadata"]["resourceVersion"]
    if first:
        print("ready", flush=True)
        first = False
    try:
        with get("?watch=true&resourceVersion=%s&timeoutSeconds=30" % rv, 60) as r:
            for line in r:
                ev = json.loads(line)
                if ev.get("type") == "ERROR":  # 410 Gone: relist
                    rv = None
                    break
                obj = ev["object"]
                rv = obj["metadata"]["resourceVersion"]
                if ev["type"] == "DELETED":
                    available.discard(obj["metadata"]["name"])
                else:
                    seen(obj)
                if len(available) >= count:
                    break
    except OSError:
        rv = None
print(len(available), time.time(), " ".join("%d:%f" % (f, t) for f, t in sorted(marks.items())),
      flush=True)
PY
  watcher=$!
  for _ in $(seq 1 300); do grep -q ready "$work/watch" 2>/dev/null && break; sleep 0.1; done
fi

rss0=$(rss)
cpu0=$(cpu)
t0=$(date +%s.%N)
"$bin" apply -f "$work/many.yaml" >/dev/null
t_applied=$(date +%s.%N)
n=0
marks=""  # "percent:wall time" when that share of them was first seen Available
if [ -n "$watcher" ]; then
  wait "$watcher" || true
  watcher=""
  read -r n t1 marks < <(grep -v ready "$work/watch" || echo "0 $(date +%s.%N)")
else
  for _ in $(seq 1 1200); do
    n=$(available)
    now=$(date +%s.%N)
    for f in 10 50 90; do
      case " $marks " in *" $f:"*) continue ;; esac
      [ $((n * 100)) -ge $((count * f)) ] && marks="$marks $f:$now"
    done
    [ "$n" -ge "$count" ] && break
    sleep 0.25
  done
  t1=$(date +%s.%N)
fi
rss1=$(rss)
cpu1=$(cpu)
python3 - "$count" "$n" "$t0" "$t_applied" "$t1" "$rss0" "$rss1" "$cpu0" "$cpu1" \
  "$(getconf CLK_TCK)" "$marks" <<'PY'
import sys
count, n = int(sys.argv[1]), int(sys.argv[2])
t0, ta, t1 = map(float, sys.argv[3:6])
rss0, rss1 = int(sys.argv[6]), int(sys.argv[7])
(u0, s0), (u1, s1) = map(int, sys.argv[8].split()), map(int, sys.argv[9].split())
hz = int(sys.argv[10])
marks = " ".join("%s%%=%.2fs" % (m.split(":")[0], float(m.split(":")[1]) - t0)
                 for m in sys.argv[11].split())
print("bench/many: Available at %s all=%.2fs; daemon CPU %.2f s user, %.2f s system (%.0f%% of one core)"
      % (marks or "-", t1 - t0, (u1 - u0) / hz, (s1 - s0) / hz,
         100.0 * (u1 - u0 + s1 - s0) / hz / max(t1 - t0, 1e-9)))
print("bench/many: %d SeldonDeployments applied in %.2f s; %d Available after %.2f s: %.1f per second"
      % (count, ta - t0, n, t1 - t0, n / (t1 - t0)))
print("bench/many: daemon RSS %d KiB before, %d KiB after: %.1f KiB per deployment"
      % (rss0, rss1, (rss1 - rss0) / max(count, 1)))
sys.exit(0 if n >= count else 1)
PY
