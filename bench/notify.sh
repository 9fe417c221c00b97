#!/usr/bin/env bash
# Issue 14's two targets (docs/performance.md, "Notifications (issue 14)"), per backend:
#
# 1. Hot-lock holds/s, the build from before the outbox (BEFORE) against this build
#    (target/release/boxoffice), side by side and interleaved, ROUNDS times: each round runs
#    `before`, `after` (notifications written and numbered, no endpoint) and `after+webhook`
#    (an endpoint on bench/receiver.js receives every notification while the holds run), each
#    on a fresh database and a fresh server, with the same bench, clients and duration. The
#    order alternates from round to round, so that a change in the machine's load does not
#    always favour the same binary. Ratios are quoted from one round.
# 2. Commit-to-delivery: this build, a webhook to bench/receiver.js, holds paced at RATE a
#    second (one `lock.created` each: RATE notifications/s), then the server's histogram
#    boxoffice_webhook_delivery_latency_seconds once nothing is pending; p99 is read from its
#    buckets (the smallest bound under which 99 % of the deliveries fall).
#
#   git worktree add --detach /tmp/before 16afd65 && (cd /tmp/before && cargo build --release)
#   cargo build --release --workspace
#   BEFORE=/tmp/before/target/release/boxoffice bench/notify.sh            # sqlite and postgres
#   BEFORE=… ROUNDS=3 bench/notify.sh sqlite
#
# PostgreSQL: a throwaway durable cluster (bench/durable-pg.sh: fsync and synchronous_commit
# on; PG_BENCH_PORT is the first port it tries) unless PGPORT names one.
# Environment: BEFORE (required), ROUNDS (2), DURATION (10 s per run), CLIENTS (64), RATE
# (1000), PORT (3481), RECEIVER_PORT (3490), OUT (bench/results/notify-<time>). Results: one
# JSON report per bench run, metrics-*.txt, load.txt, and summary.txt (also printed).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
before_bin="${BEFORE:?BEFORE must name the pre-outbox build of boxoffice}"
after_bin="$root/target/release/boxoffice"
bench_bin="$root/target/release/boxoffice-bench"
for bin in "$before_bin" "$after_bin" "$bench_bin"; do
  [[ -x $bin ]] || { echo "missing $bin" >&2; exit 2; }
done
backends="${1:-sqlite postgres}"
rounds="${ROUNDS:-2}"
duration="${DURATION:-10}"
clients="${CLIENTS:-64}"
rate="${RATE:-1000}"
port="${PORT:-3481}"
receiver_port="${RECEIVER_PORT:-3490}"
url="http://127.0.0.1:$port"
out="${OUT:-$root/bench/results/notify-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$out"
echo "results in $out"

stop_pg_cluster() { :; }
if [[ " $backends " == *" postgres "* && -z ${PGPORT:-} ]]; then
  # shellcheck source=durable-pg.sh
  source "$root/bench/durable-pg.sh"
fi
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-55432}" PGUSER="${PGUSER:-postgres}"

server_pid="" receiver_pid=""
stop_server() {
  if [[ -n $server_pid ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}
cleanup() {
  stop_server
  [[ -n $receiver_pid ]] && { kill "$receiver_pid" 2>/dev/null || true; wait "$receiver_pid" 2>/dev/null || true; }
  stop_pg_cluster
}
trap cleanup EXIT

node "$root/bench/receiver.js" "$receiver_port" 2>"$out/receiver.log" &
receiver_pid=$!

start_server() { # binary, backend, name
  local database_url
  case "$2" in
    sqlite)
      rm -f "$out"/bench.db*
      database_url="sqlite://$out/bench.db"
      ;;
    postgres)
      PGOPTIONS="-c client_min_messages=warning" dropdb --if-exists boxoffice_notify_bench
      createdb boxoffice_notify_bench
      database_url="postgres://$PGUSER@$PGHOST:$PGPORT/boxoffice_notify_bench"
      ;;
  esac
  RUST_LOG=warn PORT="$port" DATABASE_URL="$database_url" LOCK_TTL_SECONDS=3600 \
    WEBHOOK_ALLOW_PRIVATE=true "$1" >"$out/server-$3.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 100); do
    curl -fs "$url/health" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "the server did not start; see $out/server-$3.log" >&2
  exit 2
}

