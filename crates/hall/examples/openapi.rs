//! Prints the hall's OpenAPI document, exactly as `GET /v1/openapi.json` serves it, so the UI's
//! copy can be refreshed without a running hall:
//! `cargo run -q -p hall --example openapi > ui/src/lib/openapi.json && npm --prefix ui run gen:api`
//! (`tests/openapi.rs` fails while the copy is stale).

fn main() {
    let doc = hall::api::openapi::document();
    println!(
        "{}",
        serde_json::to_string_pretty(&doc).expect("a JSON value serializes")
    );
}
