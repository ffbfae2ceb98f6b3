#!/usr/bin/env bash
# End-to-end CLI timing: `proctor attest hash` (1 and 2 threads) against `sha256sum` over the
# same ~1 GiB tree, in one hyperfine run. The tree is the one the criterion bench generates
# (under ${ATTEST_BENCH_DIR:-/tmp/proctor-attest-bench}); it is created here if missing.
# Usage: crates/attest/benches/hash_vs_sha256sum.sh   (needs hyperfine: apt-get install hyperfine)
set -euo pipefail
cd "$(dirname "$0")/../../.."
dir=${ATTEST_BENCH_DIR:-/tmp/proctor-attest-bench}
command -v hyperfine >/dev/null || { echo "hyperfine is not installed (apt-get install hyperfine)" >&2; exit 2; }
cargo build --release -q -p proctor
if [ ! -e "$dir/complete" ]; then
  # One pass of each criterion bench creates the tree and the file list.
  cargo bench -q -p attest --bench hash -- --test >/dev/null
fi
bin=target/release/proctor
hyperfine --warmup 1 --runs 5 \
  -n "proctor attest hash --threads 1" "$bin attest hash --threads 1 $dir/pkg" \
  -n "proctor attest hash --threads 2" "$bin attest hash --threads 2 $dir/pkg" \
  -n "sha256sum (same files)" "xargs -0 sha256sum < $dir/files.nul > /dev/null"
