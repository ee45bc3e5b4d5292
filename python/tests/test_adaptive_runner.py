"""python-adaptive's own runners drive taskmaster's learners unchanged.

``adaptive.runner.simple``, ``adaptive.BlockingRunner`` (with thread and
process pools) and ``adaptive.Runner`` get taskmaster learners where they
expect python-adaptive's; the runs must reach their goals and the learned
values must be the function's. Each learner module is used when it imports
(some are written at the same time as this test); the whole file is skipped
without python-adaptive.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import importlib
import math
import multiprocessing
import operator
import pickle
import random
from dataclasses import dataclass
from typing import Any, Callable

import pytest

adaptive = pytest.importorskip("adaptive")
from adaptive.runner import BlockingRunner, _info_text, replay_log, simple  # noqa: E402

from taskmaster.learner.balancing_learner import BalancingLearner  # noqa: E402
from taskmaster.learner.data_saver import DataSaver  # noqa: E402
from taskmaster.learner.sequence_learner import SequenceLearner  # noqa: E402

# --- functions (module level: process pools pickle them by name) -------------------


def peak(x: float, a: float = 0.02) -> float:
    return x + a**2 / (a**2 + x**2)


def wave(x: float) -> float:
    return math.sin(4 * x)


def ring(xy: tuple[float, float]) -> float:
    x, y = xy
    return x + math.exp(-((x * x + y * y - 0.5**2) ** 2) / 0.01)


def ball(p: tuple[float, ...]) -> float:
    return math.exp(-sum(c * c for c in p) / 0.3)


def noise(seed: int) -> float:
    return random.Random(seed).gauss(1.0, 0.5)


def noisy_line(seed_x: tuple[int, float]) -> float:
    seed, x = seed_x
    return x + random.Random(seed).gauss(0.0, 0.05)


def measured(x: float) -> dict:
    return {"y": wave(x), "twice": 2 * wave(x)}


def square(x: float) -> float:
    return x * x


# --- the learners -------------------------------------------------------------------


def optional(module: str, name: str) -> Any:
    """taskmaster.learner.<module>.<name>, or None when that module does not import (yet)."""
    try:
        return getattr(importlib.import_module(f"taskmaster.learner.{module}"), name)
    except (ImportError, AttributeError):
        return None


@dataclass
class Case:
    name: str
    make: Callable[[], Any]
    check: Callable[[Any], None]
    loss_goal: float | None = None
    # python-adaptive's IntegratorLearner.remove_unfinished keeps its pending points.
    takes_back_pending: bool = True


def values_are(function: Callable[[Any], Any]) -> Callable[[Any], None]:
    def check(learner: Any) -> None:
        assert learner.data, "no data"
        for x, y in learner.data.items():
            assert y == function(x), (x, y)

    return check


def check_balancing(learner: BalancingLearner) -> None:
    assert all(child.npoints > 0 for child in learner.learners)
    for (i, x), y in learner.data.items():
        assert y == [peak, wave][i](x)


def check_data_saver(learner: DataSaver) -> None:
    values_are(wave)(learner)
    assert learner.extra_data.keys() == learner.data.keys()
    assert all(learner.extra_data[x] == measured(x) for x in learner.data)


def check_sequence(learner: SequenceLearner) -> None:
    assert all(y == square(learner.sequence[i]) for i, y in learner.data.items())


def check_average(learner: Any) -> None:
    values_are(noise)(learner)


def check_average_1d(learner: Any) -> None:
    assert learner.data and all(-1 <= x <= 1 for x in learner.data)
    assert learner.nsamples >= learner.npoints


def build_cases() -> list[Case]:
    Learner1D = optional("learner1D", "Learner1D")
    cases = [
        Case("Learner1D", lambda: Learner1D(peak, bounds=(-1, 1)), values_are(peak), loss_goal=0.05),
        Case(
            "BalancingLearner",
            lambda: BalancingLearner([Learner1D(peak, (-1, 1)), Learner1D(wave, (-1, 1))]),
            check_balancing,
            loss_goal=0.05,
        ),
        Case(
            "DataSaver",
            lambda: DataSaver(Learner1D(measured, bounds=(-1, 1)), operator.itemgetter("y")),
            check_data_saver,
            loss_goal=0.05,
        ),
        Case("SequenceLearner", lambda: SequenceLearner(square, [k / 7 for k in range(300)]), check_sequence, 0.0),
    ]
    Learner2D = optional("learner2D", "Learner2D")
    if Learner2D is not None:
        cases.append(Case("Learner2D", lambda: Learner2D(ring, bounds=[(-1, 1), (-1, 1)]), values_are(ring)))
    LearnerND = optional("learnerND", "LearnerND")
    if LearnerND is not None:
        cases.append(Case("LearnerND", lambda: LearnerND(ball, bounds=[(-1, 1)] * 3), values_are(ball)))
    AverageLearner = optional("average_learner", "AverageLearner")
    if AverageLearner is not None:
        cases.append(Case("AverageLearner", lambda: AverageLearner(noise, atol=0.1), check_average, loss_goal=1.0))
    AverageLearner1D = optional("average_learner1D", "AverageLearner1D")
    if AverageLearner1D is not None:
        cases.append(
            Case("AverageLearner1D", lambda: AverageLearner1D(noisy_line, bounds=(-1, 1)), check_average_1d)
        )
    IntegratorLearner = optional("integrator_learner", "IntegratorLearner")
    if IntegratorLearner is not None:
        cases.append(
            Case(
                "IntegratorLearner",
                lambda: IntegratorLearner(wave, bounds=(0, 2), tol=1e-10),
                values_are(wave),
                takes_back_pending=False,
            )
        )
    return cases


CASES = build_cases()
IDS = [case.name for case in CASES]
NPOINTS = 40


def reached(learner: Any, npoints: int) -> None:
    assert learner.npoints >= npoints, f"{learner.npoints} points, goal {npoints}"


# --- the runners --------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_function_pickles(case):
    learner = case.make()
    points, _ = learner.ask(2)
    function = pickle.loads(pickle.dumps(learner.function))
    assert [function(x) for x in points] == [learner.function(x) for x in points]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_simple_npoints_goal(case):
    learner = case.make()
    simple(learner, npoints_goal=NPOINTS)
    reached(learner, NPOINTS)
    case.check(learner)


@pytest.mark.parametrize("case", [c for c in CASES if c.loss_goal is not None], ids=lambda c: c.name)
def test_simple_loss_goal(case):
    learner = case.make()
    simple(learner, loss_goal=case.loss_goal, points_per_ask=3)
    assert learner.loss() <= case.loss_goal
    case.check(learner)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_blocking_runner_with_threads(case):
    learner = case.make()
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as executor:
        runner = BlockingRunner(learner, npoints_goal=NPOINTS, executor=executor)
    reached(learner, NPOINTS)
    assert not runner.failed
    # The runner took back what it had not finished.
    assert not learner.pending_points or not case.takes_back_pending
    case.check(learner)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_blocking_runner_with_processes(case):
    learner = case.make()
    context = multiprocessing.get_context("fork")
    with concurrent.futures.ProcessPoolExecutor(max_workers=2, mp_context=context) as executor:
        BlockingRunner(learner, npoints_goal=NPOINTS, executor=executor)
    reached(learner, NPOINTS)
    assert not learner.pending_points or not case.takes_back_pending
    case.check(learner)


@pytest.mark.parametrize("case", [c for c in CASES if c.loss_goal is not None], ids=lambda c: c.name)
def test_blocking_runner_loss_goal(case):
    learner = case.make()
    with concurrent.futures.ThreadPoolExecutor(max_workers=3) as executor:
        BlockingRunner(learner, loss_goal=case.loss_goal, executor=executor)
    assert learner.loss() <= case.loss_goal
    case.check(learner)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_async_runner(case):
    learner = case.make()
    loop = asyncio.new_event_loop()
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=3) as executor:
            runner = adaptive.Runner(learner, npoints_goal=NPOINTS, executor=executor, ioloop=loop)
            loop.run_until_complete(runner.task)
        assert runner.status() == "finished"
        info = _info_text(runner)
        assert f"# of points: {learner.npoints}" in info
    finally:
        loop.close()
    reached(learner, NPOINTS)
    case.check(learner)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_replay_log(case):
    learner = case.make()
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as executor:
        runner = BlockingRunner(learner, npoints_goal=NPOINTS, executor=executor, log=True)
    again = case.make()
    replay_log(again, runner.log)
    assert again.data == learner.data


def test_sequence_learner_done_goal_and_retries():
    class FailOnce:
        def __init__(self) -> None:
            self.failed = False

        def __call__(self, value: Any) -> Any:
            if not self.failed:
                self.failed = True
                raise RuntimeError("first call fails")
            return value

    learner = SequenceLearner(FailOnce(), [{1: 1}, {2: 2}])  # unhashable elements
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as executor:
        runner = BlockingRunner(learner, goal=SequenceLearner.done, executor=executor, retries=1)
    assert learner.done() and not runner.failed
    assert learner.result() == [{1: 1}, {2: 2}]


def test_balancing_learner_npoints_goal_counts_all_learners():
    # python-adaptive's auto_goal gives its own BalancingLearner "every learner
    # has npoints_goal points"; it does not recognise taskmaster's, which get
    # the plain "npoints >= npoints_goal", the total over the learners.
    Learner1D = optional("learner1D", "Learner1D")
    learner = BalancingLearner([Learner1D(peak, (-1, 1)), Learner1D(wave, (-1, 1))])
    simple(learner, npoints_goal=30)
    assert learner.npoints == 30
