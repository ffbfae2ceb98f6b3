//! The request envelope and its lenient parser (SPEC.md §1.2, §1.14).
//!
//! The reference validates requests with lax coercion (`"50"` is a blast score, `"yes"` is
//! `true`); a hall that is stricter or looser would decide differently on the same bytes, so
//! [`parse_route_input`] accepts and rejects exactly the table of §1.14 and reports every
//! offending top-level field at once.
//!
//! Limitation (documented in docs/wcp.md): integers beyond 64 bits arrive from `serde_json` as
//! floats. A `blast_score` between i64 and u64 (or a longer decimal string) saturates to the
//! i64 bounds and is denied as out of range; a literal beyond u64 is rejected like a float that
//! large; inside `request` such a number is hashed as a float.

use crate::model::{DataLabel, Env, QosClass, TenantRisk};
use crate::py::is_blank;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A capability request, after coercion. Serializes with the wire keys.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RouteInput {
    pub capability_id: String,
    pub env: Env,
    pub data_label: DataLabel,
    pub tenant_risk: TenantRisk,
    pub qos_class: QosClass,
    pub tenant_id: String,
    pub correlation_id: String,
    #[serde(default)]
    pub request: Map<String, Value>,
    #[serde(default)]
    pub blast_radius: Option<Map<String, Value>>,
    #[serde(default)]
    pub blast_score: Option<i64>,
    #[serde(default)]
    pub privilege_context: Option<Map<String, Value>>,
    #[serde(default)]
    pub dry_run: bool,
    #[serde(default)]
    pub tenant_credential: Option<String>,
}

/// Why a request was rejected before any decision.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct InputError {
    /// Offending top-level field names, sorted and unique (empty if the whole value is wrong).
    pub invalid_fields: Vec<String>,
    /// One line naming each problem.
    pub message: String,
}

/// Parses a RouteInput from JSON text (one document).
pub fn parse_route_input_str(text: &str) -> Result<RouteInput, InputError> {
    let value: Value = serde_json::from_str(text).map_err(|e| InputError {
        invalid_fields: Vec::new(),
        message: format!("not valid JSON: {e}"),
    })?;
    parse_route_input_owned(value)
}

/// Parses a RouteInput from a JSON value with the reference's coercions (SPEC.md §1.14).
pub fn parse_route_input(value: &Value) -> Result<RouteInput, InputError> {
    let obj = as_object(value)?;
    let owned = |k: &str| obj.get(k).cloned();
    parse_fields(
        obj,
        [
            owned("request"),
            owned("blast_radius"),
            owned("privilege_context"),
        ],
    )
}

/// Like [`parse_route_input`], but moves the payload objects out of `value` instead of
/// cloning them (the fast path for streams of requests).
pub fn parse_route_input_owned(value: Value) -> Result<RouteInput, InputError> {
    let mut obj = match value {
        Value::Object(obj) => obj,
        other => return Err(not_an_object(&other)),
    };
    let containers = [
        obj.remove("request"),
        obj.remove("blast_radius"),
        obj.remove("privilege_context"),
    ];
    parse_fields(&obj, containers)
}

fn as_object(value: &Value) -> Result<&Map<String, Value>, InputError> {
    value.as_object().ok_or_else(|| not_an_object(value))
}

fn not_an_object(value: &Value) -> InputError {
    InputError {
        invalid_fields: Vec::new(),
        message: format!("a RouteInput must be a JSON object, got {}", kind(value)),
    }
}

