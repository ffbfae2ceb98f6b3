//! The router's stream fast paths (`proctor route` over JSONL), each byte-identical to the
//! general path it stands in for:
//!
//! - [`write_decision`] writes a [`RouteDecision`] exactly as `serde_json::to_writer` does (the
//!   derived `Serialize`, compact), straight into a reused buffer: keys and punctuation are
//!   static byte strings, strings without anything to escape are copied whole, and only the
//!   rare string with a quote, backslash or control character (or a float) goes through
//!   serde_json itself.
//! - [`parse_canonical_route_input`] reads a request line whose fields already have their
//!   canonical types (strings, exact enum spellings, an integer or null `blast_score`, a
//!   boolean `dry_run`, objects) into a [`RouteInput`] without building a `Value` for the
//!   envelope; any other line yields `None`, and the caller takes the general path
//!   ([`crate::parse_route_input_owned`] over a `serde_json::Value`), which applies §1.14's
//!   coercions and reports errors. When it answers, it answers what the general path would.
//!
//! `tests/wire_fast.rs` checks both against the general paths (random decisions and inputs,
//! the conformance vectors, the reference's decisions).

use crate::input::RouteInput;
use crate::model::*;
use crate::py::is_blank;
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Number, Value};
use std::fmt;

/// A decision's usual size: the buffer of one line rarely grows past it.
pub const DECISION_SIZE_HINT: usize = 4096;

/// The decision as compact JSON, byte for byte what `serde_json::to_vec(decision)` returns.
pub fn decision_to_vec(d: &RouteDecision) -> Vec<u8> {
    let mut out = Vec::with_capacity(DECISION_SIZE_HINT);
    write_decision(&mut out, d);
    out
}

/// Appends the decision as compact JSON to `out`, byte for byte what
/// `serde_json::to_writer(out, decision)` appends.
pub fn write_decision(out: &mut Vec<u8>, d: &RouteDecision) {
    out.reserve(DECISION_SIZE_HINT);
    Writer { out }.decision(d);
}

/// The decision's writer: keys and punctuation are static byte strings; a string is copied
/// as it is unless it has something to escape.
struct Writer<'a> {
    out: &'a mut Vec<u8>,
}

