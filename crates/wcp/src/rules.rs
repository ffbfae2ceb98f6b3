//! The rules file (SPEC.md §1.6): validation, compilation into an index, first-match lookup.
//!
//! A rule set is validated and compiled once. Types the reference would crash on (a `match`
//! that is not an object, a non-boolean escalation flag, `{"in": "abc"}`) are load errors
//! naming the rule and JSON path, so a decision never meets them. The index buckets rules by
//! literal `capability_id` (plus one bucket of capability wildcards) and turns the other four
//! conditions into bit masks over their closed enumerations, so a lookup touches only rules
//! that can match and tests each with four bit operations. Shadow detection (§2.1) runs here,
//! once per load.

use crate::model::{DataLabel, Env, Escalation, PreconditionsChecked, QosClass, TenantRisk};
use crate::model::{CTRL_BLAST_RADIUS_SCORING, CTRL_PRIVILEGE_ENVELOPES_REQUIRED};
use crate::shadow::{detect_shadow_rules, MatchOf, ShadowWarning};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// A rules file that cannot be used, with where and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RulesError {
    #[error("rules file is not valid JSON: {0}")]
    Json(String),
    #[error("rules file must be a JSON object with a \"rules\" array{0}")]
    Document(String),
    #[error("rule #{index}{id}: {path}: {problem}", id = rule_id.as_ref().map(|i| format!(" ({i:?})")).unwrap_or_default())]
    Rule {
        index: usize,
        rule_id: Option<String>,
        path: String,
        problem: String,
    },
}

/// One candidate entry of a rule, in preference order.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleCandidate {
    /// `None` when missing, null or empty: the entry is reported as `__missing__`.
    pub worker_species_id: Option<String>,
    pub score_hint: Option<f64>,
}

/// A validated rule: its raw `match` (for shadow detection and display) and typed decision.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    pub rule_id: String,
    pub match_conditions: Map<String, Value>,
    pub candidates: Vec<RuleCandidate>,
    /// De-duplicated and sorted ascending.
    pub required_controls: Vec<String>,
    pub recommended_profiles: Vec<Value>,
    pub escalation: Escalation,
    pub preconditions: PreconditionsChecked,
    /// The rule requires `ctrl.blast_radius_scoring`.
    pub requires_blast_scoring: bool,
    /// The rule requires `ctrl.privilege_envelopes_required`.
    pub requires_privilege_envelope: bool,
}

/// A compiled condition on `capability_id`.
#[derive(Clone, Debug)]
enum CapCondition {
    Any,
    OneOf(Vec<String>),
    Never,
}

/// Bit masks of accepted values for the four enumerated match keys.
#[derive(Clone, Copy, Debug)]
struct EnumMasks {
    env: u8,
    data_label: u8,
    tenant_risk: u8,
    qos_class: u8,
}

/// The request fields rule matching looks at.
#[derive(Clone, Copy, Debug)]
pub struct MatchKey<'a> {
    pub capability_id: &'a str,
    pub env: Env,
    pub data_label: DataLabel,
    pub tenant_risk: TenantRisk,
    pub qos_class: QosClass,
}

/// An ordered, validated, indexed rule set with its shadow warnings.
#[derive(Clone, Debug)]
pub struct RuleSet {
    rules: Vec<Rule>,
    masks: Vec<EnumMasks>,
    by_capability: HashMap<String, Vec<u32>>,
    capability_wildcards: Vec<u32>,
    shadow_warnings: Vec<ShadowWarning>,
}

impl std::str::FromStr for RuleSet {
    type Err = RulesError;

    /// Parses and validates a rules file's text. A missing `rules` key is an error.
    fn from_str(text: &str) -> Result<Self, RulesError> {
        let doc: Value = serde_json::from_str(text).map_err(|e| RulesError::Json(e.to_string()))?;
        Self::from_json(&doc)
    }
}

