#!/usr/bin/env bash
# Builds everything and runs every test: a debug build with warnings as
# errors, the same tests under AddressSanitizer and UndefinedBehaviorSanitizer,
# then a ThreadSanitizer build of the concurrent parts.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

jobs=$(nproc)

echo "== debug build, all tests"
cmake --preset debug -DTASKMASTER_BUILD_TESTS=ON -DTASKMASTER_BUILD_BENCH=ON -DTASKMASTER_BUILD_EXAMPLES=ON >/dev/null
cmake --build --preset debug -j "$jobs"
ctest --test-dir build/debug --output-on-failure -j "$jobs"

echo "== AddressSanitizer + UndefinedBehaviorSanitizer build, all tests"
cmake --preset asan >/dev/null
cmake --build --preset asan -j "$jobs"
ctest --preset asan -j "$jobs"

echo "== ThreadSanitizer build, concurrency tests"
cmake --preset tsan >/dev/null
cmake --build --preset tsan -j "$jobs" --target test_thread_master test_loop test_replay test_resume killable_run
# TSan needs a narrower address-space randomisation than recent kernels use.
setarch "$(uname -m)" -R ctest --preset tsan -j "$jobs"
