//! The in-process event bus: decisions, health transitions, registry/rules reloads and alerts.
//!
//! A tokio broadcast channel with a bounded buffer: publishing never waits, so a slow subscriber
//! can never slow routing down. A subscriber that falls more than the buffer behind gets
//! `RecvError::Lagged` and is told so (the SSE layer sends a `lagged` event and closes).
//!
//! [`HallEvent`] is a message on this bus; [`HallEventKind`] names the few kinds the hall also
//! stores in the ledger (a stored one is a `ledger::StoredHallEvent`).

use crate::alerts::Alert;
use crate::health::Transition;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::sync::Arc;
use tokio::sync::broadcast;

/// The kinds of event the hall also keeps in its operational record (the ledger's `hall_events`
/// table, `GET /v1/hall-events`): enrollments, health transitions and reloads. Decisions are in
/// the decision log, alerts in their own table, and heartbeats are not stored (docs/hall.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum HallEventKind {
    Enrollment,
    HealthTransition,
    RegistryChange,
    RulesChange,
}

impl HallEventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            HallEventKind::Enrollment => "enrollment",
            HallEventKind::HealthTransition => "health_transition",
            HallEventKind::RegistryChange => "registry_change",
            HallEventKind::RulesChange => "rules_change",
        }
    }
}

/// Events buffered per subscriber before it is considered lagging.
pub const EVENT_BUFFER: usize = 1024;

/// Summary of a recorded decision (the full record is one `GET /v1/decisions/{id}` away).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct DecisionEvent {
    pub seq: u64,
    pub hash: String,
    pub recorded_at: String,
    pub decision_id: String,
    pub correlation_id: String,
    pub tenant_id: String,
    pub capability_id: String,
    #[schemars(with = "wcp::Env")]
    pub env: String,
    #[schemars(with = "wcp::DataLabel")]
    pub data_label: String,
    pub denied: bool,
    pub deny_code: Option<String>,
    pub matched_rule_id: String,
    pub selected_worker_species_id: Option<String>,
    pub dry_run: bool,
}

/// Which live source was (re)loaded.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, PartialOrd, Ord, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Registry,
    Rules,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct RegistryEvent {
    pub source: Source,
    pub ok: bool,
    pub workers: usize,
    pub rules: usize,
    pub at: DateTime<Utc>,
    pub message: String,
}

#[derive(Debug, Clone)]
pub enum HallEvent {
    Decision(Arc<DecisionEvent>),
    Health(Transition),
    Registry(RegistryEvent),
    Alert(Alert),
    /// An MCP call's outcome record.
    McpCall(Arc<ledger::LinkedRecord>),
    /// A held call appeared or ended.
    Approval(Arc<crate::mcp::Approval>),
    /// An MCP server changed state or tools.
    McpServer(crate::mcp::ServerEvent),
}

impl HallEvent {
    /// The SSE `event:` name (docs/API.md).
    pub fn name(&self) -> &'static str {
        match self {
            HallEvent::Decision(_) => "decision",
            HallEvent::Health(_) => "health",
            HallEvent::Registry(_) => "registry",
            HallEvent::Alert(_) => "alert",
            HallEvent::McpCall(_) => "mcp_call",
            HallEvent::Approval(_) => "approval",
            HallEvent::McpServer(_) => "mcp_server",
        }
    }

    /// The SSE `data:` payload.
    pub fn data_json(&self) -> String {
        let result = match self {
            HallEvent::Decision(d) => serde_json::to_string(&**d),
            HallEvent::Health(t) => serde_json::to_string(t),
            HallEvent::Registry(r) => serde_json::to_string(r),
            HallEvent::Alert(a) => serde_json::to_string(a),
            HallEvent::McpCall(c) => serde_json::to_string(&**c),
            HallEvent::Approval(a) => serde_json::to_string(&**a),
            HallEvent::McpServer(e) => serde_json::to_string(e),
        };
        result.expect("event types serialize infallibly")
    }
}

#[derive(Clone)]
pub struct EventBus {
    tx: broadcast::Sender<HallEvent>,
}

impl Default for EventBus {
    fn default() -> Self {
        Self::with_capacity(EVENT_BUFFER)
    }
}

impl EventBus {
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            tx: broadcast::channel(capacity).0,
        }
    }

    /// Fire and forget: having no subscriber is normal.
    pub fn publish(&self, event: HallEvent) {
        let _ = self.tx.send(event);
    }

    /// Lets hot paths skip building an event nobody will read.
    pub fn has_subscribers(&self) -> bool {
        self.tx.receiver_count() > 0
    }

    pub fn subscribe(&self) -> broadcast::Receiver<HallEvent> {
        self.tx.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg_event() -> HallEvent {
        HallEvent::Registry(RegistryEvent {
            source: Source::Rules,
            ok: true,
            workers: 0,
            rules: 1,
            at: Utc::now(),
            message: "loaded".into(),
        })
    }

    #[tokio::test]
    async fn slow_subscriber_lags_without_blocking_the_publisher() {
        let bus = EventBus::with_capacity(4);
        let mut rx = bus.subscribe();
        for _ in 0..10 {
            bus.publish(reg_event()); // never blocks although nobody reads
        }
        match rx.recv().await {
            Err(broadcast::error::RecvError::Lagged(n)) => assert_eq!(n, 6),
            other => panic!("expected lag, got {other:?}"),
        }
    }

    #[test]
    fn event_names_and_payloads() {
        let e = reg_event();
        assert_eq!(e.name(), "registry");
        let v: serde_json::Value = serde_json::from_str(&e.data_json()).unwrap();
        assert_eq!(v["source"], "rules");
    }
}
