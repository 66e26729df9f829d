#!/usr/bin/env bash
# Builds the RESP parser fuzz target with clang's libFuzzer and runs it for N seconds (default 60).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
mkdir -p build/fuzz/corpus
clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -Isrc \
  tests/fuzz/resp_parser_fuzz.cc src/protocol/resp_parser.cc src/protocol/inline_split.cc \
  src/common/strings.cc -o build/fuzz/resp_parser_fuzz
printf '*2\r\n$3\r\nGET\r\n$3\r\nfoo\r\n' > build/fuzz/corpus/seed1
printf 'SET a "b c"\r\n' > build/fuzz/corpus/seed2
build/fuzz/resp_parser_fuzz -max_total_time="$secs" -max_len=4096 build/fuzz/corpus
