#!/usr/bin/python3
"""A taskmaster worker in Python (standard library only).

Speaks the JSON Lines worker protocol, version 1 (docs/worker-protocol.md):
says hello, then answers every {"id":..,"x":..} line on stdin with
{"id":..,"y":..} or {"id":..,"error":".."} on stdout, until stdin closes.

Use it as a template: replace `evaluate` with your model, or import this
file and call `serve(your_function)`.

    taskmaster::StdioMaster<double, double> master(
        {"/usr/bin/python3", "examples/workers/python_worker.py"}, {.workers = 4});
"""

import json
import math
import sys

PROTOCOL = 1

# JSON has no NaN or infinities; the protocol writes them as strings.
_SPECIAL = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def _decode(value):
    if isinstance(value, str) and value in _SPECIAL:
        return _SPECIAL[value]
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def _encode(value):
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    return value


def _protocol_streams():
    """Private copies of stdin and stdout for the protocol. What the model
    prints then goes to stderr (the master shows its end when a worker
    fails) instead of being taken for a reply, and programs the model runs
    read nothing instead of the worker's tasks."""
    import os

    sys.stdout.flush()
    tasks = os.fdopen(os.dup(0), "r")
    replies = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    nothing = os.open(os.devnull, os.O_RDONLY)
    os.dup2(nothing, 0)
    os.close(nothing)
    return tasks, replies


def serve(function, stdin=None, stdout=None):
    """Answers tasks with `function(x)` until stdin ends.

    An exception in `function` becomes an error reply; the worker goes on.
    Without `stdin` and `stdout` it speaks on this process's own, with
    print() moved to stderr.
    """
    if stdin is None and stdout is None:
        stdin, stdout = _protocol_streams()
    write = stdout.write
    write(json.dumps({"hello": "taskmaster-worker", "protocol": PROTOCOL}) + "\n")
    stdout.flush()
    for line in stdin:
        if not line.strip():
            continue
        task = json.loads(line)
        try:
            reply = {"id": task["id"], "y": _encode(function(_decode(task["x"])))}
        except Exception as error:  # the task failed, not the worker
            reply = {"id": task["id"], "error": f"{type(error).__name__}: {error}"}
        write(json.dumps(reply, allow_nan=False) + "\n")
        stdout.flush()


def evaluate(x):
    """The example model: a sharp peak on a smooth background."""
    return x + math.exp(-((x - 0.3) ** 2) / 0.01)


if __name__ == "__main__":
    serve(evaluate)
