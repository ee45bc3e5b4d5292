"""Starts a run of a slow function in worker processes, for the tests that
interrupt or kill it: python run_and_wait.py HISTORY NPOINTS SLEEP."""

import sys
import time

import taskmaster


def slow_peak(x: float) -> float:
    time.sleep(SLEEP)
    return x + 1e-4 / (1e-4 + x * x)


if __name__ == "__main__":
    history, npoints, SLEEP = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    learner = taskmaster.Learner1D(slow_peak, bounds=(-1, 1))
    print("started", flush=True)
    summary = taskmaster.run(learner, npoints_goal=npoints, ntasks=2, history=history, progress=False)
    print("finished", summary.npoints, flush=True)
