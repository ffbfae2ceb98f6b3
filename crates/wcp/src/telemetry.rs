//! Telemetry envelopes (SPEC.md §1.12): builders with the reference's keys and order.
//!
//! Request ids are sanitized (control characters removed) because telemetry feeds logs;
//! rule and species ids are copied as they are, like the reference does.

use crate::model::{DataLabel, Env, QosClass};
use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use std::borrow::Cow;
use std::fmt;
use std::ops::Index;

/// One telemetry envelope: a JSON object whose keys keep their insertion order (the
/// reference's order, `event_id` first). Keys of built events are static strings, so building
/// an event costs no key allocations or hashing; events read from JSON keep any keys.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TelemetryEvent {
    fields: Vec<(Cow<'static, str>, Value)>,
}

static NULL: Value = Value::Null;

impl TelemetryEvent {
    fn with_capacity(n: usize) -> Self {
        Self {
            fields: Vec::with_capacity(n),
        }
    }

    fn push(&mut self, key: &'static str, value: Value) {
        self.fields.push((Cow::Borrowed(key), value));
    }

    /// The value of a key, if present.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.fields.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// `event_id`, or `""` when missing.
    pub fn event_id(&self) -> &str {
        self.get("event_id").and_then(Value::as_str).unwrap_or("")
    }

    /// Sets a key, replacing its value in place or appending it.
    pub fn insert(&mut self, key: impl Into<Cow<'static, str>>, value: Value) {
        let key = key.into();
        match self.fields.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => *v = value,
            None => self.fields.push((key, value)),
        }
    }

    /// Removes a key, keeping the order of the others.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let pos = self.fields.iter().position(|(k, _)| k == key)?;
        Some(self.fields.remove(pos).1)
    }

    /// Keys and values in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.fields.iter().map(|(k, v)| (k.as_ref(), v))
    }

    /// The event as a JSON object.
    pub fn to_json(&self) -> serde_json::Map<String, Value> {
        self.iter()
            .map(|(k, v)| (k.to_owned(), v.clone()))
            .collect()
    }
}

/// `event["key"]`: like `serde_json::Value`, a missing key reads as `null`.
impl Index<&str> for TelemetryEvent {
    type Output = Value;
    fn index(&self, key: &str) -> &Value {
        self.get(key).unwrap_or(&NULL)
    }
}

impl Serialize for TelemetryEvent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.fields.len()))?;
        for (k, v) in &self.fields {
            map.serialize_entry(k.as_ref(), v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for TelemetryEvent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EventVisitor;
        impl<'de> Visitor<'de> for EventVisitor {
            type Value = TelemetryEvent;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a telemetry event object")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut access: A,
            ) -> Result<TelemetryEvent, A::Error> {
                let mut event = TelemetryEvent::default();
                while let Some((k, v)) = access.next_entry::<String, Value>()? {
                    event.insert(k, v);
                }
                Ok(event)
            }
        }
        deserializer.deserialize_map(EventVisitor)
    }
}

/// An open object: every event has an `event_id` and a `correlation_id`; the other keys depend
/// on the event (SPEC.md §1.12), so the schema names the common ones and allows the rest.
#[cfg(feature = "schema")]
impl schemars::JsonSchema for TelemetryEvent {
    fn schema_name() -> Cow<'static, str> {
        "TelemetryEvent".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "One telemetry envelope (docs/wcp.md, \"RouteDecision\"); keys besides these depend on event_id.",
            "type": "object",
            "required": ["event_id", "correlation_id"],
            "properties": {
                "event_id": {"type": "string"},
                "timestamp": {"type": "string"},
                "correlation_id": {"type": "string"},
                "tenant_id": {"type": "string"}
            },
            "additionalProperties": true
        })
    }
}

/// Removes U+0000..U+001F and U+007F (log-injection defence).
pub fn sanitize_id(s: &str) -> Cow<'_, str> {
    let bad = |c: char| c <= '\u{1f}' || c == '\u{7f}';
    // Those characters are single bytes in UTF-8 and no other character contains such a byte
    // (continuation and lead bytes are >= 0x80), so a byte scan finds them.
    let has_bad = s
        .as_bytes()
        .iter()
        .fold(false, |acc, &b| acc | (b <= 0x1f) | (b == 0x7f));
    if has_bad {
        Cow::Owned(s.chars().filter(|&c| !bad(c)).collect())
    } else {
        Cow::Borrowed(s)
    }
}

/// The sanitized request ids, computed once per decision (borrowed from the request unless a
/// control character had to be removed).
pub struct Ids<'a> {
    pub correlation_id: Cow<'a, str>,
    pub tenant_id: Cow<'a, str>,
    pub capability_id: Cow<'a, str>,
}

impl<'a> Ids<'a> {
    pub fn new(correlation_id: &'a str, tenant_id: &'a str, capability_id: &'a str) -> Self {
        Self {
            correlation_id: sanitize_id(correlation_id),
            tenant_id: sanitize_id(tenant_id),
            capability_id: sanitize_id(capability_id),
        }
    }
}

