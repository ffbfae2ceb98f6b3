//! Ledger benches (filled in below).
fn main() {}
