//! The conformance harness: turns one `route.jsonl` scenario (`tests/vectors/README.md`)
//! into a configured [`Router`] and an input, decides, and compares with `expected`.
//!
//! This is how Proctor is checked against other WCP implementations, so every part of a
//! scenario is applied exactly as the README describes: registry records enrolled in order
//! (a record that cannot be enrolled is skipped, like the reference's directory loader),
//! operator controls, the availability override, egress allowlists, the hall config, the
//! declarative gate and the attestation/privilege sources.

use crate::attestation::MapHashes;
use crate::gate::DeclarativeGate;
use crate::input::{parse_route_input, InputError, RouteInput};
use crate::model::{Env, HallConfig, RouteDecision};
use crate::py::py_eq;
use crate::registry::Registry;
use crate::router::Router;
use crate::rules::RuleSet;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// A scenario that cannot be set up (as opposed to an input the parser rejects).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("scenario {id}: {problem}")]
pub struct ScenarioError {
    pub id: String,
    pub problem: String,
}

/// A configured router with the scenario's input (parsed or rejected).
pub struct Scenario {
    pub id: String,
    pub router: Router,
    pub input: Result<RouteInput, InputError>,
    /// The `expected` object, when the scenario has one.
    pub expected: Option<Value>,
}

/// What the router made of a scenario's input.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Decision(Box<RouteDecision>),
    Invalid(InputError),
}

impl Scenario {
    /// Parses one JSONL line.
    pub fn from_line(line: &str) -> Result<Self, ScenarioError> {
        let v: Value = serde_json::from_str(line).map_err(|e| ScenarioError {
            id: "?".into(),
            problem: format!("not valid JSON: {e}"),
        })?;
        Self::from_json(&v)
    }

    /// Builds the router and parses the input of a scenario object.
    pub fn from_json(v: &Value) -> Result<Self, ScenarioError> {
        let id = v
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_string();
        let fail = |problem: String| ScenarioError {
            id: id.clone(),
            problem,
        };
        let obj = v
            .as_object()
            .ok_or_else(|| fail("a scenario must be a JSON object".into()))?;
        let empty = Value::Object(Map::new());
        let section = |k: &str| obj.get(k).filter(|s| !s.is_null()).unwrap_or(&empty);

        let rules =
            RuleSet::from_dict(section("rules")).map_err(|e| fail(format!("rules: {e}")))?;
        let registry = build_registry(section("registry")).map_err(fail)?;
        let hall = section("hall");
        let hall_config = match hall.get("hall_config") {
            None | Some(Value::Null) => None,
            Some(c) => Some(
                serde_json::from_value::<HallConfig>(c.clone())
                    .map_err(|e| fail(format!("hall.hall_config: {e}")))?,
            ),
        };
        let registered = match hall.get("registered_hashes_override") {
            None | Some(Value::Null) => registry.registered_hashes().clone(),
            Some(m) => {
                string_map(m).map_err(|p| fail(format!("hall.registered_hashes_override: {p}")))?
            }
        };
        let current = match hall.get("current_hashes") {
            None | Some(Value::Null) => HashMap::new(),
            Some(m) => string_map(m).map_err(|p| fail(format!("hall.current_hashes: {p}")))?,
        };
        let registry = Arc::new(registry);
        let mut router =
            Router::new(Arc::new(rules), registry.clone()).with_hall_config(hall_config);
        if let Some(gate) = hall.get("policy_gate").filter(|g| !g.is_null()) {
            let gate = DeclarativeGate::from_json(gate)
                .map_err(|e| fail(format!("hall.policy_gate: {e}")))?;
            router = router.with_policy_gate(Arc::new(gate));
        }
        if flag(hall, "privilege_callables") {
            router = router.with_privilege_policy(registry);
        }
        if flag(hall, "attestation_callables") {
            router = router.with_worker_hashes(Arc::new(MapHashes {
                registered,
                current,
            }));
        }
        let input = parse_route_input(obj.get("input").unwrap_or(&Value::Null));
        Ok(Self {
            id,
            router,
            input,
            expected: obj.get("expected").cloned(),
        })
    }

    /// Decides the input (or reports why it was rejected).
    pub fn run(&self) -> Outcome {
        match &self.input {
            Ok(inp) => Outcome::Decision(Box::new(self.router.decide(inp))),
            Err(e) => Outcome::Invalid(e.clone()),
        }
    }
}

fn flag(hall: &Value, key: &str) -> bool {
    hall.get(key).and_then(Value::as_bool).unwrap_or(false)
}

fn string_map(m: &Value) -> Result<HashMap<String, String>, String> {
    let obj = m.as_object().ok_or("must be an object")?;
    obj.iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| {
            v.as_str()
                .map(|s| (k.clone(), s.to_owned()))
                .ok_or_else(|| format!("{k}: must be a string"))
        })
        .collect()
}

