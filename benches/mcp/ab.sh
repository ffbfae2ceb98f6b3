#!/usr/bin/env bash
# A/B of two proctor builds on the MCP gateway benchmark: the builds alternate, ROUNDS times each,
# in the same minutes on the same machine (these machines are shared: compare within one run).
#
#   benches/mcp/ab.sh OLD_PROCTOR NEW_PROCTOR [FIXTURE]   # FIXTURE: target/release/examples/mcp_fixture
#   env: AB_ROUNDS (2), BENCH_SECONDS (bench.mjs's SECONDS, which bash keeps for itself: 10),
#        and bench.mjs's own (N, CONC, RAW_CONC, ...)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
old=${1:?old proctor binary}
new=${2:?new proctor binary}
fixture=${3:-$here/../../target/release/examples/mcp_fixture}
for round in $(seq "${AB_ROUNDS:-2}"); do
  for side in old new; do
    bin=$old
    [ "$side" = new ] && bin=$new
    echo "== $side, round $round, load $(cut -d' ' -f1-3 /proc/loadavg)"
    SECONDS=${BENCH_SECONDS:-10} PROCTOR_BIN=$bin FIXTURE_BIN=$fixture timeout "${TIMEOUT:-900}" node "$here/bench.mjs" 2>&1 |
      grep -E '^\| \(|^\| \*\*|breakdown|client sessions'
  done
done
