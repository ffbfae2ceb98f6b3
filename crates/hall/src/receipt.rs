//! "Durable before answered", in one place: a decision is answered only with the receipt of its
//! ledger record ([`Routed`]); a decision the ledger could not record is withheld and its
//! caller gets a `DENY_LEDGER_UNAVAILABLE` error instead ([`Withheld`]). [`Hall::route`] and
//! `proctor route --db` both go through [`answer`].
//!
//! A hall's receipts carry its signature ([`ReceiptSignature`]), so a holder can prove offline
//! what the ledger must contain (`proctor receipt verify`): one signature per batch of records
//! the ledger made durable together, over the root of a Merkle tree of the batch, and each
//! receipt's inclusion proof in that tree, so signing costs one Ed25519 signature per batch
//! instead of one per decision.
//!
//! [`Hall::route`]: crate::Hall::route

use crate::anchor::{Anchor, HallKey, HallPublicKey};
use crate::error::HallError;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ledger::merkle::{self, Hash};
use ledger::{Batch, BatchRecord};
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
    /// The hall's signature of the batch holding (`ledger_seq`, `ledger_hash`, `decision_id`),
    /// with the record's inclusion proof. Absent from the receipts of `proctor route --db`,
    /// whose ledger has no hall behind it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<ReceiptSignature>,
}

/// What a hall signs today: a batch, with each receipt's inclusion proof in it.
pub const RECEIPT_FORMAT: &str = "proctor-receipt/v2";
/// What halls signed before batches: each receipt on its own. Still verified.
pub const RECEIPT_FORMAT_V1: &str = "proctor-receipt/v1";
/// The version of a batch's signed bytes ([`SignedBatch::message`]).
pub const BATCH_FORMAT: &str = "proctor-batch/v1";

/// A hall key's Ed25519 signature over a receipt (docs/ledger.md, "Signed receipts"): in
/// `proctor-receipt/v2`, over the batch of records the receipt's record was made durable
/// with, plus the record's path to that batch's Merkle root.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiptSignature {
    /// `proctor-receipt/v2` (or `proctor-receipt/v1`: the receipt's own fields signed alone).
    pub format: String,
    /// The hall key's name (`proctor-hall/<fingerprint>`).
    pub key_name: String,
    /// The hall key's signed-note key id, hex (4 bytes).
    pub key_id: String,
    /// The 64-byte Ed25519 signature, base64: of the batch ([`SignedBatch::message`]) in v2.
    pub value: String,
    /// v2: the signed batch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<SignedBatch>,
    /// v2: the record's audit path in the batch's Merkle tree (RFC 6962), bottom up, each
    /// a hex SHA-256 (none for a batch of one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inclusion_proof: Option<Vec<String>>,
}

/// The batch a v2 signature covers: the records one group commit made durable together.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SignedBatch {
    /// The seq of its first record; its records have the seqs that follow, in order.
    pub first_seq: i64,
    /// How many records.
    pub size: u64,
    /// The Merkle tree root over its records' leaves, hex.
    pub root: String,
}

impl SignedBatch {
    /// The signed bytes, `proctor-batch/v1`: five lines, each ended by `\n`: the format, the
    /// key name, the first seq, the size (decimal), the root (hex).
    pub fn message(&self, key_name: &str) -> Vec<u8> {
        format!(
            "{BATCH_FORMAT}\n{key_name}\n{}\n{}\n{}\n",
            self.first_seq, self.size, self.root
        )
        .into_bytes()
    }

    fn of(batch: &Batch) -> SignedBatch {
        SignedBatch {
            first_seq: batch.first_seq(),
            size: batch.size(),
            root: hex::encode(batch.tree().root()),
        }
    }
}

impl ReceiptSignature {
    /// The bytes a v1 signature signs: five lines, each ended by `\n`: `proctor-receipt/v1`,
    /// the key name, the seq (decimal), the record hash (hex), the decision id.
    pub fn message_v1(key_name: &str, seq: i64, hash: &str, decision_id: &str) -> Vec<u8> {
        format!("{RECEIPT_FORMAT_V1}\n{key_name}\n{seq}\n{hash}\n{decision_id}\n").into_bytes()
    }

    /// The signature of `batch` (base64), made from its root: once per batch ([`Batch::seal`]).
    pub(crate) fn sign_batch(key: &HallKey, batch: &Batch) -> String {
        B64.encode(key.sign(&SignedBatch::of(batch).message(&key.public().name)))
    }

