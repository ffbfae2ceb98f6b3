//! The ledger's integration tests, one test binary (`cargo test -p ledger --test integration`),
//! one module per former `tests/<name>.rs` file: `cargo test -p ledger --test integration <name>::`
//! runs one of them. One binary links once, where one per file linked the crate and its
//! dependencies once per file (issue 19, "A faster CI").

// Shared with the standalone test files, benches and examples, so it stays at tests/common/.
#[path = "../common/mod.rs"]
mod common;

mod anchor;
mod bad_input;
mod crash;
mod derived_indexes;
mod group_commit;
mod hall_records;
mod index_file;
mod linked;
mod linked_retention;
mod linked_tamper;
mod migration;
mod model;
mod retention_export;
mod roundtrip;
mod summary;
mod tamper;
