#!/usr/bin/env bash
# Builds the project and runs the default job: `taskmaster demo` samples a
# bundled 2D function with sharp features through a bundled worker on all
# cores, shows progress, writes the history and a plot, and replays the
# history to show the run is exact. Extra arguments go to `taskmaster demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release -DTASKMASTER_BUILD_TOOLS=ON >/dev/null
cmake --build --preset release -j "$(nproc)" --target taskmaster_cli
exec build/release/tools/taskmaster/taskmaster demo "$@"
