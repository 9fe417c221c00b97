#!/usr/bin/env bash
# The performance matrix of docs/performance.md: for each backend, a fresh database and a fresh
# server; `health` and `hot-lock` back to back at each client count; flash sales; a paced
# hot-lock at half the peak hold rate (for p99 latency); and, for PostgreSQL, the pgbench
# baseline of bench/pgbench/run.sh. Every request goes to 127.0.0.1, every run is bounded.
#
#   cargo build --release          # once; this script never builds
#   bench/run.sh                   # sqlite and postgres (about 6 minutes)
#   bench/run.sh sqlite            # one backend
#   DURATION=5 CLIENTS="16 64" bench/run.sh postgres
#
# Environment: DURATION (10 s per run), CLIENTS ("1 16 64 256"), FLASH_CLIENTS ("64 256"),
# FLASH_SEATS (2000), PORT (3480), PGHOST/PGPORT/PGUSER (127.0.0.1, 55432, postgres),
# DATABASE_MAX_CONNECTIONS (the server's default, 16), OUT (bench/results/<time>).
# Each run's JSON report, the server logs, `top` snapshots and the pgbench output land in OUT;
# the summary is printed at the end and written to OUT/summary.md.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
server_bin="$root/target/release/boxoffice"
bench_bin="$root/target/release/boxoffice-bench"
for bin in "$server_bin" "$bench_bin"; do
  [[ -x $bin ]] || { echo "missing $bin: run cargo build --release first" >&2; exit 2; }
done

backends="${1:-all}"
[[ $backends == all ]] && backends="sqlite postgres"
duration="${DURATION:-10}"
clients="${CLIENTS:-1 16 64 256}"
flash_clients="${FLASH_CLIENTS:-64 256}"
flash_seats="${FLASH_SEATS:-2000}"
port="${PORT:-3480}"
url="http://127.0.0.1:$port"
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-55432}" PGUSER="${PGUSER:-postgres}"
out="${OUT:-$root/bench/results/$(date +%Y%m%d-%H%M%S)}"
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
      PGOPTIONS="-c client_min_messages=warning" dropdb --if-exists boxoffice_bench_run
      createdb boxoffice_bench_run
      database_url="postgres://$PGUSER@$PGHOST:$PGPORT/boxoffice_bench_run"
      ;;
  esac
  RUST_LOG=warn PORT="$port" DATABASE_URL="$database_url" "$server_bin" >"$out/server-$1.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 100); do
    curl -fs "$url/health" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "the server did not start; see $out/server-$1.log" >&2
  exit 2
}

# One bench run; its JSON report goes to OUT/<name>.json. A failed check stops everything.
bench() { # name, bench arguments…
  local name="$1"
  shift
  echo "$(date +%T) load $(cut -d' ' -f1-3 /proc/loadavg)  $name" | tee -a "$out/load.txt"
  "$bench_bin" --url "$url" --server-pid "$server_pid" --json --quiet --label "$name" \
    --duration "$duration" "$@" >"$out/$name.json"
}

# CPU by process over 4 s in the middle of a run: the second frame of `top`.
top_snapshot() { # name
  (sleep 2 && top -b -d 4 -n 2 -w 200 |
    awk '/^top -/ {frame++} frame == 2' >"$out/top-$1.txt") &
}

for backend in $backends; do
  start_server "$backend"
  for c in $clients; do
    bench "$backend-health-c$c" --scenario health --clients "$c"
    top_snapshot "$backend-hot-lock-c$c"
    bench "$backend-hot-lock-c$c" --scenario hot-lock --clients "$c"
    wait
  done
  for c in $flash_clients; do
    bench "$backend-flash-sale-c$c" --scenario flash-sale --clients "$c" --seats "$flash_seats"
  done
  peak="$(cat "$out/$backend"-hot-lock-c*.json | jq -s 'map(.holdsPerS) | max')"
  half="$(jq -n "$peak / 2 | floor")"
  bench "$backend-hot-lock-half-rate" --scenario hot-lock --clients 64 --rate "$half"
  stop_server
done

# The HTTP client's own cost, against a fresh SQLite server.
if [[ " $backends " == *" sqlite "* ]]; then
  start_server sqlite
  for client in hyper reqwest; do
    bench "client-$client-health-c64" --scenario health --clients 64 --client "$client"
  done
  stop_server
fi

if [[ " $backends " == *" postgres "* ]]; then
  echo "$(date +%T) load $(cut -d' ' -f1-3 /proc/loadavg)  pgbench" | tee -a "$out/load.txt"
  DURATION="$duration" CLIENTS="$clients" "$root/bench/pgbench/run.sh" | tee "$out/pgbench.txt"
fi

"$root/bench/summarize.sh" "$out" | tee "$out/summary.md"
