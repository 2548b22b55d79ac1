#!/usr/bin/env bash
# bench/control-loop.sh: the HPA decision for 10,000 synthetic targets per
# tick, built in Release in its own build dir (build-bench). Prints the CPU
# time of a tick, the memory per target, and the p99 tick against the 50 ms
# budget (issue 5). Arguments go to the program:
#   bench/control-loop.sh [TARGETS] [TICKS]
set -euo pipefail
cd "$(dirname "$0")/.."
build=build-bench
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" --target bench_control_loop -j"$(nproc)" >/dev/null
exec "$build/bench_control_loop" "$@"
