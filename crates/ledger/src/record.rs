//! A decision as the ledger sees it: the filter columns pulled out of the RouteDecision wire
//! JSON (SPEC.md §1.3), plus the JSON bytes themselves, kept exactly as given.
//!
//! The ledger does not depend on the `wcp` types: it reads the stable wire keys, so any
//! producer of SPEC-shaped decisions can be recorded and every stored record round-trips
//! byte for byte.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{LedgerError, Result};

/// The columns people filter on, extracted from a decision's JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DecisionFields {
    /// The decision's `timestamp`, as microseconds since the Unix epoch (UTC).
    pub ts_micros: i64,
    pub decision_id: String,
    pub correlation_id: String,
    pub tenant_id: String,
    pub capability_id: String,
    pub matched_rule_id: String,
    /// `selected_worker_species_id` (null on every deny).
    pub worker: Option<String>,
    pub env: String,
    pub data_label: String,
    pub qos_class: String,
    pub denied: bool,
    /// `deny_reason_if_denied.code`.
    pub deny_code: Option<String>,
    /// `deny_reason_if_denied.message`: searchable, not a filter.
    pub deny_message: Option<String>,
    pub dry_run: bool,
    pub artifact_hash: Option<String>,
}

/// A decision ready to append: validated fields plus the exact JSON text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRecord {
    pub fields: DecisionFields,
    pub json: String,
    /// The backend's per-record work (e.g. compression), done by
    /// [`crate::GroupCommitHooks::prepare`] on the caller's thread; `None` = not yet.
    pub(crate) prepared: Option<Prepared>,
}

/// What the SQLite backend computes for a record before it reaches the single writer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Prepared {
    /// The stored (compressed) form of the JSON.
    pub body: Vec<u8>,
    /// [`lookup_key`] of the decision id.
    pub decision_key: i64,
}

/// The 64-bit key an id is indexed by: the first 8 bytes of its SHA-256, big-endian. An
/// index of these small integers has ~3× fewer pages than one of the id text, so the random
/// ids of a batch dirty (and the WAL and checkpoints copy) far fewer pages. Keys can collide,
/// so every lookup also compares the id itself. Stored in files: never change it.
pub(crate) fn lookup_key(id: &str) -> i64 {
    let digest = Sha256::digest(id.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
}

/// The subset of the wire format the ledger needs; everything else is kept in the JSON only.
#[derive(Deserialize)]
struct Wire<'a> {
    #[serde(borrow)]
    decision_id: Cow<'a, str>,
    #[serde(borrow)]
    timestamp: Cow<'a, str>,
    correlation_id: String,
    tenant_id: String,
    capability_id: String,
    matched_rule_id: String,
    selected_worker_species_id: Option<String>,
    env: String,
    data_label: String,
    qos_class: String,
    denied: bool,
    deny_reason_if_denied: Option<DenyReason>,
    dry_run: bool,
    artifact_hash: Option<String>,
}

#[derive(Deserialize)]
struct DenyReason {
    code: String,
    #[serde(default)]
    message: Option<String>,
}

impl DecisionFields {
    /// Extract and check the filter columns of one RouteDecision JSON text.
    pub fn from_json(json: &str) -> Result<Self> {
        let wire: Wire<'_> = serde_json::from_str(json)
            .map_err(|e| LedgerError::BadRecord(format!("not a RouteDecision: {e}")))?;
        check_consistent(
            &wire.decision_id,
            wire.denied,
            wire.deny_reason_if_denied.is_some(),
        )?;
        let ts_micros = timestamp_micros(&wire.timestamp)
            .map_err(|e| LedgerError::BadRecord(format!("decision {}: {e}", wire.decision_id)))?;
        let (deny_code, deny_message) = match wire.deny_reason_if_denied {
            Some(r) => (Some(r.code), r.message),
            None => (None, None),
        };
        Ok(Self {
            ts_micros,
            decision_id: wire.decision_id.into_owned(),
            correlation_id: wire.correlation_id,
            tenant_id: wire.tenant_id,
            capability_id: wire.capability_id,
            matched_rule_id: wire.matched_rule_id,
            worker: wire.selected_worker_species_id,
            env: wire.env,
            data_label: wire.data_label,
            qos_class: wire.qos_class,
            denied: wire.denied,
            deny_code,
            deny_message,
            dry_run: wire.dry_run,
            artifact_hash: wire.artifact_hash,
        })
    }

