#!/bin/sh
# A program to sample from the command line: prints f(x) for x = $1, a sharp
# peak on a slope. A second argument changes what it does:
#   pair  print [f(x), f(x)^2] (two output components)
#   slow  take 50 ms first (for the tests that interrupt a run)
[ "$2" = slow ] && sleep 0.05
awk -v x="$1" -v mode="$2" 'BEGIN {
  y = x + exp(-(x - 0.3) ^ 2 / 0.01)
  if (mode == "pair") printf "[%.17g, %.17g]\n", y, y * y
  else printf "%.17g\n", y
}'
