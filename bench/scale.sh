#!/usr/bin/env bash
# Sweeper drain time and lookup latency against table size, on SQLite and PostgreSQL.
#   bench/scale.sh                       SQLite only
#   PG_URL=postgres://postgres@127.0.0.1:5432/postgres bench/scale.sh    and PostgreSQL
# PG_URL names a server where this script may create and drop databases `scale_*`.
# Prints the Markdown rows that docs/performance.md quotes.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

cargo build --release --example scale >&2
bin=target/release/examples/scale
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

# rows (settled holds, half of them paid)   lapsed (ACTIVE holds past their time)
cases=("10000 1000" "1000000 1000" "10000 100000")

echo "| database | holds in table | lapsed | seeding | sweep: drain time | batches | longest batch | GET lock p50 | GET lock p99 | GET booking p50 | GET booking p99 |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for case in "${cases[@]}"; do
    read -r rows lapsed <<<"$case"
    "$bin" --url "sqlite://$dir/scale-$rows-$lapsed.db" --rows "$rows" --lapsed "$lapsed"
done
if [[ -n "${PG_URL:-}" ]]; then
    base=${PG_URL%/*}
    for case in "${cases[@]}"; do
        read -r rows lapsed <<<"$case"
        db="scale_${rows}_${lapsed}"
        psql -q "$PG_URL" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
        "$bin" --url "$base/$db" --rows "$rows" --lapsed "$lapsed"
        psql -q "$PG_URL" -c "DROP DATABASE $db"
    done
fi
