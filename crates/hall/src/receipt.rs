//! "Durable before answered", in one place: a decision is answered only with the receipt of its
//! ledger record ([`Routed`]); a decision the ledger could not record is withheld and its
//! caller gets a `DENY_LEDGER_UNAVAILABLE` error instead ([`Withheld`]). [`Hall::route`] and
//! `proctor route --db` both go through [`answer`].
//!
//! A hall's receipts carry its signature ([`ReceiptSignature`]), so a holder can prove offline
//! what the ledger must contain (`proctor receipt verify`).
//!
//! [`Hall::route`]: crate::Hall::route

use crate::anchor::{Anchor, HallKey, HallPublicKey};
use crate::error::HallError;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde::{Deserialize, Serialize};

/// Proof that a decision is in the ledger (docs/API.md).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
pub struct EvidenceReceipt {
    pub decision_id: String,
    /// The decision's `artifact_hash` (null on deny; docs/wcp.md, "RouteDecision").
    pub artifact_hash: Option<String>,
    pub ledger_seq: i64,
    pub ledger_hash: String,
    pub recorded_at: String,
    /// The hall's signature of (`ledger_seq`, `ledger_hash`, `decision_id`). Absent from the
    /// receipts of `proctor route --db`, whose ledger has no hall behind it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<ReceiptSignature>,
}

/// The version of the signed bytes ([`ReceiptSignature::message`]).
pub const RECEIPT_FORMAT: &str = "proctor-receipt/v1";

/// A hall key's Ed25519 signature of a receipt (docs/ledger.md, "Signed receipts").
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiptSignature {
    /// What was signed: `proctor-receipt/v1`.
    pub format: String,
    /// The hall key's name (`proctor-hall/<fingerprint>`).
    pub key_name: String,
    /// The hall key's signed-note key id, hex (4 bytes).
    pub key_id: String,
    /// The 64-byte Ed25519 signature, base64.
    pub value: String,
}

impl ReceiptSignature {
    /// The signed bytes, version 1: five lines, each ended by `\n`:
    /// `proctor-receipt/v1`, the key name, the seq (decimal), the record hash (hex), the
    /// decision id.
    pub fn message(key_name: &str, seq: i64, hash: &str, decision_id: &str) -> Vec<u8> {
        format!("{RECEIPT_FORMAT}\n{key_name}\n{seq}\n{hash}\n{decision_id}\n").into_bytes()
    }

    pub(crate) fn sign(key: &HallKey, seq: i64, hash: &str, decision_id: &str) -> Self {
        let public = key.public();
        let signature = key.sign(&Self::message(&public.name, seq, hash, decision_id));
        ReceiptSignature {
            format: RECEIPT_FORMAT.to_string(),
            key_name: public.name.clone(),
            key_id: public.key_id.clone(),
            value: B64.encode(signature),
        }
    }
}

impl EvidenceReceipt {
    /// Check the receipt's signature with `key`; the error says what does not hold.
    pub fn verify_signature(&self, key: &HallPublicKey) -> Result<(), String> {
        let sig = self
            .signature
            .as_ref()
            .ok_or("the receipt carries no signature (a `proctor route --db` receipt?)")?;
        if sig.format != RECEIPT_FORMAT {
            return Err(format!(
                "unknown signature format {:?} (this build reads {RECEIPT_FORMAT})",
                sig.format
            ));
        }
        if sig.key_name != key.name || sig.key_id != key.key_id {
            return Err(format!(
                "signed by another key: {} (key id {}), not this hall's {} (key id {})",
                sig.key_name, sig.key_id, key.name, key.key_id
            ));
        }
        let value: [u8; 64] = B64
            .decode(&sig.value)
            .ok()
            .and_then(|v| v.try_into().ok())
            .ok_or("the signature is not 64 bytes of base64")?;
        let message = ReceiptSignature::message(
            &key.name,
            self.ledger_seq,
            &self.ledger_hash,
            &self.decision_id,
        );
        if !key.verifies(&message, &value) {
            return Err(
                "the signature does not match the receipt: the receipt (seq, hash or \
                        decision id) or its signature was altered"
                    .into(),
            );
        }
        Ok(())
    }
}

/// A recorded decision. `decision_json` is byte-for-byte the JSON the ledger stored.
#[derive(Debug, Clone)]
pub struct Routed {
    pub decision_json: String,
    pub receipt: EvidenceReceipt,
}

