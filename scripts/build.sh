#!/usr/bin/env bash
# Builds one configuration into build/<name>.
#   scripts/build.sh release   optimized (-O3), the binary users run and benchmarks measure
#   scripts/build.sh asan      AddressSanitizer + UndefinedBehaviorSanitizer
#   scripts/build.sh tsan      ThreadSanitizer
set -euo pipefail
cd "$(dirname "$0")/.."
name=${1:-release}
case "$name" in
  release) args=(-DCMAKE_BUILD_TYPE=Release) ;;
  asan) args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DSHOAL_SANITIZE=address) ;;
  tsan) args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DSHOAL_SANITIZE=thread) ;;
  *) echo "unknown build '$name' (release, asan, tsan)" >&2; exit 2 ;;
esac
cmake -S . -B "build/$name" -G Ninja "${args[@]}" >/dev/null
ninja -C "build/$name"
