#!/bin/sh
# A program of two inputs for the command line tests: prints x0 * x1 + x0.
awk -v a="$1" -v b="$2" 'BEGIN { printf "%.17g\n", a * b + a }'
