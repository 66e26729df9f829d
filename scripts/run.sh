#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a running server: installs dependencies,
# builds the release binary and starts shoal-server on 127.0.0.1:6379 (extra arguments are
# passed through, e.g. scripts/run.sh --port 6380 --threads 4).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh release
exec build/release/shoal-server "$@"
