//! Conformance: worker-record scoring (SPEC.md §1.13) and the CI-only decision check (§1.12).

use crate::model::{RouteDecision, TelemetryEvent};
use crate::py::truthy;
use serde::Serialize;
use serde_json::Value;

/// WCP conformance level of a worker record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum Level {
    #[serde(rename = "none")]
    None,
    #[serde(rename = "WCP-Basic")]
    Basic,
    #[serde(rename = "WCP-Standard")]
    Standard,
    #[serde(rename = "WCP-Full")]
    Full,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::None => "none",
            Level::Basic => "WCP-Basic",
            Level::Standard => "WCP-Standard",
            Level::Full => "WCP-Full",
        }
    }
}

/// One named check of a level.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Check {
    pub key: &'static str,
    pub label: &'static str,
    pub passed: bool,
}

/// A level's checks and whether the level (and every level below) is achieved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LevelReport {
    pub achieved: bool,
    pub checks: Vec<Check>,
}

impl LevelReport {
    /// Labels of the failed checks.
    pub fn missing(&self) -> Vec<&'static str> {
        self.checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| c.label)
            .collect()
    }
}

/// `check_worker_compliance(record)`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ConformanceReport {
    pub worker_id: String,
    pub worker_species_id: String,
    pub achieved_level: Level,
    pub basic: LevelReport,
    pub standard: LevelReport,
    pub full: LevelReport,
}

impl ConformanceReport {
    /// The first level not achieved, with what it lacks (`None` once Full is reached).
    pub fn next_level(&self) -> Option<(Level, Vec<&'static str>)> {
        [
            (Level::Basic, &self.basic),
            (Level::Standard, &self.standard),
            (Level::Full, &self.full),
        ]
        .into_iter()
        .find(|(_, r)| !r.achieved)
        .map(|(level, _)| {
            // A level needs the ones below it, so list everything missing up to it.
            let missing = [&self.basic, &self.standard, &self.full]
                .into_iter()
                .take(level as usize)
                .flat_map(LevelReport::missing)
                .collect();
            (level, missing)
        })
    }
}

/// Scores a registry record against the three levels (each requires the previous one).
pub fn check_worker(record: &Value) -> ConformanceReport {
    let get = |k: &str| record.get(k);
    let t = |k: &str| get(k).is_some_and(truthy);
    let controls = normalized_controls(record);
    let has = |frags: &[&str]| {
        frags
            .iter()
            .any(|f| controls.iter().any(|c| c.contains(&normalize(f))))
    };
    let check = |key, label, passed| Check { key, label, passed };

    let basic = vec![
        check("worker_id_present", "worker_id declared", t("worker_id")),
        check(
            "capabilities_non_empty",
            "capabilities[] non-empty",
            t("capabilities"),
        ),
        check(
            "worker_species_id_present",
            "worker_species_id declared",
            t("worker_species_id"),
        ),
        check("risk_tier_present", "risk_tier declared", t("risk_tier")),
    ];
    let standard = vec![
        check(
            "required_controls_declared",
            "required_controls[] declared",
            t("required_controls"),
        ),
        check(
            "currently_implements_declared",
            "currently_implements[] declared",
            t("currently_implements"),
        ),
        check(
            "allowed_environments_declared",
            "allowed_environments[] declared",
            t("allowed_environments"),
        ),
        check(
            "ctrl_audit_log_declared",
            "ctrl.obs.audit_log_append_only (or equivalent) declared",
            has(&["audit_log", "audit-log", "ctrl_audit"]),
        ),
        check(
            "ctrl_default_deny_declared",
            "ctrl.pol.default_deny (or equivalent) declared",
            has(&[
                "default_deny",
                "ctrl_pol_default_deny",
                "deny_default",
                "ctrl.pol.default_deny",
            ]),
        ),
    ];
    const DIMS: [&str; 5] = ["data", "network", "financial", "time", "reversibility"];
    let blast_ok = match get("blast_radius") {
        Some(Value::Object(b)) => DIMS.iter().all(|d| b.contains_key(*d)),
        _ => false,
    };
    let full = vec![
        check(
            "blast_radius_declared",
            "blast_radius declared (data,network,financial,time,reversibility)",
            blast_ok,
        ),
        check(
            "privilege_envelope_declared",
            "privilege_envelope declared",
            matches!(get("privilege_envelope"), Some(Value::Object(o)) if !o.is_empty()),
        ),
        check(
            "idempotency_declared",
            "idempotency declared",
            t("idempotency"),
        ),
        check(
            "artifact_hash_declared",
            "artifact_hash or evidence_receipt control declared",
            t("artifact_hash") || has(&["artifact_hash", "evidence_receipt", "evidence-receipt"]),
        ),
    ];
    let all = |c: &[Check]| c.iter().all(|x| x.passed);
    let basic_ok = all(&basic);
    let standard_ok = basic_ok && all(&standard);
    let full_ok = standard_ok && all(&full);
    let achieved_level = if full_ok {
        Level::Full
    } else if standard_ok {
        Level::Standard
    } else if basic_ok {
        Level::Basic
    } else {
        Level::None
    };
    let text = |k: &str| match get(k) {
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
        None => "(unknown)".into(),
    };
    ConformanceReport {
        worker_id: text("worker_id"),
        worker_species_id: text("worker_species_id"),
        achieved_level,
        basic: LevelReport {
            achieved: basic_ok,
            checks: basic,
        },
        standard: LevelReport {
            achieved: standard_ok,
            checks: standard,
        },
        full: LevelReport {
            achieved: full_ok,
            checks: full,
        },
    }
}

