#!/usr/bin/env bash
# Memory of `proctor serve` as decisions accumulate: routes with wrk in 10 s rounds (the shared
# scenario, 64 connections) and, between rounds, prints the decisions recorded so far and the
# server's memory by kind from /proc/PID/smaps_rollup (heap = Anonymous) plus the resident parts
# of SQLite's mapped -shm files and of the memory-mapped index file (OS file cache, not heap).
#
#   benches/http/memory.sh 6000000                     # release build of this checkout
#   PROCTOR_BIN=/tmp/proctor-old benches/http/memory.sh 3000000
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
scenario=$root/benches/reference/scenario
total=${1:?usage: memory.sh DECISIONS}
command -v wrk >/dev/null || { echo "wrk missing: apt-get install -y wrk" >&2; exit 2; }
[ -f "$scenario/rules.json" ] || python3 "$root/benches/reference/gen_scenario.py"
bin=${PROCTOR_BIN:-$root/target/release/proctor}
[ -n "${PROCTOR_BIN:-}" ] || (cd "$root" && cargo build --release --locked -q -p proctor)
work=$(mktemp -d); pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
data=$work/hall; mkdir -p "$data"
cp "$scenario/rules.json" "$scenario/gate.json" "$data/"; cp -r "$scenario/registry" "$data/"
printf 'policy_gate_file = "gate.json"\n' > "$data/config.toml"
RUST_LOG=warn "$bin" serve --data-dir "$data" --listen 127.0.0.1:0 > "$work/out" 2> "$work/log" &
pid=$!
for _ in $(seq 100); do grep -q '^listening on' "$work/out" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/^listening on //p' "$work/out"); token=$(cat "$data/api-token")
decided() { curl -s -H "Authorization: Bearer $token" "$url/v1/decisions?limit=1" | python3 -c 'import json,sys; d=json.load(sys.stdin)["decisions"]; print(d[0]["seq"] if d else 0)'; }
echo "decisions rss_mib heap_mib shm_mib index_map_mib"
# Resident MiB of the mappings whose file name ends with $1.
mapped() { awk -v end="$1" '$6 != "" && substr($6, length($6) - length(end) + 1) == end {on=1; next} /^[0-9a-f]+-[0-9a-f]+ / {on=0} on && /^Rss:/ {s+=$2} END {printf "%.1f", s/1024}' "/proc/$pid/smaps"; }
while :; do
  n=$(decided)
  mem=$(awk '/^Rss:/ {r=$2} /^Anonymous:/ {a=$2} END {printf "%.1f %.1f", r/1024, a/1024}' "/proc/$pid/smaps_rollup")
  echo "$n $mem $(mapped -shm) $(mapped .index)"
  [ "$n" -ge "$total" ] && break
  REQS=$scenario/requests.jsonl TOKEN=$token wrk -t1 -c64 -d10s -s "$here/route.lua" "$url" > /dev/null
done
