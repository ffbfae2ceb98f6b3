//! Decisions across halls: filtered keyset pages (newest first), one decision with its linked
//! records, and traces.

use super::{QueryError, Reader, Result};
use chrono::{DateTime, TimeDelta, Utc};
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

/// The local explorer's filters ([`ledger::Filter`]) plus the hall that recorded the decision.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DecisionFilter {
    pub hall_id: Option<String>,
    pub filter: ledger::Filter,
}

/// A decision as stored centrally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CentralDecision {
    pub hall_id: String,
    pub seq: i64,
    /// Hex SHA-256 chain hash.
    pub hash: String,
    pub ts: DateTime<Utc>,
    /// The decision's exact JSON, as the hall chained it.
    pub body: String,
}

/// A page of decisions and the cursor of the next (older) one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub records: Vec<CentralDecision>,
    pub next_cursor: Option<String>,
}

/// A linked record (MCP call outcome, approval verdict) as stored centrally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CentralLinked {
    pub hall_id: String,
    pub seq: i64,
    /// Hex SHA-256 chain hash.
    pub hash: String,
    /// The chained JSON: the record without `seq` and `hash`.
    pub json: String,
}

/// A hall event as stored centrally.
#[derive(Debug, Clone, PartialEq)]
pub struct CentralEvent {
    pub hall_id: String,
    pub id: i64,
    pub at: DateTime<Utc>,
    pub kind: String,
    pub worker_id: Option<String>,
    pub correlation_id: Option<String>,
    pub details: serde_json::Value,
}

/// Everything under one correlation id, from every hall, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct Trace {
    pub decisions: Vec<CentralDecision>,
    pub linked: Vec<CentralLinked>,
    /// Health transitions in the trace's halls from [`TRACE_CONTEXT`] before its first decision
    /// to as long after its last. (The central store has no registry, so unlike a hall's trace
    /// these are not narrowed to the workers the decisions considered.)
    pub health_transitions: Vec<CentralEvent>,
}

/// How far around a trace's decisions health transitions count as part of the incident (as a
/// hall's own trace).
pub const TRACE_CONTEXT: TimeDelta = TimeDelta::minutes(5);
/// The most rows of each kind a trace returns: a correlation id is one incident, not a log.
const TRACE_LIMIT: i64 = 10_000;

const CURSOR_PREFIX: &str = "f1.";
const COLUMNS: &str = "hall_id, seq, hash, ts, body";

/// A `WHERE` clause and its parameters, built one condition at a time.
#[derive(Default)]
pub(super) struct Conditions {
    pub(super) sql: Vec<String>,
    pub(super) params: Vec<Box<dyn ToSql + Sync + Send>>,
}

impl Conditions {
    /// `template` with `$` standing for the next parameter.
    fn push<T: ToSql + Sync + Send + 'static>(&mut self, template: &str, value: T) {
        self.params.push(Box::new(value));
        let n = self.params.len();
        self.sql.push(template.replace('$', &format!("${n}")));
    }

    fn equal(&mut self, column: &str, value: &Option<String>) {
        if let Some(v) = value {
            self.push(&format!("{column} = $"), v.clone());
        }
    }

    pub(super) fn where_clause(&self) -> String {
        if self.sql.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.sql.join(" AND "))
        }
    }

    pub(super) fn params(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.params
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect()
    }
}

/// The conditions of a filter (every set field must match, as in the local ledger).
pub(super) fn conditions(f: &DecisionFilter) -> Conditions {
    let mut c = Conditions::default();
    let l = &f.filter;
    c.equal("hall_id", &f.hall_id);
    if let Some(since) = l.since {
        c.push("ts >= $", since);
    }
    if let Some(until) = l.until {
        c.push("ts < $", until);
    }
    c.equal("tenant_id", &l.tenant_id);
    c.equal("capability_id", &l.capability_id);
    c.equal("worker", &l.worker);
    c.equal("matched_rule_id", &l.rule_id);
    c.equal("correlation_id", &l.correlation_id);
    c.equal("env", &l.env);
    c.equal("data_label", &l.data_label);
    if let Some(code) = &l.deny_code {
        // `denied AND`: what lets the partial index on (deny_code, ts) WHERE denied serve it.
        c.push("denied AND deny_code = $", code.clone());
    }
    if let Some(denied) = l.denied {
        c.push("denied = $", denied);
    }
    if let Some(dry_run) = l.dry_run {
        c.push("dry_run = $", dry_run);
    }
    for word in l.text.as_deref().unwrap_or("").split_whitespace() {
        // The local ledger's searchable columns; here a case-insensitive substring match
        // (no full-text index centrally: docs/fleet.md says what that costs).
        c.push(
            "concat_ws(' ', decision_id, correlation_id, tenant_id, capability_id, \
             matched_rule_id, worker, deny_code, deny_message) ILIKE $",
            format!("%{}%", like_escape(word)),
        );
    }
    c
}

