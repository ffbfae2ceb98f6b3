//! The Hall API enrollment hash (SPEC.md §4.1): `"sha256:"` + hex SHA-256 of the record without
//! its top-level `artifact_hash`, as compact JSON with sorted keys and ASCII escapes.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

pub fn enrollment_hash(record: &Value) -> String {
    let mut record = record.clone();
    if let Some(obj) = record.as_object_mut() {
        obj.remove("artifact_hash");
    }
    let compact = serde_json::to_string(&sorted(record)).expect("JSON value serializes");
    format!(
        "sha256:{}",
        hex::encode(Sha256::digest(ascii_escape(&compact).as_bytes()))
    )
}

/// Constant-time-irrelevant comparison: the hash is not a secret, it detects edits.
pub fn matches(record: &Value, given: &str) -> bool {
    enrollment_hash(record) == given
}

/// Rebuild objects with keys in order (the workspace's serde_json preserves insertion order).
fn sorted(v: Value) -> Value {
    match v {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, sorted(v)))
                    .collect::<Map<_, _>>(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

/// Python's `ensure_ascii`: outside strings JSON text is ASCII already, so escaping every
/// non-ASCII char of the whole text escapes exactly the string contents.
fn ascii_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn hash_ignores_key_order_and_artifact_hash_and_escapes_non_ascii() {
        let a = json!({"worker_id": "x.a.w", "owner": "é😀", "n": {"b": 1, "a": 2}});
        let b = json!({"n": {"a": 2, "b": 1}, "owner": "é😀", "worker_id": "x.a.w", "artifact_hash": "sha256:zz"});
        assert_eq!(enrollment_hash(&a), enrollment_hash(&b));
        // Python: json.dumps(r, sort_keys=True, separators=(",", ":")) of the record above.
        let expected_text =
            r#"{"n":{"a":2,"b":1},"owner":"\u00e9\ud83d\ude00","worker_id":"x.a.w"}"#;
        let expected = format!(
            "sha256:{}",
            hex::encode(Sha256::digest(expected_text.as_bytes()))
        );
        assert_eq!(enrollment_hash(&a), expected);
        assert!(!matches(&a, "sha256:0000"));
    }
}
