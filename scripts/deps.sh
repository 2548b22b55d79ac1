#!/usr/bin/env bash
# deps.sh: installs the Debian packages servescale needs, only those missing.
#   scripts/deps.sh build   what building needs
#   scripts/deps.sh test    that, plus what the test suite and fuzzing need
#   scripts/deps.sh bench   that, plus the benchmarks' peers and load generators
#   scripts/deps.sh core2   that, plus python3-sklearn (Core 2's and SKLEARN_SERVER's sklearn models)
set -euo pipefail

build_pkgs=(cmake make gcc pkg-config libjansson-dev libyaml-dev libsqlite3-dev
            libmicrohttpd-dev libcurl4-openssl-dev libssl-dev libhttp-parser-dev zlib1g-dev)
test_pkgs=(libcmocka-dev clang libclang-rt-14-dev python3 python3-kubernetes prometheus hey
           chromium python3-sklearn)
bench_pkgs=(wrk nginx-light haproxy curl python3)
core2_pkgs=(python3 python3-sklearn)

want=("${build_pkgs[@]}")
if [ "${1:-build}" = test ]; then
  want+=("${test_pkgs[@]}")
elif [ "${1:-build}" = bench ]; then
  want+=("${bench_pkgs[@]}")
elif [ "${1:-build}" = core2 ]; then
  want+=("${core2_pkgs[@]}")
fi

# kubectl: the machine's own when there is one, else Debian's
if [ "${1:-build}" = test ] && ! command -v kubectl >/dev/null; then
  want+=(kubernetes-client)
fi

# Node.js and npm: tests/k8s validates rendered manifests with the npm
# packages kubernetes-models and @kubernetes-models/keda (scripts/test.sh
# runs npm ci there); the machine's own node when there is one
if [ "${1:-build}" = test ] && ! command -v node >/dev/null; then
  want+=(nodejs)
fi
if [ "${1:-build}" = test ] && ! command -v npm >/dev/null; then
  want+=(npm)
fi

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "deps: installing ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
