#!/usr/bin/env bash
# bench/quality.sh: scaling quality on every example trace, in one run: for
# each trace in examples/traces, `servescale simulate -o json` replays it
# under every policy (the HPA and KEDA as the daemon runs them, Knative's
# KPA, Ray Serve, servescale's own), and this prints each policy's
# SLO-violating seconds and replica-seconds side by side, and servescale's
# ratio to each peer (violations, then replica-seconds; lower is better).
# The issue's goal per trace: fewer SLO-violating seconds than every peer at
# no more replica-seconds than the peer that violates least ("goal: met").
# Offline and fast (the simulator, not the daemon). Extra arguments go to
# simulate (e.g. --startup-ms 10000 --slo-p99-ms 200).
#   bench/quality.sh [BUILD_DIR] [SIMULATE FLAGS...]
# The on-off trace replays against examples/traces/keda-zero.yaml (scale to
# zero), the others against examples/traces/hpa-cpu.yaml. See docs/simulate.md.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
shift || true
bin=$build/servescale
if [ ! -x "$bin" ]; then
  echo "bench/quality.sh: no $bin: build first (cmake -S . -B $build && cmake --build $build)" >&2
  exit 1
fi
runs=$(mktemp -d)
trap 'rm -rf "$runs"' EXIT
for trace in examples/traces/*.csv; do
  name=$(basename "$trace" .csv)
  res=examples/traces/hpa-cpu.yaml
  [ "$name" = on-off ] && res=examples/traces/keda-zero.yaml
  "$bin" simulate -f "$res" --trace "$trace" -o json "$@" >"$runs/$name.json"
done
python3 - "$runs" <<'PY'
import json, os, sys
runs = sys.argv[1]
peers = ["hpa", "keda", "kpa", "ray"]
met = 0
names = sorted(f[:-5] for f in os.listdir(runs))
for name in names:
    res = {r["policy"]: r for r in json.load(open(os.path.join(runs, name + ".json")))["results"]}
    own = res["servescale"]
    print("%s" % name)
    print("  %-11s %8s %12s %9s   %s" % ("policy", "slo-viol", "replica-s", "failed",
                                         "servescale/peer (viol, replica-s)"))
    for p in peers + ["servescale"]:
        r = res[p]
        ratio = ""
        if p != "servescale":
            v = "%.2f" % (own["sloViolationSeconds"] / r["sloViolationSeconds"]) \
                if r["sloViolationSeconds"] else ("0/0" if not own["sloViolationSeconds"] else "inf")
            ratio = "%s, %.2f" % (v, own["replicaSeconds"] / r["replicaSeconds"])
        print("  %-11s %8d %12.0f %9d   %s" % (p, r["sloViolationSeconds"], r["replicaSeconds"],
                                              r["failedRequests"], ratio))
    best = min(peers, key=lambda p: (res[p]["sloViolationSeconds"], res[p]["replicaSeconds"]))
    fewer = all(own["sloViolationSeconds"] < res[p]["sloViolationSeconds"] or
                own["sloViolationSeconds"] == 0 for p in peers)
    cheaper = own["replicaSeconds"] <= res[best]["replicaSeconds"]
    ok = fewer and cheaper
    met += ok
    print("  goal: %s (fewest violations: %s; replica-seconds vs %s, the peer violating least: %.2f)\n"
          % ("met" if ok else "not met", "yes" if fewer else "no", best,
             own["replicaSeconds"] / res[best]["replicaSeconds"]))
print("goal met on %d of %d traces" % (met, len(names)))
PY
