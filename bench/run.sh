#!/usr/bin/env bash
# The performance matrix of docs/performance.md: for each backend, a fresh database and a fresh
# server; `health` and `hot-lock` back to back at each client count; flash sales; a paced
# hot-lock at half the peak hold rate (for p99 latency); and, for PostgreSQL, the pgbench
# baseline of bench/pgbench/run.sh right after each hot-lock run at the same client count.
# Every request goes to 127.0.0.1, every run is bounded.
#
#   cargo build --release --workspace   # once (server and bench); this script never builds
#   bench/run.sh                   # sqlite and postgres (about 6 minutes)
#   bench/run.sh sqlite            # one backend
#   DURATION=5 CLIENTS="16 64" bench/run.sh postgres
#
# PostgreSQL: unless PGPORT is given, the script starts a throwaway cluster of its own with
# fsync and synchronous_commit ON (a durable database, as in production; bench/durable-pg.sh)
# and removes it afterwards; PG_DURABLE=off gives the fsync=off figure, labelled as such.
#
# Environment: DURATION (10 s per run), CLIENTS ("1 16 64 256"), FLASH_CLIENTS ("64 256"),
# FLASH_SEATS (5000), PORT (3480), PGHOST/PGPORT/PGUSER (an existing cluster, used as is),
# DATABASE_MAX_CONNECTIONS (the server's default, 16), OUT (bench/results/<time>).
# Each run's JSON report, the server logs, CPU snapshots (cpu-*.txt) and the pgbench output land in OUT;
# the summary is printed at the end and written to OUT/summary.md.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
server_bin="$root/target/release/boxoffice"
bench_bin="$root/target/release/boxoffice-bench"
for bin in "$server_bin" "$bench_bin"; do
  [[ -x $bin ]] || { echo "missing $bin: run cargo build --release --workspace first" >&2; exit 2; }
done

backends="${1:-all}"
[[ $backends == all ]] && backends="sqlite postgres"
duration="${DURATION:-10}"
clients="${CLIENTS:-1 16 64 256}"
flash_clients="${FLASH_CLIENTS:-64 256}"
flash_seats="${FLASH_SEATS:-5000}"
port="${PORT:-3480}"
url="http://127.0.0.1:$port"
out="${OUT:-$root/bench/results/$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$out"
echo "results in $out"
stop_pg_cluster() { :; }
if [[ " $backends " == *" postgres "* && -z ${PGPORT:-} ]]; then
  # shellcheck source=durable-pg.sh
  source "$root/bench/durable-pg.sh"
fi
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-55432}" PGUSER="${PGUSER:-postgres}"

