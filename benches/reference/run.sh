#!/usr/bin/env bash
# Router benchmark: Proctor vs the reference (pyhall-wcp) on the same scenario, same machine,
# same run. Installs the reference into a throwaway venv; leaves nothing behind.
#
#   benches/reference/run.sh              # full run (the reference needs ~3-4 min for 100k lines)
#   LINES=20000 REF_DECISIONS=2000 benches/reference/run.sh   # quicker
#   CARGO_TARGET_DIR=/tmp/t benches/reference/run.sh           # build and run from another target dir
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
scenario=$here/scenario
lines=${LINES:-100000}
ref_decisions=${REF_DECISIONS:-5000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

[ -f "$scenario/rules.json" ] || python3 "$here/gen_scenario.py"

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" >&2
echo "== installing the reference (pyhall-wcp 0.2.2) into a throwaway venv" >&2
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q pyhall-wcp==0.2.2

echo "== building $lines-line JSONL input" >&2
reps=$(( (lines + 999) / 1000 ))
for _ in $(seq "$reps"); do cat "$scenario/requests.jsonl"; done | head -n "$lines" > "$work/requests.jsonl"

echo "== building proctor (release)" >&2
(cd "$root" && cargo build --release --locked -q -p proctor)
# Cargo builds into $CARGO_TARGET_DIR when it is set (a target dir of one's own on a shared machine).
proctor=${CARGO_TARGET_DIR:-$root/target}/release/proctor
route=(route --rules "$scenario/rules.json" --registry "$scenario/registry" --policy-gate "$scenario/gate.json")

echo "== same decisions? (1,000 scenario requests, ids and timestamps masked)" >&2
"$proctor" "${route[@]}" --input "$scenario/requests.jsonl" > "$work/ours-1000.jsonl" 2>/dev/null
"$work/venv/bin/python" "$here/bench_reference.py" "$scenario" "$scenario/requests.jsonl" 10 "$work/ref-1000.jsonl" > /dev/null
python3 "$here/compare_decisions.py" "$work/ours-1000.jsonl" "$work/ref-1000.jsonl" >&2

echo "== proctor route, end to end over $lines lines" >&2
start=$(date +%s.%N)
"$proctor" "${route[@]}" --input "$work/requests.jsonl" > "$work/ours.jsonl" 2>/dev/null
end=$(date +%s.%N)
ours_e2e=$(python3 -c "print($lines / ($end - $start))")

echo "== wcp in-process timing loop (cargo bench, single thread)" >&2
ours_loop=$(cd "$root" && WCP_BENCH_LOOP_ONLY=1 cargo bench -q -p wcp --bench route 2>/dev/null | tail -n 1)

echo "== reference: in-process ($ref_decisions decisions) and end to end ($lines lines)" >&2
ref=$("$work/venv/bin/python" "$here/bench_reference.py" "$scenario" "$work/requests.jsonl" "$ref_decisions")

python3 - "$ours_loop" "$ref" "$ours_e2e" "$lines" <<'PY'
import json, sys
ours, ref, ours_e2e, lines = json.loads(sys.argv[1]), json.loads(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
print(f"in-process decisions/s   proctor {ours['in_process_rate']:>12,.0f}   reference {ref['in_process_rate']:>9,.0f}   ratio {ours['in_process_rate'] / ref['in_process_rate']:,.0f}x")
print(f"p50 / p99 per decision   proctor {ours['p50_us']:.2f} / {ours['p99_us']:.2f} us   reference {ref['p50_us']:.0f} / {ref['p99_us']:.0f} us")
print(f"end to end lines/s       proctor {ours_e2e:>12,.0f}   reference {ref['end_to_end_rate']:>9,.0f}   ratio {ours_e2e / ref['end_to_end_rate']:,.0f}x   ({lines:,} lines: {lines / ours_e2e:.2f} s vs {ref['end_to_end_seconds']:.1f} s)")
PY
