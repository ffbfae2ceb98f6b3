//! The WCP crate's integration tests, one test binary (`cargo test -p wcp --test integration`),
//! one module per former `tests/<name>.rs` file: `cargo test -p wcp --test integration <name>::`
//! runs one of them. One binary links once, where one per file linked the crate and its
//! dependencies once per file (issue 19, "A faster CI").

mod pipeline;
mod properties;
mod vectors;
mod wire;
mod wire_fast;
