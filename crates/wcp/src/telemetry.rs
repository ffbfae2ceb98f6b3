//! Telemetry envelopes (SPEC.md §1.12): builders with the reference's keys and order.
//!
//! Request ids are sanitized (control characters removed) because telemetry feeds logs;
//! rule and species ids are copied as they are, like the reference does.
//!
//! A decision's events repeat its timestamp and ids: each is one shared [`Text`], and fixed
//! strings (event ids, reasons, enum spellings) are static, so building an event copies and
//! allocates no string.

use crate::model::{DataLabel, Env, QosClass};
use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use std::borrow::Cow;
use std::fmt;
use std::ops::Index;
use std::sync::Arc;

/// One telemetry envelope: a JSON object whose keys keep their insertion order (the
/// reference's order, `event_id` first). Keys of built events are static strings, so building
/// an event costs no key allocations or hashing; events read from JSON keep any keys.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TelemetryEvent {
    fields: Vec<(Cow<'static, str>, Field)>,
}

/// The text of an event field: static, or shared by the events of one decision.
#[derive(Clone, Debug)]
pub enum Text {
    Static(&'static str),
    Shared(Arc<str>),
}

impl Text {
    pub fn as_str(&self) -> &str {
        match self {
            Text::Static(s) => s,
            Text::Shared(s) => s,
        }
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        Text::Shared(s.into())
    }
}

impl From<Cow<'_, str>> for Text {
    fn from(s: Cow<'_, str>) -> Self {
        Text::Shared(s.as_ref().into())
    }
}

/// The value of an event field. Built events hold only text, booleans and integers (unboxed);
/// an event read from JSON may hold any value. A value read or inserted as JSON is held in
/// its unboxed form when it has one, so equal values compare equal however they were made.
#[derive(Clone, Debug, PartialEq)]
pub enum Field {
    Null,
    Bool(bool),
    Int(i64),
    Text(Text),
    /// Any other JSON value (floats, large integers, arrays, objects).
    Json(Box<Value>),
}

impl Field {
    /// The text, when the value is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Field::Text(t) => Some(t.as_str()),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Field::Null)
    }

    /// The value as JSON.
    pub fn to_value(&self) -> Value {
        match self {
            Field::Null => Value::Null,
            Field::Bool(b) => Value::Bool(*b),
            Field::Int(i) => Value::from(*i),
            Field::Text(t) => Value::String(t.as_str().to_owned()),
            Field::Json(v) => (**v).clone(),
        }
    }
}

impl From<Value> for Field {
    fn from(v: Value) -> Self {
        match v {
            Value::Null => Field::Null,
            Value::Bool(b) => Field::Bool(b),
            Value::String(s) => Field::Text(Text::Shared(s.into())),
            Value::Number(n) => match n.as_i64() {
                Some(i) => Field::Int(i),
                None => Field::Json(Box::new(Value::Number(n))),
            },
            other => Field::Json(Box::new(other)),
        }
    }
}

impl PartialEq<&str> for Field {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == Some(*other)
    }
}

impl PartialEq<bool> for Field {
    fn eq(&self, other: &bool) -> bool {
        matches!(self, Field::Bool(b) if b == other)
    }
}

impl PartialEq<i64> for Field {
    fn eq(&self, other: &i64) -> bool {
        matches!(self, Field::Int(i) if i == other)
    }
}

impl PartialEq<i32> for Field {
    fn eq(&self, other: &i32) -> bool {
        *self == i64::from(*other)
    }
}

impl Serialize for Field {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Field::Null => serializer.serialize_unit(),
            Field::Bool(b) => serializer.serialize_bool(*b),
            Field::Int(i) => serializer.serialize_i64(*i),
            Field::Text(t) => serializer.serialize_str(t.as_str()),
            Field::Json(v) => v.serialize(serializer),
        }
    }
}

static NULL: Field = Field::Null;

impl TelemetryEvent {
    fn with_capacity(n: usize) -> Self {
        Self {
            fields: Vec::with_capacity(n),
        }
    }

    fn push(&mut self, key: &'static str, value: Field) {
        self.fields.push((Cow::Borrowed(key), value));
    }

    /// The value of a key, if present.
    pub fn get(&self, key: &str) -> Option<&Field> {
        self.fields.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// `event_id`, or `""` when missing.
    pub fn event_id(&self) -> &str {
        self.get("event_id").and_then(Field::as_str).unwrap_or("")
    }

    /// Sets a key, replacing its value in place or appending it.
    pub fn insert(&mut self, key: impl Into<Cow<'static, str>>, value: impl Into<Field>) {
        let (key, value) = (key.into(), value.into());
        match self.fields.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => *v = value,
            None => self.fields.push((key, value)),
        }
    }

    /// Removes a key, keeping the order of the others.
    pub fn remove(&mut self, key: &str) -> Option<Field> {
        let pos = self.fields.iter().position(|(k, _)| k == key)?;
        Some(self.fields.remove(pos).1)
    }

    /// Keys and values in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Field)> {
        self.fields.iter().map(|(k, v)| (k.as_ref(), v))
    }

    /// The event as a JSON object.
    pub fn to_json(&self) -> serde_json::Map<String, Value> {
        self.iter()
            .map(|(k, v)| (k.to_owned(), v.to_value()))
            .collect()
    }
}