fn build_registry(section: &Value) -> Result<Registry, String> {
    let mut registry = Registry::new();
    match section.get("workers") {
        None | Some(Value::Null) => {}
        Some(Value::Array(records)) => {
            for record in records {
                if let Err(e) = registry.enroll(record) {
                    tracing::warn!(target: "wcp::scenario", "skipping record: {e}");
                }
            }
        }
        Some(_) => return Err("registry.workers: must be an array".into()),
    }
    if let Some(extra) = section
        .get("controls_present_extra")
        .filter(|v| !v.is_null())
    {
        registry.add_controls_present(
            strings(extra).ok_or("registry.controls_present_extra: must be an array of strings")?,
        );
    }
    if let Some(list) = section
        .get("workers_available_override")
        .filter(|v| !v.is_null())
    {
        registry.set_workers_available(
            strings(list)
                .ok_or("registry.workers_available_override: must be an array of strings")?,
        );
    }
    if let Some(allow) = section.get("egress_allowlist").filter(|v| !v.is_null()) {
        let allow = allow
            .as_object()
            .ok_or("registry.egress_allowlist: must be an object")?;
        for (env, list) in allow {
            let env = Env::parse(env)
                .ok_or_else(|| format!("registry.egress_allowlist: unknown env {env:?}"))?;
            registry.set_egress_allowlist(
                env,
                strings(list).ok_or("registry.egress_allowlist: lists of strings expected")?,
            );
        }
    }
    Ok(registry)
}

fn strings(v: &Value) -> Option<Vec<String>> {
    v.as_array()?
        .iter()
        .map(|x| x.as_str().map(str::to_owned))
        .collect()
}

impl Outcome {
    /// The line `proctor conformance decide` prints: the decision, or
    /// `{"input_valid": false, "invalid_fields": [...], "error": "..."}`.
    pub fn to_json(&self) -> Value {
        match self {
            Outcome::Decision(d) => serde_json::to_value(d).unwrap_or(Value::Null),
            Outcome::Invalid(e) => {
                json!({"input_valid": false, "invalid_fields": e.invalid_fields, "error": e.message})
            }
        }
    }

    /// The outcome in the vectors' `expected` format (random fields left out).
    pub fn observed(&self) -> Value {
        let d = match self {
            Outcome::Invalid(e) => {
                return json!({"input_valid": false, "invalid_fields": e.invalid_fields})
            }
            Outcome::Decision(d) => d,
        };
        let telemetry: Vec<Value> = d
            .telemetry_envelopes
            .iter()
            .map(|e| {
                let mut e = e.to_json();
                e.shift_remove("timestamp");
                Value::Object(e)
            })
            .collect();
        let reason = serde_json::to_value(&d.deny_reason_if_denied).unwrap_or(Value::Null);
        json!({
            "input_valid": true,
            "denied": d.denied,
            "deny_code": d.deny_code().map(|c| c.as_str()),
            "deny_reason": reason,
            "matched_rule_id": d.matched_rule_id,
            "selected_worker_species_id": d.selected_worker_species_id,
            "candidate_workers_ranked": d.candidate_workers_ranked,
            "required_controls_effective": d.required_controls_effective,
            "recommended_profiles_effective": d.recommended_profiles_effective,
            "escalation_effective": d.escalation_effective,
            "preconditions_checked": d.preconditions_checked,
            "dry_run": d.dry_run,
            "worker_attestation_checked": d.worker_attestation_checked,
            "worker_attestation_valid": d.worker_attestation_valid,
            "artifact_hash": d.artifact_hash,
            "telemetry": telemetry,
        })
    }
}

/// Every key of `expected` that the observed outcome does not reproduce exactly, as
/// `key: expected <json>, got <json>` lines.
pub fn compare(expected: &Value, observed: &Value) -> Vec<String> {
    let Some(expected) = expected.as_object() else {
        return vec!["expected: not an object".into()];
    };
    expected
        .iter()
        .filter_map(|(k, want)| {
            let got = observed.get(k).unwrap_or(&Value::Null);
            (!py_eq(want, got)).then(|| format!("{k}: expected {want}, got {got}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(patch: Value) -> Result<Scenario, ScenarioError> {
        let mut v = json!({"id": "s1", "rules": {"rules": []}, "registry": {"workers": [], "egress_allowlist": {}},
                           "hall": {"hall_config": null, "policy_gate": null, "privilege_callables": false, "attestation_callables": false},
                           "input": {}});
        for (k, x) in patch.as_object().unwrap() {
            v[k] = x.clone();
        }
        Scenario::from_json(&v)
    }

    #[test]
    fn setup_errors_name_the_section() {
        let cases = [
            (
                json!({"rules": {"rules": [{"match": {}}]}}),
                "rules: rule #0",
            ),
            (json!({"registry": {"workers": {}}}), "registry.workers"),
            (
                json!({"registry": {"egress_allowlist": {"production": []}}}),
                "unknown env",
            ),
            (
                json!({"hall": {"hall_config": {"require_signatory": "yes"}}}),
                "hall.hall_config",
            ),
            (
                json!({"hall": {"policy_gate": {"default": "ALLOW"}}}),
                "hall.policy_gate",
            ),
            (
                json!({"hall": {"current_hashes": {"wrk.a": 5}}}),
                "hall.current_hashes",
            ),
        ];
        for (patch, want) in cases {
            let err = scenario(patch).err().expect("set-up fails").to_string();
            assert!(
                err.starts_with("scenario s1: ") && err.contains(want),
                "{err} should contain {want}"
            );
        }
    }

    #[test]
    fn rejected_inputs_are_outcomes_not_errors() {
        let s = scenario(json!({"input": {"env": "DEV"}})).unwrap();
        let Outcome::Invalid(e) = s.run() else {
            panic!("input should be rejected")
        };
        assert!(e.invalid_fields.contains(&"env".to_string()));
        assert_eq!(s.run().to_json()["input_valid"], false);
        assert!(s.run().to_json()["error"].as_str().unwrap().contains("env"));
    }

    #[test]
    fn unparsable_lines_are_errors() {
        assert!(Scenario::from_line("{")
            .err()
            .unwrap()
            .to_string()
            .contains("not valid JSON"));
    }
}
