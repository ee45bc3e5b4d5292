"""taskmaster.Simulated: N virtual workers on a virtual clock, from Python."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

import taskmaster
from conftest import HELPERS

sys.path.insert(0, str(HELPERS))
from peak1d import f as peak  # noqa: E402


def test_fixed_durations_give_the_exact_virtual_time() -> None:
    # Points of 1 s each on 8 workers that are never idle: after the 80th
    # result the 7 points in flight finish (as in any run), 87 in 11 s.
    learner = taskmaster.Learner1D(peak, bounds=(-1, 1))
    summary = taskmaster.run(learner, npoints_goal=80, executor=taskmaster.Simulated(8, "fixed:1"), progress=False)
    assert summary.reason == "goal reached"
    assert summary.npoints == summary.asked == 87
    assert summary.virtual_time == pytest.approx(11.0)
    assert summary.utilization == pytest.approx(87 / (8 * 11))
    assert all(y == peak(x) for x, y in learner.data.items())


def test_a_simulation_is_determined_by_its_seed(tmp_path) -> None:
    def simulate(seed: int, history: Path) -> tuple[list, float]:
        learner = taskmaster.Learner1D(peak, bounds=(-1, 1))
        executor = taskmaster.Simulated(workers=16, duration="lognormal:0,1", seed=seed)
        summary = taskmaster.run(learner, npoints_goal=300, executor=executor, history=history, progress=False)
        assert 0 < summary.utilization <= 1
        told = [e["id"] for e in map(json.loads, history.read_text().splitlines()[1:]) if e["e"] == "tell"]
        return told, summary.virtual_time

    first, first_time = simulate(1, tmp_path / "a.jsonl")
    again, again_time = simulate(1, tmp_path / "b.jsonl")
    other, other_time = simulate(2, tmp_path / "c.jsonl")
    assert first == again and first_time == again_time
    # Other durations: results in another order, at other times.
    assert other != first
    assert other_time != first_time
    # The history replays exactly and says the run was simulated.
    taskmaster.replay(tmp_path / "a.jsonl", taskmaster.Learner1D(peak, bounds=(-1, 1)))
    header = json.loads((tmp_path / "a.jsonl").read_text().splitlines()[0])
    assert header["meta"]["simulated"] == {"workers": 16, "duration": "lognormal:0,1", "seed": 1}


def test_more_virtual_workers_finish_sooner_in_virtual_time() -> None:
    # 1 s a point: the virtual time is the rounds of `workers` points asked.
    for workers in (1, 4, 64):
        learner = taskmaster.Learner1D(peak, bounds=(-1, 1))
        summary = taskmaster.run(learner, npoints_goal=256, executor=taskmaster.Simulated(workers), progress=False)
        assert summary.asked == 256 + workers - 1
        assert summary.virtual_time == pytest.approx(math.ceil(summary.asked / workers))


def test_a_failing_point_is_recorded_and_the_simulation_goes_on() -> None:
    def sometimes_fails(x: float) -> float:
        if 0.2 < x < 0.3:
            raise ValueError("no value here")
        return math.sin(5 * x)

    learner = taskmaster.Learner1D(sometimes_fails, bounds=(-1, 1))
    summary = taskmaster.run(learner, npoints_goal=100, executor=taskmaster.Simulated(4), progress=False)
    assert summary.npoints >= 100
    assert summary.failed >= 1
    assert any("ValueError: no value here" in why for _, why in summary.failures)


def test_bad_settings_are_named() -> None:
    learner = taskmaster.Learner1D(peak, bounds=(-1, 1))
    with pytest.raises(ValueError, match="lognormal:x"):
        taskmaster.run(learner, npoints_goal=10, executor=taskmaster.Simulated(4, "lognormal:x"), progress=False)
    with pytest.raises(ValueError, match="workers=0"):
        taskmaster.run(learner, npoints_goal=10, executor=taskmaster.Simulated(0), progress=False)
    with pytest.raises(ValueError, match="virtual"):
        taskmaster.run(learner, duration_goal=5, executor=taskmaster.Simulated(4), progress=False)
