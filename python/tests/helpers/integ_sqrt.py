"""sqrt(x) for the taskmaster tool, its value printed exactly (repr).

``integ_sqrt.py X`` prints sqrt(X) (one program per point); without
arguments it serves the tool's JSON Lines worker protocol
(docs/worker-protocol.md), for runs with many points.
"""

import json
import math
import sys


def f(x: float) -> float:
    return math.sqrt(x)


if len(sys.argv) > 1:
    print(repr(f(float(sys.argv[1]))))
else:
    print(json.dumps({"hello": "taskmaster-worker", "protocol": 1}), flush=True)
    for line in sys.stdin:
        if line.strip():
            task = json.loads(line)
            print(json.dumps({"id": task["id"], "y": f(float(task["x"]))}), flush=True)