add_webhook() {
  curl -fs -H 'Content-Type: application/json' "$url/api/webhooks" \
    -d "{\"url\":\"http://127.0.0.1:$receiver_port/\"}" >/dev/null
}

bench() { # name, bench arguments…
  local name="$1"
  shift
  echo "$(date +%T) load $(cut -d' ' -f1-3 /proc/loadavg)  $name" | tee -a "$out/load.txt"
  "$bench_bin" --url "$url" --server-pid "$server_pid" --json --label "$name" \
    --duration "$duration" --clients "$clients" --scenario hot-lock "$@" \
    >"$out/$name.json" 2>"$out/$name.progress"
}

holds_per_s() { jq -r '.holdsPerS | floor' "$out/$1.json"; }

# Waits (at most 120 s) until every endpoint has nothing pending.
wait_delivered() {
  for _ in $(seq 1200); do
    [[ $(curl -fs "$url/api/webhooks" | jq '[.data[].pending] | add // 0') == 0 ]] && return 0
    sleep 0.1
  done
  echo "deliveries still pending after 120 s" >&2
}

# p99 of a Prometheus histogram from its cumulative buckets: the smallest `le` whose count
# reaches 99 % of the total; also the share delivered within 1 s.
p99_of() { # metrics file
  awk -F'[{}" ]+' '/^boxoffice_webhook_delivery_latency_seconds_bucket/ {
      for (i = 1; i <= NF; i++) if ($i == "le=") le = $(i + 1); n[++k] = le; c[k] = $NF }
    /^boxoffice_webhook_delivery_latency_seconds_count/ {total = $NF}
    END {
      for (i = 1; i <= k; i++) if (n[i] == "1") within = c[i]
      for (i = 1; i <= k; i++) if (c[i] >= 0.99 * total) { p99 = n[i]; break }
      printf "deliveries %d, p99 <= %s s, within 1 s %.2f %%\n", total, p99, 100 * within / total }' "$1"
}

summary="$out/summary.txt"
for backend in $backends; do
  for round in $(seq "$rounds"); do
    order="before after after+webhook"
    ((round % 2 == 0)) && order="after+webhook after before"
    for variant in $order; do
      name="$backend-r$round-$variant"
      case $variant in
        before) start_server "$before_bin" "$backend" "$name" ;;
        *) start_server "$after_bin" "$backend" "$name" ;;
      esac
      [[ $variant == after+webhook ]] && add_webhook
      bench "$name"
      stop_server
    done
    b="$(holds_per_s "$backend-r$round-before")"
    a="$(holds_per_s "$backend-r$round-after")"
    w="$(holds_per_s "$backend-r$round-after+webhook")"
    printf '%s round %d: holds/s before %s, after %s (%.2f×), after+webhook %s (%.2f×)\n' \
      "$backend" "$round" "$b" "$a" "$(jq -n "$a / $b")" "$w" "$(jq -n "$w / $b")" | tee -a "$summary"
  done

  name="$backend-latency-rate$rate"
  start_server "$after_bin" "$backend" "$name"
  add_webhook
  bench "$name" --rate "$rate"
  wait_delivered
  curl -fs "$url/metrics" >"$out/metrics-$name.txt"
  stop_server
  printf '%s commit-to-delivery at %s holds/s (achieved %s holds/s): %s\n' "$backend" "$rate" \
    "$(holds_per_s "$name")" "$(p99_of "$out/metrics-$name.txt")" | tee -a "$summary"
done
