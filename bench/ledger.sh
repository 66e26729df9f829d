#!/usr/bin/env bash
# The ledger demo (issue 4): starts a server, creates the accounts, and runs shoal-ledger's
# concurrent transfers and atomic audits against it, printing transfers/s and the audit result.
#
#   bench/ledger.sh                      # Shoal --threads 2, one minute
#   bench/ledger.sh --threads 4 --seconds 20
#   bench/ledger.sh --redis              # the same client against redis-server
#   bench/ledger.sh --compare            # Shoal, then redis-server, same options
#   bench/ledger.sh --soak [--seconds 3600]   # long run in 60 s rounds, audited after each;
#                                             # stops at the first violation or error
#   bench/ledger.sh -- --mix watch,script --clients 100 --pipeline 8   # client options
#
# Builds build/release if the binaries are missing. Exit status: shoal-ledger's (0 clean,
# 1 violation, 2 error), or 1 if the server died.
set -euo pipefail
cd "$(dirname "$0")/.."

threads=2 seconds=60 servers=shoal soak=0 round=60
client_args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --threads) threads=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --redis) servers=redis; shift ;;
    --compare) servers="shoal redis"; shift ;;
    --soak) soak=1; [[ $seconds == 60 ]] && seconds=1800; shift ;;
    --round) round=$2; shift 2 ;;
    --) shift; client_args=("$@"); break ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 3 ;;
  esac
done

bin=build/release
if [[ ! -x $bin/shoal-server || ! -x $bin/shoal-ledger ]]; then
  echo "building $bin ..."
  CCACHE_BASEDIR=$PWD nice scripts/build.sh release
fi
ledger=$bin/shoal-ledger
accounts=(--accounts 1000 --balance 1000 --coins 5)

server_pid=""
logdir=$(mktemp -d /tmp/shoal-ledger-demo.XXXXXX)
stop_server() {
  if [[ -n $server_pid ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}
trap stop_server EXIT INT TERM

free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

start_server() {  # $1 = shoal | redis; sets port and server_pid.
  port=$(free_port)
  if [[ $1 == shoal ]]; then
    $bin/shoal-server --port "$port" --bind 127.0.0.1 --threads "$threads" --http-port 0 --save "" \
      >"$logdir/shoal.log" 2>&1 &
  else
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
      >"$logdir/redis.log" 2>&1 &
  fi
  server_pid=$!
  for _ in $(seq 100); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "$1 did not start; log: $logdir" >&2
  exit 1
}

run() {  # $1 = shoal | redis
  local name=$1 rc=0
  [[ $name == shoal ]] && name="shoal --threads $threads"
  start_server "$1"
  echo "== $name on port $port: ${seconds} s of transfers ($(nproc) CPUs here)"
  if [[ $soak == 0 ]]; then
    "$ledger" --port "$port" --setup "${accounts[@]}" --seconds "$seconds" \
      "${client_args[@]}" || rc=$?
  else
    local left=$seconds n=0 setup=--setup
    while (( left > 0 )); do
      n=$((n + 1))
      local this=$(( left < round ? left : round ))
      echo "-- round $n: ${this} s ($left s left)"
      # Each round ends with a full audit against the setup's totals (--setup only once).
      "$ledger" --port "$port" $setup "${accounts[@]}" --seconds "$this" \
        "${client_args[@]}" | grep -v '^  ' || rc=${PIPESTATUS[0]}
      [[ $rc != 0 ]] && break
      "$ledger" --port "$port" --audit-only "${accounts[@]}" >/dev/null || { rc=$?; break; }
      setup=""
      left=$((left - this))
    done
  fi
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "the server died; log: $logdir" >&2
    rc=1
  fi
  stop_server
  if [[ $rc == 0 ]]; then echo "== $name: audits clean"; else echo "== $name: FAILED ($rc)"; fi
  return "$rc"
}

status=0
for s in $servers; do run "$s" || status=$?; done
rm -rf "$logdir"
exit "$status"
