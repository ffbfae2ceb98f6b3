//! The policy gate (SPEC.md §1.10, §2 step 10) as an injected trait, with the reference's
//! allow-all stub and a declarative gate configured in JSON (the conformance vectors'
//! `hall.policy_gate` format).

use crate::model::{DataLabel, Env, QosClass, TenantRisk, DEFAULT_POLICY_VERSION};
use serde_json::{Map, Value};

/// What the gate sees: the request's routing fields (raw, not sanitized).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GateContext<'a> {
    pub capability_id: &'a str,
    pub tenant_id: &'a str,
    pub env: Env,
    pub data_label: DataLabel,
    pub tenant_risk: TenantRisk,
    pub qos_class: QosClass,
    /// Always [`DEFAULT_POLICY_VERSION`] on input.
    pub policy_version: &'a str,
}

impl GateContext<'_> {
    /// A context field by its wire name (`None` for unknown names).
    pub fn field(&self, name: &str) -> Option<&str> {
        Some(match name {
            "capability_id" => self.capability_id,
            "tenant_id" => self.tenant_id,
            "env" => self.env.as_str(),
            "data_label" => self.data_label.as_str(),
            "tenant_risk" => self.tenant_risk.as_str(),
            "qos_class" => self.qos_class.as_str(),
            "policy_version" => self.policy_version,
            _ => return None,
        })
    }
}

/// The gate's answer. `decision` is compared exactly: only `ALLOW`, `DENY` and
/// `REQUIRE_HUMAN` are understood; anything else fails closed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GateVerdict {
    pub decision: String,
    pub policy_version: String,
    pub reason: String,
}

impl GateVerdict {
    pub fn new(decision: &str, policy_version: &str, reason: &str) -> Self {
        Self {
            decision: decision.into(),
            policy_version: policy_version.into(),
            reason: reason.into(),
        }
    }
}

/// The gate failed to answer; the router denies with `DENY_INTERNAL_ERROR`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("policy gate failed: {0}")]
pub struct GateError(pub String);

/// Evaluates a request context.
pub trait PolicyGate: Send + Sync {
    fn evaluate(&self, ctx: &GateContext<'_>) -> Result<GateVerdict, GateError>;
}

/// The reference stub: allows everything under the context's policy version.
#[derive(Clone, Copy, Debug, Default)]
pub struct StubGate;

impl PolicyGate for StubGate {
    fn evaluate(&self, ctx: &GateContext<'_>) -> Result<GateVerdict, GateError> {
        let version = if ctx.policy_version.is_empty() {
            DEFAULT_POLICY_VERSION
        } else {
            ctx.policy_version
        };
        Ok(GateVerdict::new("ALLOW", version, "stub_allow"))
    }
}

/// A gate configuration that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("policy gate config: {path}: {problem}")]
pub struct GateConfigError {
    pub path: String,
    pub problem: String,
}

/// `{"rules": [{"when": {field: [values]}, "result": [decision, version, reason]}], "default": [...]}`:
/// the first rule whose every `when` field holds one of its listed values decides, else
/// `default`. A decision of `__RAISE__` makes the gate fail (for testing fail-closed paths).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeclarativeGate {
    rules: Vec<(Conditions, GateVerdict)>,
    default: GateVerdict,
}

/// `when` of a gate rule: each field must hold one of its listed values.
type Conditions = Vec<(String, Vec<String>)>;

/// The decision string that makes a [`DeclarativeGate`] fail instead of answering.
pub const RAISE: &str = "__RAISE__";

impl DeclarativeGate {
    pub fn from_json(config: &Value) -> Result<Self, GateConfigError> {
        let err = |path: &str, problem: &str| GateConfigError {
            path: path.into(),
            problem: problem.into(),
        };
        let obj = config
            .as_object()
            .ok_or_else(|| err("$", "must be an object"))?;
        let default = verdict(obj.get("default"), "default")?;
        let rules = match obj.get("rules") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    let path = format!("rules[{i}]");
                    let r = r
                        .as_object()
                        .ok_or_else(|| err(&path, "must be an object"))?;
                    Ok((
                        when(r.get("when"), &path)?,
                        verdict(r.get("result"), &format!("{path}.result"))?,
                    ))
                })
                .collect::<Result<_, GateConfigError>>()?,
            Some(_) => return Err(err("rules", "must be an array")),
        };
        Ok(Self { rules, default })
    }
}

