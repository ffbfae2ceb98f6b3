//! Linked records: evidence recorded after a decision and bound to it, in a second hash chain
//! beside the decision chain. An MCP gateway records two kinds today: `mcp_call` (the outcome
//! of a forwarded tool call) and `approval` (a person's verdict on a call that needed one);
//! the kind is free text so new evidence needs no schema change.
//!
//! Each record names its decision by id; the ledger adds that decision's `seq` and chain
//! hash, so the link holds the decision's exact content, not just its id. What is chained is
//! [`LinkedRecord::chained_json`]: the compact JSON of the whole record minus `seq` and `hash`,
//! one line, and `hash = sha256(prev_hash ‖ json)` with the decision chain's [`chain_hash`];
//! the first `prev_hash` is [`linked_genesis`]. See docs/ledger.md, "Linked records".
//!
//! [`chain_hash`]: crate::chain_hash

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::chain::Hash;
use crate::error::{LedgerError, Result};
use crate::record::{lookup_key, micros_to_time};

/// Records per [`LinkedFilter`] page by default.
pub const DEFAULT_LINKED_PAGE: usize = 100;
/// The most records one [`LinkedFilter`] page returns.
pub const MAX_LINKED_PAGE: usize = 1000;
/// The longest `kind`, in bytes.
pub const MAX_KIND_BYTES: usize = 64;
/// The longest chained JSON of one record, in bytes. Evidence, not payload: a gateway with
/// bigger arguments or results records their hash instead.
pub const MAX_LINKED_BYTES: usize = 1 << 20;

/// A record to link to a decision already in the ledger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewLinkedRecord {
    /// When it happened. Stored with microsecond precision (UTC).
    #[serde(serialize_with = "rfc3339_micros")]
    pub at: DateTime<Utc>,
    /// e.g. `mcp_call`, `approval`: 1..=64 bytes of `[a-z0-9_]`.
    pub kind: String,
    /// The decision this record is about; it must be in the ledger.
    pub decision_id: String,
    pub correlation_id: String,
    /// The MCP worker (server) id, if any.
    pub server: Option<String>,
    /// The MCP tool name, if any.
    pub tool: Option<String>,
    /// The kind-specific content: a JSON object, stored as given (key order kept).
    pub body: serde_json::Value,
}

/// A linked record as chained: its place in the linked chain and its link to the decision.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LinkedRecord {
    /// Its sequence in the linked chain, from 1.
    pub seq: i64,
    /// Hex SHA-256 chain hash.
    pub hash: String,
    /// The linked decision's `seq` in the decision chain.
    pub decision_seq: i64,
    /// The linked decision's chain hash (hex): binds the link to that decision's content.
    pub decision_hash: String,
    #[serde(flatten)]
    pub record: NewLinkedRecord,
}

/// The order of a page of linked records, by `seq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkedOrder {
    NewestFirst,
    OldestFirst,
}

/// Which linked records to list; every set field must match (AND).
///
/// Newest first (highest `seq` first), except when filtering by `decision_id` or
/// `correlation_id`: those read as a story, oldest first. `order` overrides either.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkedFilter {
    pub decision_id: Option<String>,
    pub correlation_id: Option<String>,
    pub kind: Option<String>,
    pub server: Option<String>,
    pub tool: Option<String>,
    /// Keyset cursor for newest-first pages: only records with `seq < before_seq` (pass the
    /// last seq of the previous page). Also bounds oldest-first pages.
    pub before_seq: Option<i64>,
    /// Keyset cursor for oldest-first pages (decision or correlation filters): only records
    /// with `seq > after_seq`. Also bounds newest-first pages.
    pub after_seq: Option<i64>,
    /// At most this many records: default [`DEFAULT_LINKED_PAGE`], 1..=[`MAX_LINKED_PAGE`].
    pub limit: Option<usize>,
    /// `None`: the default order above. E.g. a newest-first audit trail of one correlation:
    /// `Some(NewestFirst)` with `before_seq` as its cursor.
    pub order: Option<LinkedOrder>,
}

impl LinkedFilter {
    /// All linked records of one decision, oldest first.
    pub fn decision(decision_id: impl Into<String>) -> Self {
        Self {
            decision_id: Some(decision_id.into()),
            ..Self::default()
        }
    }

    /// Whether the page is oldest first: as `order` says, else decision and correlation
    /// filters, which read as a story.
    pub fn oldest_first(&self) -> bool {
        match self.order {
            Some(order) => order == LinkedOrder::OldestFirst,
            None => self.decision_id.is_some() || self.correlation_id.is_some(),
        }
    }

