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
    /// The decision object with `evidence_receipt` added as its last key.
    pub fn response_json(&self) -> String {
        let receipt = serde_json::to_string(&self.receipt).expect("receipt serializes");
        let body = self.decision_json.trim_end();
        let body = body.strip_suffix('}').expect("a decision is a JSON object");
        let mut out = String::with_capacity(body.len() + receipt.len() + 24);
        out.push_str(body);
        out.push_str(",\"evidence_receipt\":");
        out.push_str(&receipt);
        out.push('}');
        out
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
    }
}
