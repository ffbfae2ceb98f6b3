//! The ledger as an outbox (docs/fleet.md): what a fleet shipper reads to copy a hall's ledger
//! to the central store. Everything is read on the backend's own reader connection, after a
//! cursor, in the order it was written, with the chain fields and the exact chained bytes, so
//! the copy can be re-verified centrally. Open the backend read-only for this: the shipper
//! then never takes the writer's lock, and a route never waits for it.

use rusqlite::{params, Connection};

use super::hall::severity_from_rank;
use super::SqliteBackend;
use crate::chain::Chain;
use crate::error::{LedgerError, Result};
use crate::hall_records::Severity;
use crate::record::DecisionFields;

/// A decision record as the chain holds it: its filter columns, chain position and exact JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxDecision {
    pub seq: i64,
    pub fields: DecisionFields,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
    /// The exact bytes `hash` covers (decompressed).
    pub json: String,
}

/// A linked record (MCP call outcome, approval verdict) with its chain fields.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxLinked {
    pub seq: i64,
    pub ts: i64,
    pub kind: String,
    pub decision_id: String,
    pub decision_seq: i64,
    pub correlation_id: String,
    pub server: Option<String>,
    pub tool: Option<String>,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
    pub json: String,
}

/// A hall event row (not chained).
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxEvent {
    pub id: i64,
    pub ts: i64,
    pub kind: String,
    pub worker_id: Option<String>,
    pub correlation_id: Option<String>,
    /// JSON text.
    pub details: String,
}

/// An alert row (not chained) as it is now: shipped again whenever it changes.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxAlert {
    pub id: i64,
    /// The alert's last change (schema 9's `change_seq`): the alerts stream's position.
    pub change_seq: i64,
    pub created_at: i64,
    pub severity: Severity,
    pub code: String,
    pub message: String,
    pub worker_id: Option<String>,
    pub correlation_id: Option<String>,
    pub acknowledged_at: Option<i64>,
    pub acked_by: Option<String>,
    pub ack_note: Option<String>,
    pub resolved_at: Option<i64>,
    /// JSON text.
    pub details: String,
}

/// A retention checkpoint of either chain (the `checkpoints` / `linked_checkpoints` rows).
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxRetention {
    pub id: i64,
    pub created_at: i64,
    /// Only decision checkpoints record the cutoff they pruned before.
    pub cutoff_ts: Option<i64>,
    pub through_seq: i64,
    pub through_hash: Vec<u8>,
    pub pruned_total: i64,
    pub hash: Vec<u8>,
}

/// The newest position of every stream, for the backlog.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxHeads {
    pub decisions: i64,
    pub linked: i64,
    pub events: i64,
    /// The last alert change number (not an alert id).
    pub alerts: i64,
    pub retention_decisions: i64,
    pub retention_linked: i64,
}

impl SqliteBackend {
    /// The decision chain's genesis: the `prev_hash` of seq 1.
    pub fn outbox_genesis(&self) -> Result<Vec<u8>> {
        self.outbox_read(|c| {
            c.query_row("SELECT genesis FROM chain_state WHERE id = 1", [], |r| {
                r.get(0)
            })
        })
    }

    pub fn outbox_heads(&self) -> Result<OutboxHeads> {
        self.outbox_read(|c| {
            c.query_row(
                "SELECT (SELECT head_seq FROM chain_state WHERE id = 1),
                        (SELECT coalesce(max(head_seq), 0) FROM linked_chain_state),
                        (SELECT coalesce(max(id), 0) FROM hall_events),
                        (SELECT coalesce(max(seq), 0) FROM alert_changes),
                        (SELECT coalesce(max(id), 0) FROM checkpoints),
                        (SELECT coalesce(max(id), 0) FROM linked_checkpoints)",
                [],
                |r| {
                    Ok(OutboxHeads {
                        decisions: r.get(0)?,
                        linked: r.get(1)?,
                        events: r.get(2)?,
                        alerts: r.get(3)?,
                        retention_decisions: r.get(4)?,
                        retention_linked: r.get(5)?,
                    })
                },
            )
        })
    }

