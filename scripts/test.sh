#!/usr/bin/env bash
# Builds everything and runs every test: a debug build with warnings as
# errors (packaging, MPI and benchmark tests; the browser and Python tests),
# the unit tests under AddressSanitizer and UndefinedBehaviorSanitizer, then a
# ThreadSanitizer build of the concurrent parts.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

jobs=$(nproc)

# A one-node SLURM cluster for the SlurmMaster tests, stopped however this ends.
slurm_dir=$(mktemp -d /tmp/taskmaster-slurm.XXXXXX)
trap 'scripts/slurm-cluster.sh stop "$slurm_dir"' EXIT
scripts/slurm-cluster.sh start "$slurm_dir"
export SLURM_CONF="$slurm_dir/slurm.conf" TASKMASTER_REQUIRE_SLURM=1

# The GoogleTest programs run once, in the AddressSanitizer build below: the
# plain debug build gives the tool to the browser and Python tests and runs
# the tests that a sanitizer build cannot (packaging, MPI, the benchmarks).
echo "== debug build: the tool, benchmarks, examples; packaging, MPI and benchmark tests"
cmake --preset debug -DTASKMASTER_BUILD_TESTS=ON -DTASKMASTER_BUILD_UNIT_TESTS=OFF \
  -DTASKMASTER_BUILD_BENCH=ON -DTASKMASTER_BUILD_EXAMPLES=ON >/dev/null
cmake --build --preset debug -j "$jobs"
ctest --test-dir build/debug --output-on-failure -j "$jobs"

echo "== the live view in headless Chromium during a real run"
scripts/test-live-view-browser.sh build/debug/tools/taskmaster/taskmaster

echo "== Python package: pip install into a fresh venv, then its tests"
# The tests compare the Python learners with the C++ ones through the
# taskmaster tool of the debug build.
venv="$PWD/build/venv"
rm -rf "$venv"
/usr/bin/python3 -m venv --system-site-packages "$venv"
"$venv/bin/pip" install --no-build-isolation -q .
(cd / && "$venv/bin/python" -c 'import taskmaster; print("imported", taskmaster.__file__)')
TASKMASTER_CLI="$PWD/build/debug/tools/taskmaster/taskmaster" TASKMASTER_REQUIRE_CLI=1 \
  "$venv/bin/python" -m pytest -q -p no:cacheprovider --timeout 300 python/tests

echo "== AddressSanitizer + UndefinedBehaviorSanitizer build, every GoogleTest program"
cmake --preset asan >/dev/null
cmake --build --preset asan -j "$jobs"
ctest --preset asan -j "$jobs"

echo "== ThreadSanitizer build, concurrency tests"
cmake --preset tsan >/dev/null
cmake --build --preset tsan -j "$jobs" --target test_thread_master test_batch_master test_loop test_replay test_resume killable_run test_process_master test_command_master test_stdio_master json_lines_worker test_history_writers test_out_of_process_engine
# TSan needs a narrower address-space randomisation than recent kernels use.
setarch "$(uname -m)" -R ctest --preset tsan -j "$jobs"
