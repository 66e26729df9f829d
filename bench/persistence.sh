#!/bin/sh
# Runs the persistence benchmark with Debian's Python (the python3 on PATH may be another
# interpreter). Usage: bench/persistence.sh [--quick] [--parts aof,...]; --help for all options.
exec /usr/bin/python3 "$(dirname "$0")/persistence.py" "$@"
