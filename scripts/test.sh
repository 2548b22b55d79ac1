#!/usr/bin/env bash
# test.sh: the whole test suite on a fresh Debian machine: installs what is
# missing, builds with -Werror under AddressSanitizer and
# UndefinedBehaviorSanitizer, runs every test with CTest, then runs the
# libFuzzer target on the example corpus for a bounded time.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh test

jobs=$(nproc)

# The main job builds on a machine that never ran the tests: the way
# scripts/run.sh builds, with cmocka (a test dependency) hidden from
# pkg-config.
nocmocka=$(mktemp -d)
for d in $(pkg-config --variable pc_path pkg-config | tr ':' ' '); do
  for pc in "$d"/*.pc; do
    [ -e "$pc" ] && [ "$(basename "$pc")" != cmocka.pc ] && ln -sf "$pc" "$nocmocka"/
  done
done
if PKG_CONFIG_LIBDIR=$nocmocka pkg-config --exists cmocka; then
  echo "test.sh: could not hide cmocka from pkg-config" >&2
  exit 1
fi
PKG_CONFIG_LIBDIR=$nocmocka SERVESCALE_BUILD_DIR=build-main SERVESCALE_BUILD_ONLY=1 \
  SERVESCALE_CMAKE_ARGS=-DSS_WERROR=ON scripts/run.sh
rm -rf "$nocmocka"
cmake -S . -B build-test -DCMAKE_BUILD_TYPE=Debug -DSS_WERROR=ON -DSS_SANITIZE=ON >/dev/null
cmake --build build-test -j"$jobs"
# the schema packages tests/e2e/test_render.py validates rendered manifests with
(cd tests/k8s && npm ci --no-audit --no-fund)
# Debian's own kubectl (kubernetes-client, 1.20) beside the machine's newer
# one: the package is unpacked, not installed, so the two do not collide
kdeb=build-test/debian-kubectl
if [ ! -x "$kdeb/usr/bin/kubectl" ]; then
  mkdir -p "$kdeb"
  (cd "$kdeb" && { apt-get download kubernetes-client >/dev/null 2>&1 ||
    { ${SUDO:-} apt-get update -qq && apt-get download kubernetes-client >/dev/null; }; } &&
    dpkg -x kubernetes-client_*.deb .)
fi
export SS_KUBECTL_DEBIAN="$PWD/$kdeb/usr/bin/kubectl"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build-test && ctest --output-on-failure -j"$jobs")

# Fuzzing: every parser, each seeded with its corpus, for a bounded time:
# fuzz_model (the JSON/YAML readers and validation, seeded with every
# example) and fuzz_gateway (the gateway's HTTP request reader).
fuzz_seconds=${SS_FUZZ_SECONDS:-45}
if command -v clang >/dev/null && [ "$fuzz_seconds" -gt 0 ]; then
  CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DSS_WERROR=ON -DSS_SANITIZE=ON \
    -DSS_FUZZ=ON >/dev/null
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  fuzz() { # target seed-dir...
    local target=$1
    shift
    cmake --build build-fuzz --target "$target" -j"$jobs" >/dev/null
    mkdir -p "$work/$target"
    for d in "$@"; do cp "$d"/* "$work/$target"/ 2>/dev/null || true; done
    build-fuzz/tests/"$target" -max_total_time="$fuzz_seconds" -max_len=65536 \
      -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "$work/$target" 2>&1 | tail -n 12
    echo "fuzz: $target ${fuzz_seconds}s without a crash"
  }
  fuzz fuzz_model tests/fuzz/corpus examples tests/cases
  fuzz fuzz_gateway tests/fuzz/corpus_gateway
  # fuzz_api: the control API's request handling, in process, on a store in
  # a temporary directory
  fuzz fuzz_api tests/fuzz/corpus_api
  # fuzz_protobuf: protobuf request bodies (kubectl's built-in kinds) and
  # the autoscaling/v1 conversions after them
  fuzz fuzz_protobuf tests/fuzz/corpus_protobuf
  # fuzz_trace: the load traces `servescale simulate` reads
  fuzz fuzz_trace tests/fuzz/corpus_trace examples/traces
  # fuzz_v2: the Open Inference requests (and Seldon messages) model-server reads
  fuzz fuzz_v2 tests/fuzz/corpus_v2
fi
