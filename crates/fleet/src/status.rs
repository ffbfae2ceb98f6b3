//! What a hall says about its shipping (`GET /v1/fleet`, the metrics, the UI).

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::cursor::Cursor;

/// Records not shipped yet, per stream.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Backlog {
    pub decisions: i64,
    pub linked: i64,
    pub events: i64,
    pub alerts: i64,
    /// Retention checkpoints of both chains.
    pub retention: i64,
    /// All of the above.
    pub total: i64,
}

impl Backlog {
    /// What lies between `cursor` and the ledger's `heads`.
    pub fn between(cursor: &Cursor, heads: &ledger::OutboxHeads) -> Self {
        let gap = |head: i64, at: i64| (head - at).max(0);
        let mut b = Backlog {
            decisions: gap(heads.decisions, cursor.decisions),
            linked: gap(heads.linked, cursor.linked),
            events: gap(heads.events, cursor.events),
            alerts: gap(heads.alerts, cursor.alerts),
            retention: gap(heads.retention_decisions, cursor.retention_decisions)
                + gap(heads.retention_linked, cursor.retention_linked),
            total: 0,
        };
        b.total = b.decisions + b.linked + b.events + b.alerts + b.retention;
        b
    }
}

/// A hall's shipping as of now.
#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct FleetStatus {
    /// `[fleet]` is set in config.toml. When false, every other field is empty.
    pub configured: bool,
    pub hall_id: Option<String>,
    /// The central store, without its password.
    pub database: Option<String>,
    /// The last attempt to reach the central store succeeded.
    pub connected: bool,
    /// The last time the central store acknowledged something from this hall.
    pub last_contact: Option<DateTime<Utc>>,
    pub backlog: Backlog,
    /// Records shipped since the hall started (all streams).
    pub shipped: u64,
    /// Why the last attempt failed (cleared by the next success); never holds the password.
    pub last_error: Option<String>,
}
