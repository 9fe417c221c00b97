#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for bench/run.sh, DURABLE by default: fsync, synchronous_commit
# and full_page_writes on (the Debian defaults), so that every commit waits for the disk as it
# does in production. Sourced by bench/run.sh when PGPORT is not given; it sets PGHOST, PGPORT
# and PGUSER, and stops and removes the cluster when the shell exits.
#
#   PG_DURABLE=off bench/run.sh postgres    # fsync=off, synchronous_commit=off (labelled so)
#
# pg_stat_statements is preloaded, so a run can say which statements took the time
# (bench/run.sh writes OUT/pg-statements-*.txt after each PostgreSQL hot-lock run).

pg_bin="${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}"
[[ -x $pg_bin/initdb ]] || { echo "no PostgreSQL server binaries (PG_BIN)" >&2; exit 2; }
pg_durable="${PG_DURABLE:-on}"
pg_tmp="$(mktemp -d /tmp/boxoffice-bench-pg.XXXXXX)"
pg_os_user="$(id -un)"
[[ $pg_os_user == root ]] && pg_os_user=postgres
as_pg() { if [[ $(id -un) == "$pg_os_user" ]]; then "$@"; else runuser -u "$pg_os_user" -- "$@"; fi; }
chown "$pg_os_user" "$pg_tmp"
PGPORT="${PG_BENCH_PORT:-55432}"  # the first port tried; the next free one is taken
while (echo >/dev/tcp/127.0.0.1/$PGPORT) 2>/dev/null; do PGPORT=$((PGPORT + 1)); done
export PGHOST=127.0.0.1 PGPORT PGUSER=postgres
as_pg "$pg_bin/initdb" -D "$pg_tmp/data" -U postgres --auth=trust --encoding=UTF8 --locale=C \
  >"$pg_tmp/initdb.log" 2>&1 || { cat "$pg_tmp/initdb.log" >&2; exit 2; }
as_pg tee -a "$pg_tmp/data/postgresql.auto.conf" >/dev/null <<CONF
listen_addresses = '127.0.0.1'
port = $PGPORT
unix_socket_directories = '$pg_tmp'
max_connections = 400
shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.track = all
pg_stat_statements.track_planning = on
fsync = $pg_durable
synchronous_commit = $pg_durable
full_page_writes = $pg_durable
CONF
as_pg "$pg_bin/pg_ctl" -D "$pg_tmp/data" -l "$pg_tmp/server.log" -w -t 60 start >/dev/null
stop_pg_cluster() {
  as_pg "$pg_bin/pg_ctl" -D "$pg_tmp/data" -m fast -w -t 30 stop >/dev/null 2>&1 || true
  rm -rf "$pg_tmp"
}
psql -d postgres -qc 'CREATE EXTENSION IF NOT EXISTS pg_stat_statements'
echo "PostgreSQL cluster for this run: 127.0.0.1:$PGPORT, $(psql -d postgres -Atc "SELECT 'fsync=' || current_setting('fsync') || ' synchronous_commit=' || current_setting('synchronous_commit')")"
