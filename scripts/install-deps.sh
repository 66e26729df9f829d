#!/usr/bin/env bash
# Installs every Debian 12 package Shoal needs to build, test and benchmark.
# Safe to re-run: apt-get skips what is already installed.
set -euo pipefail

PACKAGES=(
  # Build
  build-essential cmake ninja-build ccache pkg-config
  libabsl-dev libxxhash-dev libjemalloc-dev libcli11-dev libfmt-dev
  # Unit tests
  libgtest-dev libgmock-dev
  # Integration tests and benchmarks: the Redis oracle and real clients
  redis-server redis-tools python3 python3-redis python3-pytest libhiredis-dev
  # Scripting: Lua 5.1 with the cjson and bit modules Redis embeds; SHA1 from OpenSSL
  liblua5.1-0-dev lua-cjson-dev lua-bitop-dev libssl-dev
  # JSON documents (src/json): the simdjson parser
  libsimdjson-dev
  # HTTP/JSON API: the Node.js HTTP parser, simdjson; curl and wrk for its tests and benchmarks
  libhttp-parser-dev curl wrk
  # Durability (src/persist): LZF, the compression Redis uses for strings in RDB files
  liblzf-dev
)

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "Installing: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi
# Debian starts redis-server as a service on install; our tests start their own on random ports.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet redis-server 2>/dev/null; then
  $SUDO systemctl stop redis-server || true
fi
