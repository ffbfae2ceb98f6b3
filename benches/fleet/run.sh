#!/usr/bin/env bash
# Fleet shipping benchmarks (docs/fleet.md, BENCHMARKS.md):
# 1. the hall's own route throughput with shipping off and on, in the same run: benches/http/run.sh
#    (release `proctor serve`, wrk on /v1/route) alternately without and with a `[fleet]` section
#    pointing at a throwaway local PostgreSQL, ROUNDS times each; then how far shipping got;
# 2. shipping throughput (records/s into local PostgreSQL): `cargo bench -p fleet --bench ship`.
#
#   benches/fleet/run.sh                              # ~6 min after the build
#   ROUNDS=1 DURATION=10s benches/fleet/run.sh        # quicker
#   PROCTOR_BIN=target/release/proctor SKIP_SHIP_BENCH=1 benches/fleet/run.sh
#   HALL_CPUS=0 STORE_CPUS=1 benches/fleet/run.sh     # the hall and wrk on CPU 0; PostgreSQL on 1
#   PG_SETTINGS='shared_buffers=1GB …' benches/fleet/run.sh   # PostgreSQL server settings to try
#
# By default PostgreSQL shares the hall's cores, so "on" also pays for PostgreSQL's own row
# insertion. HALL_CPUS/STORE_CPUS stand in for a fleet, where the store is another machine: the
# hall's cores (shared with its load generator in both modes) then carry only what shipping
# costs the hall itself.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rounds=${ROUNDS:-2}
export DURATION=${DURATION:-20s} TOTAL=0 REF_DECISIONS=${REF_DECISIONS:-500}

pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$pg_bin/initdb" ] || { echo "PostgreSQL missing: scripts/setup test (or apt-get install postgresql)" >&2; exit 2; }
work=$(mktemp -d)
pg_settings=; for s in ${PG_SETTINGS:-}; do pg_settings+=" -c $s"; done
pg_pin=(); if [ -n "${STORE_CPUS:-}" ]; then pg_pin=(taskset -c "$STORE_CPUS"); fi
export SERVER_CPUS=${HALL_CPUS:-} LOAD_CPUS=${HALL_CPUS:-}
as_pg=(); if [ "$(id -u)" -eq 0 ]; then chown postgres "$work"; as_pg=(runuser -u postgres --); fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cleanup() { "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$work/data" stop -m immediate >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
"${as_pg[@]}" "$pg_bin/initdb" -D "$work/data" -U postgres --auth=trust --no-sync >/dev/null
# Durable commits, as a production server would run.
"${pg_pin[@]}" "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$work/data" -l "$work/pg.log" -w \
  -o "-p $port -k $work -c listen_addresses=127.0.0.1$pg_settings" start >/dev/null
url="postgresql://postgres@127.0.0.1:$port/postgres"

if [ -z "${PROCTOR_BIN:-}" ]; then
  echo "== building proctor (release)" >&2
  (cd "$root" && cargo build --release --locked -q -p proctor)
  export PROCTOR_BIN=$root/target/release/proctor
fi

# PostgreSQL's CPU so far (clock ticks): the postmaster, its reaped backends and its live ones.
postmaster=$(head -1 "$work/data/postmaster.pid")
pg_cpu() {
  local t; t=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$postmaster/stat")
  for c in $(pgrep -P "$postmaster"); do t=$(( t + $(awk '{print $14 + $15}' "/proc/$c/stat" 2>/dev/null || echo 0) )); done
  echo "$t"
}
shipped() { psql -h 127.0.0.1 -p "$port" -U postgres -At -c "$1"; }
for r in $(seq "$rounds"); do
  for mode in off on; do
    if [ "$mode" = on ]; then extra=$(printf '[fleet]\ndatabase_url = "%s"\nhall_id = "bench-%s"' "$url" "$r"); else extra=; fi
    pg_before=$(pg_cpu)
    out=$(EXTRA_CONFIG=$extra "$root/benches/http/run.sh" 2>/dev/null)
    echo "round $r shipping $mode: $(grep '^HTTP /v1/route' <<<"$out")"
    # The server's CPU per decision by thread (fleet-shipper among them when on).
    grep 'by thread' <<<"$out" | sed 's/^ */  /'
    if [ "$mode" = on ]; then
      recorded=$(sed -n 's/.*records=\([0-9,]*\).*/\1/p' <<<"$out")
      echo "  the hall recorded $recorded decisions; shipped when it stopped: $(shipped "SELECT count(*) FROM decisions WHERE hall_id = 'bench-$r'")"
      echo "  PostgreSQL's CPU per shipped decision: $(( ($(pg_cpu) - pg_before) * 1000000 / $(getconf CLK_TCK) / ${recorded//,/} )) us"
    fi
  done
done
echo "central store after the runs: $(shipped 'SELECT count(*) FROM decisions') decisions from $(shipped 'SELECT count(*) FROM halls') halls"

if [ -z "${SKIP_SHIP_BENCH:-}" ]; then
  echo "== shipping throughput (cargo bench -p fleet --bench ship)" >&2
  (cd "$root" && cargo bench -p fleet --bench ship 2>/dev/null | grep -E 'ship/|time:|thrpt:')
fi
