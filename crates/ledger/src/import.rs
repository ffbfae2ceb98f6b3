//! Provenance of imported decisions (docs/ledger.md, "Imported decisions"). A decision that
//! `proctor decisions import` records was not made by the hall that owns the ledger, so it
//! carries an [`ImportMark`] under the key [`IMPORT_KEY`] of its JSON. The mark is part of
//! the record's bytes and so of its chain hash: removing it from a stored record breaks the
//! chain, and `verify` names that record.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{LedgerError, Result};
use crate::record::StoredDecision;

/// The decision key that holds an imported record's mark. No decision a hall makes has it.
pub const IMPORT_KEY: &str = "imported";

/// Where an imported decision came from, who imported it and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportMark {
    /// The file it was read from (`-` for standard input).
    pub source: String,
    /// The OS user who ran the import.
    pub importer: String,
    /// RFC 3339, UTC.
    pub imported_at: String,
    /// The mark the line already carried (it was imported into another ledger before): kept,
    /// never replaced, so a line cannot pass off an earlier import as this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<Value>,
}

/// `json` (one RouteDecision object) with `mark` added as its last key, [`IMPORT_KEY`]. The
/// decision's own bytes stay as given, up to its closing brace. A line that carries a mark
/// already (imported before) is rewritten with that mark moved into `mark.previous`.
pub fn mark_imported(json: &str, mark: &ImportMark) -> Result<String> {
    let mut decision: Map<String, Value> = serde_json::from_str(json)
        .map_err(|e| LedgerError::BadRecord(format!("not a JSON object: {e}")))?;
    let mut mark = mark.clone();
    mark.previous = decision.remove(IMPORT_KEY);
    if mark.previous.is_some() || decision.is_empty() {
        let mark = serde_json::to_value(&mark).expect("an import mark serializes");
        decision.insert(IMPORT_KEY.to_string(), mark);
        return Ok(serde_json::to_string(&decision).expect("a JSON object serializes"));
    }
    let body = json
        .trim()
        .strip_suffix('}')
        .expect("a parsed object ends with '}'");
    let mark = serde_json::to_string(&mark).expect("an import mark serializes");
    Ok(format!("{},\"{IMPORT_KEY}\":{mark}}}", body.trim_end()))
}

impl StoredDecision {
    /// The record's import mark; `None` for a decision the hall made (or one whose mark is not
    /// readable, which a stored record cannot have: the mark was written by [`mark_imported`]).
    pub fn import_mark(&self) -> Option<ImportMark> {
        let decision: Map<String, Value> = serde_json::from_str(&self.json).ok()?;
        serde_json::from_value(decision.get(IMPORT_KEY)?.clone()).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mark(source: &str) -> ImportMark {
        ImportMark {
            source: source.into(),
            importer: "alice (uid 1000)".into(),
            imported_at: "2026-12-06T18:00:00Z".into(),
            previous: None,
        }
    }

    #[test]
    fn the_mark_is_added_last_and_the_decision_keeps_its_bytes() {
        let marked = mark_imported(" {\"b\": 1, \"a\": [2] }\n", &mark("x.jsonl")).unwrap();
        assert!(
            marked.starts_with(r#"{"b": 1, "a": [2],"imported":{"source":"x.jsonl""#),
            "{marked}"
        );
        let value: Value = serde_json::from_str(&marked).unwrap();
        assert_eq!(value["imported"]["importer"], "alice (uid 1000)");
        assert!(value["imported"].get("previous").is_none());
    }

    #[test]
    fn an_earlier_mark_is_kept_as_previous_not_replaced() {
        let forged = r#"{"a": 1, "imported": {"source": "the hall itself"}}"#;
        let marked = mark_imported(forged, &mark("y.jsonl")).unwrap();
        let value: Value = serde_json::from_str(&marked).unwrap();
        assert_eq!(value["imported"]["source"], "y.jsonl");
        assert_eq!(value["imported"]["previous"]["source"], "the hall itself");
        assert!(mark_imported("[1]", &mark("z")).is_err());
    }
}
