"""The worker program behind taskmaster.run's default: a Python function in
worker processes.

The first workers of a run are forked from the caller (:func:`fork_workers`). The
others are started by the C++ StdioMaster as ``python -S .../taskmaster/_worker.py
FILE`` (or, for one point, ``_worker.py --one FILE X``: a SLURM job), where
FILE holds the parent's import path and the function pickled with
cloudpickle (as python-adaptive ships functions to its workers). Both speak
the JSON Lines worker protocol (docs/worker-protocol.md): a hello line, then one reply per task. An
exception in the function is an error reply (the run records the reason and
goes on); a crash or a hang is handled by the master, which replaces the
worker.
"""

from __future__ import annotations

# Only what every worker needs, imported at start: a worker's start-up is
# time the run's first points wait (typing, traceback and cloudpickle cost
# tens of milliseconds; the function's pickle imports cloudpickle itself
# when it needs it).
import json
import math
import os
import select
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def encode(value: Any) -> Any:
    """A result as JSON in the history's conventions (NaN and infinities as strings)."""
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return value
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if hasattr(value, "tolist"):  # NumPy arrays and scalars
        return encode(value.tolist())
    if hasattr(value, "__index__"):
        return int(value)
    if hasattr(value, "__float__"):
        return encode(float(value))
    raise TypeError(f"the function returned a {type(value).__name__}, which has no JSON form")


def decode(value: Any) -> Any:
    """A task's input: arrays as tuples (points are tuples), special floats back."""
    if isinstance(value, list):
        return tuple(decode(v) for v in value)
    if isinstance(value, str) and value in ("nan", "inf", "-inf"):
        return float(value)
    if isinstance(value, dict):
        return {k: decode(v) for k, v in value.items()}
    return value


def describe(error: BaseException) -> str:
    """The reason a point failed: the exception, and where it was raised."""
    import traceback

    last = traceback.extract_tb(error.__traceback__)[-1:]
    where = f" (at {last[0].filename}:{last[0].lineno})" if last else ""
    return f"{type(error).__name__}: {error}{where}"


def serve(function: Any, tasks: Any, replies: Any) -> None:
    """Answers the tasks read from ``tasks`` on ``replies`` until ``tasks`` ends.

    Both are files on descriptors (pipes to the master); they are read and
    written through their descriptors, a line per task and per reply.
    """
    task_fd, reply_fd = tasks.fileno(), replies.fileno()
    replies.flush()
    _write_all(reply_fd, b'{"hello":"taskmaster-worker","protocol":1,"name":"python"}\n')
    received = b""
    spin = 0.0
    while True:
        end = received.find(b"\n")
        if end < 0:
            if spin:
                _await_readable(task_fd, spin)
                spin = 0.0
            chunk = os.read(task_fd, 65536)
            if chunk:
                received += chunk
                continue
            if not received.strip():
                return
            end = len(received)  # a last line without its newline
        line, received = received[:end], received[end + 1 :]
        if not line.strip():
            continue
        task = json.loads(line)
        started = time.perf_counter()
        try:
            y = function(decode(task["x"]))
            if type(y) is float and y - y == 0.0 and type(task["id"]) is int:
                # A finite float, the common case, is written without the
                # general encoder (its repr is its JSON): the time between
                # a result and its reply is time the run waits, and the
                # encoder costs tens of microseconds on a core that has
                # just woken from the function's sleep.
                text = '{"id":%d,"y":%r}\n' % (task["id"], y)
            else:
                text = json.dumps({"id": task["id"], "y": encode(y)}, allow_nan=False) + "\n"
        except Exception as error:  # the function's failure is the task's, not the worker's
            text = json.dumps({"id": task["id"], "error": describe(error)}) + "\n"
        # The master answers a reply with the next task within about a
        # tenth of a millisecond. Waiting for it awake, rather than asleep
        # in read(), spares the wake-up of an idle core (tens to hundreds of
        # microseconds on a virtual machine); the wait is bounded by 2% of
        # the task's own time, so a short task spins no more than it runs.
        spin = min(_SPIN_SECONDS, 0.02 * (time.perf_counter() - started))
        _write_all(reply_fd, text.encode())


# The longest a worker looks for its next task before it sleeps in read().
_SPIN_SECONDS = 200e-6


def _write_all(fd: int, data: bytes) -> None:
    while data:
        data = data[os.write(fd, data) :]


def _await_readable(fd: int, seconds: float) -> None:
    """Returns when ``fd`` has data or after about ``seconds``, giving the
    core to any other runnable process meanwhile."""
    deadline = time.perf_counter() + seconds
    while not select.select((fd,), (), (), 0)[0] and time.perf_counter() < deadline:
        os.sched_yield()


def protocol_streams() -> tuple[Any, Any]:
    """The pipes to the master as files of their own. This process's stdout
    moves onto its stderr, so what the function prints is not taken for a
    reply (the master shows the end of a worker's stderr when it fails), and
    its stdin reads nothing, so that programs the function starts cannot
    take its tasks."""

    sys.stdout.flush()
    tasks = os.fdopen(os.dup(0), "r", encoding="utf-8")
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    _stdin_from_nowhere()
    return tasks, replies


