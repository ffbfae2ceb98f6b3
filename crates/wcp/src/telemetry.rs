//! Telemetry envelopes (SPEC.md §1.12): builders with the reference's keys and order.
//!
//! Request ids are sanitized (control characters removed) because telemetry feeds logs;
//! rule and species ids are copied as they are, like the reference does.

use crate::model::{DataLabel, Env, QosClass, TelemetryEvent};
use serde_json::Value;
use std::borrow::Cow;

/// Removes U+0000..U+001F and U+007F (log-injection defence).
pub fn sanitize_id(s: &str) -> Cow<'_, str> {
    let bad = |c: char| c <= '\u{1f}' || c == '\u{7f}';
    if s.contains(bad) {
        Cow::Owned(s.chars().filter(|&c| !bad(c)).collect())
    } else {
        Cow::Borrowed(s)
    }
}

/// The sanitized request ids, computed once per decision.
pub struct Ids {
    pub correlation_id: String,
    pub tenant_id: String,
    pub capability_id: String,
}

impl Ids {
    pub fn new(correlation_id: &str, tenant_id: &str, capability_id: &str) -> Self {
        Self {
            correlation_id: sanitize_id(correlation_id).into_owned(),
            tenant_id: sanitize_id(tenant_id).into_owned(),
            capability_id: sanitize_id(capability_id).into_owned(),
        }
    }
}

/// Builds one event: `event_id`, then (optionally) `timestamp`, then the given keys.
struct Event(TelemetryEvent);

impl Event {
    fn new(event_id: &str, timestamp: Option<&str>) -> Self {
        let mut m = TelemetryEvent::new();
        m.insert("event_id".into(), Value::String(event_id.into()));
        if let Some(t) = timestamp {
            m.insert("timestamp".into(), Value::String(t.into()));
        }
        Self(m)
    }

    fn s(mut self, key: &str, value: &str) -> Self {
        self.0.insert(key.into(), Value::String(value.into()));
        self
    }

    fn v(mut self, key: &str, value: Value) -> Self {
        self.0.insert(key.into(), value);
        self
    }
}

/// `evt.os.task.denied`: the sole event of every deny.
pub fn task_denied(
    ts: &str,
    ids: &Ids,
    code: &str,
    message: &str,
    matched_rule_id: &str,
) -> TelemetryEvent {
    Event::new("evt.os.task.denied", Some(ts))
        .s("correlation_id", &ids.correlation_id)
        .s("tenant_id", &ids.tenant_id)
        .s("capability_id", &ids.capability_id)
        .s("deny_code", code)
        .s("deny_message", message)
        .s("matched_rule_id", matched_rule_id)
        .0
}

/// `evt.gov.blast_scored` with the effective score.
pub fn blast_scored(
    ts: &str,
    ids: &Ids,
    env: Env,
    label: DataLabel,
    policy_version: &str,
    score: i64,
) -> TelemetryEvent {
    Event::new("evt.gov.blast_scored", Some(ts))
        .s("correlation_id", &ids.correlation_id)
        .s("tenant_id", &ids.tenant_id)
        .s("env", env.as_str())
        .s("data_label", label.as_str())
        .s("policy_version", policy_version)
        .v("blast_score", Value::from(score))
        .s("decision", "ALLOW")
        .0
}

/// `evt.gov.privilege_envelope.checked`.
pub fn privilege_checked(
    ts: &str,
    ids: &Ids,
    env: Env,
    label: DataLabel,
    policy_version: &str,
    species: &str,
) -> TelemetryEvent {
    Event::new("evt.gov.privilege_envelope.checked", Some(ts))
        .s("correlation_id", &ids.correlation_id)
        .s("tenant_id", &ids.tenant_id)
        .s("env", env.as_str())
        .s("data_label", label.as_str())
        .s("policy_version", policy_version)
        .s("worker_species_id", species)
        .s("decision", "ALLOW")
        .0
}

/// `evt.os.worker.attestation_skipped`: no timestamp and no tenant, as in the reference.
pub fn attestation_skipped(ids: &Ids, species: &str, env: Env) -> TelemetryEvent {
    Event::new("evt.os.worker.attestation_skipped", None)
        .s("correlation_id", &ids.correlation_id)
        .s("worker_species_id", species)
        .s("env", env.as_str())
        .s(
            "reason",
            "require_worker_attestation=False or hall_config=None",
        )
        .s("severity", "warn")
        .0
}

/// The routed-task facts shared by the three mandatory allow events.
pub struct Routed<'a> {
    pub ts: &'a str,
    pub ids: &'a Ids,
    pub task_id: &'a str,
    pub matched_rule_id: &'a str,
    pub species: &'a str,
    pub policy_version: &'a str,
    pub qos_class: QosClass,
    pub gated: bool,
}

/// `evt.os.task.routed`, `evt.os.worker.selected`, `evt.os.policy.gated`, in that order.
pub fn mandatory(r: &Routed<'_>) -> [TelemetryEvent; 3] {
    let ids = r.ids;
    [
        Event::new("evt.os.task.routed", Some(r.ts))
            .s("correlation_id", &ids.correlation_id)
            .s("tenant_id", &ids.tenant_id)
            .s("task_id", r.task_id)
            .s("capability_id", &ids.capability_id)
            .s("matched_rule_id", r.matched_rule_id)
            .s("selected_worker_species_id", r.species)
            .s("policy_version", r.policy_version)
            .s("qos_class", r.qos_class.as_str())
            .0,
        Event::new("evt.os.worker.selected", Some(r.ts))
            .s("correlation_id", &ids.correlation_id)
            .s("tenant_id", &ids.tenant_id)
            .s("capability_id", &ids.capability_id)
            .s("selected_worker_species_id", r.species)
            .s("reason", "first_available_candidate")
            .0,
        Event::new("evt.os.policy.gated", Some(r.ts))
            .s("correlation_id", &ids.correlation_id)
            .s("tenant_id", &ids.tenant_id)
            .s("capability_id", &ids.capability_id)
            .s("decision", "ALLOW")
            .s("policy_version", r.policy_version)
            .s(
                "reason",
                if r.gated {
                    "policy_gate_allow"
                } else {
                    "no_gate_required"
                },
            )
            .0,
    ]
}

/// Dry-run marks every event with a trailing `"dry_run": true`.
pub fn mark_dry_run(events: &mut [TelemetryEvent]) {
    for e in events {
        e.insert("dry_run".into(), Value::Bool(true));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitizes_control_characters_only() {
        assert_eq!(sanitize_id("a\nb\u{7f}c\u{0}é\u{80}"), "abcé\u{80}");
        assert!(matches!(sanitize_id("clean"), Cow::Borrowed(_)));
    }
}
