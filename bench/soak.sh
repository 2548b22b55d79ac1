#!/usr/bin/env bash
# bench/soak.sh: a long run (not in CI's budget). The daemon serves one
# deployment behind OAuth (the seed's way) while hey sends predictions at
# half of the peak rate measured at the start of the same run, and the
# deployment is scaled between 1 and 4 replicas every 20 s. Reports failed
# requests (0 expected) and the daemon's RSS at the start, after 5 minutes
# (the end of warm-up) and at the end; growth after warm-up should stay
# under 1 %.
#   bench/soak.sh [BUILD_DIR] [SECONDS] [CONNECTIONS]
# Defaults: build, 1800 s, 16 connections.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
secs=${2:-1800}
conns=${3:-16}
warm=$(( secs < 600 ? secs / 6 : 300 ))
bin=$build/servescale
for t in hey curl python3; do
  command -v $t >/dev/null || { echo "bench/soak: $t is missing (scripts/deps.sh bench)" >&2; exit 1; }
done
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 1
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

cat > "$work/sdep.yaml" <<'YAML'
apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata:
  name: soak
  namespace: soak
spec:
  oauth_key: soak-key
  oauth_secret: soak-secret
  predictors:
  - name: default
    replicas: 2
    graph: {name: classifier, type: MODEL}
    componentSpecs:
    - spec:
        containers:
        - name: classifier
          image: seldonio/mock_classifier:1.0
YAML
gw=$(free_port)
"$bin" serve --state-dir "$work/state" --api-port 0 --gateway-port "$gw" \
  -f "$work/sdep.yaml" >"$work/daemon.out" 2>"$work/daemon.err" &
daemon=$!
pids+=($daemon)
url="http://127.0.0.1:$gw/seldon/soak/soak/api/v1.0/predictions"
for _ in $(seq 1 150); do grep -q 'is Available' "$work/daemon.out" 2>/dev/null && break; sleep 0.2; done
grep -q 'is Available' "$work/daemon.out" || { echo "bench/soak: the deployment did not become Available" >&2; cat "$work/daemon.err" >&2; exit 1; }
token=$(curl -sf -u soak-key:soak-secret -X POST "http://127.0.0.1:$gw/oauth/token" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
body='{"data":{"ndarray":[[1,2,3,4]]}}'
hey_args=(-m POST -T application/json -H "Authorization: Bearer $token" -d "$body")
rss() { awk '/^VmRSS/ {print $2}' "/proc/$daemon/status"; }

# the peak, then half of it spread over the connections
peak=$(hey -z 10s -c "$conns" "${hey_args[@]}" "$url" | awk '/Requests\/sec/ {printf "%d", $2}')
rate=$(( peak / 2 / conns ))
[ "$rate" -ge 1 ] || rate=1
echo "bench/soak: peak ${peak} req/s with $conns connections; soaking at $(( rate * conns )) req/s for ${secs}s"

# scaling between 1 and 4 every 20 s, through the control API's /scale
export KUBECONFIG="$work/state/kubeconfig"
(
  n=1
  while true; do
    "$bin" scale sdep/soak -n soak --replicas=$n >/dev/null 2>>"$work/scale.err" || true
    n=$(( n == 1 ? 4 : 1 ))
    sleep 20
  done
) &
pids+=($!)

# the gateway's own count of answers by code (hey keeps only its first
# million results, so its tallies undercount a long run)
answers() { # code-regex -> count
  curl -sf "http://127.0.0.1:$gw/prometheus" | awk -v re="$1" '
    /^seldon_api_executor_server_requests_seconds_count/ && /deployment_name="soak"/ {
      match($0, /code="[0-9]+"/); c = substr($0, RSTART + 6, RLENGTH - 7)
      if (c ~ re) s += $NF } END {printf "%d", s}'
}
ok0=$(answers '^200$'); bad0=$(answers '^[^2]')
rss_start=$(rss)
rss_warm=""
hey -z "${secs}s" -c "$conns" -q "$rate" "${hey_args[@]}" "$url" >"$work/hey.out" 2>&1 &
hey_pid=$!
pids+=($hey_pid)
# RSS once a minute, to see where it levels off
curve=""
for (( t = 60; t <= secs; t += 60 )); do
  sleep 60
  kill -0 "$hey_pid" 2>/dev/null || break
  curve+="$(( t / 60 ))m:$(rss) "
  if [ -z "${rss_warm:-}" ] && [ "$t" -ge "$warm" ]; then rss_warm=$(rss); fi
done
wait "$hey_pid" || true
rss_end=$(rss)
[ -n "$rss_warm" ] || rss_warm=$rss_start

ok=$(( $(answers '^200$') - ok0 )); bad=$(( $(answers '^[^2]') - bad0 ))
errors=$(awk '/Error distribution/ {f=1; next} f && /\[/ {s+=substr($1,2)+0} END {print s+0}' "$work/hey.out")
growth=$(python3 -c "print('%.2f' % (100.0 * ($rss_end - $rss_warm) / $rss_warm))")
echo "bench/soak: the gateway answered $ok predictions 200 and $bad otherwise; hey saw $errors transport errors"
echo "bench/soak: failed requests: $(( bad + errors ))"
echo "bench/soak: daemon RSS KiB by minute: $curve"
echo "bench/soak: daemon RSS start ${rss_start} KiB, after ${warm}s ${rss_warm} KiB, end ${rss_end} KiB; growth after warm-up ${growth} %"
echo "bench/soak: scale errors: $(wc -l < "$work/scale.err")"
[ $(( bad + errors )) -eq 0 ] && python3 -c "import sys; sys.exit(0 if $growth < 1.0 else 1)"
