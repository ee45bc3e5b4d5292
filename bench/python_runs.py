#!/usr/bin/env python3
"""Throughput and utilization of taskmaster.run, side by side with python-adaptive's runner.

Figures (each a median over fresh processes):

- points/s of a run with a trivial function evaluated in this process
  (taskmaster.Sequential) against python-adaptive's BlockingRunner with its
  SequentialExecutor, on the same Learner1D loop, and their ratio;
- points/s with the function in 2 worker processes (the default), and with
  a 2-worker ProcessPoolExecutor;
- seconds from the call to the first evaluation, 2 worker processes;
- utilization with a 10 ms function and 2 worker processes: time inside the
  function (as it measures itself) / (2 x wall time of the whole call,
  workers' start included), for taskmaster (by default each worker holds
  one point beyond the one it computes; also with ``prefetch=0``) and for
  python-adaptive with a 2-process pool.

When python-adaptive is not importable, its figures are the recorded ones
(bench/README.md) and the output says so.

    python3 bench/python_runs.py [--quick] [--json] [--processes N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

from python_report import Report

RECORDED_ADAPTIVE = {"sequential": 10_700.0, "utilization": 0.72}


def trivial(x: float) -> float:
    return x


def clock(x: float) -> float:
    """The time it was called (perf_counter is the system's monotonic clock,
    the same in every process)."""
    return time.perf_counter()


def ten_ms(x: float) -> float:
    """Sleeps 10 ms and returns the seconds it really spent inside."""
    start = time.perf_counter()
    time.sleep(0.010)
    return time.perf_counter() - start


def child(library: str, kind: str, n: int) -> dict:
    sys.path.insert(0, __file__.rsplit("/", 1)[0])
    if library == "taskmaster":
        import taskmaster

        function = {"utilization": ten_ms, "utilization_no_prefetch": ten_ms, "first": clock}.get(kind, trivial)
        learner = taskmaster.Learner1D(function, (-1, 1))
        executor = taskmaster.Sequential() if kind == "sequential" else None
        chosen = {"prefetch": 0} if kind == "utilization_no_prefetch" else {}
        start = time.perf_counter()
        taskmaster.run(learner, npoints_goal=n, executor=executor, ntasks=2, progress=False, **chosen)
        wall = time.perf_counter() - start
    else:
        import concurrent.futures

        import adaptive

        function = {"utilization": ten_ms, "first": clock}.get(kind, trivial)
        learner = adaptive.Learner1D(function, (-1, 1))
        if kind == "sequential":
            executor = adaptive.runner.SequentialExecutor()
        else:
            executor = concurrent.futures.ProcessPoolExecutor(max_workers=2)
        start = time.perf_counter()
        adaptive.BlockingRunner(learner, npoints_goal=n, executor=executor, ntasks=2)
        wall = time.perf_counter() - start
        executor.shutdown()
    if kind.startswith("utilization"):
        inside = sum(learner.data.values())
        return {"utilization": inside / (2 * wall)}
    if kind == "first":
        return {"first_point_s": min(learner.data.values()) - start}
    return {"points_per_s": n / wall}


def measure(library: str, kind: str, n: int, processes: int) -> list[dict]:
    out = []
    for _ in range(processes):
        result = subprocess.run([sys.executable, __file__, "--child", library, kind, str(n)],
                                check=True, capture_output=True, text=True)
        out.append(json.loads(result.stdout))
    return out


def main() -> int:
    if len(sys.argv) >= 2 and sys.argv[1] == "--child":
        print(json.dumps(child(sys.argv[2], sys.argv[3], int(sys.argv[4]))))
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes (exit 0 whatever the figures)")
    parser.add_argument("--json", action="store_true", help="one JSON object per figure")
    parser.add_argument("--processes", type=int, default=None, help="fresh processes per figure (default 3, quick 1)")
    args = parser.parse_args()
    processes = args.processes or (1 if args.quick else 3)
    report = Report(args.json, args.quick)
    with_adaptive = subprocess.run([sys.executable, "-c", "import adaptive"], capture_output=True).returncode == 0
    source = "measured in this run" if with_adaptive else "recorded figure (python-adaptive not importable)"

    n = 20_000 if args.quick else 200_000
    ours = statistics.median(r["points_per_s"] for r in measure("taskmaster", "sequential", n, processes))
    report.figure("run_sequential_taskmaster", ours, "points/s", points=n, processes=processes,
                  note="taskmaster.run, Sequential, trivial function")
    if with_adaptive:
        theirs = statistics.median(r["points_per_s"] for r in measure("adaptive", "sequential", n // 4, processes))
    else:
        theirs = RECORDED_ADAPTIVE["sequential"]
    report.figure("run_sequential_adaptive", theirs, "points/s", points=n // 4, note=f"BlockingRunner, SequentialExecutor ({source})")
    report.figure("run_sequential_ratio", ours / theirs, "x", target=5.0, note="taskmaster / python-adaptive")

    n = 5_000 if args.quick else 50_000
    workers = statistics.median(r["points_per_s"] for r in measure("taskmaster", "processes", n, processes))
    report.figure("run_processes_taskmaster", workers, "points/s", points=n, workers=2,
                  note="taskmaster.run, 2 worker processes, trivial function")
    if with_adaptive:
        pool = statistics.median(r["points_per_s"] for r in measure("adaptive", "processes", n // 10, processes))
        report.figure("run_processes_adaptive", pool, "points/s", points=n // 10, workers=2,
                      note="BlockingRunner, ProcessPoolExecutor(2)")

    ours = statistics.median(r["first_point_s"] for r in measure("taskmaster", "first", 4, processes))
    report.figure("first_point_taskmaster", ours, "s", workers=2,
                  note="from the call to the first evaluation, 2 worker processes (forked)")
    if with_adaptive:
        theirs = statistics.median(r["first_point_s"] for r in measure("adaptive", "first", 4, processes))
        report.figure("first_point_adaptive", theirs, "s", workers=2, note="ProcessPoolExecutor(2)")

    n = 100 if args.quick else 1_000
    used = statistics.median(r["utilization"] for r in measure("taskmaster", "utilization", n, processes))
    report.figure("utilization_10ms_taskmaster", used, "fraction", target=0.97, points=n, workers=2,
                  note="time in the function / (2 x wall), 2 worker processes (default: prefetch=1)")
    used = statistics.median(r["utilization"] for r in measure("taskmaster", "utilization_no_prefetch", n, processes))
    report.figure("utilization_10ms_taskmaster_prefetch_0", used, "fraction", points=n, workers=2,
                  note="the same with prefetch=0: a point only to an idle worker")
    if with_adaptive:
        theirs = statistics.median(r["utilization"] for r in measure("adaptive", "utilization", n, processes))
    else:
        theirs = RECORDED_ADAPTIVE["utilization"]
    report.figure("utilization_10ms_adaptive", theirs, "fraction", points=n, workers=2,
                  note=f"ProcessPoolExecutor(2) ({source})")
    if report.missed and not args.quick:
        print(f"missed: {', '.join(report.missed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
