#!/usr/bin/env bash
# run.sh: the main job on a fresh Debian machine: installs what is missing,
# builds, and validates the example deployments, printing them normalized.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
shopt -s nullglob
exec build/servescale validate $(printf -- '-f %s ' examples/*.json examples/*.yaml) "$@"
