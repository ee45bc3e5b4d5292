#!/usr/bin/python3
"""The function `taskmaster demo` samples, served as a taskmaster worker.

Speaks the JSON Lines worker protocol (docs/worker-protocol.md) with the
standard library only: a hello line, then one {"id":..,"y":..} reply per
{"id":..,"x":[x, y]} task, until stdin closes.

The function is a gentle slope with a thin ring-shaped ridge and a sharp
step across one quadrant: smooth almost everywhere, with features that a
regular grid would need very many points to resolve.
"""

import json
import math
import sys
import time

# Pretend each point costs a little, as a real model would: this is what
# makes running several workers at once pay off.
COST_SECONDS = 0.002


def ring_with_step(x, y):
    r2 = x * x + y * y
    ridge = math.exp(-((r2 - 0.5625) ** 2) / 0.0016)
    step = 0.5 * math.tanh(40.0 * (x - y - 0.6)) + 0.5
    return 0.3 * x + ridge + 0.5 * step


def main():
    out = sys.stdout
    out.write(json.dumps({"hello": "taskmaster-worker", "protocol": 1}) + "\n")
    out.flush()
    for line in sys.stdin:
        if not line.strip():
            continue
        task = json.loads(line)
        try:
            x, y = task["x"]
            time.sleep(COST_SECONDS)
            reply = {"id": task["id"], "y": ring_with_step(float(x), float(y))}
        except Exception as error:  # the point failed, not the worker
            reply = {"id": task["id"], "error": f"{type(error).__name__}: {error}"}
        out.write(json.dumps(reply) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