impl RuleSet {
    /// Validates a rules document. A missing `rules` key is an error (the file loader's rule).
    pub fn from_json(doc: &Value) -> Result<Self, RulesError> {
        let obj = doc
            .as_object()
            .ok_or_else(|| RulesError::Document(String::new()))?;
        if !obj.contains_key("rules") {
            return Err(RulesError::Document(
                " (the \"rules\" key is missing)".into(),
            ));
        }
        Self::from_dict(doc)
    }

    /// Validates a rules document the way the reference's dict loader does: a missing
    /// `rules` key means no rules (every request is then denied with no match).
    pub fn from_dict(doc: &Value) -> Result<Self, RulesError> {
        let obj = doc
            .as_object()
            .ok_or_else(|| RulesError::Document(String::new()))?;
        let list = match obj.get("rules") {
            None => &[][..],
            Some(Value::Array(list)) => list.as_slice(),
            Some(_) => return Err(RulesError::Document(" (\"rules\" is not an array)".into())),
        };
        let rules = list
            .iter()
            .enumerate()
            .map(|(i, r)| parse_rule(i, r))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::compile(rules))
    }

    /// Builds the index and runs shadow detection over already-validated rules.
    pub fn compile(rules: Vec<Rule>) -> Self {
        let mut by_capability: HashMap<String, Vec<u32>> = HashMap::new();
        let mut capability_wildcards = Vec::new();
        let mut masks = Vec::with_capacity(rules.len());
        for (i, rule) in rules.iter().enumerate() {
            let i = i as u32;
            match cap_condition(rule.match_conditions.get("capability_id")) {
                CapCondition::Any => capability_wildcards.push(i),
                CapCondition::OneOf(caps) => {
                    for cap in caps {
                        let bucket = by_capability.entry(cap).or_default();
                        if bucket.last() != Some(&i) {
                            bucket.push(i);
                        }
                    }
                }
                CapCondition::Never => {}
            }
            let m = &rule.match_conditions;
            masks.push(EnumMasks {
                env: enum_mask(m.get("env"), Env::ALL, |e| e.as_str()),
                data_label: enum_mask(m.get("data_label"), DataLabel::ALL, |e| e.as_str()),
                tenant_risk: enum_mask(m.get("tenant_risk"), TenantRisk::ALL, |e| e.as_str()),
                qos_class: enum_mask(m.get("qos_class"), QosClass::ALL, |e| e.as_str()),
            });
        }
        let matches: Vec<MatchOf<'_>> = rules
            .iter()
            .map(|r| (r.rule_id.as_str(), &r.match_conditions))
            .collect();
        let shadow_warnings = detect_shadow_rules(&matches);
        Self {
            rules,
            masks,
            by_capability,
            capability_wildcards,
            shadow_warnings,
        }
    }

    /// Rules in file order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Shadow warnings (§2.1), computed once at load, in detection order.
    pub fn shadow_warnings(&self) -> &[ShadowWarning] {
        &self.shadow_warnings
    }

    /// The first rule (file order) whose every condition passes.
    pub fn first_match(&self, key: &MatchKey<'_>) -> Option<&Rule> {
        let literal = self
            .by_capability
            .get(key.capability_id)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let wild = self.capability_wildcards.as_slice();
        // Merge the two ascending index lists, stopping at the first full match.
        let (mut a, mut b) = (0, 0);
        loop {
            let next = match (literal.get(a), wild.get(b)) {
                (Some(&x), Some(&y)) if x < y => {
                    a += 1;
                    x
                }
                (Some(&x), None) => {
                    a += 1;
                    x
                }
                (_, Some(&y)) => {
                    b += 1;
                    y
                }
                (None, None) => return None,
            };
            let m = self.masks[next as usize];
            if m.env & bit(key.env.index()) != 0
                && m.data_label & bit(key.data_label.index()) != 0
                && m.tenant_risk & bit(key.tenant_risk.index()) != 0
                && m.qos_class & bit(key.qos_class.index()) != 0
            {
                return Some(&self.rules[next as usize]);
            }
        }
    }
}

const fn bit(i: usize) -> u8 {
    1 << i
}

