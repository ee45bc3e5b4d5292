"""A noisy function of x for the tool's average1d learner, printed exactly
(repr): tanh(5 x) plus normal noise (deviation 0.1) from a generator seeded
with the pair (seed, x), so that each sample is reproducible.

``avg_noise_1d.py SEED X`` prints one sample (one program per point);
without arguments it serves the tool's JSON Lines worker protocol
(docs/worker-protocol.md), whose task inputs are [seed, x].
"""

import json
import math
import random
import sys


def f(seed: int, x: float) -> float:
    return math.tanh(5 * x) + random.Random(f"{seed}:{x!r}").gauss(0.0, 0.1)


if len(sys.argv) > 2:
    print(repr(f(int(sys.argv[1]), float(sys.argv[2]))))
else:
    print(json.dumps({"hello": "taskmaster-worker", "protocol": 1}), flush=True)
    for line in sys.stdin:
        if line.strip():
            task = json.loads(line)
            seed, x = task["x"]
            print(json.dumps({"id": task["id"], "y": f(int(seed), float(x))}), flush=True)