    /// The checked page size.
    pub(crate) fn page_size(&self) -> Result<usize> {
        match self.limit.unwrap_or(DEFAULT_LINKED_PAGE) {
            n @ 1..=MAX_LINKED_PAGE => Ok(n),
            n => Err(LedgerError::BadQuery(format!(
                "limit must be between 1 and {MAX_LINKED_PAGE}, got {n}"
            ))),
        }
    }
}

impl NewLinkedRecord {
    /// What can be checked without the ledger: the kind's shape, a decision id, an object
    /// body. (That the decision exists, and the size of the chained JSON, are checked on
    /// append.)
    pub fn check(&self) -> Result<()> {
        check_kind(&self.kind)?;
        if self.decision_id.is_empty() {
            return Err(LedgerError::BadRecord(
                "linked record: decision_id is empty".into(),
            ));
        }
        if !self.body.is_object() {
            return Err(LedgerError::BadRecord(format!(
                "linked record for decision {:?}: body must be a JSON object",
                self.decision_id
            )));
        }
        Ok(())
    }
}

/// Kinds name evidence types in filters and indexes: short, lower-case, no spaces.
fn check_kind(kind: &str) -> Result<()> {
    let shaped = (1..=MAX_KIND_BYTES).contains(&kind.len())
        && kind
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if shaped {
        Ok(())
    } else {
        Err(LedgerError::BadRecord(format!(
            "linked record kind {kind:?} must be 1 to {MAX_KIND_BYTES} bytes of a-z, 0-9 and _"
        )))
    }
}

fn rfc3339_micros<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::Micros, true))
}

/// The chained fields, in their chained order. Borrowed, so chaining copies nothing.
#[derive(Serialize)]
struct Chained<'a> {
    #[serde(serialize_with = "rfc3339_micros")]
    at: DateTime<Utc>,
    kind: &'a str,
    decision_id: &'a str,
    decision_seq: i64,
    decision_hash: &'a str,
    correlation_id: &'a str,
    server: Option<&'a str>,
    tool: Option<&'a str>,
    body: &'a serde_json::Value,
}

/// The chained JSON read back.
#[derive(Deserialize)]
struct Stored {
    at: String,
    kind: String,
    decision_id: String,
    decision_seq: i64,
    decision_hash: String,
    correlation_id: String,
    server: Option<String>,
    tool: Option<String>,
    body: serde_json::Value,
}

impl LinkedRecord {
    /// The exact bytes that are stored and hashed: compact JSON of `at` (RFC 3339, µs, `Z`),
    /// `kind`, `decision_id`, `decision_seq`, `decision_hash`, `correlation_id`, `server`,
    /// `tool`, `body`, in that order, on one line (compact JSON escapes every line break).
    pub fn chained_json(&self) -> String {
        let r = &self.record;
        let chained = Chained {
            at: r.at,
            kind: &r.kind,
            decision_id: &r.decision_id,
            decision_seq: self.decision_seq,
            decision_hash: &self.decision_hash,
            correlation_id: &r.correlation_id,
            server: r.server.as_deref(),
            tool: r.tool.as_deref(),
            body: &r.body,
        };
        // Plain data with string keys: serializing cannot fail.
        serde_json::to_string(&chained).unwrap_or_default()
    }

    /// A stored record from its place in the chain and its chained JSON.
    pub(crate) fn from_chained(seq: i64, hash: String, json: &str) -> Result<Self, String> {
        let s: Stored = serde_json::from_str(json).map_err(|e| e.to_string())?;
        let at = DateTime::parse_from_rfc3339(&s.at)
            .map_err(|e| format!("at {:?}: {e}", s.at))?
            .with_timezone(&Utc);
        Ok(Self {
            seq,
            hash,
            decision_seq: s.decision_seq,
            decision_hash: s.decision_hash,
            record: NewLinkedRecord {
                at,
                kind: s.kind,
                decision_id: s.decision_id,
                correlation_id: s.correlation_id,
                server: s.server,
                tool: s.tool,
                body: s.body,
            },
        })
    }
}

/// `at` as stored: whole microseconds (the `ts` column and the chained JSON agree exactly).
pub(crate) fn stored_time(at: DateTime<Utc>) -> DateTime<Utc> {
    micros_to_time(at.timestamp_micros())
}

/// The first `prev_hash` of the linked chain: `sha256("proctor.linked.genesis.v1" ‖ g)` where
/// `g` is the decision chain's random genesis. Derived rather than stored, so there is no
/// second genesis to edit, and a linked chain cannot be moved onto another ledger file
/// without rehashing every record.
pub fn linked_genesis(decisions_genesis: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update(b"proctor.linked.genesis.v1");
    h.update(decisions_genesis);
    h.finalize().into()
}

