//! What `Hall::route` returns: the decision (as recorded) and its evidence receipt.

use serde::Serialize;

/// Proof that a decision is in the ledger (docs/API.md).
#[derive(Debug, Clone, Serialize, PartialEq, schemars::JsonSchema)]
pub struct EvidenceReceipt {
    pub decision_id: String,
    /// The decision's `artifact_hash` (null on deny, SPEC.md §1.11).
    pub artifact_hash: Option<String>,
    pub ledger_seq: i64,
    pub ledger_hash: String,
    pub recorded_at: String,
}

/// A recorded decision. `decision_json` is byte-for-byte the JSON the ledger stored.
#[derive(Debug, Clone)]
pub struct Routed {
    pub decision_json: String,
    pub receipt: EvidenceReceipt,
}

impl Routed {
    /// The HTTP answer: the decision object with `evidence_receipt` added as its last key. Built
    /// in the decision's own buffer ([`Routed::decision_json`] is serialized with room to spare),
    /// so answering costs no second copy of the ~2 KB decision.
    pub fn into_response_bytes(self) -> Vec<u8> {
        let mut out = self.decision_json.into_bytes();
        out.truncate(out.trim_ascii_end().len());
        assert_eq!(out.pop(), Some(b'}'), "a decision is a JSON object");
        out.extend_from_slice(b",\"evidence_receipt\":");
        serde_json::to_writer(&mut out, &self.receipt).expect("receipt serializes");
        out.push(b'}');
        out
    }

    /// [`Routed::into_response_bytes`] for callers that keep the `Routed`.
    pub fn response_json(&self) -> String {
        String::from_utf8(self.clone().into_response_bytes()).expect("JSON is UTF-8")
    }

    pub fn decision(&self) -> serde_json::Value {
        serde_json::from_str(&self.decision_json).expect("recorded decision is JSON")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipt_is_spliced_as_last_key() {
        let routed = Routed {
            decision_json: r#"{"decision_id":"d","denied":false}"#.into(),
            receipt: EvidenceReceipt {
                decision_id: "d".into(),
                artifact_hash: None,
                ledger_seq: 3,
                ledger_hash: "h".into(),
                recorded_at: "t".into(),
            },
        };
        let v: serde_json::Value = serde_json::from_str(&routed.response_json()).unwrap();
        assert_eq!(v["denied"], false);
        assert_eq!(v["evidence_receipt"]["ledger_seq"], 3);
        assert!(v["evidence_receipt"]["artifact_hash"].is_null());
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys.last().unwrap().as_str(), "evidence_receipt");
        assert_eq!(
            routed.clone().into_response_bytes(),
            routed.response_json().into_bytes()
        );
    }

    #[test]
    fn trailing_whitespace_after_the_decision_is_dropped() {
        let routed = Routed {
            decision_json: "{\"decision_id\":\"d\"}\n ".into(),
            receipt: EvidenceReceipt {
                decision_id: "d".into(),
                artifact_hash: Some("sha256:x".into()),
                ledger_seq: 1,
                ledger_hash: "h".into(),
                recorded_at: "t".into(),
            },
        };
        let v: serde_json::Value = serde_json::from_slice(&routed.into_response_bytes()).unwrap();
        assert_eq!(v["evidence_receipt"]["artifact_hash"], "sha256:x");
    }
}
