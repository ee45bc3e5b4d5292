"""The functions of the Learner2D and LearnerND tests, for the taskmaster tool.

``python3 mesh_functions.py NAME X0 X1 ...`` prints NAME(X0, X1, ...) exactly
(repr, or a JSON array for vector outputs); ``python3 mesh_functions.py
--worker NAME`` serves NAME over the JSON Lines worker protocol
(docs/worker-protocol.md), which is much faster than a program per point.
"""

from __future__ import annotations

import json
import math
import sys


def ring(x: float, y: float) -> float:
    """A slope with a thin ring-shaped ridge (python-adaptive's 2D example)."""
    return x + math.exp(-((x * x + y * y - 0.75**2) ** 2) / 0.0016)


def sphere(x: float, y: float, z: float) -> float:
    """A smoothed step across a sphere of radius 0.5."""
    return math.tanh(10 * (math.sqrt(x * x + y * y + z * z) - 0.5))


def pair(x: float, y: float) -> list[float]:
    """A two-component function: the ring and a tilted plane."""
    return [ring(x, y), 0.5 * x - y]


FUNCTIONS = {"ring": ring, "sphere": sphere, "pair": pair}


def encode(value: object) -> str:
    return json.dumps(value) if isinstance(value, list) else repr(value)


def serve(function) -> None:
    out = sys.stdout
    out.write(json.dumps({"hello": "taskmaster-worker", "protocol": 1}) + "\n")
    out.flush()
    for line in sys.stdin:
        if not line.strip():
            continue
        task = json.loads(line)
        out.write(json.dumps({"id": task["id"], "y": function(*map(float, task["x"]))}) + "\n")
        out.flush()


if __name__ == "__main__":
    if sys.argv[1] == "--worker":
        serve(FUNCTIONS[sys.argv[2]])
    else:
        print(encode(FUNCTIONS[sys.argv[1]](*map(float, sys.argv[2:]))))