server_pid=""
stop_server() {
  if [[ -n $server_pid ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}
trap 'stop_server; stop_pg_cluster' EXIT

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
      psql -d boxoffice_bench_run -qc "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" 2>/dev/null || true
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
  "$bench_bin" --url "$url" --server-pid "$server_pid" --json --label "$name" \
    --duration "$duration" "$@" >"$out/$name.json" 2>"$out/$name.progress"
}

# CPU over a 4-second window in the middle of a run (from 2 s to 6 s after set-up, by the
# bench's progress lines), in % of one core, from
# /proc: the machine, the server and each of its threads, the bench, and the PostgreSQL
# backends serving our database (the cluster may be shared; other databases are left out).
proc_ticks() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{print $12 + $13}'; }
machine_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9}' /proc/stat; }
sum_ticks() { local sum=0 t; for pid in "$@"; do t="$(proc_ticks "$pid")"; sum=$((sum + ${t:-0})); done; echo "$sum"; }
thread_ticks() {
  for task in /proc/"$server_pid"/task/*; do
    echo "${task##*/} $(tr ' ' _ <"$task/comm") $(proc_ticks "$server_pid/task/${task##*/}")"
  done | sort
}
cpu_pid=""
cpu_snapshot() { # name, backend
  (
    for _ in $(seq 600); do
      (($(wc -l 2>/dev/null <"$out/$1.progress" || echo 0) >= 2)) && break
      sleep 0.1
    done
    local bench_pid pg_pids=() m0 m1 s0 s1 b0 b1 p0 p1
    bench_pid="$(pgrep -P $$ -x boxoffice-bench | head -1)"
    if [[ $2 == postgres ]]; then
      mapfile -t pg_pids < <(psql -d postgres -Atc \
        "SELECT pid FROM pg_stat_activity WHERE datname = 'boxoffice_bench_run'")
    fi
    m0="$(machine_ticks)" s0="$(proc_ticks "$server_pid")" b0="$(proc_ticks "$bench_pid")"
    p0="$(sum_ticks "${pg_pids[@]}")"
    thread_ticks >"$out/.threads0"
    for _ in 1 2 3 4; do
      sleep 1
      [[ $2 == postgres ]] && psql -d postgres -Atc "SELECT coalesce(wait_event_type || ':' || wait_event, '(running)') || ' ' || state
        FROM pg_stat_activity WHERE datname = 'boxoffice_bench_run'" >>"$out/.waits"
    done
    m1="$(machine_ticks)" s1="$(proc_ticks "$server_pid")" b1="$(proc_ticks "$bench_pid")"
    p1="$(sum_ticks "${pg_pids[@]}")"
    thread_ticks >"$out/.threads1"
    {
      echo "window 4 s, % of one core ($(nproc) cores)"
      echo "machine busy $(awk -v a="$m0" -v b="$m1" -v n="$(nproc)" 'BEGIN {split(a, x, " "); split(b, y, " "); printf "%.0f", 100 * n * (y[1] - x[1]) / (y[2] - x[2])}') %"
      echo "server $(((s1 - s0) / 4)) %"
      join "$out/.threads0" "$out/.threads1" |
        awk '{d = ($5 - $3) / 4; if (d > 0) {sum[$2] += d; n[$2]++}} END {for (k in sum) printf "  thread %s ×%d %.0f %%\n", k, n[k], sum[k]}' |
        sort -t '%' -k1 -rn
      echo "bench $(((${b1:-0} - ${b0:-0}) / 4)) %"
      if [[ $2 == postgres ]]; then
        echo "postgres ${#pg_pids[@]} backends $(((p1 - p0) / 4)) %"
        echo "what the server's connections were doing (pg_stat_activity, 4 samples):"
        sort "$out/.waits" | uniq -c | sort -rn | sed 's/^/  /'
      fi
    } >"$out/cpu-$1.txt"
    rm -f "$out/.threads0" "$out/.threads1" "$out/.waits"
  ) &
  cpu_pid=$!
}

# Where PostgreSQL's time went in a run: pg_stat_statements (when the cluster has it), the
# statements of our database by total execution time, with calls, mean time and rows.
pg_statements_reset() { psql -d boxoffice_bench_run -qAtc 'SELECT pg_stat_statements_reset()' >/dev/null 2>&1 || true; }
pg_statements() { # name
  psql -d boxoffice_bench_run -P pager=off -c "SELECT calls, round(total_exec_time::numeric, 1) AS total_ms,
      round(mean_exec_time::numeric, 3) AS mean_ms, round(total_plan_time::numeric, 1) AS plan_ms, rows,
      left(regexp_replace(query, '\s+', ' ', 'g'), 110) AS query
    FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'boxoffice_bench_run')
    ORDER BY total_exec_time DESC LIMIT 15" >"$out/pg-statements-$1.txt" 2>&1 || true
  psql -d postgres -Atc "SELECT 'fsync=' || current_setting('fsync') || ' synchronous_commit=' ||
    current_setting('synchronous_commit')" >>"$out/pg-statements-$1.txt" 2>&1 || true
}

for backend in $backends; do
  start_server "$backend"
  for c in $clients; do
    bench "$backend-health-c$c" --scenario health --clients "$c"
    [[ $backend == postgres ]] && pg_statements_reset
    cpu_snapshot "$backend-hot-lock-c$c" "$backend"
    bench "$backend-hot-lock-c$c" --scenario hot-lock --clients "$c"
    wait "$cpu_pid"
    [[ $backend == postgres ]] && pg_statements "$backend-hot-lock-c$c"
    if [[ $backend == postgres ]]; then
      # The database alone, right after the server's run at the same client count.
      echo "$(date +%T) load $(cut -d' ' -f1-3 /proc/loadavg)  pgbench-c$c" | tee -a "$out/load.txt"
      DURATION="$duration" CLIENTS="$c" "$root/bench/pgbench/run.sh" >>"$out/pgbench.txt"
    fi
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

"$root/bench/summarize.sh" "$out" | tee "$out/summary.md"
