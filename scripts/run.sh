#!/usr/bin/env bash
# run.sh: the main job on a fresh Debian machine: installs what is missing,
# builds, and runs the daemon on its embedded defaults with the seed's
# example deployment applied. It prints how to send the deployment a
# prediction once it is Available, and how to point kubectl at it.
# Extra arguments go to `servescale serve` (e.g. --api-port 0).
# SERVESCALE_BUILD_ONLY=1 stops after the build (scripts/test.sh checks,
# that way, that the build needs none of the tests' dependencies), and
# SERVESCALE_BUILD_DIR names another build directory than build/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build
bdir=${SERVESCALE_BUILD_DIR:-build}
# SERVESCALE_CMAKE_ARGS: more for cmake (the tests add -DSS_WERROR=ON: the
# optimized build's warnings are errors in CI too)
cmake -S . -B "$bdir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSS_TESTS=OFF ${SERVESCALE_CMAKE_ARGS:-} >/dev/null
cmake --build "$bdir" -j"$(nproc)" >/dev/null
[ "${SERVESCALE_BUILD_ONLY:-0}" = 1 ] && { echo "servescale: built in $bdir"; exit 0; }
state="${SERVESCALE_STATE_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/servescale}"
echo "servescale: state in $state; kubectl: export KUBECONFIG=$state/kubeconfig; stop with Ctrl-C"
exec "$bdir"/servescale serve --state-dir "$state" -f examples/seldon-0.2.7-hpaspec.json "$@"
