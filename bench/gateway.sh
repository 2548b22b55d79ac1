#!/usr/bin/env bash
# bench/gateway.sh: the gateway against nginx and HAProxy, in one run, on
# this machine, for both of its protocols. wrk drives the same prediction at
# (a) one replica directly, (b) nginx and (d) HAProxy as keep-alive reverse
# proxies in front of the same replicas, (c) the servescale gateway in front
# of them: first the Seldon protocol (a SeldonDeployment of 2 mock-classifier
# replicas), then the Open Inference (V2) protocol (a Core 2 Server of 2
# replicas with a mock Model loaded on both). The peers are configured
# fairly: as many nginx worker processes and HAProxy threads as the gateway
# has workers (WORKERS, default the number of cores), least connections,
# keep-alive to the replicas. Prints, for each protocol, requests/s of (c)
# over the best peer, and the latency p50 and p99 each adds over (a).
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
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
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
# Core 2: the mock runtime ignores storageUri; replicas 2 loads the Model on
# both Server replicas
model=mock
cat > "$work/core2.yaml" <<YAML
apiVersion: mlops.seldon.io/v1alpha1
kind: Server
metadata:
  name: mlserver
  namespace: bench
spec:
  serverConfig: mlserver
  replicas: 2
---
apiVersion: mlops.seldon.io/v1alpha1
kind: Model
metadata:
  name: $model
  namespace: bench
spec:
  storageUri: file:///tmp
  requirements:
  - mock
  replicas: 2
YAML
gwport=$(free_port)
"$bin" serve --state-dir "$work/state" --api-port 0 --gateway-port "$gwport" \
  --gateway-workers "$workers" -f "$work/sdep.yaml" -f "$work/core2.yaml" \
  >"$work/daemon.out" 2>"$work/daemon.err" &
pids+=($!)
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$gwport/sd/targets" 2>/dev/null | grep -q '127.0.0.1:.*127.0.0.1:' && break
  sleep 0.2
done
ports=$(curl -sf "http://127.0.0.1:$gwport/sd/targets" | python3 -c 'import json,sys; print(" ".join(t["targets"][0].split(":")[1] for t in json.load(sys.stdin)))')
[ "$(echo $ports | wc -w)" -ge 2 ] || { echo "bench/gateway: replicas did not come up" >&2; cat "$work/daemon.err" >&2; exit 1; }

# The Server's replicas are not in /sd/targets (it lists SeldonDeployments'
# replicas): their ports are the pods' servescale.io/port annotations. Ready
# when the gateway says so, the Model is available on 2 replicas and each
# replica's repository index has it READY.
v2_ports() {
  KUBECONFIG="$work/state/kubeconfig" "$bin" get pods -n bench -l seldon-server-name=mlserver -o json |
    python3 -c 'import json,sys; print(" ".join(p["metadata"].get("annotations", {}).get("servescale.io/port", "")
                for p in json.load(sys.stdin)["items"]))'
}
v2_ready() {
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$gwport/v2/models/$model/ready")" = 200 ] || return 1
  KUBECONFIG="$work/state/kubeconfig" "$bin" get models "$model" -n bench -o json |
    python3 -c 'import json,sys; sys.exit(json.load(sys.stdin).get("status", {}).get("availableReplicas", 0) < 2)' || return 1
  local p n=0
  for p in $(v2_ports); do
    curl -sf -X POST -d '{}' "http://127.0.0.1:$p/v2/repository/index" |
      python3 -c 'import json,sys; sys.exit(not any(m.get("name") == sys.argv[1] and m.get("state") == "READY"
                  for m in json.load(sys.stdin)))' "$model" || return 1
    n=$((n + 1))
  done
  [ "$n" -ge 2 ]
}
for _ in $(seq 1 150); do
  v2_ready 2>/dev/null && break
  sleep 0.2
done
v2_ready 2>/dev/null || { echo "bench/gateway: model $model did not become ready on 2 Server replicas" >&2; cat "$work/daemon.err" >&2; exit 1; }
v2ports=$(v2_ports)

