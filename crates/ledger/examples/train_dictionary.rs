//! Rebuilds the zstd dictionary new ledger files get (`src/sqlite/log/dictionary-v2.zdict`):
//! trained on 2,000 decisions of the bench/test generator plus the hand-written typical
//! decisions. A trained dictionary carries entropy tables, so compressing one decision does
//! not rebuild them (about 2-3× less CPU than a raw-content dictionary). Existing files keep
//! the dictionary stored in them.
//!
//! `cargo run --release -p ledger --example train_dictionary`

#[path = "../tests/common/mod.rs"]
mod common;

const SIZE: usize = 16 * 1024;

fn main() {
    let mut samples: Vec<String> = (1_000_000..1_002_000).map(common::decision).collect();
    let typical = include_str!("../src/sqlite/log/typical-decisions.jsonl");
    samples.extend(typical.lines().map(String::from));
    let dictionary = zstd::dict::from_samples(&samples, SIZE).expect("train");
    let out = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/sqlite/log/dictionary-v2.zdict"
    );
    std::fs::write(out, &dictionary).expect("write");
    println!("{out}: {} bytes", dictionary.len());
}
