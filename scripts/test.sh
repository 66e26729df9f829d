#!/usr/bin/env bash
# Builds and runs every test: unit tests (GoogleTest) and integration tests (pytest against the
# real binary, diffed with Debian's redis-server), in three builds:
#   release  everything
#   asan     everything, under AddressSanitizer + UndefinedBehaviorSanitizer
#   tsan     unit tests and the cross-thread integration tests, under ThreadSanitizer
# Set SHOAL_TEST_BUILDS="release" (space-separated) to run fewer builds while developing.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
builds=${SHOAL_TEST_BUILDS:-release asan tsan}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
status=0
for b in $builds; do
  echo "=== build: $b ==="
  scripts/build.sh "$b"
  echo "=== tests: $b ==="
  (cd "build/$b" && ctest --output-on-failure --timeout 900) || status=1
done
exit $status
