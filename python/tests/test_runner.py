"""taskmaster.run, Runner, resume, replay and read_history with real worker
processes, executors, programs and signals."""

from __future__ import annotations

import concurrent.futures
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

import numpy as np
import pytest

import taskmaster
from conftest import HELPERS, live_children, run_cli, wait_until_gone

sys.path.insert(0, str(HELPERS))
from peak1d import f as peak  # noqa: E402


def events_of(history: Path) -> list[dict]:
    return [json.loads(line) for line in history.read_text().splitlines()[1:]]


def test_run_in_worker_processes_records_a_replayable_history(tmp_path) -> None:
    history = tmp_path / "run.jsonl"
    learner = taskmaster.Learner1D(peak, bounds=(-1, 1))
    summary = taskmaster.run(learner, npoints_goal=300, ntasks=2, history=history, progress=False)
    assert summary.reason == "goal reached"
    assert learner.npoints >= 300 == summary.npoints - (summary.npoints - 300)
    assert all(learner.data[x] == peak(x) for x in learner.data)
    events = taskmaster.read_history(history)
    tells = [e for e in events if e["e"] == "tell"]
    assert len(tells) == learner.npoints
    assert {e["worker"] for e in tells} <= {0, 1}
    assert events.events[-1]["e"] == "end"
    counters = taskmaster.replay(history, taskmaster.Learner1D(peak, bounds=(-1, 1)))
    assert counters["told"] == learner.npoints
    assert wait_until_gone("taskmaster/_worker.py") == []


def test_replay_says_where_a_history_diverges(tmp_path) -> None:
    history = tmp_path / "run.jsonl"
    taskmaster.run(taskmaster.Learner1D(peak, (-1, 1)), npoints_goal=50, ntasks=1, history=history,
                   progress=False)
    lines = history.read_text().splitlines()
    for i, line in enumerate(lines):
        event = json.loads(line)
        if event.get("e") == "ask" and event["step"] == 20:
            event["x"] = 0.123456
            lines[i] = json.dumps(event)
            edited_line = i + 1
            break
    history.write_text("\n".join(lines) + "\n")
    with pytest.raises(taskmaster.ReplayDivergence) as caught:
        taskmaster.replay(history, taskmaster.Learner1D(peak, (-1, 1)))
    assert caught.value.step == 20
    assert caught.value.line == edited_line
    assert "0.123456" in caught.value.recorded


def test_a_crashing_and_a_failing_function_fail_their_points_and_the_run_goes_on(tmp_path) -> None:
    def fragile(x: float) -> float:
        if 0.1 < x < 0.2:
            os._exit(3)  # the worker process dies
        if -0.2 < x < -0.1:
            raise ArithmeticError("no value here")
        return math.sin(5 * x)

    history = tmp_path / "run.jsonl"
    learner = taskmaster.Learner1D(fragile, (-1, 1))
    summary = taskmaster.run(learner, npoints_goal=120, ntasks=2, retries=1, history=history,
                             progress=False)
    reasons = [why for _, why in summary.failures]
    assert any("exited with status 3" in why for why in reasons), reasons
    assert any("ArithmeticError: no value here" in why for why in reasons), reasons
    assert learner.npoints >= 120
    assert not any(0.1 < x < 0.2 or -0.2 < x < -0.1 for x in learner.data)
    fails = [e for e in events_of(history) if e["e"] == "fail"]
    assert any(e["retry"] for e in fails) and any(not e["retry"] for e in fails)


def crashes_between_0_1_and_0_2(x: float) -> float:
    if 0.1 < x < 0.2:
        os._exit(3)  # the worker process dies
    return math.sin(5 * x)