/// `event["key"]`: like `serde_json::Value`, a missing key reads as `null`.
impl Index<&str> for TelemetryEvent {
    type Output = Field;
    fn index(&self, key: &str) -> &Field {
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

/// The sanitized request ids of one decision, shared by its events.
pub struct Ids {
    pub correlation_id: Text,
    pub tenant_id: Text,
    pub capability_id: Text,
}

impl Ids {
    pub fn new(correlation_id: &str, tenant_id: &str, capability_id: &str) -> Self {
        Self {
            correlation_id: sanitize_id(correlation_id).into(),
            tenant_id: sanitize_id(tenant_id).into(),
            capability_id: sanitize_id(capability_id).into(),
        }
    }
}

/// Builds one event: `event_id`, then (optionally) `timestamp`, then the given keys.
struct Event(TelemetryEvent);

impl Event {
    fn new(event_id: &'static str, timestamp: Option<&Text>) -> Self {
        let mut e = TelemetryEvent::with_capacity(11);
        e.push("event_id", Field::Text(Text::Static(event_id)));
        if let Some(t) = timestamp {
            e.push("timestamp", Field::Text(t.clone()));
        }
        Self(e)
    }

    /// An event of one decision: timestamped, then its correlation and tenant ids.
    fn stamped(event_id: &'static str, ts: &Text, ids: &Ids) -> Self {
        Self::new(event_id, Some(ts))
            .s("correlation_id", &ids.correlation_id)
            .s("tenant_id", &ids.tenant_id)
    }

    /// The governance events' `env`, `data_label` and `policy_version`.
    fn scope(self, env: Env, label: DataLabel, policy_version: &Text) -> Self {
        self.fixed("env", env.as_str())
            .fixed("data_label", label.as_str())
            .s("policy_version", policy_version)
    }

    fn s(mut self, key: &'static str, value: &Text) -> Self {
        self.0.push(key, Field::Text(value.clone()));
        self
    }

    fn fixed(mut self, key: &'static str, value: &'static str) -> Self {
        self.0.push(key, Field::Text(Text::Static(value)));
        self
    }

    fn v(mut self, key: &'static str, value: Field) -> Self {
        self.0.push(key, value);
        self
    }
}

/// `evt.os.task.denied`: the sole event of every deny.
pub fn task_denied(
    ts: &Text,
    ids: &Ids,
    code: &'static str,
    message: &str,
    matched_rule_id: &str,
) -> TelemetryEvent {
    Event::stamped("evt.os.task.denied", ts, ids)
        .s("capability_id", &ids.capability_id)
        .fixed("deny_code", code)
        .s("deny_message", &message.into())
        .s("matched_rule_id", &matched_rule_id.into())
        .0
}

/// `evt.gov.blast_scored` with the effective score.
pub fn blast_scored(
    ts: &Text,
    ids: &Ids,
    env: Env,
    label: DataLabel,
    policy_version: &Text,
    score: i64,
) -> TelemetryEvent {
    Event::stamped("evt.gov.blast_scored", ts, ids)
        .scope(env, label, policy_version)
        .v("blast_score", Field::Int(score))
        .fixed("decision", "ALLOW")
        .0
}

/// `evt.gov.privilege_envelope.checked`.
pub fn privilege_checked(
    ts: &Text,
    ids: &Ids,
    env: Env,
    label: DataLabel,
    policy_version: &Text,
    species: &Text,
) -> TelemetryEvent {
    Event::stamped("evt.gov.privilege_envelope.checked", ts, ids)
        .scope(env, label, policy_version)
        .s("worker_species_id", species)
        .fixed("decision", "ALLOW")
        .0
}

/// `evt.os.worker.attestation_skipped`: no timestamp and no tenant, as in the reference.
pub fn attestation_skipped(ids: &Ids, species: &Text, env: Env) -> TelemetryEvent {
    Event::new("evt.os.worker.attestation_skipped", None)
        .s("correlation_id", &ids.correlation_id)
        .s("worker_species_id", species)
        .fixed("env", env.as_str())
        .fixed(
            "reason",
            "require_worker_attestation=False or hall_config=None",
        )
        .fixed("severity", "warn")
        .0
}

/// The routed-task facts shared by the three mandatory allow events.
pub struct Routed<'a> {
    pub ts: &'a Text,
    pub ids: &'a Ids,
    pub task_id: &'a Text,
    pub matched_rule_id: &'a Text,
    pub species: &'a Text,
    pub policy_version: &'a Text,
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
            .fixed("qos_class", r.qos_class.as_str())
            .0,
        Event::stamped("evt.os.worker.selected", r.ts, ids)
            .s("capability_id", &ids.capability_id)
            .s("selected_worker_species_id", r.species)
            .fixed("reason", "first_available_candidate")
            .0,
        Event::stamped("evt.os.policy.gated", r.ts, ids)
            .s("capability_id", &ids.capability_id)
            .fixed("decision", "ALLOW")
            .s("policy_version", r.policy_version)
            .fixed(
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
        e.insert("dry_run", Field::Bool(true));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_keep_key_order_and_round_trip() {
        let ids = Ids::new("c", "t", "cap");
        let mut e = task_denied(&"ts".into(), &ids, "DENY_X", "m", "r");
        mark_dry_run(std::slice::from_mut(&mut e));
        let text = serde_json::to_string(&e).unwrap();
        assert_eq!(
            text,
            r#"{"event_id":"evt.os.task.denied","timestamp":"ts","correlation_id":"c","tenant_id":"t","capability_id":"cap","deny_code":"DENY_X","deny_message":"m","matched_rule_id":"r","dry_run":true}"#
        );
        let back: TelemetryEvent = serde_json::from_str(&text).unwrap();
        assert_eq!(back, e);
        assert!(back["missing"].is_null());
        assert_eq!(back.event_id(), "evt.os.task.denied");
    }

    #[test]
    fn sanitizes_control_characters_only() {
        assert_eq!(sanitize_id("a\nb\u{7f}c\u{0}é\u{80}"), "abcé\u{80}");
        assert!(matches!(sanitize_id("clean"), Cow::Borrowed(_)));
    }
}
