"""Runs on the C++ loop from Python: run, Runner, resume, replay, read_history.

A run evaluates a learner's points in parallel until a goal holds, writing
every event to a history file as it happens (the format of the C++ library
and of the ``taskmaster`` command), so that a killed run can be resumed and
any run replayed exactly. The keyword names are python-adaptive's runner's.

Where points are evaluated (``executor=``):

- :class:`Sequential`: ``learner.function`` in this process, one point at
  a time (also python-adaptive's ``SequentialExecutor``);
- ``None`` (default): ``learner.function`` in worker processes, shipped
  with cloudpickle; a worker that crashes or hangs (``timeout=``) is
  replaced and its point retried (``retries=``) or recorded as failed;
- any ``concurrent.futures.Executor`` (thread or process pools, mpi4py's
  MPIPoolExecutor, a dask client's ``get_executor()``);
- :class:`Vectorized`: a function called with a whole batch of points (an
  ``(n, d)`` array) returning n values, e.g. NumPy, CuPy or PyTorch code;
- :class:`Command`: an external program per point, ``{x}``, ``{x0}``...
  in its arguments replaced by the point (as the command-line tool does);
- :class:`WorkerProgram`: long-running worker programs of any language
  speaking the JSON Lines worker protocol;
- :class:`Slurm`: one SLURM batch job per point (``learner.function``, or
  a program);
- :class:`MPI`: the ranks of an MPI job (``mpirun -n N python script.py``):
  rank 0 runs the loop, the others evaluate;
- :class:`Simulated`: N virtual workers on a virtual clock, to see how a
  learner would do on a cluster of any size before renting it.

Example::

    import taskmaster
    learner = taskmaster.Learner1D(lambda x: x**3, bounds=(-1, 1))
    summary = taskmaster.run(learner, loss_goal=0.01, history="cubic.jsonl")
    taskmaster.replay("cubic.jsonl", taskmaster.Learner1D(lambda x: x**3, (-1, 1)))
"""

from __future__ import annotations

import concurrent.futures
import datetime as _dt
import json
import os
import shlex
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Optional, Sequence, Union

import cloudpickle
import numpy as np

from . import _run, _tool_config, _worker

__all__ = [
    "run",
    "Runner",
    "resume",
    "replay",
    "read_history",
    "ReplayDivergence",
    "RunSummary",
    "History",
    "Command",
    "WorkerProgram",
    "Vectorized",
    "Sequential",
    "Slurm",
    "MPI",
    "Simulated",
]


class ReplayDivergence(RuntimeError):
    """A replayed learner asked something else than the record holds.

    ``step`` is the number of the ask (from 0), ``recorded`` the point in
    the file (or the event found instead), ``asked`` what the learner asked,
    ``line`` the line of the history file.
    """

    def __init__(self, message: str, step: int = 0, recorded: str = "", asked: str = "", line: int = 0):
        super().__init__(message)
        self.step, self.recorded, self.asked, self.line = step, recorded, asked, line


@dataclass
class Command:
    """An external program run once per point, e.g. ``Command(["./f", "{x}"])``.

    ``{x}`` is the point (a number, or a JSON array), ``{x0}``, ``{x1}``...
    its components, ``{id}`` the task number; the program prints the value.
    """

    argv: Sequence[str]


@dataclass
class WorkerProgram:
    """Long-running programs answering tasks on stdin/stdout (JSON Lines,
    docs/worker-protocol.md), e.g. ``WorkerProgram("python3 model.py")``."""

    command: Union[str, Sequence[str]]