# one nginx and one HAProxy serve both protocols, each on its own port, so
# that the Seldon path's configuration is the same as before V2 was added
ngport=$(free_port)
ng2port=$(free_port)
{
  echo "worker_processes $workers; daemon off; pid $work/nginx.pid; error_log $work/nginx.err;"
  echo "events { worker_connections 4096; }"
  echo "http { access_log off; client_body_temp_path $work/nb; proxy_temp_path $work/np;"
  echo "  fastcgi_temp_path $work/nf; uwsgi_temp_path $work/nu; scgi_temp_path $work/ns;"
  echo "  upstream replicas { least_conn; keepalive 64;"
  for p in $ports; do echo "    server 127.0.0.1:$p;"; done
  echo "  }"
  echo "  upstream v2replicas { least_conn; keepalive 64;"
  for p in $v2ports; do echo "    server 127.0.0.1:$p;"; done
  echo "  }"
  echo "  server { listen 127.0.0.1:$ngport;"
  echo "    location /seldon/bench/bench/api/v1.0/predictions { proxy_pass http://replicas/predict;"
  echo "      proxy_http_version 1.1; proxy_set_header Connection \"\"; } }"
  echo "  server { listen 127.0.0.1:$ng2port;"
  echo "    location /v2/ { proxy_pass http://v2replicas;"
  echo "      proxy_http_version 1.1; proxy_set_header Connection \"\"; } } }"
} > "$work/nginx.conf"
nginx -c "$work/nginx.conf" -p "$work" &
pids+=($!)
haport=$(free_port)
ha2port=$(free_port)
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
  echo "frontend fe2"
  echo "  bind 127.0.0.1:$ha2port"
  echo "  default_backend v2replicas"
  echo "backend v2replicas"
  echo "  balance leastconn"
  echo "  http-reuse always"
  i=0
  for p in $v2ports; do echo "  server r$i 127.0.0.1:$p"; i=$((i + 1)); done
} > "$work/haproxy.cfg"
haproxy -f "$work/haproxy.cfg" -db >"$work/haproxy.err" 2>&1 &
pids+=($!)
sleep 0.5

