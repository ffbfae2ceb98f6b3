//! attest's integration tests, one test binary (`cargo test -p attest --test integration`),
//! one module per former `tests/<name>.rs` file: `cargo test -p attest --test integration <name>::`
//! runs one of them. One binary links once, where one per file linked the crate and its
//! dependencies once per file (issue 19, "A faster CI").

// Shared with the standalone test files, benches and examples, so it stays at tests/support/.
#[path = "../support/mod.rs"]
mod support;

mod keys;
mod live;
mod package_hash;
mod package_safety;
mod properties;
mod route_check;
mod verify;