@dataclass
class Slurm:
    """Each point as a SLURM batch job (``ntasks`` jobs queued or running at once).

    ``command``: a program with ``{x}``, ``{x0}``... as for :class:`Command`;
    ``None`` runs ``learner.function`` in the job with this Python, the
    function pickled into ``work_directory`` (which must be on a file
    system the cluster's nodes share, as the job scripts and outputs are).
    The other fields are sbatch's: ``partition`` (-p), ``time_limit``
    (--time, e.g. "00:30:00"), ``cpus_per_task``, ``memory`` (--mem),
    ``sbatch_options`` (more lines, e.g. "--account=abc"), ``job_name``;
    ``arrays`` submits the points handed over together as one job array.
    A resumed run takes over the jobs its interrupted run left queued.
    """

    command: Optional[Sequence[str]] = None
    partition: str = ""
    time_limit: str = ""
    cpus_per_task: int = 1
    memory: str = ""
    sbatch_options: Sequence[str] = ()
    work_directory: Union[str, os.PathLike] = "taskmaster-slurm"
    job_name: str = "taskmaster"
    arrays: bool = True


@dataclass
class MPI:
    """The ranks of an MPI job: start the script with ``mpirun -n N python
    script.py``; rank 0 runs the loop (and writes the history), ranks 1 to
    N-1 evaluate ``learner.function`` (or ``command``, a program per point as
    for :class:`Command`), one point each at a time. On the worker ranks
    :func:`run` returns None once rank 0's run has ended; ``ntasks`` is
    ignored (the ranks are the workers)."""

    command: Optional[Sequence[str]] = None


def mpi_rank() -> int:
    """This process's rank in MPI_COMM_WORLD (starts MPI; 0 without mpirun)."""
    return _mpi_rank_and_size()[0]


def _mpi_rank_and_size() -> tuple[int, int]:
    if not _run.with_mpi:
        raise RuntimeError("executor=MPI(): this taskmaster was built without MPI (OpenMPI's libopenmpi-dev)")
    global _mpi_started
    if not _mpi_started:
        import atexit

        _mpi_started = True
        atexit.register(_end_mpi)
    return tuple(_run.mpi_rank_and_size())


_mpi_started = False


def _end_mpi() -> None:
    # What the script printed goes out before MPI closes mpirun's channels
    # (the interpreter would flush only after the exit handlers).
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    _run.mpi_end()


class _MpiWorkerRank:
    """A worker rank of executor=MPI(): serves rank 0 on a thread of its own,
    with the members Runner uses of a run handle."""

    def __init__(self, function: Any, command: list[str], timeout: Optional[float]) -> None:
        self._done = threading.Event()
        self._error: Optional[BaseException] = None
        self._start = time.monotonic()
        self._thread = threading.Thread(
            target=self._serve, args=(function, command, timeout), name="taskmaster-mpi-worker", daemon=True
        )
        self._thread.start()

    def _serve(self, function: Any, command: list[str], timeout: Optional[float]) -> None:
        try:
            _run.mpi_serve(function, command, timeout)
        except BaseException as error:  # handed to whoever waits
            self._error = error
        finally:
            self._done.set()

    def wait(self, seconds: Optional[float] = None) -> bool:
        return self._done.wait(seconds)

    def finished(self) -> bool:
        return self._done.is_set()

    def request_stop(self) -> None:
        """Rank 0 decides when the run ends."""

    abandon = request_stop

    def progress(self) -> dict:
        return {"asked": 0, "told": 0, "failed": 0, "retried": 0, "in_flight": 0, "capacity": 0,
                "elapsed": time.monotonic() - self._start}

    def result(self) -> None:
        self._done.wait()
        if self._error is not None:
            raise self._error
        return None


@dataclass
class Sequential:
    """Evaluates ``learner.function`` in this process, one point at a time:
    the fastest choice for cheap functions, and for debugging."""


@dataclass
class Vectorized:
    """Evaluates a batch of points in one call: ``function(points)`` gets an
    ``(n, d)`` float array (``(n,)`` for one-dimensional inputs) and returns
    n values. ``max_batch`` points at most per call, ``evaluators`` calls at
    once (one per device). ``function=None`` uses ``learner.function``."""

    function: Optional[Callable[[np.ndarray], Any]] = None
    max_batch: int = 256
    evaluators: int = 1


