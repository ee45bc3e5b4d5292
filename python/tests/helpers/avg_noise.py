"""A noisy sample for the tool's average learner, printed exactly (repr): a
normal variate (mean 1, deviation 0.5) from a generator seeded with the seed.

``avg_noise.py SEED`` prints one sample (one program per point); without
arguments it serves the tool's JSON Lines worker protocol
(docs/worker-protocol.md), for runs with many points.
"""

import json
import random
import sys


def f(seed: int) -> float:
    return random.Random(seed).gauss(1.0, 0.5)


if len(sys.argv) > 1:
    print(repr(f(int(sys.argv[1]))))
else:
    print(json.dumps({"hello": "taskmaster-worker", "protocol": 1}), flush=True)
    for line in sys.stdin:
        if line.strip():
            task = json.loads(line)
            print(json.dumps({"id": task["id"], "y": f(int(task["x"]))}), flush=True)