/// Condition semantics (§1.6): absent/null or `{"any": true}` pass; `{"in": [...]}` passes for
/// a listed value; anything else passes only when equal to the (string) input value.
enum Condition<'a> {
    Any,
    OneOf(&'a [Value]),
    Equals(&'a Value),
}

fn condition(cond: Option<&Value>) -> Condition<'_> {
    match cond {
        None | Some(Value::Null) => Condition::Any,
        Some(Value::Object(o)) if o.get("any") == Some(&Value::Bool(true)) => Condition::Any,
        // Validation guarantees `in` holds an array.
        Some(Value::Object(o)) if o.contains_key("in") => Condition::OneOf(
            o.get("in")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or(&[]),
        ),
        Some(other) => Condition::Equals(other),
    }
}

fn cap_condition(cond: Option<&Value>) -> CapCondition {
    match condition(cond) {
        Condition::Any => CapCondition::Any,
        Condition::OneOf(items) => CapCondition::OneOf(
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
        ),
        Condition::Equals(Value::String(s)) => CapCondition::OneOf(vec![s.clone()]),
        Condition::Equals(_) => CapCondition::Never,
    }
}

fn enum_mask<T: Copy>(cond: Option<&Value>, all: &[T], name: fn(T) -> &'static str) -> u8 {
    let accepts = |v: &Value| -> u8 {
        all.iter()
            .enumerate()
            .filter(|(_, e)| v.as_str() == Some(name(**e)))
            .fold(0, |acc, (i, _)| acc | bit(i))
    };
    match condition(cond) {
        Condition::Any => u8::MAX,
        Condition::OneOf(items) => items.iter().fold(0, |acc, v| acc | accepts(v)),
        Condition::Equals(v) => accepts(v),
    }
}

struct RuleCtx<'a> {
    index: usize,
    rule_id: Option<&'a str>,
}

impl RuleCtx<'_> {
    fn err(&self, path: impl Into<String>, problem: impl Into<String>) -> RulesError {
        RulesError::Rule {
            index: self.index,
            rule_id: self.rule_id.map(str::to_owned),
            path: path.into(),
            problem: problem.into(),
        }
    }
}

fn parse_rule(index: usize, raw: &Value) -> Result<Rule, RulesError> {
    let mut ctx = RuleCtx {
        index,
        rule_id: None,
    };
    let obj = raw
        .as_object()
        .ok_or_else(|| ctx.err(format!("rules[{index}]"), "a rule must be an object"))?;
    let rule_id = match obj.get("rule_id") {
        Some(Value::String(s)) => s.as_str(),
        None => return Err(ctx.err("rule_id", "is required")),
        Some(_) => return Err(ctx.err("rule_id", "must be a string")),
    };
    ctx.rule_id = Some(rule_id);
    let match_conditions = optional_object(&ctx, obj.get("match"), "match")?;
    for (key, cond) in &match_conditions {
        validate_condition(&ctx, &format!("match.{key}"), cond)?;
    }
    let decision = optional_object(&ctx, obj.get("decision"), "decision")?;
    let candidates = match decision.get("candidate_workers_ranked") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, c)| parse_candidate(&ctx, i, c))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(ctx.err("decision.candidate_workers_ranked", "must be an array")),
    };
    let mut required_controls = string_list(
        &ctx,
        decision.get("required_controls_suggested"),
        "decision.required_controls_suggested",
    )?;
    required_controls.sort();
    required_controls.dedup();
    let recommended_profiles = match decision.get("recommended_profiles") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) if items.iter().all(Value::is_object) => items.clone(),
        Some(_) => {
            return Err(ctx.err(
                "decision.recommended_profiles",
                "must be an array of objects",
            ))
        }
    };
    let escalation = parse_escalation(&ctx, decision.get("escalation"))?;
    let preconditions = parse_preconditions(&ctx, decision.get("preconditions"))?;
    let has = |c: &str| required_controls.iter().any(|x| x == c);
    Ok(Rule {
        rule_id: rule_id.to_owned(),
        requires_blast_scoring: has(CTRL_BLAST_RADIUS_SCORING),
        requires_privilege_envelope: has(CTRL_PRIVILEGE_ENVELOPES_REQUIRED),
        match_conditions,
        candidates,
        required_controls,
        recommended_profiles,
        escalation,
        preconditions,
    })
}

