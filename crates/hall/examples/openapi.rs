//! Prints the hall's OpenAPI document, exactly as `GET /v1/openapi.json` serves it, so the UI's
//! copy can be refreshed without a running hall: `npm --prefix ui run sync:api` runs it into
//! ui/src/lib/openapi.json, then generates wire.gen.ts and ops.gen.ts from it
//! (`tests/openapi.rs` fails while the copy is stale).

fn main() {
    let doc = hall::api::openapi::document();
    println!(
        "{}",
        serde_json::to_string_pretty(&doc).expect("a JSON value serializes")
    );
}
