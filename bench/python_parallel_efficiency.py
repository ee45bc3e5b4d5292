"""Parallel efficiency of taskmaster's Python learners and python-adaptive's,
driven the same way on N virtual workers.

python-adaptive's runner asks its learner for as many points as there are
free workers, waits for the first result, tells it and asks again. Its
runners take an executor but keep no clock of their own, so this program
drives both libraries' learners with that same policy on a virtual clock:
every point takes 1 virtual second (``--duration`` for others), results
are told in the order of their virtual completion (those completing at the
same time together, as ``concurrent.futures.wait`` hands them back), and
the run stops when the learner's goal first holds. efficiency(N) = T1 / (N
x TN), TN the virtual time at which the goal first held with N workers (as
bench/parallel_efficiency defines it for the C++ learners).

Usage::

    PYTHONPATH=python:ADAPTIVE_PATH python3 bench/python_parallel_efficiency.py
    python3 bench/python_parallel_efficiency.py --quick --json
"""

from __future__ import annotations

import argparse
import heapq
import math
import random
import sys
import time
from typing import Any, Callable, Optional

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from python_report import Report  # noqa: E402


def peak(x: float) -> float:
    a = 0.01
    return x + a * a / (a * a + x * x)


def ring(xy: tuple[float, float]) -> float:
    x, y = xy
    r = x * x + y * y - 0.75 * 0.75
    return x + math.exp(-r * r / 0.2**4)


def inverse_sqrt(x: float) -> float:
    return math.inf if x == 0 else 1 / math.sqrt(x)


def cos100(x: float) -> float:
    return math.cos(100 * x)


def durations(text: str, seed: int) -> Callable[[], float]:
    """A seeded draw of task durations: fixed:S or lognormal:MU,SIGMA."""
    kind, _, args = text.partition(":")
    values = [float(v) for v in args.split(",")] if args else []
    rng = random.Random(seed)
    if kind == "fixed" and len(values) == 1:
        return lambda: values[0]
    if kind == "lognormal" and len(values) == 2:
        return lambda: rng.lognormvariate(values[0], values[1])
    raise SystemExit(f"--duration {text}: expected fixed:S or lognormal:MU,SIGMA")


def time_to_goal(learner: Any, function: Callable[[Any], Any], done: Callable[[Any], bool], workers: int,
                 duration: Callable[[], float], max_points: int) -> tuple[float, int]:
    """Virtual seconds until ``done(learner)`` first holds, and points told by then."""
    now, sequence, told = 0.0, 0, 0
    running: list = []  # (finish time, order of submission, x)
    while True:
        free = workers - len(running)
        if free > 0:
            points, _ = learner.ask(free)
            for x in points:
                heapq.heappush(running, (now + duration(), sequence, x))
                sequence += 1
        if not running or told >= max_points:
            return math.inf, told
        now = running[0][0]
        while running and running[0][0] == now:
            _, _, x = heapq.heappop(running)
            learner.tell(x, function(x))
            told += 1
        if done(learner):
            return now, told


def cases(quick: bool, library: Any) -> list[tuple[str, str, Callable[[], Any], Callable, Callable, tuple]]:
    """(name, goal, learner factory, function, goal predicate, worker counts)."""
    loss_1d = 2e-3 if quick else 2e-4
    loss_2d = 1e-2 if quick else 5e-3
    tol = 1e-6 if quick else 1e-8
    many = (1, 2, 8) if quick else (1, 2, 8, 64, 512)
    few = (1, 2, 8) if quick else (1, 2, 8, 64)
    return [
        ("1d", f"peak, loss <= {loss_1d:g}", lambda: library.Learner1D(peak, bounds=(-1, 1)), peak,
         lambda l: l.loss() <= loss_1d, many),
        ("2d", f"ring, loss <= {loss_2d:g}", lambda: library.Learner2D(ring, bounds=[(-1, 1), (-1, 1)]), ring,
         lambda l: l.loss() <= loss_2d, few),
        ("integrator 1/sqrt", f"tol {tol:g}", lambda: library.IntegratorLearner(inverse_sqrt, (0, 1), tol),
         inverse_sqrt, lambda l: l.done(), many),
        ("integrator cos100", f"tol {tol:g}", lambda: library.IntegratorLearner(cos100, (0, 1), tol),
         cos100, lambda l: l.done(), many),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small goals, N <= 8 (exit 0 whatever the figures)")
    parser.add_argument("--json", action="store_true", help="one JSON object per figure")
    parser.add_argument("--duration", default="fixed:1", help="task durations: fixed:S or lognormal:MU,SIGMA")
    args = parser.parse_args()
    report = Report(args.json, args.quick)
    import taskmaster

    libraries = [("taskmaster", taskmaster)]
    try:
        import adaptive

        libraries.append(("adaptive", adaptive))
    except ImportError:
        print("python-adaptive is not importable: only taskmaster's learners are measured", file=sys.stderr)
    max_points = 20_000 if args.quick else 200_000
    for library_name, library in libraries:
        for name, goal, make, function, done, counts in cases(args.quick, library):
            t1: Optional[float] = None
            for workers in counts:
                start = time.process_time()
                learner = make()
                try:
                    seconds, points = time_to_goal(learner, function, done, workers, durations(args.duration, 1),
                                                   max_points)
                    outcome = ""
                except Exception as error:  # a learner that breaks under parallel use: say so, go on
                    seconds, points = math.inf, len(learner.data)
                    outcome = f"; raised {type(error).__name__} {error}".rstrip()
                cpu = time.process_time() - start
                t1 = seconds if workers == 1 else t1
                efficiency = t1 / (workers * seconds) if t1 and math.isfinite(seconds) else 0.0
                report.figure(f"{library_name}_{name.replace(' ', '_').replace('/', '')}_efficiency_{workers}",
                              efficiency, "ratio", library=library_name, learner=name, goal=goal, workers=workers,
                              duration=args.duration, points=points, virtual_seconds=seconds,
                              cpu_seconds=round(cpu, 3), failed=bool(outcome),
                              note=f"{library_name} {name} ({goal}), {workers} workers: {points} points, "
                                   f"{seconds:g} virtual s, {cpu:.1f} s CPU{outcome}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
