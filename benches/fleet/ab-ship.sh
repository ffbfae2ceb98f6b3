#!/usr/bin/env bash
# Shipping throughput of two builds alternated in one run (BENCHMARKS.md, "Fleet shipping"): each
# run of each side is `cargo bench -p fleet --bench ship`'s binary (a fresh TempPostgres, a
# ledger of RECORDS decisions, ROUNDS rounds of shipper vs PostgreSQL alone), old then new.
#
#   git worktree add -f /work/ab-fleet-old <old commit>
#   (cd /work/ab-fleet-old && CARGO_TARGET_DIR=/work/target-fleet-old cargo bench -p fleet --bench ship --no-run)
#   cargo bench -p fleet --bench ship --no-run
#   OLD=/work/target-fleet-old/release/deps/ship-<hash> NEW=target/release/deps/ship-<hash> \
#     RUNS=3 ROUNDS=1 benches/fleet/ab-ship.sh
set -euo pipefail
: "${OLD:?the old build's bench binary}" "${NEW:?this build's bench binary}"
runs=${RUNS:-3}
export ROUNDS=${ROUNDS:-1} RECORDS=${RECORDS:-100000}
echo "== $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$runs"); do
  for side in old new; do
    bin=$OLD; [ "$side" = new ] && bin=$NEW
    "$bin" --bench 2>/dev/null | sed "s/^/run $r $side: /"
  done
done