impl Writer<'_> {
    #[inline(always)]
    fn lit(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }

    #[inline(always)]
    fn byte(&mut self, b: u8) {
        self.out.push(b);
    }

    #[inline]
    fn boolean(&mut self, b: bool) {
        self.out
            .extend_from_slice(if b { b"true" } else { b"false" });
    }

    /// A JSON string, escaped as serde_json escapes it.
    #[inline]
    fn string(&mut self, s: &str) {
        if needs_escape(s.as_bytes()) {
            escaped(self.out, s);
            return;
        }
        self.out.reserve(s.len() + 2);
        self.out.push(b'"');
        self.out.extend_from_slice(s.as_bytes());
        self.out.push(b'"');
    }

    fn opt_string(&mut self, s: Option<&str>) {
        match s {
            Some(s) => self.string(s),
            None => self.lit(b"null"),
        }
    }

    fn decision(&mut self, d: &RouteDecision) {
        self.lit(b"{\"decision_id\":");
        self.string(&d.decision_id);
        self.lit(b",\"timestamp\":");
        self.string(&d.timestamp);
        self.lit(b",\"correlation_id\":");
        self.string(&d.correlation_id);
        self.lit(b",\"tenant_id\":");
        self.string(&d.tenant_id);
        self.lit(b",\"capability_id\":");
        self.string(&d.capability_id);
        self.lit(b",\"matched_rule_id\":");
        self.string(&d.matched_rule_id);
        self.lit(b",\"env\":");
        self.string(d.env.as_str());
        self.lit(b",\"data_label\":");
        self.string(d.data_label.as_str());
        self.lit(b",\"tenant_risk\":");
        self.string(d.tenant_risk.as_str());
        self.lit(b",\"qos_class\":");
        self.string(d.qos_class.as_str());
        self.lit(b",\"denied\":");
        self.boolean(d.denied);
        self.lit(b",\"deny_reason_if_denied\":");
        match &d.deny_reason_if_denied {
            Some(r) => self.deny_reason(r),
            None => self.lit(b"null"),
        }
        self.lit(b",\"selected_worker_species_id\":");
        self.opt_string(d.selected_worker_species_id.as_deref());
        self.lit(b",\"candidate_workers_ranked\":[");
        for (i, c) in d.candidate_workers_ranked.iter().enumerate() {
            if i > 0 {
                self.byte(b',');
            }
            self.candidate(c);
        }
        self.lit(b"],\"required_controls_effective\":");
        self.strings(&d.required_controls_effective);
        self.lit(b",\"recommended_profiles_effective\":");
        self.values(&d.recommended_profiles_effective);
        self.lit(b",\"escalation_effective\":");
        self.escalation(&d.escalation_effective);
        self.lit(b",\"preconditions_checked\":");
        self.preconditions(&d.preconditions_checked);
        self.lit(b",\"artifact_hash\":");
        self.opt_string(d.artifact_hash.as_deref());
        self.lit(b",\"worker_attestation_checked\":");
        self.boolean(d.worker_attestation_checked);
        self.lit(b",\"worker_attestation_valid\":");
        match d.worker_attestation_valid {
            Some(b) => self.boolean(b),
            None => self.lit(b"null"),
        }
        self.lit(b",\"dry_run\":");
        self.boolean(d.dry_run);
        self.lit(b",\"telemetry_envelopes\":[");
        for (i, e) in d.telemetry_envelopes.iter().enumerate() {
            if i > 0 {
                self.byte(b',');
            }
            self.byte(b'{');
            for (j, (k, v)) in e.iter().enumerate() {
                if j > 0 {
                    self.byte(b',');
                }
                self.string(k);
                self.byte(b':');
                self.value(v);
            }
            self.byte(b'}');
        }
        self.lit(b"]}");
    }

    fn deny_reason(&mut self, r: &DenyReason) {
        // `#[serde(flatten)] extra`: the extra keys follow in the same object.
        self.lit(b"{\"code\":");
        self.string(r.code.as_str());
        self.lit(b",\"message\":");
        self.string(&r.message);
        for (k, v) in &r.extra {
            self.byte(b',');
            self.string(k);
            self.byte(b':');
            self.value(v);
        }
        self.byte(b'}');
    }

    fn candidate(&mut self, c: &CandidateWorker) {
        self.lit(b"{\"worker_species_id\":");
        self.string(&c.worker_species_id);
        self.lit(b",\"score_hint\":");
        match c.score_hint {
            Some(f) => float(self.out, f),
            None => self.lit(b"null"),
        }
        self.lit(b",\"requires_controls_minimum\":");
        match &c.requires_controls_minimum {
            Some(list) => self.strings(list),
            None => self.lit(b"null"),
        }
        self.lit(b",\"skip_reason\":");
        self.opt_string(c.skip_reason.as_deref());
        self.byte(b'}');
    }

    fn escalation(&mut self, e: &Escalation) {
        self.lit(b"{\"policy_gate\":");
        self.boolean(e.policy_gate);
        self.lit(b",\"msavx_step_up\":");
        self.boolean(e.msavx_step_up);
        self.lit(b",\"human_required_default\":");
        self.boolean(e.human_required_default);
        self.lit(b",\"human_required_if\":[");
        for (i, m) in e.human_required_if.iter().enumerate() {
            if i > 0 {
                self.byte(b',');
            }
            self.object(m);
        }
        self.lit(b"],\"rationale\":");
        self.opt_string(e.rationale.as_deref());
        self.byte(b'}');
    }

    fn preconditions(&mut self, p: &PreconditionsChecked) {
        self.lit(b"{\"must_have_correlation_id\":");
        self.boolean(p.must_have_correlation_id);
        self.lit(b",\"must_attach_policy_version\":");
        self.boolean(p.must_attach_policy_version);
        self.lit(b",\"must_record_artifact_hash_if_executes\":");
        self.boolean(p.must_record_artifact_hash_if_executes);
        self.lit(b",\"deny_if_missing_required_controls\":");
        self.boolean(p.deny_if_missing_required_controls);
        self.lit(b",\"deny_if_unsigned_artifact_in_prod\":");
        self.boolean(p.deny_if_unsigned_artifact_in_prod);
        self.lit(b",\"deny_if_no_attestation_in_prod\":");
        self.boolean(p.deny_if_no_attestation_in_prod);
        self.byte(b'}');
    }

    fn strings(&mut self, list: &[String]) {
        self.byte(b'[');
        for (i, s) in list.iter().enumerate() {
            if i > 0 {
                self.byte(b',');
            }
            self.string(s);
        }
        self.byte(b']');
    }

    fn values(&mut self, list: &[Value]) {
        self.byte(b'[');
        for (i, v) in list.iter().enumerate() {
            if i > 0 {
                self.byte(b',');
            }
            self.value(v);
        }
        self.byte(b']');
    }

    fn object(&mut self, m: &Map<String, Value>) {
        self.byte(b'{');
        for (i, (k, v)) in m.iter().enumerate() {
            if i > 0 {
                self.byte(b',');
            }
            self.string(k);
            self.byte(b':');
            self.value(v);
        }
        self.byte(b'}');
    }

    fn value(&mut self, v: &Value) {
        match v {
            Value::String(s) => self.string(s),
            Value::Null => self.lit(b"null"),
            Value::Bool(b) => self.boolean(*b),
            Value::Number(n) => number(self.out, n),
            Value::Array(a) => self.values(a),
            Value::Object(m) => self.object(m),
        }
    }
}