    /// The decision time as a UTC date-time.
    pub fn time(&self) -> DateTime<Utc> {
        micros_to_time(self.ts_micros)
    }

    /// The text the free-text index sees: ids, codes and the deny message, as
    /// [`search_words`] (one token each for the index's tokenizer).
    #[cfg(test)]
    pub(crate) fn search_text(&self) -> String {
        search_text([
            Some(self.decision_id.as_str()),
            Some(self.correlation_id.as_str()),
            Some(self.tenant_id.as_str()),
            Some(self.capability_id.as_str()),
            Some(self.matched_rule_id.as_str()),
            self.worker.as_deref(),
            self.deny_code.as_deref(),
            self.deny_message.as_deref(),
        ])
    }
}

/// The text the free-text index sees for a record's searchable columns (decision id,
/// correlation id, tenant, capability, rule, worker, deny code, deny message; absent ones
/// skipped): their [`search_words`], space-separated.
pub(crate) fn search_text<'a>(columns: impl IntoIterator<Item = Option<&'a str>>) -> String {
    let mut text = String::with_capacity(256);
    for word in columns.into_iter().flatten().flat_map(search_words) {
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(word);
    }
    text
}

/// Split text into search words: runs of letters, digits and the joiners `-._` (so ids such
/// as `cap.pay.invoice`, a UUID or `DENY_NO_MATCHING_RULE` are one word; the FTS tokenizer
/// has the same tokenchars), with the joiners trimmed from the ends (so "refused." is the
/// word "refused"). Indexing and queries both go through this, so they always agree.
pub(crate) fn search_words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !is_word_char(c))
        .map(|w| w.trim_matches(is_joiner))
        .filter(|w| !w.is_empty())
}

/// A match rather than a search of "-._" for each character: the indexer splits every
/// record's text.
fn is_joiner(c: char) -> bool {
    matches!(c, '-' | '.' | '_')
}

/// ASCII first: nearly all ids are ASCII, and the Unicode tables are only for the rest.
fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || is_joiner(c) || (!c.is_ascii() && c.is_alphanumeric())
}

impl NewRecord {
    /// Validate a decision's JSON text. The text is stored exactly as given, so it must be one
    /// compact line (JSONL export writes it verbatim).
    pub fn from_json(json: impl Into<String>) -> Result<Self> {
        let json = json.into();
        check_single_line(&json)?;
        let fields = DecisionFields::from_json(&json)?;
        Ok(Self {
            fields,
            json,
            prepared: None,
        })
    }

    /// A decision whose columns the caller already has, sparing the parse of its JSON (the
    /// hall builds both from one RouteDecision). `fields` must be exactly what
    /// [`DecisionFields::from_json`] extracts from `json`: debug builds assert it, and
    /// `verify` holds every stored record's columns against its JSON.
    pub fn from_parts(fields: DecisionFields, json: String) -> Result<Self> {
        check_single_line(&json)?;
        check_consistent(
            &fields.decision_id,
            fields.denied,
            fields.deny_code.is_some(),
        )?;
        debug_assert_eq!(
            DecisionFields::from_json(&json).ok().as_ref(),
            Some(&fields),
            "from_parts: the fields differ from the JSON's"
        );
        Ok(Self {
            fields,
            json,
            prepared: None,
        })
    }
}

/// The stored text is written verbatim as one JSONL line by exports. (memchr: a `char`
/// pattern search of every 2 KB decision was ~3% of a route's CPU.)
fn check_single_line(json: &str) -> Result<()> {
    if memchr::memchr2(b'\n', b'\r', json.as_bytes()).is_some() {
        return Err(LedgerError::BadRecord(
            "decision JSON must be a single line (compact serialization)".into(),
        ));
    }
    Ok(())
}

fn check_consistent(decision_id: &str, denied: bool, has_deny_reason: bool) -> Result<()> {
    if decision_id.trim().is_empty() {
        return Err(LedgerError::BadRecord("decision_id is empty".into()));
    }
    if denied != has_deny_reason {
        return Err(LedgerError::BadRecord(format!(
            "decision {decision_id}: `denied` is {denied} but `deny_reason_if_denied` is {}",
            if has_deny_reason { "set" } else { "null" }
        )));
    }
    Ok(())
}

