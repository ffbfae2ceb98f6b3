#!/usr/bin/env bash
# HTTP API benchmark: `proctor serve` (release) with durable group-committed logging, loaded by wrk
# POSTing the shared scenario's RouteInputs to /v1/route; in the same run, the reference router
# (pyhall-wcp) called in-process from Python on the same scenario; then the server's RSS while it
# records 1M decisions.
#
#   benches/http/run.sh                         # full run (~3 min after the build)
#   DURATION=10s TOTAL=200000 benches/http/run.sh   # quicker
#   PROCTOR_BIN=/tmp/proctor-old benches/http/run.sh  # a prebuilt binary (A/B runs), no build
#   CONNS=128 benches/http/run.sh               # wrk's connections (default 64)
#   EXTRA_CONFIG='[fleet] …' benches/http/run.sh # more config.toml lines (benches/fleet/run.sh)
#   SERVER_CPUS=0 LOAD_CPUS=1 benches/http/run.sh # pin the server and wrk (taskset CPU lists)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
scenario=$root/benches/reference/scenario
duration=${DURATION:-30s}
conns=${CONNS:-64}
total=${TOTAL:-1000000}
ref_decisions=${REF_DECISIONS:-5000}
work=$(mktemp -d)
server_pid=
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
# SERVER_CPUS / LOAD_CPUS: run the server / wrk on these CPUs only (taskset -c LIST).
pin() { if [ -n "${1:-}" ]; then echo taskset -c "$1"; fi; }
server_pin=$(pin "${SERVER_CPUS:-}") load_pin=$(pin "${LOAD_CPUS:-}")

command -v wrk >/dev/null || { echo "wrk missing: apt-get install -y wrk" >&2; exit 2; }
[ -f "$scenario/rules.json" ] || python3 "$root/benches/reference/gen_scenario.py"
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" >&2

proctor=${PROCTOR_BIN:-$root/target/release/proctor}
if [ -z "${PROCTOR_BIN:-}" ]; then
  echo "== building proctor (release)" >&2
  (cd "$root" && cargo build --release --locked -q -p proctor)
fi

echo "== starting proctor serve on a fresh data dir" >&2
data=$work/hall
mkdir -p "$data"
cp "$scenario/rules.json" "$data/rules.json"
cp -r "$scenario/registry" "$data/registry"
cp "$scenario/gate.json" "$data/gate.json"
printf 'policy_gate_file = "gate.json"\n' > "$data/config.toml"
# EXTRA_CONFIG: more config.toml lines (benches/fleet/run.sh adds a [fleet] section).
if [ -n "${EXTRA_CONFIG:-}" ]; then printf '%s\n' "$EXTRA_CONFIG" >> "$data/config.toml"; fi
RUST_LOG=warn $server_pin "$proctor" serve --data-dir "$data" --listen 127.0.0.1:0 \
  > "$work/serve.out" 2> "$work/serve.log" &
server_pid=$!
for _ in $(seq 100); do grep -q '^listening on' "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/^listening on //p' "$work/serve.out")
[ -n "$url" ] || { cat "$work/serve.log" >&2; exit 4; }
token=$(cat "$data/api-token")
rss() { awk '/VmRSS/ {print $2}' "/proc/$server_pid/status"; }
# Decisions recorded so far = the newest record's seq (an O(1) keyset read, unlike full stats).
decided() { curl -s -H "Authorization: Bearer $token" "$url/v1/decisions?limit=1" | python3 -c 'import json,sys; d=json.load(sys.stdin)["decisions"]; print(d[0]["seq"] if d else 0)'; }

echo "== warm-up (5 s)" >&2
REQS=$scenario/requests.jsonl TOKEN=$token $load_pin wrk -t1 -c"$conns" -d5s -s "$here/route.lua" "$url" > /dev/null
rss_warm=$(rss); n_warm=$(decided)