/// `containers` holds `request`, `blast_radius` and `privilege_context`, taken out of `obj`.
fn parse_fields(
    obj: &Map<String, Value>,
    containers: [Option<Value>; 3],
) -> Result<RouteInput, InputError> {
    let [request_value, blast_radius_value, privilege_context_value] = containers;
    let mut errors = Errors::default();
    let capability_id = errors.take("capability_id", required_string(obj, "capability_id"));
    let tenant_id = errors.take(
        "tenant_id",
        required_string(obj, "tenant_id").and_then(not_blank),
    );
    let correlation_id = errors.take("correlation_id", required_string(obj, "correlation_id"));
    let env = errors.take("env", required_enum(obj, "env", Env::parse, Env::ALL));
    let data_label = errors.take(
        "data_label",
        required_enum(obj, "data_label", DataLabel::parse, DataLabel::ALL),
    );
    let tenant_risk = errors.take(
        "tenant_risk",
        required_enum(obj, "tenant_risk", TenantRisk::parse, TenantRisk::ALL),
    );
    let qos_class = errors.take(
        "qos_class",
        required_enum(obj, "qos_class", QosClass::parse, QosClass::ALL),
    );
    let request = errors.take("request", request(request_value));
    let blast_radius = errors.take("blast_radius", optional_object(blast_radius_value));
    let privilege_context = errors.take(
        "privilege_context",
        optional_object(privilege_context_value),
    );
    let blast_score = errors.take("blast_score", blast_score(obj.get("blast_score")));
    let dry_run = errors.take("dry_run", dry_run(obj.get("dry_run")));
    let tenant_credential = errors.take(
        "tenant_credential",
        optional_string(obj.get("tenant_credential")),
    );
    errors.finish()?;
    // Every `take` above succeeded, so each `Option` is `Some`.
    match (
        capability_id,
        tenant_id,
        correlation_id,
        env,
        data_label,
        tenant_risk,
        qos_class,
        request,
        blast_radius,
        privilege_context,
        blast_score,
        dry_run,
        tenant_credential,
    ) {
        (
            Some(capability_id),
            Some(tenant_id),
            Some(correlation_id),
            Some(env),
            Some(data_label),
            Some(tenant_risk),
            Some(qos_class),
            Some(request),
            Some(blast_radius),
            Some(privilege_context),
            Some(blast_score),
            Some(dry_run),
            Some(tenant_credential),
        ) => Ok(RouteInput {
            capability_id,
            env,
            data_label,
            tenant_risk,
            qos_class,
            tenant_id,
            correlation_id,
            request,
            blast_radius,
            blast_score,
            privilege_context,
            dry_run,
            tenant_credential,
        }),
        _ => Err(InputError {
            invalid_fields: Vec::new(),
            message: "internal parser error".into(),
        }),
    }
}

#[derive(Default)]
struct Errors {
    fields: Vec<String>,
    problems: Vec<String>,
}

impl Errors {
    fn take<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(problem) => {
                self.fields.push(field.to_string());
                self.problems.push(format!("{field}: {problem}"));
                None
            }
        }
    }

    fn finish(mut self) -> Result<(), InputError> {
        if self.fields.is_empty() {
            return Ok(());
        }
        let message = format!("invalid RouteInput: {}", self.problems.join("; "));
        self.fields.sort();
        self.fields.dedup();
        Err(InputError {
            invalid_fields: self.fields,
            message,
        })
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn required<'a>(obj: &'a Map<String, Value>, key: &str) -> Result<&'a Value, String> {
    match obj.get(key) {
        None => Err("is required".into()),
        Some(Value::Null) => Err("is required (got null)".into()),
        Some(v) => Ok(v),
    }
}

fn required_string(obj: &Map<String, Value>, key: &str) -> Result<String, String> {
    match required(obj, key)? {
        Value::String(s) => Ok(s.clone()),
        other => Err(format!("must be a string, got {}", kind(other))),
    }
}

fn not_blank(s: String) -> Result<String, String> {
    if is_blank(&s) {
        Err("must not be empty or whitespace".into())
    } else {
        Ok(s)
    }
}

fn required_enum<T: Copy + std::fmt::Display>(
    obj: &Map<String, Value>,
    key: &str,
    parse: fn(&str) -> Option<T>,
    all: &[T],
) -> Result<T, String> {
    let allowed = || {
        all.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    match required(obj, key)? {
        Value::String(s) => {
            parse(s).ok_or_else(|| format!("must be one of {} (got {s:?})", allowed()))
        }
        other => Err(format!("must be one of {}, got {}", allowed(), kind(other))),
    }
}

fn optional_string(v: Option<&Value>) -> Result<Option<String>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(format!("must be a string or null, got {}", kind(other))),
    }
}

fn request(v: Option<Value>) -> Result<Map<String, Value>, String> {
    match v {
        None => Ok(Map::new()),
        Some(Value::Object(m)) => Ok(m),
        Some(other) => Err(format!("must be an object, got {}", kind(&other))),
    }
}

fn optional_object(v: Option<Value>) -> Result<Option<Map<String, Value>>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(other) => Err(format!("must be an object or null, got {}", kind(&other))),
    }
}