fn normalize(s: &str) -> String {
    s.to_lowercase().replace(['-', '.'], "_")
}

/// `required_controls` ∪ `currently_implements`, normalized (string entries only).
fn normalized_controls(record: &Value) -> Vec<String> {
    ["required_controls", "currently_implements"]
        .iter()
        .filter_map(|k| record.get(*k).and_then(Value::as_array))
        .flatten()
        .filter_map(Value::as_str)
        .map(normalize)
        .collect()
}

/// Required decision fields and telemetry of an allowed decision (the default spec of §1.12).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConformanceSpec {
    pub required_fields: Vec<String>,
    /// `(event_id, dimensions that must be present and non-null in one instance)`.
    pub required_events: Vec<(String, Vec<String>)>,
}

impl Default for ConformanceSpec {
    fn default() -> Self {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        Self {
            required_fields: s(&[
                "decision_id",
                "timestamp",
                "correlation_id",
                "tenant_id",
                "capability_id",
                "matched_rule_id",
                "denied",
                "telemetry_envelopes",
            ]),
            required_events: vec![
                (
                    "evt.os.task.routed".into(),
                    s(&["correlation_id", "tenant_id", "capability_id", "qos_class"]),
                ),
                (
                    "evt.os.worker.selected".into(),
                    s(&["correlation_id", "capability_id"]),
                ),
                (
                    "evt.os.policy.gated".into(),
                    s(&["correlation_id", "decision"]),
                ),
            ],
        }
    }
}

/// An allowed decision that misses required fields or telemetry.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("WCP conformance failure. missing_fields={missing_fields:?} telemetry_errors={telemetry_errors:?}")]
pub struct ConformanceFailure {
    pub missing_fields: Vec<String>,
    pub telemetry_errors: Vec<String>,
}

impl ConformanceSpec {
    /// Checks an allowed decision; denies are not checked (they return before this step).
    pub fn validate(&self, decision: &RouteDecision) -> Result<(), ConformanceFailure> {
        if decision.denied {
            return Ok(());
        }
        let as_json = serde_json::to_value(decision).unwrap_or(Value::Null);
        let missing_fields: Vec<String> = self
            .required_fields
            .iter()
            .filter(|f| as_json.get(f.as_str()).is_none())
            .cloned()
            .collect();
        let telemetry_errors =
            telemetry_errors(&decision.telemetry_envelopes, &self.required_events);
        if missing_fields.is_empty() && telemetry_errors.is_empty() {
            Ok(())
        } else {
            Err(ConformanceFailure {
                missing_fields,
                telemetry_errors,
            })
        }
    }
}

fn telemetry_errors(events: &[TelemetryEvent], required: &[(String, Vec<String>)]) -> Vec<String> {
    let mut errors = Vec::new();
    for (event_id, dims) in required {
        let instances: Vec<&TelemetryEvent> =
            events.iter().filter(|e| e.event_id() == event_id).collect();
        if instances.is_empty() {
            errors.push(format!("missing_required_event:{event_id}"));
        } else if !instances
            .iter()
            .any(|e| dims.iter().all(|d| e.get(d).is_some_and(|v| !v.is_null())))
        {
            errors.push(format!("event_missing_dimensions:{event_id}"));
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn basic() -> Value {
        json!({"worker_id": "org.a.w", "worker_species_id": "wrk.a", "capabilities": ["cap.a"], "risk_tier": "low"})
    }

    #[test]
    fn levels_build_on_each_other() {
        assert_eq!(check_worker(&json!({})).achieved_level, Level::None);
        let mut r = basic();
        assert_eq!(check_worker(&r).achieved_level, Level::Basic);
        r["required_controls"] = json!(["ctrl.obs.audit-log-append-only"]);
        r["currently_implements"] = json!(["ctrl.pol.default-deny"]);
        r["allowed_environments"] = json!(["dev"]);
        assert_eq!(check_worker(&r).achieved_level, Level::Standard);
        r["blast_radius"] = json!({"data": 1, "network": 0, "financial": 0, "time": 1, "reversibility": "reversible"});
        r["privilege_envelope"] = json!({"tools": []});
        r["idempotency"] = json!("full");
        let report = check_worker(&r);
        assert_eq!(report.achieved_level, Level::Standard);
        assert_eq!(
            report.next_level().unwrap(),
            (
                Level::Full,
                vec!["artifact_hash or evidence_receipt control declared"]
            )
        );
        r["currently_implements"] = json!(["ctrl.pol.default-deny", "ctrl.evidence-receipts"]);
        assert_eq!(check_worker(&r).achieved_level, Level::Full);
        assert_eq!(check_worker(&r).next_level(), None);
        // Full checks passing does not help without Basic.
        r["risk_tier"] = json!("");
        let report = check_worker(&r);
        assert_eq!(report.achieved_level, Level::None);
        assert_eq!(
            report.next_level().unwrap(),
            (Level::Basic, vec!["risk_tier declared"])
        );
    }

    #[test]
    fn missing_lists_every_lower_level_gap() {
        let mut r = basic();
        r["capabilities"] = json!([]);
        let report = check_worker(&r);
        assert_eq!(report.next_level().unwrap().1, ["capabilities[] non-empty"]);
        assert!(!report.standard.achieved);
    }
}
