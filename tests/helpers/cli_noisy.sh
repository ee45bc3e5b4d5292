#!/bin/sh
# A noisy program for the averaging learners: prints tanh(10 x) plus noise
# drawn deterministically from the seed, for `cli_noisy.sh SEED X`.
awk -v s="$1" -v x="$2" 'BEGIN {
  u = (s * 0.6180339887498949 + 0.25) % 1
  v = (s * 0.7548776662466927 + 0.5) % 1
  noise = sqrt(-2 * log(u)) * cos(6.283185307179586 * v)
  e = exp(20 * x)
  printf "%.17g\n", (e - 1) / (e + 1) + 0.1 * noise
}'