/// `null` stands for an absent object (the reference's `x or {}`).
fn optional_object(
    ctx: &RuleCtx<'_>,
    v: Option<&Value>,
    path: &str,
) -> Result<Map<String, Value>, RulesError> {
    match v {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(o)) => Ok(o.clone()),
        Some(_) => Err(ctx.err(path, "must be an object")),
    }
}

/// Conditions the reference could not evaluate (or would evaluate by accident, like the
/// substring test of `{"in": "abc"}`, SPEC.md §6 #12) are rejected here.
fn validate_condition(ctx: &RuleCtx<'_>, path: &str, cond: &Value) -> Result<(), RulesError> {
    let Value::Object(o) = cond else {
        return Ok(());
    };
    let Some(list) = o.get("in") else {
        return Ok(());
    };
    let Value::Array(items) = list else {
        return Err(ctx.err(
            format!("{path}.in"),
            "must be an array of values (a string is not a list)",
        ));
    };
    match items.iter().position(|x| x.is_array() || x.is_object()) {
        Some(pos) => Err(ctx.err(
            format!("{path}.in[{pos}]"),
            "must be a string or another scalar",
        )),
        None => Ok(()),
    }
}

fn parse_candidate(ctx: &RuleCtx<'_>, i: usize, c: &Value) -> Result<RuleCandidate, RulesError> {
    let path = format!("decision.candidate_workers_ranked[{i}]");
    let o = c
        .as_object()
        .ok_or_else(|| ctx.err(&path, "must be an object"))?;
    let worker_species_id = match o.get("worker_species_id") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(ctx.err(format!("{path}.worker_species_id"), "must be a string")),
    };
    let score_hint = match o.get("score_hint") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => n.as_f64(),
        Some(_) => return Err(ctx.err(format!("{path}.score_hint"), "must be a number or null")),
    };
    Ok(RuleCandidate {
        worker_species_id,
        score_hint,
    })
}

fn string_list(
    ctx: &RuleCtx<'_>,
    v: Option<&Value>,
    path: &str,
) -> Result<Vec<String>, RulesError> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, x)| {
                x.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| ctx.err(format!("{path}[{i}]"), "must be a string"))
            })
            .collect(),
        Some(_) => Err(ctx.err(path, "must be an array of strings")),
    }
}

fn bool_field(
    ctx: &RuleCtx<'_>,
    o: &Map<String, Value>,
    key: &str,
    path: &str,
    default: bool,
) -> Result<bool, RulesError> {
    match o.get(key) {
        None => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(ctx.err(format!("{path}.{key}"), "must be true or false")),
    }
}

fn parse_escalation(ctx: &RuleCtx<'_>, v: Option<&Value>) -> Result<Escalation, RulesError> {
    const P: &str = "decision.escalation";
    let o = optional_object(ctx, v, P)?;
    let human_required_if = match o.get("human_required_if") {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, x)| {
                x.as_object().cloned().ok_or_else(|| {
                    ctx.err(format!("{P}.human_required_if[{i}]"), "must be an object")
                })
            })
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(ctx.err(
                format!("{P}.human_required_if"),
                "must be an array of objects",
            ))
        }
    };
    let rationale = match o.get("rationale") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(ctx.err(format!("{P}.rationale"), "must be a string or null")),
    };
    Ok(Escalation {
        policy_gate: bool_field(ctx, &o, "policy_gate", P, false)?,
        msavx_step_up: bool_field(ctx, &o, "msavx_step_up", P, false)?,
        human_required_default: bool_field(ctx, &o, "human_required_default", P, false)?,
        human_required_if,
        rationale,
    })
}