@dataclass
class Simulated:
    """N virtual workers on a virtual clock: ``learner.function`` is evaluated
    for real in this process (it should be cheap: a stand-in for the
    expensive one), each point is given a duration drawn from ``duration``,
    and results come back in the order of their virtual completion times.
    The summary's ``virtual_time`` is how long the run would have taken on
    ``workers`` real workers, and ``utilization`` their busy share; the same
    seed gives the same run. ``duration``: ``fixed:S``, ``uniform:A,B``,
    ``lognormal:MU,SIGMA`` or ``pareto:XM,ALPHA`` (seconds), as
    ``taskmaster simulate --duration`` takes it.

    Example::

        summary = taskmaster.run(learner, npoints_goal=2000,
                                 executor=taskmaster.Simulated(512, "lognormal:0,0.5"))
        print(summary.virtual_time, summary.utilization)
    """

    workers: int = 1
    duration: str = "fixed:1"
    seed: int = 0


@dataclass
class RunSummary:
    """How a run went: counts, the loss at the end, its duration and why it ended."""

    npoints: int
    told: int
    failed: int
    retried: int
    asked: int
    loss: Optional[float]
    elapsed: float
    reason: str
    unresolved: list = field(default_factory=list)
    failures: list = field(default_factory=list)
    history: Optional[str] = None
    virtual_time: Optional[float] = None
    """Under :class:`Simulated`: the run's length in virtual seconds."""
    utilization: Optional[float] = None
    """Under :class:`Simulated`: the virtual workers' busy share."""


@dataclass
class History:
    """A history file read back: the settings of each segment and every event."""

    segments: list
    events: list

    def __iter__(self) -> Iterator[dict]:
        return iter(self.events)

    def __len__(self) -> int:
        return len(self.events)

    def to_dataframe(self) -> Any:
        """The events as a pandas DataFrame (one row per event)."""
        from ._optional import require_pandas

        return require_pandas().DataFrame(self.events)


def _call_batch(function: Callable[[np.ndarray], Any], inputs: list) -> list:
    """Calls a vectorised function on a batch and returns one value per input."""
    points = np.asarray(inputs, dtype=float)
    values = function(points)
    if hasattr(values, "get") and not isinstance(values, (dict, np.ndarray)):
        values = values.get()  # CuPy arrays
    elif hasattr(values, "cpu") and hasattr(values, "numpy"):
        values = values.cpu().numpy()  # PyTorch tensors
    values = np.asarray(values)
    if len(values) != len(inputs):
        raise ValueError(f"the vectorised function returned {len(values)} values for {len(inputs)} points")
    return values.tolist()


def _goal_predicate(
    learner: Any,
    goal: Optional[Callable[[Any], bool]],
    loss_goal: Optional[float],
    npoints_goal: Optional[int],
    end_time_goal: Optional[_dt.datetime],
    duration_goal: Any,
) -> Optional[Callable[[Any], bool]]:
    checks: list[Callable[[Any], bool]] = []
    if goal is not None:
        if not callable(goal):
            raise TypeError(f"goal must be a callable of the learner, got {type(goal).__name__}")
        checks.append(goal)
    if loss_goal is not None:
        checks.append(lambda l: l.loss() <= loss_goal)
    if end_time_goal is not None:
        checks.append(lambda l: _dt.datetime.now() >= end_time_goal)
    if not checks:
        if duration_goal is not None or npoints_goal is not None:
            return None
        if hasattr(learner, "done"):
            return lambda l: l.done()
        raise ValueError(
            "no goal: give goal=, loss_goal=, npoints_goal=, duration_goal= or end_time_goal= "
            "(this learner has no done())"
        )
    if len(checks) == 1:
        return checks[0]
    return lambda l: any(check(l) for check in checks)


def _seconds(duration: Any) -> Optional[float]:
    if duration is None:
        return None
    if isinstance(duration, _dt.timedelta):
        return duration.total_seconds()
    return float(duration)


