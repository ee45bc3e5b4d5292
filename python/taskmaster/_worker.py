"""The worker program behind taskmaster.run's default: a Python function in
worker processes.

Started by the C++ StdioMaster as ``python -S .../taskmaster/_worker.py
FILE`` (or, for one point, ``_worker.py --one FILE X``: a SLURM job), where
FILE holds the parent's import path and the function pickled with
cloudpickle (as python-adaptive ships functions to its workers). It speaks the JSON Lines worker protocol
(docs/worker-protocol.md): a hello line, then one reply per task. An
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


def serve(function: Any) -> None:
    """Answers tasks from stdin until it closes."""
    out = sys.stdout
    out.write('{"hello":"taskmaster-worker","protocol":1,"name":"python"}\n')
    out.flush()
    for line in sys.stdin:
        if not line.strip():
            continue
        task = json.loads(line)
        try:
            reply = {"id": task["id"], "y": encode(function(decode(task["x"])))}
            text = json.dumps(reply, allow_nan=False)
        except Exception as error:  # the function's failure is the task's, not the worker's
            text = json.dumps({"id": task["id"], "error": describe(error)})
        out.write(text + "\n")
        out.flush()


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
    serve(load(arguments[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
