#!/usr/bin/python3
"""A taskmaster worker (JSON Lines protocol) whose every task takes a minute,
in a program of its own that it starts: for the tests that stop a run with a
signal and then look for what is left in the process table. The first
argument (a marker the test looks for) is passed on to that program.
"""

import json
import subprocess
import sys

print(json.dumps({"hello": "taskmaster-worker", "protocol": 1}), flush=True)
for line in sys.stdin:
    if line.strip():
        task = json.loads(line)
        subprocess.run(["/usr/bin/python3", "-c", "import time; time.sleep(60)", sys.argv[1]])
        print(json.dumps({"id": task["id"], "y": 1}), flush=True)
