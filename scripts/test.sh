#!/usr/bin/env bash
# Builds everything and runs every test: a debug build with warnings as
# errors, then a ThreadSanitizer build of the concurrent parts.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

jobs=$(nproc)

echo "== debug build, all tests"
cmake --preset debug >/dev/null
cmake --build --preset debug -j "$jobs"
ctest --test-dir build/debug --output-on-failure -j "$jobs"

echo "== ThreadSanitizer build, concurrency tests"
cmake --preset tsan >/dev/null
cmake --build --preset tsan -j "$jobs" --target test_thread_master test_loop test_replay test_resume killable_run
# TSan needs a narrower address-space randomisation than recent kernels use.
setarch "$(uname -m)" -R ctest --preset tsan -j "$jobs"