/// A decision the ledger could not make durable. It is never handed out (fail closed): its
/// caller gets [`Withheld::error_body`] (or, through the hall, a `503` with
/// `DENY_LEDGER_UNAVAILABLE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withheld {
    pub decision_id: String,
    /// Why the ledger did not record it.
    pub reason: String,
}

impl Withheld {
    /// `{"error": {"code": "DENY_LEDGER_UNAVAILABLE", "decision_id", "message"}}`: what stands
    /// in the place of the decision (one line of `proctor route --db`'s output).
    pub fn error_body(&self) -> serde_json::Value {
        crate::api::error::error_body(
            crate::error::LEDGER_UNAVAILABLE,
            Some(&self.decision_id),
            &format!(
                "the decision could not be recorded, so it is withheld: {}",
                self.reason
            ),
        )
    }
}

impl From<Withheld> for HallError {
    fn from(w: Withheld) -> Self {
        HallError::LedgerUnavailable(w.reason)
    }
}

/// The answer to a decided request once the ledger has replied: with `recorded` = the ledger's
/// receipt, the decision (`decision_json`, the bytes the ledger stored) with its evidence
/// receipt, stamped now and signed by `anchor` (the hall's; `None` for `proctor route --db`);
/// with the ledger's error, the decision withheld.
pub fn answer(
    decision: &wcp::RouteDecision,
    decision_json: String,
    recorded: Result<ledger::Receipt, String>,
    anchor: Option<&Anchor>,
) -> Result<Routed, Withheld> {
    match recorded {
        Ok(receipt) => Ok(Routed {
            decision_json,
            receipt: EvidenceReceipt {
                signature: anchor
                    .map(|a| a.sign_receipt(receipt.seq, &receipt.hash, &decision.decision_id)),
                decision_id: decision.decision_id.clone(),
                artifact_hash: decision.artifact_hash.clone(),
                ledger_seq: receipt.seq,
                ledger_hash: receipt.hash,
                recorded_at: chrono::Utc::now()
                    .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            },
        }),
        Err(reason) => Err(Withheld {
            decision_id: decision.decision_id.clone(),
            reason,
        }),
    }
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

    fn decision() -> wcp::RouteDecision {
        use wcp::scenario::{Outcome, Scenario};
        let line = include_str!("../../../tests/vectors/route.jsonl")
            .lines()
            .next()
            .unwrap();
        let Outcome::Decision(d) = Scenario::from_line(line).unwrap().run() else {
            panic!("the first vector decides");
        };
        *d
    }

    #[test]
    fn a_recorded_decision_is_answered_with_its_receipt() {
        let d = decision();
        let json = crate::hall::serialize_decision(&d);
        let receipt = ledger::Receipt {
            seq: 7,
            hash: "ab".repeat(32),
        };
        let routed = answer(&d, json.clone(), Ok(receipt), None).unwrap();
        assert_eq!(routed.decision_json, json);
        assert_eq!(routed.receipt.decision_id, d.decision_id);
        assert_eq!(routed.receipt.artifact_hash, d.artifact_hash);
        assert_eq!(routed.receipt.ledger_seq, 7);
        assert_eq!(routed.receipt.ledger_hash, "ab".repeat(32));
        assert!(
            chrono::DateTime::parse_from_rfc3339(&routed.receipt.recorded_at).is_ok(),
            "{}",
            routed.receipt.recorded_at
        );
    }

    #[test]
    fn an_unrecorded_decision_is_withheld() {
        let d = decision();
        let json = crate::hall::serialize_decision(&d);
        let withheld = answer(&d, json, Err("disk full".into()), None).unwrap_err();
        // The exact line `proctor route --db` prints in the decision's place.
        assert_eq!(
            withheld.error_body().to_string(),
            format!(
                r#"{{"error":{{"code":"DENY_LEDGER_UNAVAILABLE","decision_id":"{}","message":"the decision could not be recorded, so it is withheld: disk full"}}}}"#,
                d.decision_id
            )
        );
        let err = HallError::from(withheld);
        assert_eq!(err.code(), "DENY_LEDGER_UNAVAILABLE");
        assert_eq!(err.to_string(), "ledger unavailable: disk full");
    }

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
                signature: None,
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
                signature: None,
            },
        };
        let v: serde_json::Value = serde_json::from_slice(&routed.into_response_bytes()).unwrap();
        assert_eq!(v["evidence_receipt"]["artifact_hash"], "sha256:x");
    }
}