#[cold]
fn escaped(out: &mut Vec<u8>, s: &str) {
    serde_json::to_writer(out, s).expect("a string always serializes");
}

/// Whether serde_json would escape any byte of `bytes`: a quote, a backslash or a control
/// character. Branch-free over 16-byte blocks (the compiler vectorizes the fold); the tail is
/// an overlapping last block, and a string shorter than a block is tested as one or two
/// overlapping words.
#[inline]
fn needs_escape(bytes: &[u8]) -> bool {
    #[inline(always)]
    fn block(b: &[u8]) -> bool {
        b.iter().fold(false, |acc, &x| {
            acc | (x < 0x20) | (x == b'"') | (x == b'\\')
        })
    }
    let n = bytes.len();
    if n >= 16 {
        let mut blocks = bytes.chunks_exact(16);
        if blocks.any(block) {
            return true;
        }
        !blocks.remainder().is_empty() && block(&bytes[n - 16..])
    } else if n >= 8 {
        // Two overlapping 8-byte words cover 8..=15 bytes.
        let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
        word_needs_escape(word(0)) || word_needs_escape(word(n - 8))
    } else if n >= 4 {
        // Two overlapping 4-byte loads cover 4..=7 bytes.
        let half = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
        word_needs_escape(u64::from(half(0)) | u64::from(half(n - 4)) << 32)
    } else if n > 0 {
        // Bytes 0, n/2 and n-1 cover 1..=3 bytes; the other lanes are spaces.
        let lanes = [
            bytes[0],
            bytes[n / 2],
            bytes[n - 1],
            b' ',
            b' ',
            b' ',
            b' ',
            b' ',
        ];
        word_needs_escape(u64::from_le_bytes(lanes))
    } else {
        false
    }
}

/// Whether any byte of `w` is below 0x20, a quote or a backslash (the exact "has a byte less
/// than" / "has a zero byte" tests of Bit Twiddling Hacks: a borrow can only set a flag above a
/// byte that already matched, so the answer for the word is exact).
#[inline(always)]
fn word_needs_escape(w: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below = |x: u64, n: u64| x.wrapping_sub(ONES * n) & !x & HIGH;
    let zero = |x: u64| below(x, 1);
    (below(w, 0x20) | zero(w ^ (ONES * u64::from(b'"'))) | zero(w ^ (ONES * u64::from(b'\\')))) != 0
}

fn number(out: &mut Vec<u8>, n: &Number) {
    if let Some(u) = n.as_u64() {
        // The same digits as serde_json's `itoa` (writing to a Vec cannot fail).
        let _ = crate::pyjson::write_integer(out, u, false);
    } else if let Some(i) = n.as_i64() {
        // Only negative values reach here (non-negative ones are u64 above).
        let _ = crate::pyjson::write_integer(out, i.unsigned_abs(), i < 0);
    } else {
        serde_json::to_writer(out, n).expect("a number always serializes");
    }
}

/// serde_json's float format (`ryu`, `null` when not finite): written by serde_json itself.
fn float(out: &mut Vec<u8>, f: f64) {
    serde_json::to_writer(out, &f).expect("a float always serializes");
}