body='{"data":{"ndarray":[[1,2,3,4]]}}'
v2body='{"inputs":[{"name":"predict","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}'
cat > "$work/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '$body'
wrk.headers["Content-Type"] = "application/json"
LUA
cat > "$work/post_v2.lua" <<LUA
wrk.method = "POST"
wrk.body = '$v2body'
wrk.headers["Content-Type"] = "application/json"
LUA
run() { # protocol (seldon|v2) path (A|B|C|D) url [connections] -> a line of $work/results
  local lua=post c=${4:-$conns} fig
  if [ "$1" = v2 ]; then lua=post_v2; fi
  wrk -t1 -c"$c" -d"${secs}s" --latency -s "$work/$lua.lua" "$3" >"$work/wrk.out" 2>&1 || true
  fig=$(python3 -c '
import re, sys
t = open(sys.argv[1]).read()
def us(v, u): return float(v) * {"us": 1, "ms": 1000, "s": 1e6}[u]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
lat = dict((p, us(v, u)) for p, v, u in re.findall(r"\s(50|99)%\s+([\d.]+)(us|ms|s)", t))
errs = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", t)
print(rps, lat["50"], lat["99"], errs.group(1) if errs else 0, sum(map(int, sock.groups())) if sock else 0)' \
    "$work/wrk.out" 2>/dev/null) || { echo "bench/gateway: no figures from wrk at $3:" >&2; cat "$work/wrk.out" >&2; exit 1; }
  echo "$1 $2 $c $fig" >> "$work/results"
}
first=$(echo $ports | cut -d' ' -f1)
v2first=$(echo $v2ports | cut -d' ' -f1)
A="http://127.0.0.1:$first/predict"
B="http://127.0.0.1:$ngport/seldon/bench/bench/api/v1.0/predictions"
C="http://127.0.0.1:$gwport/seldon/bench/bench/api/v1.0/predictions"
D="http://127.0.0.1:$haport/seldon/bench/bench/api/v1.0/predictions"
V2A="http://127.0.0.1:$v2first/v2/models/$model/infer"
V2B="http://127.0.0.1:$ng2port/v2/models/$model/infer"
V2C="http://127.0.0.1:$gwport/v2/models/$model/infer"
V2D="http://127.0.0.1:$ha2port/v2/models/$model/infer"
# warm up every path once
for u in "$A" "$B" "$C" "$D"; do
  curl -sf -H 'Content-Type: application/json' -d "$body" "$u" >/dev/null
done
for u in "$V2A" "$V2B" "$V2C" "$V2D"; do
  curl -sf -H 'Content-Type: application/json' -d "$v2body" "$u" >/dev/null
done
: > "$work/results"
for proto in seldon v2; do
  pre=; [ $proto = v2 ] && pre=V2
  # throughput: enough connections to saturate the machine
  for k in A B C D; do u=$pre$k; run $proto $k "${!u}"; done
  # added latency: one connection, so that no queue hides the hop's own cost
  for k in A B C D; do u=$pre$k; run $proto $k "${!u}" 1; done
done
# which Server replica the gateway sent its V2 inferences to (Core 2's counter)
curl -sf "http://127.0.0.1:$gwport/prometheus" | grep "^seldon_model_infer_total{" > "$work/v2split" || true
python3 - "$work/results" "$work/v2split" "$conns" "$secs" "$workers" "$model" \
  "$load_start" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'PY'
import re, sys
results, split, conns, secs, workers, model, load_start, load_end = sys.argv[1:9]
r = {}
for line in open(results):
    proto, label, c, rps, p50, p99, non2xx, sock = line.split()
    r[proto, label.lower(), c == "1"] = (float(rps), float(p50), float(p99), int(non2xx), int(sock))
print(f"bench/gateway: wrk 1 thread, {secs}s per run; {workers} gateway workers, nginx worker "
      f"processes and HAProxy threads; load average {load_start} at the start, {load_end} at the end")
goals = []
for proto, title, what in (("seldon", "Seldon protocol", "2 mock-classifier replicas"),
                           ("v2", "Open Inference (V2) protocol",
                            f"2 mlserver Server replicas with model {model} (mock runtime)")):
    (a_rps, a50, a99, a_e, a_s), (b_rps, b50, b99, b_e, b_s), (c_rps, c50, c99, c_e, c_s), \
        (d_rps, d50, d99, d_e, d_s) = (r[proto, k, False] for k in "abcd")
    la50, la99 = r[proto, "a", True][1:3]
    lb50, lb99 = r[proto, "b", True][1:3]
    lc50, lc99 = r[proto, "c", True][1:3]
    ld50, ld99 = r[proto, "d", True][1:3]
    print(f"{title}: {what} behind (b), (c) and (d)")
    print(f"throughput, {conns} connections:")
    print(f"  (a) one replica direct : {a_rps:10.0f} req/s  p50 {a50:8.0f} us  p99 {a99:8.0f} us  non-2xx {a_e}")
    print(f"  (b) nginx keep-alive   : {b_rps:10.0f} req/s  p50 {b50:8.0f} us  p99 {b99:8.0f} us  non-2xx {b_e}")
    print(f"  (c) servescale gateway : {c_rps:10.0f} req/s  p50 {c50:8.0f} us  p99 {c99:8.0f} us  non-2xx {c_e}")
    print(f"  (d) HAProxy keep-alive : {d_rps:10.0f} req/s  p50 {d50:8.0f} us  p99 {d99:8.0f} us  non-2xx {d_e}")
    print(f"latency, 1 connection: direct p50 {la50:.0f} us p99 {la99:.0f} us; "
          f"nginx p50 {lb50:.0f} us p99 {lb99:.0f} us; HAProxy p50 {ld50:.0f} us p99 {ld99:.0f} us; "
          f"gateway p50 {lc50:.0f} us p99 {lc99:.0f} us")
    bad = [f"{k}{' (1 connection)' if one else ''}: non-2xx {v[3]}, socket errors {v[4]}"
           for (p, k, one), v in sorted(r.items()) if p == proto and (v[3] or v[4])]
    print("wrk errors: " + ("; ".join(bad) if bad else "none (no non-2xx, no socket errors, 8 runs)"))
    best, best_rps = max((("nginx", b_rps), ("HAProxy", d_rps)), key=lambda x: x[1])
    ratio = c_rps / best_rps
    print(f"throughput ratio gateway/nginx: {c_rps / b_rps:.2f}, gateway/HAProxy: {c_rps / d_rps:.2f}, "
          f"against the best peer ({best}): {ratio:.2f}  (target >= 1.00)")
    best_p50 = min(lb50 - la50, ld50 - la50)
    print(f"added p50 over direct (1 connection): nginx {lb50 - la50:+.0f} us, HAProxy {ld50 - la50:+.0f} us, "
          f"gateway {lc50 - la50:+.0f} us  (target: gateway <= the best peer's {best_p50:+.0f} us)")
    print(f"added p99 over direct (1 connection): nginx {lb99 - la99:+.0f} us, HAProxy {ld99 - la99:+.0f} us, "
          f"gateway {lc99 - la99:+.0f} us")
    if proto == "v2":
        n = {}
        for line in open(split):
            labels = dict(re.findall(r'(\w+)="([^"]*)"', line))
            if labels.get("model") == model:
                k = (labels.get("server_replica"), labels.get("code"))
                n[k] = n.get(k, 0) + float(line.split()[-1])
        print("gateway V2 inferences by Server replica (code): " +
              (", ".join(f"replica {rep} ({code}) {v:.0f}" for (rep, code), v in sorted(n.items()))
               or "none counted"))
    goals.append(f"{title}: throughput {ratio:.2f} of {best} {'met' if ratio >= 1.0 else 'MISSED'}, "
                 f"added p50 {lc50 - la50:+.0f} us vs {best_p50:+.0f} us "
                 f"{'met' if lc50 - la50 <= best_p50 else 'MISSED'}")
    print()
print("goal (throughput >= 1.00 of the best peer; added p50 on 1 connection <= the best peer's):")
for g in goals:
    print("  " + g)
PY
