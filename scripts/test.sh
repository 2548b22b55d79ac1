#!/usr/bin/env bash
# test.sh: the whole test suite on a fresh Debian machine: installs what is
# missing, builds with -Werror under AddressSanitizer and
# UndefinedBehaviorSanitizer, runs every test with CTest, then runs the
# libFuzzer target on the example corpus for a bounded time.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh test

jobs=$(nproc)
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

# Fuzzing: the JSON/YAML readers and validation, seeded with every example.
fuzz_seconds=${SS_FUZZ_SECONDS:-60}
if command -v clang >/dev/null && [ "$fuzz_seconds" -gt 0 ]; then
  CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DSS_WERROR=ON -DSS_SANITIZE=ON \
    -DSS_FUZZ=ON >/dev/null
  cmake --build build-fuzz --target fuzz_model -j"$jobs" >/dev/null
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  cp tests/fuzz/corpus/* examples/* tests/cases/* "$work"/ 2>/dev/null || true
  build-fuzz/tests/fuzz_model -max_total_time="$fuzz_seconds" -max_len=65536 \
    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "$work" 2>&1 | tail -n 12
  echo "fuzz: ${fuzz_seconds}s without a crash"
fi