/// `word` as a literal inside an ILIKE pattern (the default escape character is `\`).
fn like_escape(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    for ch in word.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

/// Where a page ends: the last row shown, in the page order (ts, hall_id, seq) descending.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Position {
    ts_micros: i64,
    seq: i64,
    hall_id: String,
}

/// Opaque to callers: `f1.<ts µs>.<seq>.<hall id>`, numbers and the id's bytes in hex.
fn encode_cursor(p: &Position) -> String {
    format!(
        "{CURSOR_PREFIX}{:016x}.{:016x}.{}",
        p.ts_micros,
        p.seq,
        hex::encode(&p.hall_id)
    )
}

fn decode_cursor(cursor: &str) -> Result<Position> {
    let bad = || {
        QueryError::BadQuery(format!(
            "cursor {cursor:?} is not a next_cursor this fleet view gave"
        ))
    };
    let rest = cursor.strip_prefix(CURSOR_PREFIX).ok_or_else(bad)?;
    let mut parts = rest.split('.');
    let (Some(ts), Some(seq), Some(hall), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    let number = |h: &str| {
        (h.len() == 16)
            .then(|| u64::from_str_radix(h, 16).ok())
            .flatten()
            .map(|n| n as i64)
    };
    let hall_id = hex::decode(hall)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .filter(|h| !h.is_empty())
        .ok_or_else(bad)?;
    Ok(Position {
        ts_micros: number(ts).ok_or_else(bad)?,
        seq: number(seq).filter(|s| *s > 0).ok_or_else(bad)?,
        hall_id,
    })
}

fn decision(row: &Row) -> CentralDecision {
    CentralDecision {
        hall_id: row.get("hall_id"),
        seq: row.get("seq"),
        hash: hex::encode(row.get::<_, &[u8]>("hash")),
        ts: row.get("ts"),
        body: row.get("body"),
    }
}

fn linked(row: &Row) -> CentralLinked {
    CentralLinked {
        hall_id: row.get("hall_id"),
        seq: row.get("seq"),
        hash: hex::encode(row.get::<_, &[u8]>("hash")),
        json: row.get("json"),
    }
}

fn event(row: &Row) -> CentralEvent {
    CentralEvent {
        hall_id: row.get("hall_id"),
        id: row.get("id"),
        at: row.get("ts"),
        kind: row.get("kind"),
        worker_id: row.get("worker_id"),
        correlation_id: row.get("correlation_id"),
        details: row.get("details"),
    }
}

impl Reader {
    /// One page, newest first across halls (by time, then hall, then seq: a total order, so
    /// keyset pages never skip or repeat a row). `limit` is 1..=[`ledger::MAX_PAGE`].
    pub async fn decisions(
        &self,
        filter: &DecisionFilter,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page> {
        if !(1..=ledger::MAX_PAGE).contains(&limit) {
            return Err(QueryError::BadQuery(format!(
                "limit must be between 1 and {}, got {limit}",
                ledger::MAX_PAGE
            )));
        }
        let mut c = conditions(filter);
        if let Some(after) = cursor.map(decode_cursor).transpose()? {
            let ts = ledger::micros_to_time(after.ts_micros);
            // `ts <= $` alone lets the (ts DESC) indexes bound the scan; the row comparison
            // then drops what the previous page already showed.
            c.push("ts <= $", ts);
            c.params.push(Box::new(ts));
            c.params.push(Box::new(after.hall_id));
            c.params.push(Box::new(after.seq));
            let n = c.params.len();
            c.sql.push(format!(
                "(ts, hall_id, seq) < (${}, ${}, ${n})",
                n - 2,
                n - 1
            ));
        }
        let sql = format!(
            "SELECT {COLUMNS} FROM decisions {} ORDER BY ts DESC, hall_id DESC, seq DESC LIMIT {}",
            c.where_clause(),
            limit + 1
        );
        let client = self.client().await?;
        let rows = client.query(&sql, &c.params()).await?;
        let mut records: Vec<CentralDecision> = rows.iter().map(decision).collect();
        let next_cursor = if records.len() > limit {
            records.truncate(limit);
            records.last().map(|r| {
                encode_cursor(&Position {
                    ts_micros: r.ts.timestamp_micros(),
                    seq: r.seq,
                    hall_id: r.hall_id.clone(),
                })
            })
        } else {
            None
        };
        Ok(Page {
            records,
            next_cursor,
        })
    }

    /// The decision with this id (the newest, should two halls share an id) and its linked
    /// records, oldest first.
    pub async fn decision(
        &self,
        decision_id: &str,
    ) -> Result<Option<(CentralDecision, Vec<CentralLinked>)>> {
        let client = self.client().await?;
        let sql = format!(
            "SELECT {COLUMNS} FROM decisions WHERE decision_id = $1 \
             ORDER BY ts DESC, hall_id DESC LIMIT 1"
        );
        let Some(row) = client.query_opt(&sql, &[&decision_id]).await? else {
            return Ok(None);
        };
        let found = decision(&row);
        let rows = client
            .query(
                "SELECT hall_id, seq, hash, json FROM linked_records \
                 WHERE decision_id = $1 AND hall_id = $2 ORDER BY seq",
                &[&decision_id, &found.hall_id],
            )
            .await?;
        Ok(Some((found, rows.iter().map(linked).collect())))
    }

    /// Every decision and linked record under `correlation_id`, whichever hall recorded it,
    /// with the health transitions around them.
    pub async fn trace(&self, correlation_id: &str) -> Result<Trace> {
        let client = self.client().await?;
        let sql = format!(
            "SELECT {COLUMNS} FROM decisions WHERE correlation_id = $1 \
             ORDER BY ts, hall_id, seq LIMIT {TRACE_LIMIT}"
        );
        let decisions: Vec<CentralDecision> = client
            .query(&sql, &[&correlation_id])
            .await?
            .iter()
            .map(decision)
            .collect();
        let linked = client
            .query(
                &format!(
                    "SELECT hall_id, seq, hash, json FROM linked_records \
                     WHERE correlation_id = $1 ORDER BY ts, hall_id, seq LIMIT {TRACE_LIMIT}"
                ),
                &[&correlation_id],
            )
            .await?
            .iter()
            .map(linked)
            .collect();
        let health_transitions = match (decisions.first(), decisions.last()) {
            (Some(first), Some(last)) => {
                let mut halls: Vec<&str> = decisions.iter().map(|d| d.hall_id.as_str()).collect();
                halls.sort_unstable();
                halls.dedup();
                client
                    .query(
                        &format!(
                            "SELECT hall_id, id, ts, kind, worker_id, correlation_id, details \
                             FROM hall_events WHERE kind = 'health_transition' \
                             AND hall_id = ANY($1) AND ts >= $2 AND ts <= $3 \
                             ORDER BY ts, hall_id, id LIMIT {TRACE_LIMIT}"
                        ),
                        &[
                            &halls,
                            &(first.ts - TRACE_CONTEXT),
                            &(last.ts + TRACE_CONTEXT),
                        ],
                    )
                    .await?
                    .iter()
                    .map(event)
                    .collect()
            }
            _ => Vec::new(),
        };
        Ok(Trace {
            decisions,
            linked,
            health_transitions,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let p = Position {
            ts_micros: 1_772_100_672_123_456,
            seq: 42,
            hall_id: "hall.b/ü".into(),
        };
        assert_eq!(decode_cursor(&encode_cursor(&p)).unwrap(), p);
        for bad in [
            "",
            "v1.000000000000002a",
            "f1.",
            "f1.0000000000000001.000000000000002a",
            "f1.0000000000000001.0000000000000000.61",
            "f1.0000000000000001.000000000000002a.zz",
            "f1.0000000000000001.000000000000002a.",
            "f1.1.2.61",
            "f1.0000000000000001.000000000000002a.61.62",
        ] {
            assert!(
                matches!(decode_cursor(bad), Err(QueryError::BadQuery(m)) if m.contains("cursor")),
                "{bad}"
            );
        }
    }

    #[test]
    fn every_set_filter_is_one_condition_with_its_own_parameter() {
        let f = DecisionFilter {
            hall_id: Some("h1".into()),
            filter: ledger::Filter {
                tenant_id: Some("t".into()),
                deny_code: Some("DENY_X".into()),
                text: Some("a b".into()),
                ..Default::default()
            },
        };
        let c = conditions(&f);
        assert_eq!(
            c.where_clause(),
            "WHERE hall_id = $1 AND tenant_id = $2 AND denied AND deny_code = $3 AND \
             concat_ws(' ', decision_id, correlation_id, tenant_id, capability_id, \
             matched_rule_id, worker, deny_code, deny_message) ILIKE $4 AND \
             concat_ws(' ', decision_id, correlation_id, tenant_id, capability_id, \
             matched_rule_id, worker, deny_code, deny_message) ILIKE $5"
        );
        assert_eq!(c.params.len(), 5);
        assert_eq!(conditions(&DecisionFilter::default()).where_clause(), "");
    }

    #[test]
    fn like_patterns_match_wildcards_literally() {
        assert_eq!(like_escape(r"50%_a\b"), r"50\%\_a\\b");
    }
}
