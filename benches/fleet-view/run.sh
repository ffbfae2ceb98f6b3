#!/usr/bin/env bash
# Fleet view benchmark (issue 18: "a filtered page over 10 million central records from 10 halls
# in under 50 ms"): a throwaway PostgreSQL (Debian's, as the tests start it) with the central
# schema (crates/fleet/migrations), filled with 10M decisions of 10 halls by generate_series
# (fill.sql), then `proctor serve --fleet` in front of it and timed HTTP requests (curl) for pages
# of 50 under the explorer's filters: each time is the whole answer (auth, the query, the JSON),
# not the SQL alone. Then EXPLAIN ANALYZE of the SQL the view runs for two of them (on stderr).
#
#   benches/fleet-view/run.sh                  # 10M rows (~8 GB on disk; the fill takes 20-40 min on 2 cores)
#   ROWS=1000000 benches/fleet-view/run.sh     # quicker
#   PROCTOR_BIN=target/release/proctor benches/fleet-view/run.sh   # default: target/debug/proctor
#   REPEAT=50 benches/fleet-view/run.sh        # requests per filter (default 30)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rows=${ROWS:-10000000}
repeat=${REPEAT:-30}
proctor=${PROCTOR_BIN:-$root/target/debug/proctor}
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
work=$(mktemp -d /tmp/proctor-fleet-view-bench.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
as_pg=()
if [ "$(id -u)" = 0 ]; then as_pg=(runuser -u postgres --); chown postgres "$work"; fi
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
  "${as_pg[@]}" "$bin/pg_ctl" -D "$work/pg" stop -m immediate >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
"$proctor" serve --help | grep -q -- '--fleet' || { echo "$proctor has no serve --fleet: cargo build -p proctor" >&2; exit 2; }
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)" >&2

"${as_pg[@]}" "$bin/initdb" -D "$work/pg" -U postgres --auth=trust --no-sync -E UTF8 >/dev/null
# A dedicated, throwaway server: no durability; WAL kept small (the disk is shared).
"${as_pg[@]}" "$bin/pg_ctl" -D "$work/pg" -l "$work/pg.log" -w -o "-p $port -k $work \
  -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
  -c shared_buffers=1GB -c max_wal_size=1GB" start >/dev/null
psql=("$bin/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres)
for m in "$root"/crates/fleet/migrations/V*.sql; do "${psql[@]}" -f "$m" >/dev/null; done
echo "== filling $rows decisions (10 halls)" >&2
fill_start=$SECONDS
"${psql[@]}" -v rows="$rows" -f "$here/fill.sql" >&2
echo "== filled in $((SECONDS - fill_start)) s; load $(cut -d' ' -f1-3 /proc/loadavg)" >&2

mkdir -p "$work/view"
url="postgresql://postgres@127.0.0.1:$port/postgres"
"$proctor" serve --fleet --database-url "$url" --data-dir "$work/view" --listen 127.0.0.1:0 \
  >"$work/view.out" 2>"$work/view.err" &
server_pid=$!
for _ in $(seq 100); do grep -q '^listening on ' "$work/view.out" 2>/dev/null && break; sleep 0.1; done
base=$(sed -n 's/^listening on //p' "$work/view.out")
[ -n "$base" ] || { cat "$work/view.err" >&2; exit 1; }
token=$(cat "$work/view/api-token")
auth=(-H "Authorization: Bearer $token")
day_ago=$("${psql[@]}" -At -c "SELECT to_char((max(ts) - interval '1 day') AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM decisions")
# A cursor 100 pages deep, to time keyset paging far from the newest rows.
cursor=""
for _ in $(seq 100); do
  cursor=$(curl -sf "${auth[@]}" "$base/v1/decisions?limit=50${cursor:+&cursor=$cursor}" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["next_cursor"])')
done

# name|path and query (pages of 50 unless the filter selects fewer)
queries=(
  "newest page, no filter|/v1/decisions?limit=50"
  "hall|/v1/decisions?hall_id=hall-07&limit=50"
  "tenant|/v1/decisions?tenant_id=tenant-17&limit=50"
  "tenant + denied|/v1/decisions?tenant_id=tenant-17&denied=true&limit=50"
  "hall + capability|/v1/decisions?hall_id=hall-03&capability_id=cap.bench.21&limit=50"
  "deny code|/v1/decisions?deny_code=DENY_POLICY_GATE&limit=50"
  "hall + deny code + env|/v1/decisions?hall_id=hall-05&deny_code=DENY_NO_MATCHING_RULE&env=edge&limit=50"
  "worker, last day|/v1/decisions?worker=wrk.bench.9&since=$day_ago&limit=50"
  "correlation id (3 halls)|/v1/decisions?correlation_id=corr-1234567&limit=50"
  "page 101 (keyset cursor)|/v1/decisions?limit=50&cursor=$cursor"
  "hall, from page 101's cursor|/v1/decisions?hall_id=hall-02&limit=50&cursor=$cursor"
  "halls list|/v1/fleet/halls"
  "trace across 3 halls|/v1/traces/corr-1234567"
  "stats, last day, hourly buckets|/v1/stats?since=$day_ago&bucket_s=3600"
)
echo "== $repeat requests each against $base" >&2
printf '| request | rows | p50 ms | p95 ms | max ms |\n|---|---|---|---|---|\n'
for q in "${queries[@]}"; do
  name=${q%%|*}; path=${q#*|}
  n=$(curl -sf "${auth[@]}" "$base$path" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d.get("decisions", d.get("halls", d.get("buckets", [])))))')
  for _ in $(seq "$repeat"); do
    curl -sf -o /dev/null -w '%{time_total}\n' "${auth[@]}" "$base$path"
  done | sort -n | awk -v name="$name" -v n="$n" '{t[NR]=$1*1000} END {
    printf "| %s | %d | %.1f | %.1f | %.1f |\n", name, n, t[int((NR+1)/2)], t[int(NR*0.95+0.5)], t[NR] }'
done
echo "== EXPLAIN ANALYZE of the view's SQL: tenant + denied, and hall + capability" >&2
for where in "tenant_id = 'tenant-17' AND denied = true" "hall_id = 'hall-03' AND capability_id = 'cap.bench.21'"; do
  "${psql[@]}" -c "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT hall_id, seq, hash, ts, body FROM decisions
    WHERE $where ORDER BY ts DESC, hall_id DESC, seq DESC LIMIT 51" >&2
done