    /// Up to `limit` decisions after `after_seq`, oldest first. A body that does not decode is
    /// an error naming its seq (the copy would not verify).
    pub fn outbox_decisions(&self, after_seq: i64, limit: usize) -> Result<Vec<OutboxDecision>> {
        let rows = self.outbox_read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT seq, ts, decision_id, correlation_id, tenant_id, capability_id, \
                 matched_rule_id, worker, env, data_label, qos_class, denied, deny_code, \
                 deny_message, dry_run, artifact_hash, prev_hash, hash, body \
                 FROM decisions WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![after_seq, limit as i64], |r| {
                Ok((
                    OutboxDecision {
                        seq: r.get(0)?,
                        fields: DecisionFields {
                            ts_micros: r.get(1)?,
                            decision_id: r.get(2)?,
                            correlation_id: r.get(3)?,
                            tenant_id: r.get(4)?,
                            capability_id: r.get(5)?,
                            matched_rule_id: r.get(6)?,
                            worker: r.get(7)?,
                            env: r.get(8)?,
                            data_label: r.get(9)?,
                            qos_class: r.get(10)?,
                            denied: r.get(11)?,
                            deny_code: r.get(12)?,
                            deny_message: r.get(13)?,
                            dry_run: r.get(14)?,
                            artifact_hash: r.get(15)?,
                        },
                        prev_hash: r.get(16)?,
                        hash: r.get(17)?,
                        json: String::new(),
                    },
                    r.get::<_, Vec<u8>>(18)?,
                ))
            })?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })?;
        rows.into_iter()
            .map(|(mut record, body)| {
                record.json = self
                    .codec
                    .decode(&body)
                    .map_err(|detail| LedgerError::Database {
                        path: self.path.clone(),
                        detail: format!("record {}: {detail}", record.seq),
                    })?;
                Ok(record)
            })
            .collect()
    }

    pub fn outbox_linked(&self, after_seq: i64, limit: usize) -> Result<Vec<OutboxLinked>> {
        self.outbox_read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT seq, ts, kind, decision_id, decision_seq, correlation_id, server, tool, \
                 prev_hash, hash, json FROM linked_records WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![after_seq, limit as i64], |r| {
                Ok(OutboxLinked {
                    seq: r.get(0)?,
                    ts: r.get(1)?,
                    kind: r.get(2)?,
                    decision_id: r.get(3)?,
                    decision_seq: r.get(4)?,
                    correlation_id: r.get(5)?,
                    server: r.get(6)?,
                    tool: r.get(7)?,
                    prev_hash: r.get(8)?,
                    hash: r.get(9)?,
                    json: r.get(10)?,
                })
            })?;
            rows.collect()
        })
    }

    pub fn outbox_events(&self, after_id: i64, limit: usize) -> Result<Vec<OutboxEvent>> {
        self.outbox_read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, ts, kind, worker_id, correlation_id, details FROM hall_events \
                 WHERE id > ?1 ORDER BY id LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![after_id, limit as i64], |r| {
                Ok(OutboxEvent {
                    id: r.get(0)?,
                    ts: r.get(1)?,
                    kind: r.get(2)?,
                    worker_id: r.get(3)?,
                    correlation_id: r.get(4)?,
                    details: r.get(5)?,
                })
            })?;
            rows.collect()
        })
    }

    /// Up to `limit` alerts changed after change number `after_change`, in change order, each
    /// as it is now (an alert changed twice since comes once, with its newest state).
    pub fn outbox_alerts(&self, after_change: i64, limit: usize) -> Result<Vec<OutboxAlert>> {
        self.outbox_read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, change_seq, created_at, severity, code, message, worker_id, \
                 correlation_id, acknowledged_at, acked_by, ack_note, resolved_at, details \
                 FROM alerts WHERE change_seq > ?1 ORDER BY change_seq LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![after_change, limit as i64], |r| {
                Ok(OutboxAlert {
                    id: r.get(0)?,
                    change_seq: r.get(1)?,
                    created_at: r.get(2)?,
                    severity: severity_from_rank(r.get(3)?),
                    code: r.get(4)?,
                    message: r.get(5)?,
                    worker_id: r.get(6)?,
                    correlation_id: r.get(7)?,
                    acknowledged_at: r.get(8)?,
                    acked_by: r.get(9)?,
                    ack_note: r.get(10)?,
                    resolved_at: r.get(11)?,
                    details: r.get(12)?,
                })
            })?;
            rows.collect()
        })
    }

    /// Every retention checkpoint of `chain` after `after_id` (there are few: one per prune).
    pub fn outbox_retention(&self, chain: Chain, after_id: i64) -> Result<Vec<OutboxRetention>> {
        let sql = match chain {
            Chain::Decisions => {
                "SELECT id, created_at, cutoff_ts, through_seq, through_hash, pruned_total, hash \
                 FROM checkpoints WHERE id > ?1 ORDER BY id"
            }
            Chain::Linked => {
                "SELECT id, created_at, NULL, through_seq, through_hash, pruned_total, hash \
                 FROM linked_checkpoints WHERE id > ?1 ORDER BY id"
            }
        };
        self.outbox_read(|c| {
            let mut stmt = c.prepare_cached(sql)?;
            let rows = stmt.query_map(params![after_id], |r| {
                Ok(OutboxRetention {
                    id: r.get(0)?,
                    created_at: r.get(1)?,
                    cutoff_ts: r.get(2)?,
                    through_seq: r.get(3)?,
                    through_hash: r.get(4)?,
                    pruned_total: r.get(5)?,
                    hash: r.get(6)?,
                })
            })?;
            rows.collect()
        })
    }

    fn outbox_read<T>(&self, read: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T> {
        read(&self.reader()).map_err(|e| self.err(e))
    }
}