/// The envelope of a request whose fields have their canonical JSON types. A field of another
/// type fails the whole deserialization (and the caller takes the general path); `present`
/// keeps "given as null" apart from "absent" where §1.14 treats them differently.
#[derive(Deserialize)]
struct Canonical<'a> {
    #[serde(default)]
    capability_id: Option<String>,
    /// Enum spellings are borrowed: one written with escapes fails here, and the general
    /// path reads it.
    #[serde(borrow, default)]
    env: Option<&'a str>,
    #[serde(borrow, default)]
    data_label: Option<&'a str>,
    #[serde(borrow, default)]
    tenant_risk: Option<&'a str>,
    #[serde(borrow, default)]
    qos_class: Option<&'a str>,
    #[serde(default)]
    tenant_id: Option<String>,
    #[serde(default)]
    correlation_id: Option<String>,
    #[serde(default, deserialize_with = "object_or_null")]
    request: Option<ObjectOrNull>,
    #[serde(default, deserialize_with = "object_or_null")]
    blast_radius: Option<ObjectOrNull>,
    /// An integer within i64, or null (absent and null both mean none).
    #[serde(default)]
    blast_score: Option<i64>,
    #[serde(default, deserialize_with = "object_or_null")]
    privilege_context: Option<ObjectOrNull>,
    /// `true` or `false` only (null is an error in §1.14, absent is `false`).
    #[serde(default, deserialize_with = "present")]
    dry_run: Option<bool>,
    #[serde(default)]
    tenant_credential: Option<String>,
}

/// An object field given as an object or as null (any other type fails the deserialization).
enum ObjectOrNull {
    Null,
    Object(Map<String, Value>),
}

/// Reads an object field the way serde_json's `Value` does (entries inserted in order, a
/// repeated key keeps its first position and its last value), with room for a few entries
/// reserved up front; `Some` whenever the key is present.
fn object_or_null<'de, D: Deserializer<'de>>(d: D) -> Result<Option<ObjectOrNull>, D::Error> {
    struct Fields;
    impl<'de> Visitor<'de> for Fields {
        type Value = ObjectOrNull;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object or null")
        }
        fn visit_unit<E>(self) -> Result<ObjectOrNull, E> {
            Ok(ObjectOrNull::Null)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<ObjectOrNull, A::Error> {
            let mut map = Map::with_capacity(access.size_hint().unwrap_or(0).max(8));
            while let Some((key, value)) = access.next_entry::<String, Value>()? {
                map.insert(key, value);
            }
            Ok(ObjectOrNull::Object(map))
        }
    }
    d.deserialize_any(Fields).map(Some)
}

