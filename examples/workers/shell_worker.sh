#!/bin/sh
# A taskmaster worker in POSIX shell, speaking the JSON Lines worker protocol
# version 1 (docs/worker-protocol.md). It evaluates y = x * x for a number x
# with awk; put your own command where awk is called.
#
#   taskmaster::StdioMaster<double, double> master({"/bin/sh", "examples/workers/shell_worker.sh"});

printf '{"hello":"taskmaster-worker","protocol":1}\n'
while IFS= read -r line; do
  # Tasks look like {"id":7,"x":0.25}: take the number after "id": and after "x":.
  id=$(printf '%s\n' "$line" | sed -n 's/.*"id":[[:space:]]*\([0-9][0-9]*\).*/\1/p')
  x=$(printf '%s\n' "$line" | sed -n 's/.*"x":[[:space:]]*\([-+0-9.eE]*\).*/\1/p')
  if [ -z "$id" ]; then
    continue
  fi
  if [ -z "$x" ]; then
    printf '{"id":%s,"error":"this worker takes a single number"}\n' "$id"
    continue
  fi
  y=$(awk -v x="$x" 'BEGIN { printf "%.17g", x * x }')
  printf '{"id":%s,"y":%s}\n' "$id" "$y"
done
