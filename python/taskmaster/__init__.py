"""taskmaster: python-adaptive's learners on a fast C++ core, and replayable parallel runs.

``import taskmaster as adaptive`` runs code written for python-adaptive 1.5
unchanged for the learners below. :func:`run` drives a learner on the C++
loop (worker processes, executors, vectorised functions, external programs)
and records a history that :func:`resume` carries on and :func:`replay`
checks.
"""

from . import learner, runner
from .learner import (
    AverageLearner,
    AverageLearner1D,
    BalancingLearner,
    DataSaver,
    IntegratorLearner,
    Learner1D,
    Learner2D,
    LearnerND,
    SequenceLearner,
    StateError,
    make_datasaver,
)
from .learner.base_learner import uses_nth_neighbors
from .runner import (
    Command,
    MPI,
    History,
    ReplayDivergence,
    Runner,
    RunSummary,
    Sequential,
    Simulated,
    Slurm,
    Vectorized,
    WorkerProgram,
    mpi_rank,
    read_history,
    replay,
    resume,
    run,
)

__version__ = "0.1.0"

__all__ = [
    "AverageLearner",
    "AverageLearner1D",
    "BalancingLearner",
    "Command",
    "DataSaver",
    "History",
    "IntegratorLearner",
    "Learner1D",
    "Learner2D",
    "LearnerND",
    "MPI",
    "ReplayDivergence",
    "RunSummary",
    "Runner",
    "Sequential",
    "Simulated",
    "SequenceLearner",
    "StateError",
    "Slurm",
    "Vectorized",
    "WorkerProgram",
    "__version__",
    "learner",
    "make_datasaver",
    "mpi_rank",
    "read_history",
    "replay",
    "resume",
    "run",
    "runner",
    "uses_nth_neighbors",
]
