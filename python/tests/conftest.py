"""Shared fixtures: the taskmaster command-line tool, used as the reference
C++ learner that the Python learners must agree with point for point."""

from __future__ import annotations

import json
import math
import os
import subprocess
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

def live_processes_with(marker: str) -> list[int]:
    """Pids of live (not zombie) processes, other than this one, whose
    command line contains ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


def live_children() -> list[int]:
    """Pids of this process's children that are not zombies."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == os.getpid() and fields[0] != "Z":
            children.append(int(entry.name))
    return children


def wait_until_gone(what: str | Callable[[], list[int]], seconds: float = 10) -> list[int]:
    """Waits until no process is left of ``what`` (a command-line marker, or
    a function listing pids); returns those still there after ``seconds``."""
    probe = (lambda: live_processes_with(what)) if isinstance(what, str) else what
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not probe():
            return []
        time.sleep(0.05)
    return probe()


REPO = Path(__file__).resolve().parents[2]
HELPERS = Path(__file__).resolve().parent / "helpers"


def _find_cli() -> Path | None:
    given = os.environ.get("TASKMASTER_CLI")
    if given:
        return Path(given)
    for preset in ("debug", "release", "cli"):
        candidate = REPO / "build" / preset / "tools" / "taskmaster" / "taskmaster"
        if candidate.exists():
            return candidate
    return None


@pytest.fixture(scope="session")
def cli() -> Path:
    """Path of the taskmaster tool; the test is skipped without it, or fails
    when TASKMASTER_REQUIRE_CLI is set (as the project's test script does)."""
    path = _find_cli()
    if path is None or not path.exists():
        if os.environ.get("TASKMASTER_REQUIRE_CLI"):
            pytest.fail("the taskmaster tool is required (TASKMASTER_REQUIRE_CLI) but was not found")
        pytest.skip("the taskmaster tool is not built (set TASKMASTER_CLI)")
    return path


def decode_number(value: Any) -> Any:
    """A value of a history file: "nan"/"inf"/"-inf" strings back to floats, lists recursively."""
    if isinstance(value, str) and value in ("nan", "inf", "-inf"):
        return float(value)
    if isinstance(value, list):
        return [decode_number(v) for v in value]
    return value


def run_cli(cli: Path, arguments: list[str], history: Path, timeout: float = 120) -> list[dict]:
    """Runs ``taskmaster run ARGUMENTS --history HISTORY -q`` and returns the history's events."""
    command = [str(cli), "run", "-q", "--history", str(history), "--overwrite", *arguments]
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise AssertionError(f"{command} exited {result.returncode}: {result.stderr}")
    return read_events(history)


def read_events(history: Path) -> list[dict]:
    """The events of a history file (the header dropped), values decoded."""
    events = []
    with open(history) as f:
        for number, line in enumerate(f):
            if number == 0:
                continue
            event = json.loads(line)
            for key in ("x", "y"):
                if key in event:
                    event[key] = decode_number(event[key])
            events.append(event)
    return events


def replay_asks(
    learner: Any,
    events: list[dict],
    x_of: Callable[[Any], Any] = lambda x: x,
) -> int:
    """Drives ``learner`` through a recorded run: ``ask(1)`` at every ask
    event (asserting the learner proposes the recorded point, compared with
    ``x_of`` applied to the recorded x) and ``tell`` at every tell event.
    Returns the number of asks checked."""
    asked: dict[int, Any] = {}
    count = 0
    for event in events:
        if event["e"] == "ask":
            points, _ = learner.ask(1)
            expected = x_of(event["x"])
            assert len(points) == 1, f"ask {event['step']}: the learner proposed {points}"
            assert same_point(points[0], expected), (
                f"ask {event['step']}: the Python learner asked {points[0]!r}, "
                f"the C++ learner {expected!r}"
            )
            asked[event["id"]] = points[0]
            count += 1
        elif event["e"] == "tell":
            learner.tell(asked[event["id"]], event["y"])
    return count


def same_point(a: Any, b: Any) -> bool:
    """Exact equality of points (numbers or sequences of numbers), NaN equal to NaN."""
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same_point(p, q) for p, q in zip(a, b))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


@pytest.fixture
def history(tmp_path: Path) -> Iterator[Path]:
    """A history file path in a fresh temporary directory."""
    yield tmp_path / "run.jsonl"
