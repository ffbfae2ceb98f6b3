#!/usr/bin/env bash
# MCP gateway benchmark: the added latency of a `tools/call` through the hall (both faces: `proctor
# mcp` over stdio and /mcp over Streamable HTTP) over calling the same stdio server directly with the
# same client (the official MCP TypeScript SDK), durable ledger writes included; then calls/s over
# /mcp with concurrent clients. Downstream: the `mcp_fixture` example's `echo` (a fast stdio server
# on the official Rust SDK). Loopback only, bounded loops.
#
#   benches/mcp/run.sh                              # full run (~1 min after the build)
#   N=1000 SECONDS=5 benches/mcp/run.sh             # quicker
#   CONC=16 PROCS=2 benches/mcp/run.sh              # more concurrent sessions, load processes
#   PROCTOR_BIN=/tmp/p FIXTURE_BIN=/tmp/f benches/mcp/run.sh   # prebuilt binaries (A/B), no build
# Figures: stdout (a markdown table); JSON_OUT=FILE also keeps the raw latencies.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
if [ -z "${PROCTOR_BIN:-}" ]; then
  echo "== building proctor and the mcp_fixture example (release)" >&2
  # `--bins` too: with `--example` alone, cargo builds only the example, and a stale proctor
  # would be measured.
  cargo build --release --locked -q -p proctor -p hall --bins --example mcp_fixture
fi
if [ ! -f tests/mcp/node_modules/.package-lock.json ] || [ tests/mcp/package-lock.json -nt tests/mcp/node_modules/.package-lock.json ]; then
  npm --prefix tests/mcp ci --no-audit --no-fund
fi
exec timeout "${TIMEOUT:-900}" node "$here/bench.mjs"
