//! The Hall API enrollment hash (SPEC.md §4.1): `"sha256:"` + hex SHA-256 of the record without
//! its top-level `artifact_hash`, as compact JSON with sorted keys and ASCII escapes
//! ([`wcp::pyjson`]'s `Format::COMPACT`).

use serde_json::Value;
use sha2::{Digest, Sha256};
use wcp::pyjson::{self, Format};

pub fn enrollment_hash(record: &Value) -> String {
    let mut hasher = Sha256::new();
    match record.as_object() {
        Some(obj) => {
            let mut obj = obj.clone();
            obj.remove("artifact_hash");
            pyjson::write_object(&mut hasher, &obj, Format::COMPACT)
        }
        None => pyjson::write_value(&mut hasher, record, Format::COMPACT),
    }
    .expect("writing to a hasher cannot fail");
    format!("sha256:{}", hex::encode(hasher.finalize()))
}

/// Constant-time-irrelevant comparison: the hash is not a secret, it detects edits.
pub fn matches(record: &Value, given: &str) -> bool {
    enrollment_hash(record) == given
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