/// Builds one event: `event_id`, then (optionally) `timestamp`, then the given keys.
struct Event(TelemetryEvent);

impl Event {
    fn new(event_id: &'static str, timestamp: Option<&str>) -> Self {
        let mut e = TelemetryEvent::with_capacity(11);
        e.push("event_id", Value::String(event_id.into()));
        if let Some(t) = timestamp {
            e.push("timestamp", Value::String(t.into()));
        }
        Self(e)
    }

    /// An event of one decision: timestamped, then its correlation and tenant ids.
    fn stamped(event_id: &'static str, ts: &str, ids: &Ids<'_>) -> Self {
        Self::new(event_id, Some(ts))
            .s("correlation_id", &ids.correlation_id)
            .s("tenant_id", &ids.tenant_id)
    }

    /// The governance events' `env`, `data_label` and `policy_version`.
    fn scope(self, env: Env, label: DataLabel, policy_version: &str) -> Self {
        self.s("env", env.as_str())
            .s("data_label", label.as_str())
            .s("policy_version", policy_version)
    }

    fn s(mut self, key: &'static str, value: &str) -> Self {
        self.0.push(key, Value::String(value.into()));
        self
    }

    fn v(mut self, key: &'static str, value: Value) -> Self {
        self.0.push(key, value);
        self
    }
}

/// `evt.os.task.denied`: the sole event of every deny.
pub fn task_denied(
    ts: &str,
    ids: &Ids<'_>,
    code: &str,
    message: &str,
    matched_rule_id: &str,
) -> TelemetryEvent {
    Event::stamped("evt.os.task.denied", ts, ids)
        .s("capability_id", &ids.capability_id)
        .s("deny_code", code)
        .s("deny_message", message)
        .s("matched_rule_id", matched_rule_id)
        .0
}

/// `evt.gov.blast_scored` with the effective score.
pub fn blast_scored(
    ts: &str,
    ids: &Ids<'_>,
    env: Env,
    label: DataLabel,
    policy_version: &str,
    score: i64,
) -> TelemetryEvent {
    Event::stamped("evt.gov.blast_scored", ts, ids)
        .scope(env, label, policy_version)
        .v("blast_score", Value::from(score))
        .s("decision", "ALLOW")
        .0
}

/// `evt.gov.privilege_envelope.checked`.
pub fn privilege_checked(
    ts: &str,
    ids: &Ids<'_>,
    env: Env,
    label: DataLabel,
    policy_version: &str,
    species: &str,
) -> TelemetryEvent {
    Event::stamped("evt.gov.privilege_envelope.checked", ts, ids)
        .scope(env, label, policy_version)
        .s("worker_species_id", species)
        .s("decision", "ALLOW")
        .0
}

/// `evt.os.worker.attestation_skipped`: no timestamp and no tenant, as in the reference.
pub fn attestation_skipped(ids: &Ids<'_>, species: &str, env: Env) -> TelemetryEvent {
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
    pub ids: &'a Ids<'a>,
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
        Event::stamped("evt.os.task.routed", r.ts, ids)
            .s("task_id", r.task_id)
            .s("capability_id", &ids.capability_id)
            .s("matched_rule_id", r.matched_rule_id)
            .s("selected_worker_species_id", r.species)
            .s("policy_version", r.policy_version)
            .s("qos_class", r.qos_class.as_str())
            .0,
        Event::stamped("evt.os.worker.selected", r.ts, ids)
            .s("capability_id", &ids.capability_id)
            .s("selected_worker_species_id", r.species)
            .s("reason", "first_available_candidate")
            .0,
        Event::stamped("evt.os.policy.gated", r.ts, ids)
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
        e.insert("dry_run", Value::Bool(true));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_keep_key_order_and_round_trip() {
        let ids = Ids::new("c", "t", "cap");
        let mut e = task_denied("ts", &ids, "DENY_X", "m", "r");
        mark_dry_run(std::slice::from_mut(&mut e));
        let text = serde_json::to_string(&e).unwrap();
        assert_eq!(
            text,
            r#"{"event_id":"evt.os.task.denied","timestamp":"ts","correlation_id":"c","tenant_id":"t","capability_id":"cap","deny_code":"DENY_X","deny_message":"m","matched_rule_id":"r","dry_run":true}"#
        );
        let back: TelemetryEvent = serde_json::from_str(&text).unwrap();
        assert_eq!(back, e);
        assert_eq!(back["missing"], Value::Null);
        assert_eq!(back.event_id(), "evt.os.task.denied");
    }

    #[test]
    fn sanitizes_control_characters_only() {
        assert_eq!(sanitize_id("a\nb\u{7f}c\u{0}é\u{80}"), "abcé\u{80}");
        assert!(matches!(sanitize_id("clean"), Cow::Borrowed(_)));
    }
}
