#!/usr/bin/env bash
# bench/many.sh: a burst of SeldonDeployments (one replica each) applied at
# once. Prints how fast they become Available (deployments per second,
# from the apply to the last one Available; the issue's bar is 50/s for
# 500), and the daemon's memory per deployment (RSS growth over the count,
# replicas' own processes not included).
#   bench/many.sh [BUILD_DIR] [COUNT]
# Defaults: build, 500.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
count=${2:-500}
bin=$build/servescale
command -v python3 >/dev/null || { echo "bench/many: python3 is missing" >&2; exit 1; }
work=$(mktemp -d)
daemon=""
cleanup() {
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
"$bin" serve --state-dir "$work/state" --api-port 0 --gateway-port 0 >"$work/out" 2>"$work/err" &
daemon=$!
for _ in $(seq 1 100); do [ -s "$work/state/kubeconfig" ] && break; sleep 0.1; done
export KUBECONFIG="$work/state/kubeconfig"
for _ in $(seq 1 100); do "$bin" get ns >/dev/null 2>&1 && break; sleep 0.1; done
rss() { awk '/^VmRSS/ {print $2}' "/proc/$daemon/status"; }
rss0=$(rss)
t0=$(date +%s.%N)
"$bin" apply -f "$work/many.yaml" >/dev/null
t_applied=$(date +%s.%N)
available() {
  "$bin" get sdep -n many -o json | python3 -c '
import json, sys
items = json.load(sys.stdin).get("items", [])
print(sum(1 for i in items if i.get("status", {}).get("state") == "Available"))'
}
n=0
for _ in $(seq 1 1200); do
  n=$(available)
  [ "$n" -ge "$count" ] && break
  sleep 0.25
done
t1=$(date +%s.%N)
rss1=$(rss)
python3 - "$count" "$n" "$t0" "$t_applied" "$t1" "$rss0" "$rss1" <<'PY'
import sys
count, n = int(sys.argv[1]), int(sys.argv[2])
t0, ta, t1 = map(float, sys.argv[3:6])
rss0, rss1 = int(sys.argv[6]), int(sys.argv[7])
print("bench/many: %d SeldonDeployments applied in %.2f s; %d Available after %.2f s: %.1f per second"
      % (count, ta - t0, n, t1 - t0, n / (t1 - t0)))
print("bench/many: daemon RSS %d KiB before, %d KiB after: %.1f KiB per deployment"
      % (rss0, rss1, (rss1 - rss0) / max(count, 1)))
sys.exit(0 if n >= count else 1)
PY
