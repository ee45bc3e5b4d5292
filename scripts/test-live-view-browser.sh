#!/usr/bin/env bash
# The live view in a real browser (Debian's headless Chromium) during a real
# run: the page loads, its point count grows, the plots draw, the stop button
# works, no console errors. scripts/test.sh runs it after the debug build; on
# its own: scripts/test-live-view-browser.sh [TASKMASTER] (default: the debug
# build's, built if missing).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium-headless-shell >/dev/null && ! command -v chromium >/dev/null; then
  echo "installing chromium-headless-shell"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium-headless-shell
fi

taskmaster=${1:-build/debug/tools/taskmaster/taskmaster}
if [ ! -x "$taskmaster" ]; then
  cmake --preset debug >/dev/null
  cmake --build --preset debug -j "$(nproc)" --target taskmaster_cli
fi
exec /usr/bin/python3 tests/browser/live_view_check.py "$taskmaster" \
  --screenshot "${LIVE_VIEW_SCREENSHOT:-build/live-view.png}"
