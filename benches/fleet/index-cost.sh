#!/usr/bin/env bash
# PostgreSQL's own CPU per shipped decision under central schema variants (BENCHMARKS.md, "Fleet
# shipping", third round): a throwaway server (TempPostgres's settings), 100,000 decisions built
# from the ledger's typical decisions (random ids, ~2.3 KB bodies on average) written to a CSV,
# then for each variant the `decisions` table recreated and the CSV loaded by one server-side
# COPY. Printed: the server's CPU seconds for the load (postmaster, its reaped backends and its
# live helpers, from /proc: robust to other load on the machine, unlike the wall time beside it).
#
#   benches/fleet/index-cost.sh        # ROUNDS=3 by default, ~5 min
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
work=$(mktemp -d /tmp/proctor-index-cost.XXXXXX); chmod 755 "$work"
as_pg=(); if [ "$(id -u)" = 0 ]; then as_pg=(runuser -u postgres --); chown postgres "$work"; fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cleanup() { "${as_pg[@]}" "$bin/pg_ctl" -D "$work/pg" stop -m immediate >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
"${as_pg[@]}" "$bin/initdb" -D "$work/pg" -U postgres --auth=trust --no-sync -E UTF8 >/dev/null
"${as_pg[@]}" "$bin/pg_ctl" -D "$work/pg" -l "$work/pg.log" -w -o "-p $port -k $work \
  -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null
P=("$bin/psql" -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres)

python3 - "$root/crates/ledger/src/sqlite/log/typical-decisions.jsonl" "$work/rows.csv" <<'PY'
import csv, datetime, hashlib, json, random, sys, uuid
typical = [json.loads(l) for l in open(sys.argv[1])]
random.seed(1)
t0 = datetime.datetime(2026, 12, 1, tzinfo=datetime.timezone.utc)
with open(sys.argv[2], "w", newline="") as f:
    w = csv.writer(f)
    for i in range(100_000):
        d = dict(typical[i % len(typical)], decision_id=str(uuid.uuid4()), correlation_id=str(uuid.uuid4()),
                 tenant_id="tenant-%d" % random.randrange(20))
        body = json.dumps(d, separators=(",", ":"))
        denied = i % 5 == 0
        w.writerow(["h", i + 1, (t0 + datetime.timedelta(milliseconds=i)).isoformat(), d["decision_id"],
                    d["correlation_id"], d["tenant_id"], "cap.%d" % random.randrange(30), "rule_%d" % random.randrange(50),
                    "wrk.%d" % random.randrange(10), "prod", "INTERNAL", "P1", "t" if denied else "f",
                    "DENY_%d" % random.randrange(5) if denied else "", "", "f", hashlib.sha256(body.encode()).hexdigest(),
                    "\\x" + hashlib.sha256(b"%d" % i).hexdigest(), "\\x" + hashlib.sha256(b"%d" % (i + 1)).hexdigest(), body])
PY
chmod 644 "$work/rows.csv"
# The V1 table, its indexes and one month partition.
sed -n '/^CREATE TABLE decisions/,/decisions_rule/p' "$root/crates/fleet/migrations/V1__central.sql" > "$work/v1.sql"
echo "CREATE TABLE decisions_2026m12 PARTITION OF decisions FOR VALUES FROM ('2026-12-01') TO ('2027-01-01');" >> "$work/v1.sql"

server_cpu() {
  local pm t
  pm=$(head -1 "$work/pg/postmaster.pid")
  t=$(awk '{print $14+$15+$16+$17}' "/proc/$pm/stat")
  for c in $(cat /proc/"$pm"/task/*/children); do t=$((t + $(awk '{print $14+$15}' "/proc/$c/stat" 2>/dev/null || echo 0))); done
  echo "$t"
}
run() { # name, schema change after V1, session setting before the COPY
  "${P[@]}" -c "DROP TABLE IF EXISTS decisions CASCADE" 2>/dev/null
  "${P[@]}" -f "$work/v1.sql"
  [ -z "$2" ] || "${P[@]}" -c "$2"
  "${P[@]}" -c "CHECKPOINT"
  local c0 c1 s e
  # The DDL sessions' backends reaped (their CPU counted) before, the COPY's after.
  sleep 1; c0=$(server_cpu); s=$(date +%s.%N)
  "${P[@]}" -c "$3 COPY decisions (hall_id, seq, ts, decision_id, correlation_id, tenant_id, capability_id, matched_rule_id, worker, env, data_label, qos_class, denied, deny_code, deny_message, dry_run, artifact_hash, prev_hash, hash, body) FROM '$work/rows.csv' CSV"
  e=$(date +%s.%N); sleep 1; c1=$(server_cpu)
  printf '%-22s server CPU %5.2f s   wall %6.0f rows/s   load %s\n' "$1" \
    "$(echo "($c1 - $c0) / $(getconf CLK_TCK)" | bc -l)" "$(echo "100000 / ($e - $s)" | bc -l)" "$(cut -d' ' -f1 /proc/loadavg)"
}
L="SET default_toast_compression = lz4;"
V3="DROP INDEX decisions_hall_seq, decisions_correlation, decisions_decision_id;
    CREATE INDEX decisions_correlation ON decisions USING hash (correlation_id);
    CREATE INDEX decisions_decision_id ON decisions USING hash (decision_id);"
echo "== $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "${ROUNDS:-3}"); do
  run "V1 (pglz)" "" ""
  run "V1, lz4" "" "$L"
  run "V1 - hall_seq, lz4" "DROP INDEX decisions_hall_seq" "$L"
  run "V3, lz4" "$V3" "$L"
done
