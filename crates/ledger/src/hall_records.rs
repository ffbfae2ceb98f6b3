//! Records the hall keeps beside decisions, in the same file: alerts a person should see and
//! acknowledge, and hall events (enrollments, health transitions, registry and rules changes;
//! the hall does not store heartbeats, only the transitions they cause) so a trace can show
//! what the hall saw around an incident, and each worker's last heartbeat (one row per worker,
//! overwritten) so a restarted hall knows when it last heard from it. These are not
//! hash-chained: they are operational context, not evidence.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{LedgerError, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "info" => Ok(Self::Info),
            "warning" => Ok(Self::Warning),
            "critical" => Ok(Self::Critical),
            other => Err(LedgerError::BadQuery(format!(
                "unknown severity {other:?} (expected info, warning or critical)"
            ))),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewAlert {
    pub created_at: DateTime<Utc>,
    pub severity: Severity,
    /// A stable code, e.g. `WORKER_UNHEALTHY` or `LEDGER_WRITE_FAILED`.
    pub code: String,
    pub message: String,
    pub worker_id: Option<String>,
    pub correlation_id: Option<String>,
    pub details: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub id: i64,
    #[serde(flatten)]
    pub alert: NewAlert,
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// Who acknowledged it and why (schema 8; `None` on older acknowledgements).
    pub acked_by: Option<String>,
    pub ack_note: Option<String>,
    /// When its condition ended (the worker recovered, the file loads again...).
    pub resolved_at: Option<DateTime<Utc>>,
}

/// An acknowledgement: when, by whom (as the caller names itself), with an optional note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertAck {
    pub at: DateTime<Utc>,
    pub by: String,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertFilter {
    /// Alerts at or above this severity.
    pub min_severity: Option<Severity>,
    /// Only open alerts: neither acknowledged nor resolved.
    pub open_only: bool,
    /// Newest first, at most this many (default 100).
    pub limit: Option<usize>,
}

/// A row of the hall's operational record (the `hall_events` table), before it is stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewHallEvent {
    pub at: DateTime<Utc>,
    /// e.g. `enrollment`, `health_transition`, `registry_change` (the hall's `HallEventKind`).
    pub kind: String,
    pub worker_id: Option<String>,
    pub correlation_id: Option<String>,
    pub details: serde_json::Value,
}

/// A stored hall event, with its row id (serialized flat: `{"id", "at", "kind", ...}`). Not
/// to be confused with the hall's `HallEvent`, a message on its live bus.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredHallEvent {
    pub id: i64,
    #[serde(flatten)]
    pub event: NewHallEvent,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    pub worker_id: Option<String>,
    pub correlation_id: Option<String>,
    pub kind: Option<String>,
    /// At or after.
    pub since: Option<DateTime<Utc>>,
    /// Strictly before.
    pub until: Option<DateTime<Utc>>,
    /// Oldest first, at most this many (default 1000).
    pub limit: Option<usize>,
}

/// A worker's last heartbeat, as the hall keeps it across restarts (`worker_heartbeats`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LastHeartbeat {
    pub worker_id: String,
    pub at: DateTime<Utc>,
    /// What the worker reported (`ok`, `degraded`, `offline`), as the hall spells it.
    pub reported: Option<String>,
    pub latency_ms: Option<f64>,
}