fn parse_preconditions(
    ctx: &RuleCtx<'_>,
    v: Option<&Value>,
) -> Result<PreconditionsChecked, RulesError> {
    const P: &str = "decision.preconditions";
    let o = optional_object(ctx, v, P)?;
    let d = PreconditionsChecked::default();
    Ok(PreconditionsChecked {
        must_have_correlation_id: bool_field(
            ctx,
            &o,
            "must_have_correlation_id",
            P,
            d.must_have_correlation_id,
        )?,
        must_attach_policy_version: bool_field(
            ctx,
            &o,
            "must_attach_policy_version",
            P,
            d.must_attach_policy_version,
        )?,
        must_record_artifact_hash_if_executes: bool_field(
            ctx,
            &o,
            "must_record_artifact_hash_if_executes",
            P,
            d.must_record_artifact_hash_if_executes,
        )?,
        deny_if_missing_required_controls: bool_field(
            ctx,
            &o,
            "deny_if_missing_required_controls",
            P,
            d.deny_if_missing_required_controls,
        )?,
        deny_if_unsigned_artifact_in_prod: bool_field(
            ctx,
            &o,
            "deny_if_unsigned_artifact_in_prod",
            P,
            d.deny_if_unsigned_artifact_in_prod,
        )?,
        deny_if_no_attestation_in_prod: bool_field(
            ctx,
            &o,
            "deny_if_no_attestation_in_prod",
            P,
            d.deny_if_no_attestation_in_prod,
        )?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(cap: &str, env: Env) -> MatchKey<'_> {
        MatchKey {
            capability_id: cap,
            env,
            data_label: DataLabel::Public,
            tenant_risk: TenantRisk::Low,
            qos_class: QosClass::P2,
        }
    }

    fn ids(set: &RuleSet, cap: &str, env: Env) -> Option<String> {
        set.first_match(&key(cap, env)).map(|r| r.rule_id.clone())
    }

    #[test]
    fn first_match_in_file_order_across_buckets() {
        let set = RuleSet::from_json(&json!({"rules": [
            {"rule_id": "a", "match": {"capability_id": "cap.x", "env": "prod"}},
            {"rule_id": "b", "match": {"env": {"in": ["dev", "stage"]}}},
            {"rule_id": "c", "match": {"capability_id": {"in": ["cap.x", "cap.y"]}}},
            {"rule_id": "d", "match": {"capability_id": {"any": true}}}
        ]}))
        .unwrap();
        assert_eq!(ids(&set, "cap.x", Env::Prod).as_deref(), Some("a"));
        assert_eq!(ids(&set, "cap.x", Env::Dev).as_deref(), Some("b"));
        assert_eq!(ids(&set, "cap.y", Env::Edge).as_deref(), Some("c"));
        assert_eq!(ids(&set, "cap.z", Env::Edge).as_deref(), Some("d"));
    }

    #[test]
    fn condition_semantics() {
        let set = RuleSet::from_json(&json!({"rules": [
            {"rule_id": "eq-op", "match": {"capability_id": {"eq": "cap.x"}}},
            {"rule_id": "any-false", "match": {"env": {"any": false}}},
            {"rule_id": "glob", "match": {"capability_id": "cap.*"}},
            {"rule_id": "number", "match": {"qos_class": 2}},
            {"rule_id": "in-mixed", "match": {"capability_id": "cap.x", "env": {"in": [1, "dev", null]}}},
            {"rule_id": "null-is-wildcard", "match": {"capability_id": null, "env": "stage"}}
        ]}))
        .unwrap();
        assert_eq!(ids(&set, "cap.x", Env::Dev).as_deref(), Some("in-mixed"));
        assert_eq!(
            ids(&set, "cap.*", Env::Prod).as_deref(),
            Some("glob"),
            "literal, not a pattern"
        );
        assert_eq!(ids(&set, "cap.q", Env::Prod), None);
        assert_eq!(
            ids(&set, "cap.q", Env::Stage).as_deref(),
            Some("null-is-wildcard")
        );
        assert_eq!(ids(&set, "cap.x", Env::Prod), None);
    }

    #[test]
    fn empty_and_missing_rules() {
        assert!(RuleSet::from_dict(&json!({})).unwrap().rules().is_empty());
        let err = RuleSet::from_json(&json!({})).unwrap_err();
        assert!(
            err.to_string().contains("\"rules\" key is missing"),
            "{err}"
        );
        assert!(matches!("{".parse::<RuleSet>(), Err(RulesError::Json(_))));
    }

    #[test]
    fn bad_types_name_rule_and_path() {
        let cases = [
            (
                json!({"rules": ["r"]}),
                "rule #0: rules[0]: a rule must be an object",
            ),
            (
                json!({"rules": [{"rule_id": 7}]}),
                "rule #0: rule_id: must be a string",
            ),
            (
                json!({"rules": [{"rule_id": "r", "decision": {"recommended_profiles": ["p"]}}]}),
                "decision.recommended_profiles",
            ),
            (
                json!({"rules": [{"rule_id": "r", "decision": {"escalation": {"rationale": 1}}}]}),
                "decision.escalation.rationale",
            ),
            (
                json!({"rules": [{"rule_id": "r", "decision": {"candidate_workers_ranked": [{"score_hint": "1"}]}}]}),
                "score_hint",
            ),
            (
                json!({"rules": [{"rule_id": "r", "decision": []}]}),
                "decision: must be an object",
            ),
            (
                json!({"rules": [{"match": {}}]}),
                "rule #0: rule_id: is required",
            ),
            (
                json!({"rules": [{"rule_id": "r", "match": []}]}),
                "rule #0 (\"r\"): match: must be an object",
            ),
            (
                json!({"rules": [{"rule_id": "r", "match": {"env": {"in": "dev"}}}]}),
                "match.env.in: must be an array",
            ),
            (
                json!({"rules": [{"rule_id": "r", "match": {"env": {"in": [["dev"]]}}}]}),
                "match.env.in[0]",
            ),
            (
                json!({"rules": [{"rule_id": "ok"}, {"rule_id": "r", "decision": {"escalation": {"policy_gate": "yes"}}}]}),
                "rule #1 (\"r\"): decision.escalation.policy_gate",
            ),
            (
                json!({"rules": [{"rule_id": "r", "decision": {"preconditions": {"must_have_correlation_id": null}}}]}),
                "decision.preconditions.must_have_correlation_id",
            ),
            (
                json!({"rules": [{"rule_id": "r", "decision": {"candidate_workers_ranked": [{"worker_species_id": 3}]}}]}),
                "candidate_workers_ranked[0].worker_species_id",
            ),
            (
                json!({"rules": [{"rule_id": "r", "decision": {"required_controls_suggested": "ctrl.a"}}]}),
                "required_controls_suggested: must be an array",
            ),
            (
                json!({"rules": {"rule_id": "r"}}),
                "\"rules\" is not an array",
            ),
        ];
        for (doc, want) in cases {
            let err = RuleSet::from_json(&doc).unwrap_err().to_string();
            assert!(err.contains(want), "{err} should contain {want}");
        }
    }

    #[test]
    fn decision_parts_are_normalised() {
        let set = RuleSet::from_json(&json!({"rules": [{"rule_id": "r", "decision": {
            "candidate_workers_ranked": [{"worker_species_id": "w", "score_hint": 1}, {}, {"worker_species_id": ""}],
            "required_controls_suggested": ["ctrl.b", "ctrl.blast_radius_scoring", "ctrl.b"],
            "escalation": null, "preconditions": {"must_have_correlation_id": false}
        }}]}))
        .unwrap();
        let r = &set.rules()[0];
        assert_eq!(r.required_controls, ["ctrl.b", "ctrl.blast_radius_scoring"]);
        assert!(r.requires_blast_scoring && !r.requires_privilege_envelope);
        assert_eq!(r.candidates[0].score_hint, Some(1.0));
        assert_eq!(r.candidates[1].worker_species_id, None);
        assert_eq!(r.candidates[2].worker_species_id, None);
        assert!(
            !r.preconditions.must_have_correlation_id
                && r.preconditions.deny_if_missing_required_controls
        );
        assert_eq!(r.escalation, Escalation::default());
    }
}