@pytest.mark.parametrize("prefetch", [None, 0, 2])
def test_worker_processes_are_sent_points_ahead(tmp_path, prefetch) -> None:
    """Each worker holds ``prefetch`` points (1 by default) beyond the one it
    computes; a worker that dies hands on those it had not started."""
    history = tmp_path / "run.jsonl"
    learner = taskmaster.Learner1D(crashes_between_0_1_and_0_2, (-1, 1))
    chosen = {} if prefetch is None else {"prefetch": prefetch}
    summary = taskmaster.run(learner, npoints_goal=150, ntasks=2, history=history, progress=False, **chosen)
    per_worker = 1 + (1 if prefetch is None else prefetch)
    events = taskmaster.read_history(history)
    assert {e["n"] for e in events if e["e"] == "capacity"} == {2 * per_worker}
    in_flight = most = 0
    for e in events:
        in_flight += {"ask": 1, "tell": -1, "fail": -1}.get(e["e"], 0)
        most = max(most, in_flight)
    assert most == 2 * per_worker
    # Only points in the crashing range failed, each with its worker's exit.
    assert summary.failures
    assert all(0.1 < x < 0.2 and "exited with status 3" in why for x, why in summary.failures), summary.failures
    assert learner.npoints >= 150
    assert all(learner.data[x] == math.sin(5 * x) for x in learner.data)
    assert wait_until_gone("taskmaster/_worker.py") == []


def test_a_hanging_function_times_out(tmp_path) -> None:
    def sometimes_hangs(x: float) -> float:
        if x == 0.0:
            time.sleep(60)
        return x * x

    start = time.monotonic()
    learner = taskmaster.Learner1D(sometimes_hangs, (-1, 1))
    summary = taskmaster.run(learner, npoints_goal=20, ntasks=2, timeout=1.0, progress=False)
    assert time.monotonic() - start < 30
    assert [x for x, _ in summary.failures] == [0.0]
    assert "timed out" in summary.failures[0][1]
    assert 0.0 not in learner.data and learner.npoints >= 20


def none_at_zero(x: float) -> Optional[float]:
    return None if x == 0.0 else x * x


@pytest.mark.parametrize("executor", [None, "sequential", "threads"])
def test_a_function_returning_none_fails_that_point_and_the_run_goes_on(executor) -> None:
    chosen = {None: None, "sequential": taskmaster.Sequential(),
              "threads": concurrent.futures.ThreadPoolExecutor(2)}[executor]
    learner = taskmaster.Learner1D(none_at_zero, (-1, 1))
    summary = taskmaster.run(learner, npoints_goal=20, ntasks=2, executor=chosen, progress=False)
    assert summary.failures == [(0.0, "the function returned None")]
    assert 0.0 not in learner.data and learner.npoints >= 20