cpu() { awk '{print $14 + $15}' "/proc/$server_pid/stat"; }  # utime + stime, clock ticks
# The same per thread, summed by thread name (tokio-rt-worker, ledger-writer, ledger-checkpoi, ...):
# where the server's CPU goes, without a profiler.
threads_cpu() { for t in /proc/$server_pid/task/*; do echo "$(tr ' ' _ < "$t/comm"):$(awk '{print $14 + $15}' "$t/stat")"; done | tr '\n' ' '; }
written() { awk '/^write_bytes/ {print $2}' "/proc/$server_pid/io"; }  # bytes sent to the disk
echo "== wrk: 1 thread, $conns connections, $duration" >&2
cpu_before=$(cpu); threads_before=$(threads_cpu); written_before=$(written); n_before=$(decided)
wrk_cpu=$work/wrk-cpu  # the load generator's own CPU (it shares the 2 cores)
result=$(REQS=$scenario/requests.jsonl TOKEN=$token /usr/bin/time -o "$wrk_cpu" -f '%U %S' \
  $load_pin wrk -t1 -c"$conns" -d"$duration" --latency -s "$here/route.lua" "$url" | sed -n 's/^RESULT //p')
echo "$result" >&2
n_window=$(( $(decided) - n_before ))
cpu_us=$(python3 -c "print(round(($(cpu) - $cpu_before) / $(getconf CLK_TCK) / $n_window * 1e6, 1))")
breakdown=$(python3 - "$threads_before" "$(threads_cpu)" "$(getconf CLK_TCK)" "$n_window" <<'PY'
import collections, sys
def by_name(s):
    out = collections.Counter()
    for item in s.split():
        name, ticks = item.rsplit(":", 1)
        out[name] += int(ticks)
    return out
before, after, hz, n = by_name(sys.argv[1]), by_name(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
per = {k: (after[k] - before.get(k, 0)) / hz / n * 1e6 for k in after}
print(", ".join(f"{k} {v:.1f}" for k, v in sorted(per.items(), key=lambda kv: -kv[1]) if v >= 0.05))
PY
)
written_per=$(( ($(written) - written_before) / n_window ))

echo "== reference router in-process (pyhall-wcp 0.2.2, $ref_decisions decisions)" >&2
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q pyhall-wcp==0.2.2
ref=$("$work/venv/bin/python" "$root/benches/reference/bench_reference.py" "$scenario" "$scenario/requests.jsonl" "$ref_decisions")

echo "== memory: keep routing until $total decisions are recorded" >&2
samples="$(decided):$(rss)"
while [ "$(decided)" -lt "$total" ]; do
  REQS=$scenario/requests.jsonl TOKEN=$token $load_pin wrk -t1 -c"$conns" -d10s -s "$here/route.lua" "$url" > /dev/null
  samples="$samples $(decided):$(rss)"
done

echo "== ledger chain check after the run" >&2
verify_start=$(date +%s.%N)
verify=$(curl -s -H "Authorization: Bearer $token" "$url/v1/ledger/verify")
verify_s=$(python3 -c "print(round($(date +%s.%N) - $verify_start, 1))")

python3 - "$result" "$ref" "$rss_warm" "$n_warm" "$samples" "$verify" "$verify_s" "$cpu_us" "$(cut -d' ' -f1-3 /proc/loadavg)" "$breakdown" "$written_per" "$(cat "$wrk_cpu")" <<'PY'
import json, sys
r, ref = json.loads(sys.argv[1]), json.loads(sys.argv[2])
rss_warm, n_warm, samples, verify = int(sys.argv[3]), int(sys.argv[4]), sys.argv[5].split(), json.loads(sys.argv[6])
verify_s, cpu_us, load, breakdown, written_per = sys.argv[7], sys.argv[8], sys.argv[9], sys.argv[10], int(sys.argv[11])
wrk_user, wrk_sys = (float(x) for x in sys.argv[12].split())
print(f"HTTP /v1/route (durable)  {r['rps']:>10,.0f} decisions/s   p50 {r['p50_ms']:.2f} ms   p99 {r['p99_ms']:.2f} ms   max {r['max_ms']:.1f} ms   non-2xx {r['non_2xx']}   socket errors {r['socket_errors']}")
print(f"server CPU per decision (all threads: HTTP, routing, ledger writer): {cpu_us} us;  load average at the end: {load}")
print(f"  by thread, us per decision: {breakdown}")
print(f"  load generator (wrk) CPU per request: {(wrk_user + wrk_sys) / r['requests'] * 1e6:.1f} us")
print(f"  written to disk per decision (WAL + checkpoints): {written_per:,} bytes")
print(f"reference in-process      {ref['in_process_rate']:>10,.0f} decisions/s   p50 {ref['p50_us']:.0f} us   p99 {ref['p99_us']:.0f} us   (no HTTP, no logging)")
print(f"ratio HTTP+ledger / reference in-process: {r['rps'] / ref['in_process_rate']:.1f}x")
print(f"RSS after warm-up ({n_warm:,} decisions): {rss_warm / 1024:.1f} MiB")
print("RSS by decisions recorded: " + ", ".join(f"{int(n):,}: {int(k) / 1024:.1f} MiB" for n, k in (s.split(':') for s in samples)))
print(f"ledger verify over HTTP: ok={verify['ok']} records={verify['records']:,} in {verify_s} s")
PY
