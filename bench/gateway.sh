#!/usr/bin/env bash
# bench/gateway.sh: the gateway against nginx and HAProxy, in one run, on
# this machine. wrk drives the same prediction at (a) one replica directly,
# (b) nginx and (d) HAProxy as keep-alive reverse proxies in front of the
# same replicas, (c) the servescale gateway in front of them. The peers are
# configured fairly: as many nginx worker processes and HAProxy threads as
# the gateway has workers (WORKERS, default the number of cores), least
# connections, keep-alive to the replicas. Prints requests/s of (c) over the
# best peer, and the latency p50 and p99 each adds over (a).
#   bench/gateway.sh [BUILD_DIR] [SECONDS] [CONNECTIONS] [WORKERS]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
secs=${2:-10}
conns=${3:-32}
workers=${4:-$(nproc)}
bin=$build/servescale
for t in wrk nginx haproxy curl python3; do
  command -v $t >/dev/null || { echo "bench/gateway: $t is missing (scripts/deps.sh bench)" >&2; exit 1; }
done
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 0.5
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

cat > "$work/sdep.yaml" <<'YAML'
apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata:
  name: bench
  namespace: bench
spec:
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
gwport=$(free_port)
"$bin" serve --state-dir "$work/state" --api-port 0 --gateway-port "$gwport" \
  --gateway-workers "$workers" -f "$work/sdep.yaml" >"$work/daemon.out" 2>"$work/daemon.err" &
pids+=($!)
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$gwport/sd/targets" 2>/dev/null | grep -q '127.0.0.1:.*127.0.0.1:' && break
  sleep 0.2
done
ports=$(curl -sf "http://127.0.0.1:$gwport/sd/targets" | python3 -c 'import json,sys; print(" ".join(t["targets"][0].split(":")[1] for t in json.load(sys.stdin)))')
[ "$(echo $ports | wc -w)" -ge 2 ] || { echo "bench/gateway: replicas did not come up" >&2; cat "$work/daemon.err" >&2; exit 1; }

ngport=$(free_port)
{
  echo "worker_processes $workers; daemon off; pid $work/nginx.pid; error_log $work/nginx.err;"
  echo "events { worker_connections 4096; }"
  echo "http { access_log off; client_body_temp_path $work/nb; proxy_temp_path $work/np;"
  echo "  fastcgi_temp_path $work/nf; uwsgi_temp_path $work/nu; scgi_temp_path $work/ns;"
  echo "  upstream replicas { least_conn; keepalive 64;"
  for p in $ports; do echo "    server 127.0.0.1:$p;"; done
  echo "  }"
  echo "  server { listen 127.0.0.1:$ngport;"
  echo "    location /seldon/bench/bench/api/v1.0/predictions { proxy_pass http://replicas/predict;"
  echo "      proxy_http_version 1.1; proxy_set_header Connection \"\"; } } }"
} > "$work/nginx.conf"
nginx -c "$work/nginx.conf" -p "$work" &
pids+=($!)
haport=$(free_port)
{
  echo "global"
  echo "  nbthread $workers"
  echo "  maxconn 8192"
  echo "defaults"
  echo "  mode http"
  echo "  timeout connect 5s"
  echo "  timeout client 30s"
  echo "  timeout server 30s"
  echo "  option http-keep-alive"
  echo "frontend fe"
  echo "  bind 127.0.0.1:$haport"
  echo "  http-request set-path /predict"
  echo "  default_backend replicas"
  echo "backend replicas"
  echo "  balance leastconn"
  echo "  http-reuse always"
  i=0
  for p in $ports; do echo "  server r$i 127.0.0.1:$p"; i=$((i + 1)); done
} > "$work/haproxy.cfg"
haproxy -f "$work/haproxy.cfg" -db >"$work/haproxy.err" 2>&1 &
pids+=($!)
sleep 0.5

cat > "$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"data":{"ndarray":[[1,2,3,4]]}}'
wrk.headers["Content-Type"] = "application/json"
LUA
first=$(echo $ports | cut -d' ' -f1)
run() { # url [connections] -> "rps p50_us p99_us non2xx"
  wrk -t1 -c"${2:-$conns}" -d"${secs}s" --latency -s "$work/post.lua" "$1" 2>&1 | python3 -c '
import re, sys
t = sys.stdin.read()
def us(v, u): return float(v) * {"us": 1, "ms": 1000, "s": 1e6}[u]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
lat = dict((p, us(v, u)) for p, v, u in re.findall(r"\s(50|99)%\s+([\d.]+)(us|ms|s)", t))
errs = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
print(rps, lat["50"], lat["99"], errs.group(1) if errs else 0)'
}
# warm up every path once
for u in "http://127.0.0.1:$first/predict" "http://127.0.0.1:$ngport/seldon/bench/bench/api/v1.0/predictions" \
         "http://127.0.0.1:$gwport/seldon/bench/bench/api/v1.0/predictions" \
         "http://127.0.0.1:$haport/seldon/bench/bench/api/v1.0/predictions"; do
  curl -sf -H 'Content-Type: application/json' -d '{"data":{"ndarray":[[1,2,3,4]]}}' "$u" >/dev/null