def test_sigkill_mid_run_then_resume_loses_and_repeats_nothing(tmp_path) -> None:
    history = tmp_path / "run.jsonl"
    child = subprocess.Popen([sys.executable, str(HELPERS / "run_and_wait.py"), str(history), "400", "0.01"],
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "started"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if history.exists() and sum(1 for e in events_of(history) if e["e"] == "tell") >= 40:
            break
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait()
    told_before = {e["id"] for e in events_of(history) if e["e"] == "tell"}
    assert 40 <= len(told_before) < 400
    assert wait_until_gone(str(tmp_path)) == []  # workers see their stdin close and exit

    learner = taskmaster.Learner1D(peak, (-1, 1))
    summary = taskmaster.resume(history, learner, npoints_goal=400, ntasks=2, progress=False)
    assert summary.reason == "goal reached" and learner.npoints >= 400
    events = taskmaster.read_history(history)
    tells = [e["id"] for e in events if e["e"] == "tell"]
    assert len(tells) == len(set(tells)) == learner.npoints  # nothing told twice, nothing lost
    assert told_before <= set(tells)
    asked = [e["x"] for e in events if e["e"] == "ask"]
    assert len(asked) == len(set(asked))
    taskmaster.replay(history, taskmaster.Learner1D(peak, (-1, 1)))


def test_keyboard_interrupt_ends_the_run_cleanly(tmp_path) -> None:
    history = tmp_path / "run.jsonl"
    child = subprocess.Popen([sys.executable, str(HELPERS / "run_and_wait.py"), str(history), "100000", "0.02"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "started"
    time.sleep(1.5)
    child.send_signal(signal.SIGINT)
    _, stderr = child.communicate(timeout=30)
    assert child.returncode != 0 and "KeyboardInterrupt" in stderr
    events = events_of(history)
    assert events[-1]["e"] == "end"
    asked = {e["id"] for e in events if e["e"] == "ask"}
    resolved = {e["id"] for e in events if e["e"] in ("tell", "fail") and not e.get("retry")}
    assert asked == resolved  # the first Ctrl-C waits for the points in flight
    assert wait_until_gone(str(tmp_path)) == []
    learner = taskmaster.Learner1D(peak, (-1, 1))
    taskmaster.resume(history, learner, npoints_goal=len(resolved) + 10, ntasks=2, progress=False)
    assert learner.npoints >= len(resolved) + 10


def test_background_runner_can_be_read_and_cancelled(tmp_path) -> None:
    def slow(x: float) -> float:
        time.sleep(0.005)
        return x**2

    learner = taskmaster.Learner1D(slow, (-1, 1))
    runner = taskmaster.Runner(learner, npoints_goal=10**6, ntasks=2, history=tmp_path / "bg.jsonl",
                               progress=False)
    deadline = time.monotonic() + 30
    while learner.npoints == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    seen = []
    for _ in range(10):
        time.sleep(0.1)
        seen.append(learner.npoints)
        assert all(learner.data[x] == x**2 for x in list(learner.data)[:50])
    assert runner.status() == "running"
    assert seen[-1] > seen[0] > 0
    runner.cancel()
    summary = runner.task.result(timeout=30)
    assert runner.status() == "cancelled"
    assert summary.npoints == learner.npoints
    assert wait_until_gone(str(tmp_path)) == []
    assert wait_until_gone(live_children) == []  # the forked workers too


@pytest.mark.parametrize("pool", [concurrent.futures.ThreadPoolExecutor, concurrent.futures.ProcessPoolExecutor])
def test_any_concurrent_futures_executor(pool) -> None:
    from pool_functions import exp_except_at_zero

    learner = taskmaster.Learner1D(exp_except_at_zero, (-1, 1))
    with pool(max_workers=2) as executor:
        summary = taskmaster.run(learner, npoints_goal=100, executor=executor, progress=False)
    assert learner.npoints >= 100
    assert all(learner.data[x] == math.exp(x) for x in learner.data)
    assert summary.failures == [(0.0, "ValueError: zero")]


def test_a_function_failing_everywhere_ends_the_run_with_the_reason() -> None:
    def local(x: float) -> float:  # plain pickle cannot send it to a process pool
        return x

    learner = taskmaster.Learner1D(local, (-1, 1))
    with concurrent.futures.ProcessPoolExecutor(max_workers=2) as executor:
        with pytest.raises(RuntimeError, match="every one of the first .* points failed.*pickle"):
            taskmaster.run(learner, npoints_goal=100, executor=executor, progress=False)
    assert learner.npoints == 0


def test_a_vectorised_function_gets_whole_batches() -> None:
    sizes = []

    def ring(points: np.ndarray) -> np.ndarray:
        sizes.append(len(points))
        assert points.ndim == 2 and points.shape[1] == 2
        r = (points**2).sum(axis=1) - 0.5625
        return points[:, 0] + np.exp(-r * r / 0.0016)

    learner = taskmaster.Learner2D(None, bounds=[(-1, 1), (-1, 1)])
    summary = taskmaster.run(learner, npoints_goal=2000,
                             executor=taskmaster.Vectorized(ring, max_batch=50), progress=False)
    assert learner.npoints >= 2000 and summary.failed == 0
    assert 1 < max(sizes) <= 50 and len(sizes) < learner.npoints
    x, y = next(iter(learner.data))
    assert learner.data[(x, y)] == pytest.approx(ring(np.array([[x, y]]))[0])


def test_a_program_per_point_and_a_history_from_the_command_line_tool(cli, tmp_path) -> None:
    history = tmp_path / "cli.jsonl"
    program = [sys.executable, str(HELPERS / "peak1d.py"), "{x}"]
    run_cli(cli, ["--learner", "1d", "--bounds", "-1,1", "--goal", "npoints=40", "-j", "2", "--", *program],
            history)
    taskmaster.replay(history, taskmaster.Learner1D(peak, (-1, 1)))
    learner = taskmaster.Learner1D(peak, (-1, 1))
    summary = taskmaster.resume(history, learner, npoints_goal=60, executor=taskmaster.Command(program),
                                ntasks=2, progress=False)
    assert summary.reason == "goal reached" and learner.npoints >= 60
    assert all(learner.data[x] == peak(x) for x in learner.data)
    taskmaster.replay(history, taskmaster.Learner1D(peak, (-1, 1)))


def test_bad_arguments() -> None:
    learner = taskmaster.Learner1D(peak, (-1, 1))
    with pytest.raises(ValueError, match="no goal"):
        taskmaster.run(learner)
    with pytest.raises(TypeError, match="executor"):
        taskmaster.run(learner, npoints_goal=1, executor="threads")
    with pytest.raises(ValueError, match="ntasks"):
        taskmaster.run(learner, npoints_goal=1, ntasks=0)
    with pytest.raises(ValueError, match="retries"):
        taskmaster.run(learner, npoints_goal=1, retries=-1)
    with pytest.raises(ValueError, match="prefetch must be between 0 and 64, got -1"):
        taskmaster.run(learner, npoints_goal=1, prefetch=-1)
    with pytest.raises(ValueError, match="prefetch applies to worker processes"):
        taskmaster.run(learner, npoints_goal=1, executor=taskmaster.Sequential(), prefetch=1)
    assert learner.npoints == 0


def test_a_learner_with_done_runs_until_done() -> None:
    learner = taskmaster.SequenceLearner(lambda x: x * 2, [1, 2, 3, 4, 5])
    summary = taskmaster.run(learner, ntasks=2, progress=False)
    assert learner.done() and summary.npoints == 5
    assert learner.result() == [2, 4, 6, 8, 10]


# Values whose every bit must survive the trip from a worker process to the
# learner: a float's shortest repr, the extremes, a negative zero, a NumPy
# scalar, the special values and a non-float.
EXACT_VALUES = [0.1 + 0.2, 1 / 3, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, -0.0,
                -1.5e-300, np.float64(0.7), math.nan, math.inf, -math.inf, 7]


def exact_value(i: int) -> object:
    return EXACT_VALUES[i]


def test_worker_results_reach_the_learner_bit_for_bit() -> None:
    learner = taskmaster.SequenceLearner(exact_value, list(range(len(EXACT_VALUES))))
    taskmaster.run(learner, ntasks=2, progress=False)
    got = learner.result()
    for want, value in zip(EXACT_VALUES, got):
        if math.isnan(want):
            assert math.isnan(value)
        else:
            assert float(value).hex() == float(want).hex(), (want, value)
            assert math.copysign(1, value) == math.copysign(1, want)


def test_sequential_evaluation_in_this_process(tmp_path) -> None:
    calls = []

    def f(x: float) -> float:
        calls.append(x)
        if x == 0.0:
            raise ZeroDivisionError("at zero")
        return x**3

    learner = taskmaster.Learner1D(f, (-1, 1))
    summary = taskmaster.run(learner, npoints_goal=500, executor=taskmaster.Sequential(),
                             history=tmp_path / "seq.jsonl", progress=False)
    assert learner.npoints == 500 and summary.reason == "goal reached"
    assert len(calls) == 501  # every point once, in this process
    assert summary.failures == [(0.0, "ZeroDivisionError: at zero")]
    taskmaster.replay(tmp_path / "seq.jsonl", taskmaster.Learner1D(f, (-1, 1)))


def test_npoints_goal_counts_data_the_learner_already_has() -> None:
    learner = taskmaster.Learner1D(peak, (-1, 1))
    learner.tell_many([-1.0, 0.0, 1.0], [peak(-1.0), peak(0.0), peak(1.0)])
    summary = taskmaster.run(learner, npoints_goal=10, executor=taskmaster.Sequential(), progress=False)
    assert learner.npoints == 10 and summary.told == 7