def _fork_workers() -> bool:
    """Whether the default executor forks its first workers from this
    process (Linux; ``TASKMASTER_WORKER_START=spawn`` turns it off, e.g. for
    a process whose other threads hold locks the function needs)."""
    start = os.environ.get("TASKMASTER_WORKER_START", "fork")
    if start not in ("fork", "spawn"):
        raise ValueError(f"TASKMASTER_WORKER_START must be 'fork' or 'spawn', got {start!r}")
    return start == "fork" and sys.platform.startswith("linux") and hasattr(os, "fork")


def _default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


class Runner:
    """Runs a learner in the background; the same arguments as :func:`run`.

    The learner may be read while the run goes on: the run touches it only
    while holding Python's GIL (each ask, tell and goal check), so a reader
    sees it between two of those calls, never in the middle of one.

    Members as python-adaptive's AsyncRunner where they make sense:
    ``status()``, ``cancel()``, ``block_until_done()``, ``elapsed_time()``,
    ``task`` (a concurrent.futures.Future of the :class:`RunSummary`), plus
    ``stop()`` (finish the points in flight, then end) and ``progress()``.
    """

    def __init__(
        self,
        learner: Any,
        goal: Optional[Callable[[Any], bool]] = None,
        *,
        npoints_goal: Optional[int] = None,
        loss_goal: Optional[float] = None,
        duration_goal: Union[float, _dt.timedelta, None] = None,
        end_time_goal: Optional[_dt.datetime] = None,
        executor: Any = None,
        ntasks: Optional[int] = None,
        history: Union[str, os.PathLike, None] = None,
        seed: int = 0,
        retries: int = 0,
        timeout: Optional[float] = None,
        progress: bool = True,
        prefetch: Optional[int] = None,
        _resume: bool = False,
    ) -> None:
        if retries < 0:
            raise ValueError(f"retries must be >= 0, got {retries}")
        if ntasks is not None and ntasks < 1:
            raise ValueError(f"ntasks must be >= 1, got {ntasks}")
        if timeout is not None and not timeout > 0:
            raise ValueError(f"timeout must be > 0 seconds, got {timeout}")
        if prefetch is not None and not 0 <= prefetch <= 64:
            raise ValueError(f"prefetch must be between 0 and 64, got {prefetch}")
        self.learner = learner
        self.history = os.fspath(history) if history is not None else None
        if _resume and self.history is None:
            raise ValueError("resume needs the history file")
        self._show_progress = progress
        self._scratch: Optional[tempfile.TemporaryDirectory] = None
        spec = _run.RunSpec()
        spec.learner = learner
        spec.goal = _goal_predicate(learner, goal, loss_goal, npoints_goal, end_time_goal, duration_goal)
        spec.duration = _seconds(duration_goal)
        if npoints_goal is not None:
            spec.npoints_goal = int(npoints_goal)
            # A resumed learner is filled by the replay, which the loop counts itself.
            spec.npoints_at_start = 0 if _resume else int(getattr(learner, "npoints", 0))
        spec.history = self.history
        spec.resume = _resume
        spec.seed = int(seed)
        spec.retries = int(retries)
        spec.timeout = timeout
        self._tool_program: dict = {}
        self._to_fork: Optional[Callable[..., Any]] = None
        self._tool_slurm: Optional[dict] = None
        self._configure_master(spec, learner, executor, ntasks)
        if spec.master == "workers":
            # Our own worker program reads its tasks in order: one waiting
            # behind the one it computes saves it a round trip per point.
            spec.prefetch = 1 if prefetch is None else int(prefetch)
        elif spec.master == "stdio":
            spec.prefetch = int(prefetch or 0)
        elif prefetch:
            raise ValueError(f"prefetch applies to worker processes (executor=None) and WorkerProgram, "
                             f"not to {type(executor).__name__}")
        if spec.master == "simulated" and (duration_goal is not None or end_time_goal is not None):
            raise ValueError("duration_goal and end_time_goal count wall time, and a Simulated run's time "
                             "is virtual: give npoints_goal, loss_goal or goal=")
        spec.metadata = self._metadata(spec, learner, goal, npoints_goal, loss_goal, duration_goal, end_time_goal)
        # Outputs as the command-line tool records them (a number as a
        # one-element array) in a history the tool can carry on.
        spec.numbers_as_arrays = (
            _tool_history(self.history) if _resume and self.history is not None else "tool" in spec.metadata
        )
        self._start = time.monotonic()
        self._cancelled = False
        self._handle: Any
        if spec.master == "mpi" and _mpi_rank_and_size()[0] != 0:
            self._show_progress = False
            self._handle = _MpiWorkerRank(None if spec.command else learner.function, spec.command, timeout)
        else:
            if self._to_fork is not None:
                # The first workers are copies of this process: their first
                # points wait for no interpreter start and no imports (the
                # command starts replacements and added workers). Forked
                # last, since each page this process writes after a fork
                # is copied.
                for started in _worker.fork_workers(self._to_fork, spec.workers, _run.child_guard_descriptor()):
                    spec.adopt_worker(*started)
                self._to_fork = None
            self._handle = _run.RunHandle(spec)
        self.task: concurrent.futures.Future = concurrent.futures.Future()
        self._watcher = threading.Thread(target=self._watch, name="taskmaster-runner", daemon=True)
        self._watcher.start()

    def _configure_master(self, spec: Any, learner: Any, executor: Any, ntasks: Optional[int]) -> None:
        workers = ntasks or _default_workers()
        spec.workers = workers
        if executor is None:
            function = getattr(learner, "function", None)
            if function is None:
                raise ValueError("the learner has no function to evaluate; pass executor=Command(...) or similar")
            if self.history is not None:
                # Beside the history, so that the command-line tool can carry
                # the run on with the same function (taskmaster resume).
                path = self.history + ".function.pickle"
            else:
                self._scratch = tempfile.TemporaryDirectory(prefix="taskmaster-")
                path = os.path.join(self._scratch.name, "function.pickle")
            self._pickle(function, path)
            spec.master = "workers"
            # Run as a script, not `-m taskmaster._worker`: importing the package
            # (NumPy, the compiled learners) would slow every worker's start.
            worker = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_worker.py")
            # -S: no site processing at start (the pickle brings the parent's path).
            spec.command = [sys.executable, "-S", worker, os.path.abspath(path)]
            self._tool_program = {"worker": list(spec.command)}
            self._to_fork = function if _fork_workers() else None
        elif isinstance(executor, Command):
            spec.master = "command"
            spec.command = [str(a) for a in executor.argv]
            self._tool_program = {"command": list(spec.command)}
        elif isinstance(executor, WorkerProgram):
            spec.master = "stdio"
            command = executor.command
            spec.command = shlex.split(command) if isinstance(command, str) else [str(a) for a in command]
            self._tool_program = {"worker": list(spec.command)}
        elif isinstance(executor, Slurm):
            spec.master = "slurm"
            directory = os.path.abspath(os.fspath(executor.work_directory))
            if executor.command is None:
                function = getattr(learner, "function", None)
                if function is None:
                    raise ValueError("Slurm(): the learner has no function; give Slurm(command=[...])")
                # Where the jobs can read it: beside their scripts and outputs.
                os.makedirs(directory, exist_ok=True)
                path = os.path.join(directory, "function.pickle")
                self._pickle(function, path)
                worker = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_worker.py")
                spec.command = [sys.executable, "-S", worker, "--one", path, "{x}"]
            else:
                spec.command = [str(a) for a in executor.command]
            spec.set_slurm(executor.partition, executor.time_limit, int(executor.cpus_per_task), executor.memory,
                           [str(o) for o in executor.sbatch_options], directory, executor.job_name,
                           bool(executor.arrays))
            self._tool_program = {"command": list(spec.command)}
            self._tool_slurm = {"partition": executor.partition, "time_limit": executor.time_limit,
                                "cpus_per_task": int(executor.cpus_per_task), "memory": executor.memory,
                                "sbatch_lines": [str(o) for o in executor.sbatch_options],
                                "work_directory": directory}
        elif isinstance(executor, MPI):
            spec.master = "mpi"
            spec.command = [] if executor.command is None else [str(a) for a in executor.command]
            if executor.command is None and getattr(learner, "function", None) is None:
                raise ValueError("MPI(): the learner has no function; give MPI(command=[...])")
            spec.workers = max(1, _mpi_rank_and_size()[1] - 1)
        elif isinstance(executor, Vectorized):
            spec.master = "batch"
            spec.function = executor.function or learner.function
            spec.max_batch = int(executor.max_batch)
            spec.workers = int(executor.evaluators)
            spec.ask_batch = int(executor.max_batch)
        elif isinstance(executor, Simulated):
            if int(executor.workers) < 1:
                raise ValueError(f"Simulated(workers={executor.workers}): at least one worker")
            try:
                _run.check_durations(str(executor.duration))
            except ValueError as error:
                raise ValueError(f"Simulated(duration=...): {error}") from None
            spec.master = "simulated"
            spec.function = learner.function
            spec.workers = int(executor.workers)
            spec.durations = str(executor.duration)
            spec.durations_seed = int(executor.seed)
        elif isinstance(executor, Sequential) or type(executor).__name__ == "SequentialExecutor":
            # In the loop's own thread, one point at a time (python-adaptive's
            # SequentialExecutor means the same): no other process, no queue.
            spec.master = "serial"
            spec.function = learner.function
            spec.workers = 1
        elif isinstance(executor, concurrent.futures.Executor):
            spec.master = "executor"
            spec.executor = executor
            spec.function = learner.function
            if ntasks is None:
                spec.workers = int(getattr(executor, "_max_workers", 0) or workers)
        else:
            raise TypeError(
                "executor must be None, a concurrent.futures.Executor, Command, WorkerProgram or "
                f"Vectorized, got {type(executor).__name__}"
            )

    @staticmethod
    def _pickle(function: Callable[..., Any], path: str) -> None:
        """Writes ``function`` for _worker.py to load."""
        with open(path, "wb") as f:
            # The parent's import path goes along, as multiprocessing does, so that
            # a function pickled by reference (defined in a module) imports there.
            f.write(cloudpickle.dumps(list(sys.path)))
            cloudpickle.dump(function, f)

    def _metadata(self, spec: Any, learner: Any, goal: Any, npoints_goal: Optional[int],
                  loss_goal: Optional[float], duration_goal: Any, end_time_goal: Any) -> dict:
        """The header's ``meta``: the Python learner, and the command-line
        tool's settings when the tool can carry the run on (_tool_config)."""
        meta: dict = {"python": {"learner": type(learner).__name__}}
        if spec.master == "simulated":
            # A history that says its times are virtual, and how they were drawn.
            meta["simulated"] = {"workers": spec.workers, "duration": spec.durations, "seed": spec.durations_seed}
        if not self._tool_program or goal is not None or end_time_goal is not None:
            return meta
        goals = _tool_config.goal_texts(npoints_goal, loss_goal, _seconds(duration_goal), learner)
        config = _tool_config.tool_config(
            learner, goals=goals, master="slurm" if self._tool_slurm else "local", workers=spec.workers,
            retries=spec.retries, timeout=spec.timeout, seed=spec.seed, slurm=self._tool_slurm,
            prefetch=spec.prefetch, **self._tool_program,
        )
        return meta if config is None else {**config, **meta}

    # --- the background run -----------------------------------------------------

    def _watch(self) -> None:
        try:
            self.task.set_result(self._summary())
        except BaseException as error:  # handed to whoever waits for the task
            self.task.set_exception(error)
        finally:
            if self._scratch is not None:
                self._scratch.cleanup()

    def _summary(self) -> Optional[RunSummary]:
        raw = self._handle.result()
        if raw is None:  # an MPI worker rank: rank 0 has the summary
            return None
        try:
            loss = float(self.learner.loss())
        except Exception:
            loss = None
        return RunSummary(
            npoints=int(getattr(self.learner, "npoints", raw["told"])),
            told=raw["told"], failed=raw["failed"], retried=raw["retried"], asked=raw["asked"],
            loss=loss, elapsed=raw["elapsed"], reason=raw["reason"],
            unresolved=list(raw["unresolved"]), failures=list(raw["failures"]), history=self.history,
            virtual_time=raw.get("virtual_time"), utilization=raw.get("utilization"),
        )

    # --- python-adaptive's AsyncRunner interface ---------------------------------

    def status(self) -> str:
        """"running", "cancelled", "failed" or "finished"."""
        if not self.task.done():
            return "running"
        if self._cancelled:
            return "cancelled"
        return "failed" if self.task.exception() is not None else "finished"

    def cancel(self) -> None:
        """Ends the run now; points in flight are left unresolved (a resume asks them again)."""
        self._cancelled = True
        self._handle.abandon()

    def stop(self) -> None:
        """Asks for no new points; the run ends once the points in flight are told."""
        self._handle.request_stop()

    def block_until_done(self, timeout: Optional[float] = None) -> Optional[RunSummary]:
        """Waits for the end (Ctrl-C: the first stops asking, the second abandons) and returns the summary."""
        deadline = None if timeout is None else time.monotonic() + timeout
        interrupts = 0
        line = _ProgressLine(self) if self._show_progress else None
        try:
            while True:
                try:
                    slice_ = 0.25 if deadline is None else max(0.0, min(0.25, deadline - time.monotonic()))
                    if self._handle.wait(slice_):
                        break
                    if line is not None:
                        line.update()
                    if deadline is not None and time.monotonic() >= deadline:
                        raise TimeoutError(f"the run did not end within {timeout} s")
                except KeyboardInterrupt:
                    interrupts += 1
                    if interrupts == 1:
                        self._handle.request_stop()
                    else:
                        self._cancelled = True
                        self._handle.abandon()
            self._watcher.join()
        finally:
            if line is not None:
                line.finish()
        if interrupts:
            raise KeyboardInterrupt("the run was stopped; its history is complete and it can be resumed")
        return self.task.result()

    def elapsed_time(self) -> float:
        """Seconds since the run started."""
        return self._handle.progress()["elapsed"]

    def progress(self) -> dict:
        """A snapshot of the counters: asked, told, failed, retried, in_flight, capacity, elapsed."""
        return self._handle.progress()

    def live_info(self, update_interval: float = 0.5) -> Optional[str]:
        """In Jupyter: shows the run's status line in the cell's output and
        keeps it current (every ``update_interval`` seconds, and once more
        when the run ends) from a thread of its own, so the notebook stays
        free meanwhile; returns None. Elsewhere: the line describing the run
        now."""
        if not _in_jupyter():
            return _ProgressLine.describe(self)
        line = _ProgressLine(self)

        def follow() -> None:
            while not self._handle.wait(update_interval):
                line.update()
            line.finish()

        threading.Thread(target=follow, name="taskmaster-live-info", daemon=True).start()
        return None