/// A record as stored: its place in the chain, its columns and its exact JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredDecision {
    pub seq: i64,
    /// Hex SHA-256 of the previous record's hash and this record's JSON.
    pub hash: String,
    #[serde(flatten)]
    pub fields: DecisionFields,
    /// The decision exactly as it was appended.
    #[serde(skip)]
    pub json: String,
}

/// A decision's `timestamp` (RFC 3339) as the `ts` column: microseconds since the epoch, UTC.
pub fn timestamp_micros(s: &str) -> std::result::Result<i64, String> {
    let t = DateTime::parse_from_rfc3339(s).map_err(|e| format!("timestamp {s:?}: {e}"))?;
    Ok(t.with_timezone(&Utc).timestamp_micros())
}

/// Microseconds since the epoch to a date-time (saturating at chrono's range).
pub fn micros_to_time(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decision(denied: bool) -> String {
        let reason = if denied {
            r#"{"code":"DENY_NO_MATCHING_RULE","message":"no rule matched"}"#
        } else {
            "null"
        };
        format!(
            r#"{{"decision_id":"d-1","timestamp":"2026-02-26T10:11:12.123456+00:00","correlation_id":"c-1","tenant_id":"t","capability_id":"cap.x","matched_rule_id":"NO_MATCH","env":"dev","data_label":"PUBLIC","tenant_risk":"low","qos_class":"P1","denied":{denied},"deny_reason_if_denied":{reason},"selected_worker_species_id":null,"artifact_hash":null,"dry_run":false}}"#
        )
    }

    #[test]
    fn extracts_columns_and_keeps_bytes() {
        let json = decision(true);
        let rec = NewRecord::from_json(json.clone()).unwrap();
        assert_eq!(rec.json, json);
        assert_eq!(rec.fields.ts_micros, 1_772_100_672_123_456);
        assert_eq!(
            rec.fields.deny_code.as_deref(),
            Some("DENY_NO_MATCHING_RULE")
        );
        assert!(rec.fields.search_text().contains("no rule matched"));
    }

    #[test]
    fn rejects_inconsistent_or_malformed_input() {
        let bad = decision(false).replace(r#""denied":false"#, r#""denied":true"#);
        assert!(
            matches!(NewRecord::from_json(bad), Err(LedgerError::BadRecord(m)) if m.contains("deny_reason_if_denied"))
        );
        let no_ts = decision(false).replace("2026-02-26T10:11:12.123456+00:00", "yesterday");
        assert!(
            matches!(NewRecord::from_json(no_ts), Err(LedgerError::BadRecord(m)) if m.contains("timestamp"))
        );
        let missing = decision(false).replace(r#""tenant_id":"t","#, "");
        assert!(
            matches!(NewRecord::from_json(missing), Err(LedgerError::BadRecord(m)) if m.contains("tenant_id"))
        );
        let pretty = decision(false).replace(',', ",\n");
        assert!(NewRecord::from_json(pretty).is_err());
    }

    #[test]
    fn word_characters_are_letters_digits_and_the_joiners() {
        assert!("-._".chars().all(is_joiner));
        for c in ['a', 'Z', '7', 'é', 'Ж', '字', '٣'] {
            assert!(is_word_char(c), "{c}");
        }
        for c in [' ', ':', '"', '*', '/', '\u{2014}', '\u{3000}'] {
            assert!(!is_word_char(c), "{c:?}");
        }
        let words: Vec<&str> = search_words("cap.pay.invoice refused. «Müller» _x_ a:b").collect();
        assert_eq!(
            words,
            ["cap.pay.invoice", "refused", "Müller", "x", "a", "b"]
        );
    }

    #[test]
    fn from_parts_takes_the_callers_fields_and_checks_them() {
        let json = decision(true);
        let fields = DecisionFields::from_json(&json).unwrap();
        let rec = NewRecord::from_parts(fields.clone(), json.clone()).unwrap();
        assert_eq!(rec, NewRecord::from_json(json.clone()).unwrap());

        let mut contradicts = fields.clone();
        contradicts.deny_code = None;
        assert!(
            matches!(NewRecord::from_parts(contradicts, json.clone()), Err(LedgerError::BadRecord(m)) if m.contains("deny_reason_if_denied"))
        );
        let mut no_id = fields.clone();
        no_id.decision_id = " ".into();
        assert!(NewRecord::from_parts(no_id, json.clone()).is_err());
        assert!(NewRecord::from_parts(fields, json.replace(',', ",\r")).is_err());
    }
}
