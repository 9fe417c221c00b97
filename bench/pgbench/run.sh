#!/usr/bin/env bash
# The database alone: how many seat holds a second PostgreSQL grants on one hot event when each
# hold is its own transaction (bench/pgbench/hold.sql), at 1, 16, 64 and 256 clients.
#
#   bench/pgbench/run.sh                 # 10 s per client count
#   DURATION=30 CLIENTS="64" bench/pgbench/run.sh
#
# Environment: PGHOST (127.0.0.1), PGPORT (55432), PGUSER (postgres), PGBENCH_DB
# (boxoffice_pgbench, dropped and created afresh), DURATION (10), CLIENTS ("1 16 64 256"),
# PGBENCH (pgbench of PostgreSQL 15 if present). PostgreSQL needs max_connections above the
# largest client count (≥ 300 for 256). Prints a "clients tps latency_ms" table.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-55432}" PGUSER="${PGUSER:-postgres}"
db="${PGBENCH_DB:-boxoffice_pgbench}"
duration="${DURATION:-10}"
clients="${CLIENTS:-1 16 64 256}"
pgbench="${PGBENCH:-/usr/lib/postgresql/15/bin/pgbench}"
[[ -x "$pgbench" ]] || pgbench="$(command -v pgbench)"

max_clients=0
for c in $clients; do ((c > max_clients)) && max_clients=$c; done
max_connections="$(psql -d postgres -Atc 'SHOW max_connections')"
if ((max_connections < max_clients + 10)); then
  echo "PostgreSQL max_connections is $max_connections; $max_clients clients need more" >&2
  exit 1
fi

PGOPTIONS="-c client_min_messages=warning" dropdb --if-exists "$db"
createdb "$db"
psql -q -v ON_ERROR_STOP=1 -d "$db" -f "$root/crates/boxoffice/migrations/postgres/0001_init.sql"
# One user and one hot event with, in effect, unlimited seats (the migration's CHECKs hold).
user=000000000000000000000001
event=000000000000000000000002
psql -q -v ON_ERROR_STOP=1 -d "$db" <<SQL
INSERT INTO users (id, name, email, email_key, password_hash, role, created_at, updated_at)
VALUES ('$user', 'pgbench', 'pgbench@example.com', 'pgbench@example.com', 'x', 'user', 0, 0);
INSERT INTO events (id, name, event_date, total_seats, available_seats, created_at, updated_at)
VALUES ('$event', 'pgbench hot event', 4102444800000, 1000000000000, 1000000000000, 0, 0);
SQL

echo "$("$pgbench" --version), $duration s per run, load: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%8s %12s %12s\n' clients tps latency_ms
for c in $clients; do
  psql -q -d "$db" -c 'VACUUM ANALYZE events, seat_locks' >/dev/null
  threads=$((c < 2 ? c : 2))
  out="$("$pgbench" -n -M prepared -c "$c" -j "$threads" -T "$duration" \
    -D event="$event" -D user="$user" -f "$here/hold.sql" "$db" 2>&1)" || {
    echo "$out" >&2
    exit 1
  }
  tps="$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$out")"
  latency="$(sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' <<<"$out")"
  failed="$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' <<<"$out")"
  printf '%8s %12s %12s%s\n' "$c" "$tps" "$latency" "${failed:+  (failed: $failed)}"
done
holds="$(psql -d "$db" -Atc "SELECT count(*) FROM seat_locks")"
gone="$(psql -d "$db" -Atc "SELECT total_seats - available_seats FROM events WHERE id = '$event'")"
echo "check: $holds lock rows, $gone seats gone$([[ $holds == "$gone" ]] && echo ' (equal)' || echo ' (DIFFERENT)')"
