#!/bin/sh
# A program for the CommandMaster tests: prints 2 x for its input x, except
# for x = 13, where it does what MODE says.
#
#   faulty_command.sh MODE X MARKER
# (MARKER only lets the tests find their processes in /proc.)
mode=$1
x=$2
if [ "$x" = "13" ]; then
  echo "about to misbehave: $mode" >&2
  case $mode in
    segfault) kill -SEGV $$ ;;
    abort) kill -ABRT $$ ;;
    exit3) exit 3 ;;
    hang) /usr/bin/python3 -c 'import time; time.sleep(600)' "$3" & wait ;;
    garbage) echo "this is not a number" ; exit 0 ;;
    huge) head -c 3000000 /dev/zero | tr '\0' '7' ; exit 0 ;;
    close_stdout) exec >&- ; sleep 0.05 ; exit 0 ;;
    error) echo '{"error":"thirteen is unlucky"}' ; exit 0 ;;
  esac
fi
awk -v x="$x" 'BEGIN { printf "%.17g\n", 2 * x }'