/// `Some` whenever the key is present, null included (the field's `default` is `None`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// One request line read without an intermediate `Value` for its envelope, when every field
/// already has its canonical type and value: then the answer is the [`RouteInput`] that
/// [`crate::parse_route_input_owned`] would give for the same bytes. `None` means "not
/// canonical" (a coercion to apply, an error to report, a duplicate key, not JSON at all):
/// parse the line the general way.
pub fn parse_canonical_route_input(line: &[u8]) -> Option<RouteInput> {
    // Validated once here, the line's strings need no UTF-8 check each (serde_json's `str`
    // reader); a line that is not UTF-8 is an error on the general path.
    let text = std::str::from_utf8(line).ok()?;
    let c: Canonical<'_> = serde_json::from_str(text).ok()?;
    let tenant_id = c.tenant_id?;
    if is_blank(&tenant_id) {
        return None;
    }
    let request = match c.request {
        None => Map::new(),
        Some(ObjectOrNull::Object(m)) => m,
        Some(ObjectOrNull::Null) => return None,
    };
    let optional_object = |v: Option<ObjectOrNull>| match v {
        Some(ObjectOrNull::Object(m)) => Some(m),
        None | Some(ObjectOrNull::Null) => None,
    };
    Some(RouteInput {
        capability_id: c.capability_id?,
        env: Env::parse(c.env?)?,
        data_label: DataLabel::parse(c.data_label?)?,
        tenant_risk: TenantRisk::parse(c.tenant_risk?)?,
        qos_class: QosClass::parse(c.qos_class?)?,
        tenant_id,
        correlation_id: c.correlation_id?,
        request,
        blast_radius: optional_object(c.blast_radius),
        blast_score: c.blast_score,
        privilege_context: optional_object(c.privilege_context),
        dry_run: c.dry_run.unwrap_or(false),
        tenant_credential: c.tenant_credential,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_escape_as_serde_json_does() {
        for s in [
            "",
            "plain",
            "a\"b",
            "back\\slash",
            "\u{0}\u{1}\u{8}\u{9}\u{a}\u{b}\u{c}\u{d}\u{1f}",
            "\u{7f}é€😀/",
            "sixteen bytes ok\"and a quote after the first block",
        ] {
            assert_eq!(written(&json!(s)), serde_json::to_vec(s).unwrap(), "{s:?}");
            let v = json!({"k": [s, "x"], s: 1});
            assert_eq!(written(&v), serde_json::to_vec(&v).unwrap(), "{s:?}");
        }
    }

    fn written(v: &Value) -> Vec<u8> {
        let mut out = Vec::new();
        Writer { out: &mut out }.value(v);
        out
    }

    #[test]
    fn escape_test_is_exact_at_every_length_and_position() {
        for n in 0..40 {
            let clean = vec![b'a'; n];
            assert!(!needs_escape(&clean), "{n}");
            for at in 0..n {
                for bad in [0u8, 0x1f, b'"', b'\\'] {
                    let mut s = clean.clone();
                    s[at] = bad;
                    assert!(needs_escape(&s), "{n} {at} {bad}");
                }
                for fine in [b' ', 0x21, 0x23, 0x5b, 0x5d, 0x7f, 0x80, 0xff] {
                    let mut s = clean.clone();
                    s[at] = fine;
                    assert!(!needs_escape(&s), "{n} {at} {fine}");
                }
            }
        }
    }

    #[test]
    fn numbers_and_values_as_serde_json() {
        for v in [
            json!(0),
            json!(-1),
            json!(u64::MAX),
            json!(i64::MIN),
            json!(1.0),
            json!(0.75),
            json!(1e-7),
            json!(-2.5e300),
            json!({"a": [1, null, true, "x\n"], "": {"k": -0.0}}),
        ] {
            assert_eq!(written(&v), serde_json::to_vec(&v).unwrap(), "{v}");
        }
        for f in [f64::NAN, f64::INFINITY, 1.0, 0.1, 123456789.0] {
            let mut out = Vec::new();
            float(&mut out, f);
            assert_eq!(out, serde_json::to_vec(&f).unwrap());
        }
    }

    #[test]
    fn canonical_input_or_none() {
        let base = r#"{"capability_id":"c","env":"dev","data_label":"PUBLIC","tenant_risk":"low","qos_class":"P2","tenant_id":"t","correlation_id":"x"#;
        let general = |text: &str| {
            crate::parse_route_input_owned(serde_json::from_str(text).unwrap()).unwrap()
        };
        for tail in [
            r#""}"#,
            r#"","request":{"a":1},"blast_score":null,"dry_run":true,"blast_radius":null}"#,
            r#"","unknown":[1,{"x":2}],"tenant_credential":"k","privilege_context":{}}"#,
        ] {
            let text = format!("{base}{tail}");
            assert_eq!(
                parse_canonical_route_input(text.as_bytes()),
                Some(general(&text)),
                "{text}"
            );
        }
        for tail in [
            r#"","dry_run":null}"#,
            r#"","dry_run":"yes"}"#,
            r#"","request":null}"#,
            r#"","blast_score":"5"}"#,
            r#"","blast_score":5.0}"#,
            r#"","blast_radius":[]}"#,
            r#"","env":"dev"}"#,
            r#"","tenant_id":" "}"#,
        ] {
            let text = format!("{base}{tail}");
            assert_eq!(parse_canonical_route_input(text.as_bytes()), None, "{text}");
        }
        // An enum spelled with an escape goes the general way; an escaped id is read here.
        let escaped_enum = r#"{"capability_id":"c","env":"d\u0065v","data_label":"PUBLIC","tenant_risk":"low","qos_class":"P2","tenant_id":"t","correlation_id":"x"}"#;
        assert_eq!(parse_canonical_route_input(escaped_enum.as_bytes()), None);
        let escaped_id = escaped_enum
            .replace(r#"d\u0065v"#, "dev")
            .replace(r#""c""#, r#""c\n\u00e9""#);
        assert_eq!(
            parse_canonical_route_input(escaped_id.as_bytes()),
            Some(general(&escaped_id))
        );
        assert_eq!(parse_canonical_route_input(b"[1]"), None);
        assert_eq!(parse_canonical_route_input(b"{"), None);
    }
}
