#!/usr/bin/env bash
# Builds the project and runs the default job: sample a function in parallel,
# stream the history to a file, replay it. Extra arguments go to the program
# (--points N --workers W --history FILE --seed S).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release -DTASKMASTER_BUILD_EXAMPLES=ON >/dev/null
cmake --build --preset release -j "$(nproc)" --target parallel_sampling
exec build/release/examples/parallel_sampling "$@"
