#!/usr/bin/env bash
# Reserved seating against general admission (docs/performance.md, "Reserved seating"): for
# each backend, a fresh database and a fresh server; `hot-lock` (general admission, one seat a
# hold) and `best-available` (5,000-seat halls, 1 to 8 seats a hold) at the same client count,
# then `best-available` paced at half of its own peak for the p99 latency.
#
#   cargo build --release --workspace      # once; this script never builds
#   PGPORT=56791 bench/seating.sh          # sqlite and postgres (about 2 minutes)
#   bench/seating.sh sqlite
#
# Environment: DURATION (10 s per run), CLIENTS (64), HALLS (60 halls of 5000 seats),
# PORT (3481), PGHOST/PGPORT/PGUSER (127.0.0.1, 55432, postgres), OUT (bench/results/seating-<time>).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
server_bin="$root/target/release/boxoffice"
bench_bin="$root/target/release/boxoffice-bench"
for bin in "$server_bin" "$bench_bin"; do
  [[ -x $bin ]] || { echo "missing $bin: run cargo build --release --workspace first" >&2; exit 2; }
done

backends="${1:-sqlite postgres}"
duration="${DURATION:-10}"
clients="${CLIENTS:-64}"
halls="${HALLS:-60}"
port="${PORT:-3481}"
url="http://127.0.0.1:$port"
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-55432}" PGUSER="${PGUSER:-postgres}"
out="${OUT:-$root/bench/results/seating-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$out"
echo "results in $out"

server_pid=""
stop_server() {
  if [[ -n $server_pid ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}
trap stop_server EXIT

start_server() { # backend
  local database_url
  case "$1" in
    sqlite)
      rm -f "$out"/sqlite.db*
      database_url="sqlite://$out/sqlite.db"
      ;;
    postgres)
      psql -X -q -d postgres -c "DROP DATABASE IF EXISTS boxoffice_seating_bench" \
        -c "CREATE DATABASE boxoffice_seating_bench"
      database_url="postgres://$PGUSER@$PGHOST:$PGPORT/boxoffice_seating_bench"
      ;;
  esac
  DATABASE_URL="$database_url" PORT="$port" LOCK_TTL_SECONDS=3600 SWEEP_INTERVAL_MS=3600000 \
    RUST_LOG=warn "$server_bin" >"$out/server-$1.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 100); do
    curl -fs "$url/health" >/dev/null && return 0
    sleep 0.1
  done
  echo "the $1 server did not start" >&2
  exit 1
}

bench() { # label, args...
  local label="$1"
  shift
  "$bench_bin" --url "$url" --clients "$clients" --duration "$duration" --quiet \
    --server-pid "$server_pid" --label "$label" "$@" | tee "$out/$label.txt"
}

for backend in $backends; do
  start_server "$backend"
  bench "$backend-hot-lock" --scenario hot-lock
  bench "$backend-best-available" --scenario best-available --events "$halls" --json \
    >"$out/$backend-best-available.json"
  peak="$(sed -n 's/.*"holdsPerS": *\([0-9.]*\).*/\1/p' "$out/$backend-best-available.json" | head -n1)"
  cat "$out/$backend-best-available.txt" 2>/dev/null || true
  half="$(awk -v p="$peak" 'BEGIN { printf "%.0f", p / 2 }')"
  bench "$backend-best-available-paced" --scenario best-available --events "$halls" --rate "$half"
  stop_server
done
