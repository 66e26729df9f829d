#!/bin/sh
# Runs the benchmark with Debian's Python (the python3 on PATH may be another interpreter).
# Usage: bench/run.sh [--quick] [--only redis] [...]; bench/run.sh --help for all options.
exec /usr/bin/python3 "$(dirname "$0")/run.py" "$@"