def _stdin_from_nowhere() -> None:

    nothing = os.open(os.devnull, os.O_RDONLY)
    os.dup2(nothing, 0)
    os.close(nothing)
    sys.stdin = open(0, "r", closefd=False)


def fork_workers(function: Any, count: int, guard_descriptor: int = -1) -> list[tuple[int, int, int, int]]:
    """Starts ``count`` workers as copies of this process (os.fork), each
    serving ``function`` at once: no new interpreter to start, nothing to
    import or unpickle (the master's spawned workers pay all three before
    their first point). Returns, for each, its pid and this process's ends
    of its stdin, stdout and stderr pipes, for the master to take charge of.
    Linux only.

    A worker is this process as it was, as a ProcessPoolExecutor's forked
    worker is: the function's globals, open files and stdout are there.
    Besides, it leads a process group of its own (the master kills a hung
    worker with whatever it started), has its stderr on a pipe (the end of
    which is shown when it fails), reads tasks and writes replies on
    descriptors of its own (stdin reads nothing), and keeps no descriptor of the other workers
    nor ``guard_descriptor`` (the socket through which the process that
    kills the workers of a killed caller learns that the caller is gone).
    It leaves with os._exit: nothing of this process's clean-up runs twice.
    """
    import fcntl
    import warnings

    def far_away(fd: int) -> int:
        # Above the standard descriptors, so that moving one into place
        # cannot overwrite another.
        moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(fd)
        return moved

    pipes = [[far_away(fd) for pair in (os.pipe(), os.pipe(), os.pipe()) for fd in pair] for _ in range(count)]
    every_pipe = [fd for fds in pipes for fd in fds]
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()  # else each worker would print this process's pending output again
        except Exception:
            pass
    workers = []
    for task_read, task_write, reply_read, reply_write, error_read, error_write in pipes:
        with warnings.catch_warnings():
            # Python 3.12 warns about fork() beside threads; the child only
            # runs the function, on descriptors of its own.
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:
            keep = (task_read, reply_write, error_write)
            _forked_worker(function, *keep, [fd for fd in every_pipe if fd not in keep] + [guard_descriptor])
        for fd in (task_read, reply_write, error_write):
            os.close(fd)
        try:
            os.setpgid(pid, pid)  # as the child does: whichever runs first
        except OSError:
            pass
        workers.append((pid, task_write, reply_read, error_read))
    return workers


def _forked_worker(function: Any, task_read: int, reply_write: int, error_write: int, others: list[int]) -> None:
    """The life of a forked worker; never returns."""
    import signal

    code = 1
    try:
        os.setpgid(0, 0)
        for number in (signal.SIGINT, signal.SIGTERM, signal.SIGPIPE, signal.SIGHUP):
            signal.signal(number, signal.SIG_DFL)
        for fd in others:
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        os.dup2(error_write, 2)
        os.close(error_write)
        sys.stderr = os.fdopen(2, "w", encoding="utf-8", buffering=1)
        tasks = os.fdopen(task_read, "r", encoding="utf-8")
        replies = os.fdopen(reply_write, "w", encoding="utf-8")
        _stdin_from_nowhere()
        serve(function, tasks, replies)
        code = 0
    except BaseException:  # nothing may return into the caller's code
        try:
            import traceback

            traceback.print_exc()
            sys.stderr.flush()
        except BaseException:
            pass
    finally:
        os._exit(code)


def evaluate_once(function: Any, x_text: str) -> int:
    """One point given as JSON on the command line (a SLURM job's program):
    prints the value as JSON; a failure of the function is reported on
    stderr with a non-zero exit, which fails the point with that reason."""
    try:
        y = encode(function(decode(json.loads(x_text))))
    except Exception as error:
        print(describe(error), file=sys.stderr)
        return 1
    print(json.dumps(y, allow_nan=False))
    return 0


def load(path: str) -> Any:
    """The function pickled in ``path``, after the parent's import path
    (the worker runs without site, ``-S``: the parent's path has it all)."""
    import pickle

    with open(path, "rb") as f:
        parent_path = pickle.load(f)
        sys.path[:0] = [p for p in parent_path if p not in sys.path]
        return pickle.load(f)


def main() -> int:
    arguments = sys.argv[1:]
    if len(arguments) == 3 and arguments[0] == "--one":
        return evaluate_once(load(arguments[1]), arguments[2])
    if len(arguments) != 1:
        print("usage: _worker.py PICKLED_FUNCTION_FILE | --one PICKLED_FUNCTION_FILE X_AS_JSON", file=sys.stderr)
        return 2
    tasks, replies = protocol_streams()  # before the pickle's imports can print
    serve(load(arguments[0]), tasks, replies)
    return 0


if __name__ == "__main__":
    sys.exit(main())
