#!/usr/bin/env python3
"""Speed of the Python package's learners, side by side with python-adaptive.

Each timed run happens in a fresh Python process (the figure a user meets:
no warm heap, no earlier run), and a figure is the median over several such
processes. The loop is the one a user writes:

    xs, _ = learner.ask(1); learner.tell(xs[0], f(xs[0]))

with a cheap function, so what is measured is the learner and the binding.
When python-adaptive is importable (see bench/README.md for setting it up on
a development machine), the same loop runs on its learners in the same run
and the ratio is printed; otherwise the ratio is taken against the figure
recorded for it on this machine kind, and the output says so.

    python3 bench/python_learners.py [--quick] [--json] [--processes N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from typing import Any, Callable

from python_report import Report

# python-adaptive 1.5.2 on a 2-core Debian 12 VM, the same loop in a fresh
# process (bench/README.md, 2026-12-02): used when it is not importable.
RECORDED_ADAPTIVE = {"learner1d": 10_246.0, "learner2d": 355.0}


def peak(x: float) -> float:
    return x + 1e-4 / (1e-4 + x * x)


def ring(xy: tuple[float, float]) -> float:
    x, y = xy
    r = x * x + y * y - 0.5625
    return x + 2.718281828459045 ** (-r * r / 0.0016)


def child(library: str, kind: str, n: int, batch: int = 1) -> dict[str, float]:
    """Runs one measurement in this (fresh) process and returns its figures.

    The learner kinds run ask(batch) and a tell per point; besides points per
    wall-clock second they report points per second of the process's CPU time
    (what bench/learner_1d and bench/learner_2d compare with on a shared machine)."""
    module: Any
    if library == "taskmaster":
        import taskmaster as module
    else:
        import adaptive as module
    if kind == "learner1d":
        learner = module.Learner1D(peak, bounds=(-1, 1))
        function: Callable[[Any], float] = peak
    elif kind == "learner2d":
        learner = module.Learner2D(ring, bounds=[(-1, 1), (-1, 1)])
        function = ring
    elif kind == "learnernd2d":
        learner = module.LearnerND(ring, bounds=[(-1, 1), (-1, 1)])
        function = ring
    elif kind == "tell_many":
        import numpy as np

        xs = np.random.default_rng(1).uniform(-1, 1, n)
        ys = xs * xs
        learner = module.Learner1D(peak, bounds=(-1, 1))
        start = time.perf_counter()
        learner.tell_many(xs, ys)
        return {"seconds": time.perf_counter() - start}
    elif kind == "call":
        learner = module.Learner1D(peak, bounds=(-1, 1))
        for _ in range(1000):
            xs, _ = learner.ask(1)
            learner.tell(xs[0], peak(xs[0]))
        loss = learner.loss
        start = time.perf_counter()
        for _ in range(n):
            loss()
        per_call = (time.perf_counter() - start) / n

        class Plain:
            def loss(self) -> float:
                return 0.0

        plain = Plain().loss
        start = time.perf_counter()
        for _ in range(n):
            plain()
        return {"binding_ns": per_call * 1e9, "python_ns": (time.perf_counter() - start) / n * 1e9}
    else:
        raise SystemExit(f"unknown kind {kind}")
    ask, tell = learner.ask, learner.tell
    start, cpu_start = time.perf_counter(), time.process_time()
    if batch == 1:
        for _ in range(n):
            xs, _ = ask(1)
            tell(xs[0], function(xs[0]))
    else:
        told = 0
        while told < n:
            xs, _ = ask(min(batch, n - told))
            for x in xs:
                tell(x, function(x))
            told += len(xs)
    return {"points_per_s": n / (time.perf_counter() - start),
            "cpu_points_per_s": n / (time.process_time() - cpu_start)}


def measure(library: str, kind: str, n: int, processes: int) -> list[dict[str, float]]:
    """The figures of `processes` fresh processes, each running one measurement."""
    results = []
    for _ in range(processes):
        out = subprocess.run(
            [sys.executable, __file__, "--child", library, kind, str(n)],
            check=True, capture_output=True, text=True,
        )
        results.append(json.loads(out.stdout))
    return results


def adaptive_importable() -> bool:
    return subprocess.run([sys.executable, "-c", "import adaptive"], capture_output=True).returncode == 0


def main() -> int:
    if len(sys.argv) >= 2 and sys.argv[1] == "--child":
        batch = int(sys.argv[5]) if len(sys.argv) > 5 else 1
        print(json.dumps(child(sys.argv[2], sys.argv[3], int(sys.argv[4]), batch)))
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run (exit 0 whatever the figures)")
    parser.add_argument("--json", action="store_true", help="one JSON object per figure")
    parser.add_argument("--processes", type=int, default=None, help="fresh processes per figure (default 5, quick 1)")
    args = parser.parse_args()
    processes = args.processes or (1 if args.quick else 5)
    report = Report(args.json, args.quick)
    with_adaptive = adaptive_importable()
    sizes = {"learner1d": 10_000 if args.quick else 100_000, "learner2d": 1_000 if args.quick else 10_000}
    targets = {"learner1d": 30.0, "learner2d": 300.0}

    for kind in ("learner1d", "learner2d"):
        n = sizes[kind]
        ours = statistics.median(r["points_per_s"] for r in measure("taskmaster", kind, n, processes))
        report.figure(f"{kind}_taskmaster", ours, "points/s", points=n, processes=processes,
                      note="ask(1)/tell through Python, fresh process, median")
        if with_adaptive:
            # python-adaptive's Learner2D takes about 30 s for 1e4 points: one process is enough.
            runs = processes if kind == "learner1d" else 1
            theirs = statistics.median(r["points_per_s"] for r in measure("adaptive", kind, n, runs))
            source = "measured in this run"
        else:
            theirs, runs = RECORDED_ADAPTIVE[kind], 0
            source = "recorded figure (python-adaptive not importable)"
        report.figure(f"{kind}_adaptive", theirs, "points/s", points=n, processes=runs, note=source)
        report.figure(f"{kind}_ratio", ours / theirs, "x", target=targets[kind], points=n,
                      note=f"taskmaster / python-adaptive ({source})")

    n = 100_000 if args.quick else 1_000_000
    seconds = statistics.median(r["seconds"] for r in measure("taskmaster", "tell_many", n, processes))
    report.figure("learner1d_tell_many", seconds, "s", target=1.0, lower_is_better=True, points=n,
                  note="tell_many of random points from numpy arrays, fresh process")

    calls = measure("taskmaster", "call", 1_000_000 if not args.quick else 100_000, processes)
    report.figure("binding_call", statistics.median(r["binding_ns"] for r in calls), "ns",
                  note="learner.loss(): one call into the compiled module")
    report.figure("python_call", statistics.median(r["python_ns"] for r in calls), "ns",
                  note="a plain Python method returning a constant, for scale")
    if report.missed and not args.quick:
        print(f"missed: {', '.join(report.missed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
