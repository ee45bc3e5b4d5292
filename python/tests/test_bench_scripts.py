"""The Python benchmark programs' short runs: they start, and print one JSON
object per figure with the keys bench/README.md describes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"


def test_parallel_efficiency_quick_run_prints_its_figures() -> None:
    result = subprocess.run([sys.executable, str(BENCH / "python_parallel_efficiency.py"), "--quick", "--json"],
                            capture_output=True, text=True, timeout=600, check=True)
    figures = [json.loads(line) for line in result.stdout.splitlines()]
    ours = {f["name"]: f for f in figures if f["library"] == "taskmaster"}
    for learner in ("1d", "2d", "integrator_1sqrt", "integrator_cos100"):
        for workers in (1, 2, 8):
            figure = ours[f"taskmaster_{learner}_efficiency_{workers}"]
            assert {"name", "value", "unit", "workers", "points", "virtual_seconds"} <= figure.keys()
            assert not figure["failed"]
            assert 0 < figure["value"] <= 2
    # One worker is the baseline: its efficiency is 1 by definition, and
    # with tasks of 1 s its virtual time is its number of points.
    one = ours["taskmaster_integrator_cos100_efficiency_1"]
    assert one["value"] == 1 and one["virtual_seconds"] == one["points"]