    /// The signature of the record at `seq` in `batch`, sealed with `value`
    /// ([`ReceiptSignature::sign_batch`]); `None` if the batch does not hold `seq`.
    pub(crate) fn in_batch(
        key: &HallPublicKey,
        batch: &Batch,
        seq: i64,
        value: &str,
    ) -> Option<ReceiptSignature> {
        let proof = batch.inclusion_proof(seq)?;
        Some(ReceiptSignature {
            format: RECEIPT_FORMAT.to_string(),
            key_name: key.name.clone(),
            key_id: key.key_id.clone(),
            value: value.to_string(),
            batch: Some(SignedBatch::of(batch)),
            inclusion_proof: Some(proof.iter().map(hex::encode).collect()),
        })
    }
}

/// 32 bytes of hex, or what `what` is not.
fn hash_hex(text: &str, what: &str) -> Result<Hash, String> {
    let mut hash = [0u8; 32];
    hex::decode_to_slice(text, &mut hash)
        .map_err(|_| format!("{what} is not a SHA-256 hash (64 hex digits): {text:?}"))?;
    Ok(hash)
}

impl EvidenceReceipt {
    /// Check the receipt's signature with `key` (v2: the batch's signature, then the record's
    /// path to the batch's root; v1: the receipt's own signature); the error says what does not
    /// hold.
    pub fn verify_signature(&self, key: &HallPublicKey) -> Result<(), String> {
        let sig = self
            .signature
            .as_ref()
            .ok_or("the receipt carries no signature (a `proctor route --db` receipt?)")?;
        if sig.format != RECEIPT_FORMAT && sig.format != RECEIPT_FORMAT_V1 {
            return Err(format!(
                "unknown signature format {:?} (this build reads {RECEIPT_FORMAT} and \
                 {RECEIPT_FORMAT_V1})",
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
        match (&sig.batch, &sig.inclusion_proof) {
            (Some(batch), Some(proof)) if sig.format == RECEIPT_FORMAT => {
                self.verify_in_batch(key, &value, batch, proof)
            }
            (None, None) if sig.format == RECEIPT_FORMAT_V1 => {
                let message = ReceiptSignature::message_v1(
                    &key.name,
                    self.ledger_seq,
                    &self.ledger_hash,
                    &self.decision_id,
                );
                if key.verifies(&message, &value) {
                    Ok(())
                } else {
                    Err(
                        "the signature does not match the receipt: the receipt (seq, hash or \
                         decision id) or its signature was altered"
                            .into(),
                    )
                }
            }
            _ if sig.format == RECEIPT_FORMAT => Err(format!(
                "a {RECEIPT_FORMAT} signature needs both `batch` and `inclusion_proof`"
            )),
            _ => Err(format!(
                "a {RECEIPT_FORMAT_V1} signature carries no `batch` or `inclusion_proof`"
            )),
        }
    }

    /// v2: the batch is the hall's, and this record is in it where its proof says.
    fn verify_in_batch(
        &self,
        key: &HallPublicKey,
        value: &[u8; 64],
        batch: &SignedBatch,
        proof: &[String],
    ) -> Result<(), String> {
        let (first, size) = (batch.first_seq, batch.size);
        let root = hash_hex(&batch.root, "the batch root")?;
        if !key.verifies(&batch.message(&key.name), value) {
            return Err(format!(
                "the batch signature does not match the batch it names (first seq {first}, \
                 size {size}, root {}): the batch or its signature was altered",
                batch.root
            ));
        }
        let last = u64::try_from(first)
            .ok()
            .and_then(|f| f.checked_add(size))
            .and_then(|end| end.checked_sub(1));
        let index = self
            .ledger_seq
            .checked_sub(first)
            .and_then(|i| u64::try_from(i).ok())
            .filter(|&i| i < size)
            .ok_or_else(|| {
                let seqs = last.map_or("none".to_string(), |l| format!("{first}..={l}"));
                format!(
                    "seq {} is not in the signed batch (seqs {seqs})",
                    self.ledger_seq
                )
            })?;
        let hash = hash_hex(&self.ledger_hash, "ledger_hash")?;
        let path = proof
            .iter()
            .enumerate()
            .map(|(i, p)| hash_hex(p, &format!("inclusion_proof[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        let leaf = BatchRecord::leaf(self.ledger_seq, &hash, &self.decision_id);
        let reached = merkle::root_from_path(index, size, leaf, &path)
            .map_err(|e| format!("the inclusion proof does not fit the batch: {e}"))?;
        if reached != root {
            return Err(format!(
                "the record is not in the signed batch: seq {}, its hash and decision id, with \
                 the inclusion proof, lead to root {}, not the signed {}: the receipt's \
                 ledger_seq, ledger_hash or decision_id, or its inclusion proof, was altered",
                self.ledger_seq,
                hex::encode(reached),
                batch.root
            ));
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
                signature: anchor.map(|a| a.sign_receipt(&receipt, &decision.decision_id)),
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
            batch: None,
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

    /// A hall's anchor (key and checkpoints) in a fresh data dir.
    fn anchor() -> (tempfile::TempDir, Anchor) {
        let dir = tempfile::tempdir().unwrap();
        let (config, _) = crate::Config::load_or_init(dir.path()).unwrap();
        let (anchor, _) = Anchor::open(&config).unwrap();
        (dir, anchor)
    }

    fn batch(first_seq: i64, size: usize) -> std::sync::Arc<Batch> {
        let records = (0..size as i64)
            .map(|i| BatchRecord {
                seq: first_seq + i,
                hash: sha2::Sha256::digest(i.to_be_bytes()).into(),
                decision_id: format!("0b7e3f0c-6f55-4c1e-9d0a-{i:012}"),
            })
            .collect();
        std::sync::Arc::new(Batch::new(records).unwrap())
    }

    /// Every receipt of `batch`, signed as the hall signs them.
    fn receipts(anchor: &Anchor, batch: &std::sync::Arc<Batch>) -> Vec<EvidenceReceipt> {
        batch
            .records()
            .iter()
            .map(|r| {
                let receipt = ledger::Receipt {
                    seq: r.seq,
                    hash: hex::encode(r.hash),
                    batch: Some(batch.clone()),
                };
                EvidenceReceipt {
                    signature: Some(anchor.sign_receipt(&receipt, &r.decision_id)),
                    decision_id: r.decision_id.clone(),
                    artifact_hash: None,
                    ledger_seq: r.seq,
                    ledger_hash: receipt.hash,
                    recorded_at: "t".into(),
                }
            })
            .collect()
    }

    use sha2::Digest;

    fn sig(r: &mut EvidenceReceipt) -> &mut ReceiptSignature {
        r.signature.as_mut().unwrap()
    }

    #[test]
    fn every_receipt_of_a_batch_verifies_under_one_signature() {
        let (_dir, anchor) = anchor();
        for size in [1, 2, 3, 5, 8, 13, 64] {
            let batch = batch(100, size);
            let receipts = receipts(&anchor, &batch);
            let first = receipts[0].signature.clone().unwrap();
            assert_eq!(first.format, RECEIPT_FORMAT);
            let signed = first.batch.clone().unwrap();
            assert_eq!((signed.first_seq, signed.size), (100, size as u64));
            assert_eq!(signed.root, hex::encode(batch.tree().root()));
            for r in &receipts {
                let sig = r.signature.as_ref().unwrap();
                assert_eq!(sig.value, first.value, "one signature per batch");
                assert_eq!(sig.batch.as_ref(), Some(&signed));
                r.verify_signature(anchor.public()).unwrap();
            }
        }
    }

    #[test]
    fn a_receipt_without_a_batch_is_signed_as_a_batch_of_one() {
        let (_dir, anchor) = anchor();
        let receipt = ledger::Receipt {
            seq: 9,
            hash: "cd".repeat(32),
            batch: None,
        };
        let sig = anchor.sign_receipt(&receipt, "d-9");
        assert_eq!(sig.batch.as_ref().unwrap().size, 1);
        assert_eq!(sig.inclusion_proof, Some(Vec::new()));
        let evidence = EvidenceReceipt {
            decision_id: "d-9".into(),
            artifact_hash: None,
            ledger_seq: 9,
            ledger_hash: receipt.hash,
            recorded_at: "t".into(),
            signature: Some(sig),
        };
        evidence.verify_signature(anchor.public()).unwrap();
    }

    /// Each field a v2 receipt's validity rests on, altered, with what verification says.
    #[test]
    fn tampering_any_part_of_a_v2_receipt_fails_naming_it() {
        let (_dir, anchor) = anchor();
        let batch = batch(40, 6);
        let good = receipts(&anchor, &batch).remove(2);
        good.verify_signature(anchor.public()).unwrap();
        let flip = |hex: &str| {
            let mut h = hex.to_string();
            let c = if h.ends_with('0') { "1" } else { "0" };
            h.replace_range(63.., c);
            h
        };
        type Tamper = Box<dyn Fn(&mut EvidenceReceipt)>;
        let cases: Vec<(&str, Tamper, &str)> = vec![
            ("seq", Box::new(|r| r.ledger_seq += 1), "the record is not in the signed batch"),
            ("seq out of the batch", Box::new(|r| r.ledger_seq = 46), "seq 46 is not in the signed batch (seqs 40..=45)"),
            ("hash", Box::new(move |r| r.ledger_hash = flip(&r.ledger_hash)), "ledger_hash or decision_id"),
            ("decision id", Box::new(|r| r.decision_id.push('x')), "the record is not in the signed batch"),
            ("proof element", Box::new(move |r| {
                let p = &mut sig(r).inclusion_proof.as_mut().unwrap()[1];
                *p = flip(p);
            }), "or its inclusion proof, was altered"),
            ("proof shortened", Box::new(move |r| {
                sig(r).inclusion_proof.as_mut().unwrap().pop();
            }), "the inclusion proof does not fit the batch: the audit path has 2 hashes, but leaf 2 of a tree of 6 leaves needs 3"),
            ("root", Box::new(move |r| {
                let b = sig(r).batch.as_mut().unwrap();
                b.root = flip(&b.root);
            }), "the batch signature does not match the batch it names"),
            ("size", Box::new(move |r| sig(r).batch.as_mut().unwrap().size = 7), "the batch or its signature was altered"),
            ("first seq", Box::new(move |r| sig(r).batch.as_mut().unwrap().first_seq = 41), "the batch signature does not match"),
            ("signature", Box::new(move |r| {
                let mut v = B64.decode(&sig(r).value).unwrap();
                v[10] ^= 1;
                sig(r).value = B64.encode(v);
            }), "the batch or its signature was altered"),
            ("signature length", Box::new(move |r| sig(r).value = B64.encode([0u8; 63])), "not 64 bytes of base64"),
            ("root not hex", Box::new(move |r| sig(r).batch.as_mut().unwrap().root = "zz".into()), "the batch root is not a SHA-256 hash"),
            ("proof not hex", Box::new(move |r| sig(r).inclusion_proof.as_mut().unwrap()[0] = "ab".into()), "inclusion_proof[0] is not a SHA-256 hash"),
            ("hash not hex", Box::new(|r| r.ledger_hash = "x".into()), "ledger_hash is not a SHA-256 hash"),
            ("format", Box::new(move |r| sig(r).format = "proctor-receipt/v3".into()), "unknown signature format \"proctor-receipt/v3\""),
            ("v1 label on a v2 signature", Box::new(move |r| sig(r).format = RECEIPT_FORMAT_V1.into()), "a proctor-receipt/v1 signature carries no `batch`"),
            ("no proof", Box::new(move |r| sig(r).inclusion_proof = None), "needs both `batch` and `inclusion_proof`"),
            ("key", Box::new(move |r| sig(r).key_id = "00000000".into()), "signed by another key"),
        ];
        for (what, tamper, says) in cases {
            let mut bad = good.clone();
            tamper(&mut bad);
            assert_ne!(bad, good, "{what}: nothing changed");
            let err = bad.verify_signature(anchor.public()).unwrap_err();
            assert!(err.contains(says), "{what}: {err}");
        }
        // An extreme first seq is refused, not overflowed.
        let mut bad = good.clone();
        sig(&mut bad).batch.as_mut().unwrap().first_seq = i64::MIN;
        assert!(bad.verify_signature(anchor.public()).is_err());
    }

    #[test]
    fn v1_receipts_still_verify() {
        let (dir, anchor) = anchor();
        let key = HallKey::load(dir.path()).unwrap().unwrap();
        let (seq, hash, id) = (5, "ef".repeat(32), "d-5");
        let message = ReceiptSignature::message_v1(&key.public().name, seq, &hash, id);
        let mut receipt = EvidenceReceipt {
            decision_id: id.into(),
            artifact_hash: None,
            ledger_seq: seq,
            ledger_hash: hash,
            recorded_at: "t".into(),
            signature: Some(ReceiptSignature {
                format: RECEIPT_FORMAT_V1.into(),
                key_name: key.public().name.clone(),
                key_id: key.public().key_id.clone(),
                value: B64.encode(key.sign(&message)),
                batch: None,
                inclusion_proof: None,
            }),
        };
        receipt.verify_signature(anchor.public()).unwrap();
        receipt.ledger_seq = 6;
        let err = receipt.verify_signature(anchor.public()).unwrap_err();
        assert!(err.contains("does not match the receipt"), "{err}");
    }
}