/// Integers of any size, integral floats within i64 and decimal-integer strings; never
/// booleans. Measured against the reference (pydantic 2): `"42.0"`, `"1_000"` and `" +5 "`
/// are integers, `1e20` (a float too large for i64) and `"4e1"` are not.
fn blast_score(v: Option<&Value>) -> Result<Option<i64>, String> {
    const WHAT: &str = "must be an integer or null";
    // f64 bounds of i64: pydantic accepts a float strictly between -2^63 and 2^63.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => {
            if let Some(i) = n.as_i64() {
                Ok(Some(i))
            } else if n.is_u64() {
                Ok(Some(i64::MAX)) // beyond i64: out of 0..=100 anyway, the router denies it
            } else {
                match n.as_f64() {
                    Some(f) if f.fract() == 0.0 && f > -LIMIT && f < LIMIT => Ok(Some(f as i64)),
                    _ => Err(format!("{WHAT}, got the number {n}")),
                }
            }
        }
        Some(Value::String(s)) => parse_decimal_integer(s)
            .map(Some)
            .ok_or_else(|| format!("{WHAT}, got the string {s:?}")),
        Some(other) => Err(format!("{WHAT}, got {}", kind(other))),
    }
}

/// pydantic's string-to-int: surrounding (Unicode) whitespace, one optional sign, ASCII digits
/// with single underscores between them, and an optional fraction made only of zeros.
fn parse_decimal_integer(s: &str) -> Option<i64> {
    let t = s.trim();
    let (negative, rest) = match t.as_bytes().first()? {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    let digits = match rest.split_once('.') {
        Some((int, zeros)) if !zeros.is_empty() && zeros.bytes().all(|b| b == b'0') => int,
        Some(_) => return None,
        None => rest,
    };
    let well_formed = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit() || b == b'_')
        && !digits.starts_with('_')
        && !digits.ends_with('_')
        && !digits.contains("__");
    if !well_formed {
        return None;
    }
    let plain: String = digits.chars().filter(|&c| c != '_').collect();
    // Out-of-i64 values are out of the 0..=100 range too: saturate, the router denies them.
    let magnitude = plain.parse::<i64>().unwrap_or(i64::MAX);
    Some(if negative { -magnitude } else { magnitude })
}