done
A="http://127.0.0.1:$first/predict"
B="http://127.0.0.1:$ngport/seldon/bench/bench/api/v1.0/predictions"
C="http://127.0.0.1:$gwport/seldon/bench/bench/api/v1.0/predictions"
D="http://127.0.0.1:$haport/seldon/bench/bench/api/v1.0/predictions"
# throughput: enough connections to saturate the machine
read -r a_rps a_p50 a_p99 a_err < <(run "$A")
read -r b_rps b_p50 b_p99 b_err < <(run "$B")
read -r c_rps c_p50 c_p99 c_err < <(run "$C")
read -r d_rps d_p50 d_p99 d_err < <(run "$D")
# added latency: one connection, so that no queue hides the hop's own cost
read -r la_rps la_p50 la_p99 la_err < <(run "$A" 1)
read -r lb_rps lb_p50 lb_p99 lb_err < <(run "$B" 1)
read -r lc_rps lc_p50 lc_p99 lc_err < <(run "$C" 1)
read -r ld_rps ld_p50 ld_p99 ld_err < <(run "$D" 1)
python3 - "$a_rps" "$a_p50" "$a_p99" "$b_rps" "$b_p50" "$b_p99" "$c_rps" "$c_p50" "$c_p99" \
  "$la_p50" "$la_p99" "$lb_p50" "$lb_p99" "$lc_p50" "$lc_p99" "$b_err" "$c_err" "$conns" "$secs" \
  "$d_rps" "$d_p50" "$d_p99" "$ld_p50" "$ld_p99" "$d_err" "$workers" <<'PY'
import sys
(a_rps, a50, a99, b_rps, b50, b99, c_rps, c50, c99,
 la50, la99, lb50, lb99, lc50, lc99) = map(float, sys.argv[1:16])
b_err, c_err, conns, secs = sys.argv[16:20]
d_rps, d50, d99, ld50, ld99 = map(float, sys.argv[20:25])
d_err, workers = sys.argv[25:27]
print(f"bench/gateway: wrk 1 thread, {secs}s per run, 2 mock-classifier replicas behind (b), (c) "
      f"and (d); {workers} gateway workers, nginx worker processes and HAProxy threads")
print(f"throughput, {conns} connections:")
print(f"  (a) one replica direct : {a_rps:10.0f} req/s  p50 {a50:8.0f} us  p99 {a99:8.0f} us")
print(f"  (b) nginx keep-alive   : {b_rps:10.0f} req/s  p50 {b50:8.0f} us  p99 {b99:8.0f} us  non-2xx {b_err}")
print(f"  (c) servescale gateway : {c_rps:10.0f} req/s  p50 {c50:8.0f} us  p99 {c99:8.0f} us  non-2xx {c_err}")
print(f"  (d) HAProxy keep-alive : {d_rps:10.0f} req/s  p50 {d50:8.0f} us  p99 {d99:8.0f} us  non-2xx {d_err}")
print(f"latency, 1 connection: direct p50 {la50:.0f} us p99 {la99:.0f} us; "
      f"nginx p50 {lb50:.0f} us p99 {lb99:.0f} us; HAProxy p50 {ld50:.0f} us p99 {ld99:.0f} us; "
      f"gateway p50 {lc50:.0f} us p99 {lc99:.0f} us")
best, best_rps = max((("nginx", b_rps), ("HAProxy", d_rps)), key=lambda x: x[1])
print(f"throughput ratio gateway/nginx: {c_rps / b_rps:.2f}, gateway/HAProxy: {c_rps / d_rps:.2f}, "
      f"against the best peer ({best}): {c_rps / best_rps:.2f}  (target >= 1.00)")
best_p50 = min(lb50 - la50, ld50 - la50)
print(f"added p50 over direct (1 connection): nginx {lb50 - la50:+.0f} us, HAProxy {ld50 - la50:+.0f} us, "
      f"gateway {lc50 - la50:+.0f} us  (target: gateway <= the best peer's {best_p50:+.0f} us)")
print(f"added p99 over direct (1 connection): nginx {lb99 - la99:+.0f} us, HAProxy {ld99 - la99:+.0f} us, "
      f"gateway {lc99 - la99:+.0f} us")
PY