/// The filter columns of a linked record (what the indexes are built on), from the record
/// on append and from its chained JSON on verify: they must agree.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct LinkedColumns {
    pub ts: i64,
    pub kind: String,
    pub decision_id: String,
    pub decision_key: i64,
    pub decision_seq: i64,
    pub correlation_id: String,
    pub correlation_key: i64,
    pub server: Option<String>,
    pub tool: Option<String>,
}

impl LinkedColumns {
    pub fn of(r: &LinkedRecord) -> Self {
        let n = &r.record;
        Self {
            ts: n.at.timestamp_micros(),
            kind: n.kind.clone(),
            decision_id: n.decision_id.clone(),
            decision_key: lookup_key(&n.decision_id),
            decision_seq: r.decision_seq,
            correlation_id: n.correlation_id.clone(),
            correlation_key: lookup_key(&n.correlation_id),
            server: n.server.clone(),
            tool: n.tool.clone(),
        }
    }

    /// The first column of `stored` that differs from `self` (the truth, from the JSON).
    pub fn first_difference(&self, stored: &Self) -> Option<&'static str> {
        let checks = [
            ("ts", self.ts == stored.ts),
            ("kind", self.kind == stored.kind),
            ("decision_id", self.decision_id == stored.decision_id),
            ("decision_key", self.decision_key == stored.decision_key),
            ("decision_seq", self.decision_seq == stored.decision_seq),
            (
                "correlation_id",
                self.correlation_id == stored.correlation_id,
            ),
            (
                "correlation_key",
                self.correlation_key == stored.correlation_key,
            ),
            ("server", self.server == stored.server),
            ("tool", self.tool == stored.tool),
        ];
        checks.into_iter().find(|(_, ok)| !ok).map(|(name, _)| name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record() -> LinkedRecord {
        LinkedRecord {
            seq: 3,
            hash: "ab".into(),
            decision_seq: 7,
            decision_hash: "cd".into(),
            record: NewLinkedRecord {
                at: DateTime::from_timestamp(1_767_225_600, 123_456_789).unwrap(),
                kind: "mcp_call".into(),
                decision_id: "d-1".into(),
                correlation_id: "c-1".into(),
                server: Some("wrk.fs".into()),
                tool: None,
                body: json!({"z": 1, "a": "line\nbreak"}),
            },
        }
    }

    #[test]
    fn chained_json_is_one_line_in_the_documented_order() {
        let json = record().chained_json();
        assert_eq!(
            json,
            r#"{"at":"2026-01-01T00:00:00.123456Z","kind":"mcp_call","decision_id":"d-1","decision_seq":7,"decision_hash":"cd","correlation_id":"c-1","server":"wrk.fs","tool":null,"body":{"z":1,"a":"line\nbreak"}}"#
        );
        assert!(!json.contains('\n'));
    }

    #[test]
    fn serializes_flat_and_reads_back() {
        let r = record();
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["seq"], 3);
        assert_eq!(v["at"], "2026-01-01T00:00:00.123456Z");
        assert_eq!(v["kind"], "mcp_call");
        let back = LinkedRecord::from_chained(3, "ab".into(), &r.chained_json()).unwrap();
        let mut expected = r;
        expected.record.at = stored_time(expected.record.at);
        assert_eq!(back, expected);
    }

    #[test]
    fn kinds_are_checked() {
        let mut r = record().record;
        for good in ["mcp_call", "approval", "a", "x9_", &"k".repeat(64)] {
            r.kind = good.to_string();
            assert!(r.check().is_ok(), "{good}");
        }
        for bad in ["", "MCP", "mcp-call", "mcp call", "é", &"k".repeat(65)] {
            r.kind = bad.to_string();
            assert!(
                matches!(r.check(), Err(LedgerError::BadRecord(_))),
                "{bad:?}"
            );
        }
        r.kind = "approval".into();
        r.body = json!("not an object");
        assert!(matches!(r.check(), Err(LedgerError::BadRecord(_))));
    }

    #[test]
    fn page_sizes_are_bounded() {
        let mut f = LinkedFilter::default();
        assert_eq!(f.page_size().unwrap(), DEFAULT_LINKED_PAGE);
        f.limit = Some(MAX_LINKED_PAGE);
        assert_eq!(f.page_size().unwrap(), MAX_LINKED_PAGE);
        for bad in [0, MAX_LINKED_PAGE + 1] {
            f.limit = Some(bad);
            assert!(matches!(f.page_size(), Err(LedgerError::BadQuery(_))));
        }
    }
}
