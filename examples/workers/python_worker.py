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


def serve(function, stdin=sys.stdin, stdout=sys.stdout):
    """Answers tasks with `function(x)` until stdin ends.

    An exception in `function` becomes an error reply; the worker goes on.
    """
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
