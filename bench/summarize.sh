#!/usr/bin/env bash
# Markdown tables from the JSON reports of a bench/run.sh results directory.
set -euo pipefail
out="${1:?usage: bench/summarize.sh RESULTS_DIR}"

cpu() { # name, line prefix: a figure of OUT/cpu-<name>.txt
  local f="$out/cpu-$1.txt"
  [[ -f $f ]] || { echo "?"; return; }
  awk -v p="$2" 'index($0, p) == 1 {print $(NF - 1); exit}' "$f"
}

pgbench_tps() { # clients
  [[ -f $out/pgbench.txt ]] || { echo ""; return; }
  awk -v c="$1" '$1 == c && NF >= 3 {print $2}' "$out/pgbench.txt"
}

for backend in sqlite postgres; do
  ls "$out/$backend"-hot-lock-c*.json >/dev/null 2>&1 || continue
  echo "### $backend: health and hot-lock, back to back in one server process"
  echo
  if [[ $backend == postgres ]]; then
    echo "| clients | health req/s | hot-lock holds/s | holds ÷ health | lock p50 / p99 ms | CPU %: server / postgres / bench / machine | pgbench tps | holds ÷ pgbench |"
    echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
  else
    echo "| clients | health req/s | hot-lock holds/s | holds ÷ health | lock p50 / p99 ms | CPU %: server / bench / machine |"
    echo "|---:|---:|---:|---:|---:|---:|"
  fi
  for c in $(ls "$out/$backend"-hot-lock-c*.json | sed 's/.*-c\([0-9]*\)\.json$/\1/' | sort -n); do
    f="$out/$backend-hot-lock-c$c.json"
    health="$(jq -r .requestsPerS "$out/$backend-health-c$c.json")"
    row="$(jq -r --argjson health "$health" 'def r2: (. * 100 | round) / 100;
      (.operations[] | select(.operation == "lock" and .outcome == "ok") | .latency) as $l
      | "| \(.clients) | \($health | floor) | \(.holdsPerS | floor) | \((.holdsPerS / $health * 1000 | round) / 1000) | \($l.p50_ms | r2) / \($l.p99_ms | r2) |"' "$f")"
    name="$backend-hot-lock-c$c"
    if [[ $backend == postgres ]]; then
      row="$row $(cpu "$name" server) / $(cpu "$name" postgres) / $(cpu "$name" bench) / $(cpu "$name" machine) |"
    else
      row="$row $(cpu "$name" server) / $(cpu "$name" bench) / $(cpu "$name" machine) |"
    fi
    if [[ $backend == postgres ]]; then
      tps="$(pgbench_tps "$c")"
      holds="$(jq -r .holdsPerS "$f")"
      ratio="$([[ -n $tps ]] && jq -n "($holds / $tps * 100 | round) / 100" || echo "")"
      row="$row ${tps%.*} | $ratio |"
    fi
    echo "$row"
  done
  echo
  for f in "$out/$backend"-flash-sale-c*.json; do
    [[ -f $f ]] || continue
    jq -r 'def r2: (. * 100 | round) / 100;
      ([.operations[] | select(.operation == "lock")] | map({(.outcome): .latency}) | add) as $l
      | "flash-sale, \(.clients) clients, \(.seatsPerEvent) seats: sold out after \(.soldOutAfterS * 1000 | round) ms (\(.holdsPerS | floor) holds/s), holds p99 \($l.ok.p99_ms | r2) ms; \(.refusals) latecomers refused, p50 \($l.refused.p50_ms // null | if . == null then "-" else r2 end) / p99 \($l.refused.p99_ms // null | if . == null then "-" else r2 end) / max \($l.refused.max_ms // null | if . == null then "-" else r2 end) ms; check \(if .checkPassed then "passed" else "FAILED" end)"' "$f"
  done
  f="$out/$backend-hot-lock-half-rate.json"
  [[ -f $f ]] && jq -r 'def r2: (. * 100 | round) / 100;
    (.operations[] | select(.operation == "lock" and .outcome == "ok") | .latency) as $l
    | "hot-lock paced at \(.targetRatePerS) holds/s (half the peak), 64 clients: got \(.holdsPerS | floor)/s, lock p50 \($l.p50_ms | r2) / p90 \($l.p90_ms | r2) / p99 \($l.p99_ms | r2) / max \($l.max_ms | r2) ms"' "$f"
  f="$out/cpu-$backend-hot-lock-c64.txt"
  if [[ -f $f ]]; then
    echo
    echo "CPU during the 64-client hot-lock run (4 s window, % of one core):"
    echo
    sed 's/^/    /' "$f"
    echo
  fi
  f="$out/$backend-hot-lock-c256.json"
  [[ -f $f ]] && jq -r '"memory during the 256-client hot-lock run: RSS \(.server.rssBeforeKib / 1024 | round) MiB at its start, peak \(.server.rssPeakKib / 1024 | round) MiB; VmHWM \(.server.vmHwmKib / 1024 | round) MiB"' "$f"
  echo
done

if ls "$out"/client-*-health-c64.json >/dev/null 2>&1; then
  echo "### the bench's own cost (health, 64 clients, SQLite server)"
  echo
  echo "| client | req/s | p50 / p99 ms | bench CPU µs/request | server CPU % |"
  echo "|---|---:|---:|---:|---:|"
  for f in "$out"/client-*-health-c64.json; do
    jq -r 'def r2: (. * 100 | round) / 100; (.operations[0].latency) as $l | "| \(.client) | \(.requestsPerS | floor) | \($l.p50_ms | r2) / \($l.p99_ms | r2) | \(.benchCpuUsPerRequest | round) | \(.server.cpuPercent | round) |"' "$f"
  done
  echo
fi

echo "checks: $(cat "$out"/*.json | jq -s 'map(select(.checkPassed | not)) | length') failed of $(ls "$out"/*.json | wc -l) runs"
echo
echo "load averages at the start of each run:"
sed 's/^/    /' "$out/load.txt"
