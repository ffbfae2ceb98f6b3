#!/usr/bin/env bash
# `proctor route` end to end vs the reference (pyhall-wcp), same machine, same run: 40,000-line
# JSONL inputs of the shared scenario (50 rules, 200 workers), dev/stage requests only and all
# requests, alternated rounds. See route_cli.py for what is timed.
#
#   benches/reference/route_cli.sh                       # this tree's release build
#   benches/reference/route_cli.sh /tmp/proctor-before   # also a baseline binary: same bytes? how fast?
#   LINES=40000 RUNS=3 REF_VENV=/tmp/venv benches/reference/route_cli.sh   # reuse a venv with pyhall-wcp 0.2.2
#   CARGO_TARGET_DIR=/tmp/t benches/reference/route_cli.sh   # build and run from another target dir
#   INPUTS=dev/stage benches/reference/route_cli.sh         # only the dev/stage input (quicker)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

[ -f "$here/scenario/rules.json" ] || python3 "$here/gen_scenario.py"
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(date -u +%Y-%m-%dT%H:%MZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
venv=${REF_VENV:-$work/venv}
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import pyhall' 2>/dev/null; then
    echo "== installing the reference (pyhall-wcp 0.2.2) into a throwaway venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q pyhall-wcp==0.2.2
fi
echo "== building proctor (release)" >&2
(cd "$root" && cargo build --release --locked -q -p proctor)
# Cargo builds into $CARGO_TARGET_DIR when it is set (a target dir of one's own on a shared machine).
proctor=${CARGO_TARGET_DIR:-$root/target}/release/proctor

echo "== same decisions as the reference? (1,000 scenario requests, ids and timestamps masked)"
"$proctor" route --rules "$here/scenario/rules.json" --registry "$here/scenario/registry" \
    --policy-gate "$here/scenario/gate.json" --input "$here/scenario/requests.jsonl" > "$work/ours-1000.jsonl"
"$venv/bin/python" "$here/bench_reference.py" "$here/scenario" "$here/scenario/requests.jsonl" 0 "$work/ref-1000.jsonl" > /dev/null
python3 "$here/compare_decisions.py" "$work/ours-1000.jsonl" "$work/ref-1000.jsonl"

python3 "$here/route_cli.py" --proctor "$proctor" ${1:+--baseline "$1"} \
    --ref-python "$venv/bin/python" --lines "${LINES:-40000}" --runs "${RUNS:-3}" --work "$work" \
    --inputs "${INPUTS:-dev/stage,all}"
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"