def _in_jupyter() -> bool:
    """Whether this is a Jupyter kernel (where display() updates a cell's output)."""
    if "ipykernel" not in sys.modules:
        return False
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


class _ProgressLine:
    """The status line of a run: on a terminal it updates in place; in
    Jupyter it updates an output; otherwise it prints nothing until the end."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.display = None
        if _in_jupyter():
            from IPython.display import display

            self.display = display(self.describe(runner), display_id=True)
        self.terminal = self.display is None and sys.stderr.isatty()
        self.last = 0.0

    @staticmethod
    def describe(runner: Runner) -> str:
        p = runner._handle.progress()
        rate = p["told"] / p["elapsed"] if p["elapsed"] > 0 else 0.0
        text = (f"{p['told']} points told, {p['failed']} failed, {p['in_flight']} in flight "
                f"of {p['capacity']}, {rate:,.0f} points/s, {p['elapsed']:.1f} s")
        try:
            text += f", loss {runner.learner.loss():.4g}"
        except Exception:
            pass
        return text

    def update(self) -> None:
        now = time.monotonic()
        if now - self.last < 0.5:
            return
        self.last = now
        if self.terminal:
            sys.stderr.write("\r\x1b[K" + self.describe(self.runner))
            sys.stderr.flush()
        elif self.display is not None:
            self.display.update(self.describe(self.runner))

    def finish(self) -> None:
        if self.terminal:
            sys.stderr.write("\r\x1b[K" + self.describe(self.runner) + "\n")
            sys.stderr.flush()
        elif self.display is not None:
            self.display.update(self.describe(self.runner))


def run(learner: Any, goal: Optional[Callable[[Any], bool]] = None, **options: Any) -> Optional[RunSummary]:
    """Runs ``learner`` until a goal holds and returns a :class:`RunSummary`.

    Goals (the run stops when any holds): ``goal`` (a callable of the
    learner), ``npoints_goal``, ``loss_goal``, ``duration_goal`` (seconds or
    a timedelta), ``end_time_goal`` (a datetime). Without any, a learner with
    ``done()`` runs until done. ``executor`` says where points are evaluated
    (module docstring), ``ntasks`` how many at once (default: the cores),
    ``history`` the file recording the run, ``seed`` the run's seed,
    ``retries`` how often a failed point is tried again, ``timeout`` the
    seconds a point may take (worker processes and programs), ``prefetch``
    how many points each worker process or :class:`WorkerProgram` is sent
    beyond the one it computes, so that it goes on without waiting for the
    loop (default 1 for worker processes, 0 for programs; 0 when every
    point should be chosen knowing all results but those in progress; the
    learner then has ``ntasks x (1 + prefetch)`` points pending). Ctrl-C stops
    asking and waits for the points in flight; a second Ctrl-C gives them up;
    either way the history is complete, the workers are gone, and
    KeyboardInterrupt is raised.
    """
    return Runner(learner, goal, **options).block_until_done()


def resume(history: Union[str, os.PathLike], learner: Any, goal: Optional[Callable[[Any], bool]] = None,
           **options: Any) -> Optional[RunSummary]:
    """Carries on the run recorded in ``history`` with a fresh ``learner``.

    The record is replayed into the learner (checked as :func:`replay`
    does), the points asked but never answered are evaluated again, and the
    run goes on until the goals hold, appending to the same file. The seed
    is the file's.
    """
    options.pop("history", None)
    return Runner(learner, goal, history=history, _resume=True, **options).block_until_done()


def replay(history: Union[str, os.PathLike], learner: Any) -> dict:
    """Replays the record into a fresh ``learner``, checking every ask.

    Returns the counters at the end of the record; raises
    :class:`ReplayDivergence` at the first point the learner asks
    differently.
    """
    path = os.fspath(history)
    return dict(_run.replay(path, learner, _tool_history(path)))


def _tool_history(path: str) -> bool:
    """Whether the history's header carries the command-line tool's settings
    (the tool records every output as an array; the learner is told a
    one-element array as the number it stands for)."""
    try:
        with open(path, "rb") as f:
            header = json.loads(f.readline(1 << 20) or b"{}")
    except (OSError, ValueError):
        return False  # the C++ reader says what is wrong with the file
    meta = header.get("meta") if isinstance(header, dict) else None
    return isinstance(meta, dict) and meta.get("tool") == "taskmaster"


def read_history(history: Union[str, os.PathLike]) -> History:
    """The events of a history file as Python dicts (``e`` names the kind),
    with each segment's settings; ``.to_dataframe()`` gives a DataFrame."""
    segments, events = _run.read_history(os.fspath(history))
    return History(list(segments), list(events))
