#!/usr/bin/env bash
# A/B of two proctor builds on the HTTP benchmark (run.sh): the builds alternate, AB_ROUNDS times
# each, in the same minutes on the same machine (these machines are shared: compare within one run).
# Only the throughput window (no 1M-decision memory phase).
#
#   benches/http/ab.sh OLD_PROCTOR NEW_PROCTOR
#   env: AB_ROUNDS (3), DURATION (10s), CONNS (64), REF_DECISIONS (2000)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
old=${1:?old proctor binary}
new=${2:?new proctor binary}
for round in $(seq "${AB_ROUNDS:-3}"); do
  for side in old new; do
    bin=$old
    [ "$side" = new ] && bin=$new
    echo "== $side, round $round, load $(cut -d' ' -f1-3 /proc/loadavg)"
    PROCTOR_BIN=$bin TOTAL=1 DURATION=${DURATION:-10s} REF_DECISIONS=${REF_DECISIONS:-2000} \
      timeout "${TIMEOUT:-600}" "$here/run.sh" 2>/dev/null |
      grep -E '^HTTP|^server CPU|by thread|^ratio'
  done
done