fn verdict(v: Option<&Value>, path: &str) -> Result<GateVerdict, GateConfigError> {
    let strings: Option<Vec<&str>> = v
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect());
    match (strings, v.and_then(Value::as_array).map(Vec::len)) {
        (Some(s), Some(3)) if s.len() == 3 => Ok(GateVerdict::new(s[0], s[1], s[2])),
        _ => Err(GateConfigError {
            path: path.into(),
            problem: "must be [decision, policy_version, reason] strings".into(),
        }),
    }
}

fn when(v: Option<&Value>, path: &str) -> Result<Conditions, GateConfigError> {
    let empty = Map::new();
    let obj = match v {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(o)) => o,
        Some(_) => {
            return Err(GateConfigError {
                path: format!("{path}.when"),
                problem: "must be an object".into(),
            })
        }
    };
    obj.iter()
        .map(|(field, values)| {
            let list = values.as_array().and_then(|a| {
                a.iter()
                    .map(|x| x.as_str().map(str::to_owned))
                    .collect::<Option<Vec<_>>>()
            });
            list.map(|l| (field.clone(), l))
                .ok_or_else(|| GateConfigError {
                    path: format!("{path}.when.{field}"),
                    problem: "must be an array of strings".into(),
                })
        })
        .collect()
}

impl PolicyGate for DeclarativeGate {
    fn evaluate(&self, ctx: &GateContext<'_>) -> Result<GateVerdict, GateError> {
        let fires = |conds: &[(String, Vec<String>)]| {
            conds.iter().all(|(field, values)| {
                ctx.field(field)
                    .is_some_and(|v| values.iter().any(|x| x == v))
            })
        };
        let verdict = self
            .rules
            .iter()
            .find(|(conds, _)| fires(conds))
            .map_or(&self.default, |(_, v)| v);
        if verdict.decision == RAISE {
            return Err(GateError("configured to raise".into()));
        }
        Ok(verdict.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctx(tenant: &str) -> GateContext<'_> {
        GateContext {
            capability_id: "cap.x",
            tenant_id: tenant,
            env: Env::Prod,
            data_label: DataLabel::Internal,
            tenant_risk: TenantRisk::Low,
            qos_class: QosClass::P1,
            policy_version: DEFAULT_POLICY_VERSION,
        }
    }

    #[test]
    fn stub_allows() {
        assert_eq!(
            StubGate.evaluate(&ctx("t")).unwrap(),
            GateVerdict::new("ALLOW", "policy.v0", "stub_allow")
        );
    }

    #[test]
    fn declarative_first_rule_wins_then_default() {
        let gate = DeclarativeGate::from_json(&json!({
            "rules": [
                {"when": {"tenant_id": ["evil"], "env": ["prod"]}, "result": ["DENY", "policy.v2", "blocked"]},
                {"when": {"tenant_id": ["boom"]}, "result": ["__RAISE__", "x", "y"]},
                {"when": {"nonexistent": ["x"]}, "result": ["DENY", "p", "never"]}
            ],
            "default": ["ALLOW", "policy.v1", "default_allow"]
        }))
        .unwrap();
        assert_eq!(gate.evaluate(&ctx("evil")).unwrap().decision, "DENY");
        assert_eq!(
            gate.evaluate(&ctx("good")).unwrap(),
            GateVerdict::new("ALLOW", "policy.v1", "default_allow")
        );
        assert!(gate.evaluate(&ctx("boom")).is_err());
    }

    #[test]
    fn bad_configs_are_named() {
        let e = DeclarativeGate::from_json(&json!({"default": ["ALLOW", "v"]})).unwrap_err();
        assert_eq!(e.path, "default");
        let e = DeclarativeGate::from_json(&json!({"default": ["A", "v", "r"], "rules": [{"when": {"env": "prod"}, "result": ["A", "v", "r"]}]})).unwrap_err();
        assert_eq!(e.path, "rules[0].when.env");
    }
}
