"""The worker program behind taskmaster.run's default: a Python function in
worker processes.

The first workers of a run are forked from the caller (:func:`fork`). The
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
import sys

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
    """Answers the tasks read from ``tasks`` on ``replies`` until ``tasks`` ends."""
    replies.write('{"hello":"taskmaster-worker","protocol":1,"name":"python"}\n')
    replies.flush()
    for line in tasks:
        if not line.strip():
            continue
        task = json.loads(line)
        try:
            reply = {"id": task["id"], "y": encode(function(decode(task["x"])))}
            text = json.dumps(reply, allow_nan=False)
        except Exception as error:  # the function's failure is the task's, not the worker's
            text = json.dumps({"id": task["id"], "error": describe(error)})
        replies.write(text + "\n")
        replies.flush()


def protocol_streams() -> tuple[Any, Any]:
    """The pipes to the master as files, with this process's stdout moved
    onto its stderr: what the function prints must not be taken for a reply
    (the master shows the end of a worker's stderr when it fails)."""
    import os

    sys.stdout.flush()
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    return sys.stdin, replies


def fork(function: Any) -> tuple[int, int, int, int]:
    """Starts a worker as a copy of this process (os.fork), serving
    ``function`` at once: no new interpreter to start, nothing to import or
    unpickle (the master's spawned workers pay all three before their first
    point). Returns the child's pid and this process's ends of its stdin,
    stdout and stderr pipes, for the master to take charge of. Linux only.

    The child leads a process group of its own (the master kills a hung
    worker with whatever it started); its stdout is this process's, so what
    the function prints shows as it would here; its protocol stream is a
    pipe of its own; and it keeps no other descriptor of this process (the
    pipes of other workers and runs would otherwise never see their end).
    It leaves with os._exit: nothing of this process's clean-up runs twice.
    """
    import fcntl
    import os
    import signal
    import warnings

    def above_standard(fd: int) -> int:
        # Above 0..3, so that moving one into place cannot overwrite another.
        moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(fd)
        return moved

    task_read, task_write = map(above_standard, os.pipe())
    reply_read, reply_write = map(above_standard, os.pipe())
    error_read, error_write = map(above_standard, os.pipe())
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()  # else the child would print this process's pending output again
        except Exception:
            pass
    with warnings.catch_warnings():
        # Python 3.12 warns about fork() beside threads; the child only runs
        # the function, on descriptors of its own.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid > 0:
        for fd in (task_read, reply_write, error_write):
            os.close(fd)
        try:
            os.setpgid(pid, pid)  # as the child does: whichever runs first
        except OSError:
            pass
        return pid, task_write, reply_read, error_read
    code = 1
    try:
        os.setpgid(0, 0)
        for number in (signal.SIGINT, signal.SIGTERM, signal.SIGPIPE, signal.SIGHUP):
            signal.signal(number, signal.SIG_DFL)
        # Tasks on stdin, the stderr pipe on 2, replies on 3, stdout kept.
        os.dup2(task_read, 0)
        os.dup2(error_write, 2)
        os.dup2(reply_write, 3)
        os.closerange(4, os.sysconf("SC_OPEN_MAX") if hasattr(os, "sysconf") else 65536)
        tasks = os.fdopen(0, "r", encoding="utf-8")
        replies = os.fdopen(3, "w", encoding="utf-8")
        sys.stdin = tasks
        sys.stderr = os.fdopen(2, "w", encoding="utf-8", buffering=1)
        serve(function, tasks, replies)
        code = 0
    except BaseException:  # nothing may return into the parent's code
        try:
            import traceback

            traceback.print_exc()
            sys.stderr.flush()
        except BaseException:
            pass
    finally:
        os._exit(code)
    raise AssertionError("unreachable")


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
