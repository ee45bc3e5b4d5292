#!/usr/bin/python3
"""A JSON Lines worker that misbehaves on purpose, for the StdioMaster tests.

    faulty_stdio_worker.py MODE MARKER

It computes y = 2 x, except for x == 13, where it does what MODE says
(die_between: exit right after answering; none: nothing special; slow: every task takes 10 ms;
in_pairs: a task is answered only once the next one has come, or stdin has
ended, which works only with tasks sent ahead). MARKER is only there so that the tests
can find their processes in /proc.
"""

import json
import os
import signal
import sys
import time

mode = sys.argv[1]
out = sys.stdout

if mode == "bad_hello":
    out.write('{"hello":"taskmaster-worker","protocol":99}\n')
    out.flush()
    time.sleep(60)
if mode == "silent":
    time.sleep(60)

out.write('{"hello":"taskmaster-worker","protocol":1}\n')
out.flush()

if mode == "in_pairs":
    held = None
    for line in sys.stdin:
        if held is not None:
            out.write(json.dumps({"id": held["id"], "y": 2 * held["x"]}) + "\n")
            out.flush()
        held = json.loads(line)
    if held is not None:
        out.write(json.dumps({"id": held["id"], "y": 2 * held["x"]}) + "\n")
        out.flush()
    sys.exit(0)

for line in sys.stdin:
    task = json.loads(line)
    x = task["x"]
    if mode == "slow":
        time.sleep(0.01)
    if x == 13 and mode not in ("die_between", "none", "slow"):
        sys.stderr.write(f"about to misbehave: {mode}\n")
        sys.stderr.flush()
        if mode == "segfault":
            os.kill(os.getpid(), signal.SIGSEGV)
        elif mode == "abort":
            os.abort()
        elif mode == "exit3":
            sys.exit(3)
        elif mode == "hang":
            time.sleep(600)
        elif mode == "garbage":
            out.write("this is not JSON at all\n")
        elif mode == "huge":
            out.write('{"id":%d,"y":"%s"}\n' % (task["id"], "z" * (4 << 20)))
        elif mode == "unknown_id":
            out.write(json.dumps({"id": task["id"] + 1000, "y": 0}) + "\n")
        elif mode == "close_stdout":
            out.flush()
            os.close(1)
            time.sleep(600)
        elif mode == "error_reply":
            out.write(json.dumps({"id": task["id"], "error": "thirteen is unlucky"}) + "\n")
        out.flush()
        continue
    out.write(json.dumps({"id": task["id"], "y": 2 * x}) + "\n")
    out.flush()
    if x == 13 and mode == "die_between":
        sys.exit(0)
