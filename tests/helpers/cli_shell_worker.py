#!/usr/bin/python3
"""A taskmaster worker for inputs of any dimension (JSON Lines protocol).

Answers f(x) = sum(x) + exp(-(|x|^2 - 0.5)^2 / 0.01): a spherical shell.
"""

import json
import math
import sys

print(json.dumps({"hello": "taskmaster-worker", "protocol": 1}), flush=True)
for line in sys.stdin:
    if line.strip():
        task = json.loads(line)
        x = task["x"]
        r2 = sum(v * v for v in x)
        y = sum(x) + math.exp(-((r2 - 0.5) ** 2) / 0.01)
        print(json.dumps({"id": task["id"], "y": y}), flush=True)