fn dry_run(v: Option<&Value>) -> Result<bool, String> {
    const WHAT: &str = "must be a boolean";
    match v {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::Number(n)) => match n.as_f64() {
            Some(0.0) => Ok(false),
            Some(1.0) => Ok(true),
            _ => Err(format!("{WHAT}, got the number {n}")),
        },
        Some(Value::String(s)) => match s.to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" | "t" | "y" | "1" => Ok(true),
            "false" | "no" | "off" | "f" | "n" | "0" => Ok(false),
            _ => Err(format!("{WHAT}, got the string {s:?}")),
        },
        Some(other) => Err(format!("{WHAT}, got {}", kind(other))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn base() -> Value {
        json!({"capability_id": "cap.doc.summarize", "env": "dev", "data_label": "PUBLIC",
               "tenant_risk": "low", "qos_class": "P2", "tenant_id": "acme", "correlation_id": "c-1"})
    }

    fn with(key: &str, v: Value) -> Value {
        let mut b = base();
        b[key] = v;
        b
    }

    fn invalid(v: Value) -> Vec<String> {
        parse_route_input(&v)
            .expect_err("should be rejected")
            .invalid_fields
    }

    #[test]
    fn defaults_fill_optional_fields() {
        let inp = parse_route_input(&base()).unwrap();
        assert!(inp.request.is_empty() && inp.blast_score.is_none() && !inp.dry_run);
        assert_eq!(inp.env, Env::Dev);
    }

    #[test]
    fn blast_score_coercions() {
        for (raw, want) in [
            (json!(42), 42),
            (json!(42.0), 42),
            (json!("50"), 50),
            (json!("090"), 90),
            (json!(" 50 "), 50),
            (json!("-1"), -1),
            (json!(101), 101),
            (json!("42.0"), 42),
            (json!("-42.000 "), -42),
            (json!("1_000"), 1000),
            (json!(" +5 "), 5),
            (json!("5\u{b}"), 5),
            (json!("-0.0"), 0),
            (json!(9.2e18), 9_200_000_000_000_000_000),
        ] {
            assert_eq!(
                parse_route_input(&with("blast_score", raw.clone()))
                    .unwrap()
                    .blast_score,
                Some(want),
                "{raw}"
            );
        }
        for raw in [
            json!(true),
            json!(false),
            json!(4.5),
            json!(""),
            json!("4e1"),
            json!("high"),
            json!([1]),
        ] {
            assert_eq!(
                invalid(with("blast_score", raw.clone())),
                ["blast_score"],
                "{raw}"
            );
        }
        assert_eq!(
            parse_route_input(&with("blast_score", json!(null)))
                .unwrap()
                .blast_score,
            None
        );
    }

    #[test]
    fn huge_blast_scores_parse_and_saturate() {
        let with_literal = |literal: &str| {
            let text = format!(
                r#"{{"capability_id":"c","env":"dev","data_label":"PUBLIC","tenant_risk":"low","qos_class":"P2","tenant_id":"t","correlation_id":"x","blast_score":{literal}}}"#
            );
            parse_route_input(&serde_json::from_str(&text).unwrap())
        };
        assert_eq!(
            with_literal("12345678901234567890").unwrap().blast_score,
            Some(i64::MAX)
        );
        assert_eq!(
            with_literal("-9223372036854775808").unwrap().blast_score,
            Some(i64::MIN)
        );
        // Beyond u64, serde_json reads the literal as a float (see docs/wcp.md): rejected like 1e29.
        assert_eq!(
            with_literal("123456789012345678901234567890")
                .unwrap_err()
                .invalid_fields,
            ["blast_score"]
        );
        assert_eq!(
            parse_route_input(&with("blast_score", json!("-99999999999999999999")))
                .unwrap()
                .blast_score,
            Some(-i64::MAX)
        );
    }

    #[test]
    fn owned_and_borrowed_parsers_agree() {
        for v in [
            with("request", json!({"a": [1, {"b": null}]})),
            with("request", json!(3)),
            with("privilege_context", json!({"x": 1})),
            with("blast_radius", json!([1])),
            json!("not an object"),
        ] {
            assert_eq!(
                parse_route_input_owned(v.clone()),
                parse_route_input(&v),
                "{v}"
            );
        }
    }

    #[test]
    fn dry_run_coercions() {
        for (raw, want) in [
            (json!(true), true),
            (json!(0), false),
            (json!(1.0), true),
            (json!("YES"), true),
            (json!("off"), false),
            (json!("t"), true),
            (json!("0"), false),
        ] {
            assert_eq!(
                parse_route_input(&with("dry_run", raw.clone()))
                    .unwrap()
                    .dry_run,
                want,
                "{raw}"
            );
        }
        for raw in [json!(null), json!(2), json!(""), json!("maybe"), json!([])] {
            assert_eq!(invalid(with("dry_run", raw.clone())), ["dry_run"], "{raw}");
        }
    }

    #[test]
    fn strings_and_enums_are_strict() {
        assert_eq!(invalid(with("env", json!("DEV"))), ["env"]);
        assert_eq!(invalid(with("env", json!("dev "))), ["env"]);
        assert_eq!(invalid(with("qos_class", json!("p0"))), ["qos_class"]);
        assert_eq!(invalid(with("tenant_id", json!(["acme"]))), ["tenant_id"]);
        assert_eq!(
            invalid(with("tenant_id", json!(" \u{1f}\u{85}"))),
            ["tenant_id"]
        );
        assert_eq!(invalid(with("capability_id", json!(5))), ["capability_id"]);
        assert_eq!(
            invalid(with("tenant_credential", json!(1))),
            ["tenant_credential"]
        );
        assert!(parse_route_input(&with("correlation_id", json!(""))).is_ok());
        assert_eq!(
            invalid(with("correlation_id", json!(null))),
            ["correlation_id"]
        );
    }

    #[test]
    fn containers_are_typed() {
        assert_eq!(invalid(with("request", json!([1, 2]))), ["request"]);
        assert_eq!(invalid(with("request", json!(null))), ["request"]);
        assert_eq!(invalid(with("blast_radius", json!("x"))), ["blast_radius"]);
        assert!(parse_route_input(&with("privilege_context", json!(null))).is_ok());
    }

    #[test]
    fn every_bad_field_is_reported_sorted() {
        let mut v = with("env", json!("production"));
        v["qos_class"] = json!("P9");
        v.as_object_mut().unwrap().remove("capability_id");
        v["unknown_key"] = json!(1);
        let err = parse_route_input(&v).unwrap_err();
        assert_eq!(err.invalid_fields, ["capability_id", "env", "qos_class"]);
        assert!(
            err.message.contains("env") && err.message.contains("production"),
            "{}",
            err.message
        );
        assert!(parse_route_input(&json!([1]))
            .unwrap_err()
            .invalid_fields
            .is_empty());
    }
}
