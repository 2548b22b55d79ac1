#!/usr/bin/env bash
# run.sh: the main job on a fresh Debian machine: installs what is missing,
# builds, and runs the daemon on its embedded defaults with the seed's
# example deployment applied. It prints how to send the deployment a
# prediction once it is Available, and how to point kubectl at it.
# Extra arguments go to `servescale serve` (e.g. --api-port 0).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
state="${SERVESCALE_STATE_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/servescale}"
echo "servescale: state in $state; kubectl: export KUBECONFIG=$state/kubeconfig; stop with Ctrl-C"
exec build/servescale serve --state-dir "$state" -f examples/seldon-0.2.7-hpaspec.json "$@"
