//! Wire models (SPEC.md §1.1–§1.5): enumerations, the decision envelope and its parts.
//! Every key and enum value is spelled exactly as on the wire.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;

/// Declares a closed string enumeration with its exact wire spelling.
macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
        pub enum $name { $(#[serde(rename = $text)] $variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The exact wire spelling.
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parses the exact (case-sensitive) wire spelling.
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }

            /// Position in [`Self::ALL`], used for bit masks in the rule index.
            pub const fn index(self) -> usize { self as usize }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }
    };
}

wire_enum!(
    /// Deployment environment.
    Env { Dev = "dev", Stage = "stage", Prod = "prod", Edge = "edge" }
);
wire_enum!(
    /// Data sensitivity label.
    DataLabel { Public = "PUBLIC", Internal = "INTERNAL", Restricted = "RESTRICTED" }
);
wire_enum!(
    /// Quality-of-service class, `P0` highest.
    QosClass { P0 = "P0", P1 = "P1", P2 = "P2", P3 = "P3" }
);
wire_enum!(
    /// Risk tier of the requesting tenant.
    TenantRisk { Low = "low", Medium = "medium", High = "high" }
);
wire_enum!(
    /// Every deny code a decision can carry (docs/wcp.md, "Deny codes").
    DenyCode {
        UnknownTenant = "DENY_UNKNOWN_TENANT",
        MissingTenantId = "DENY_MISSING_TENANT_ID",
        InvalidInput = "DENY_INVALID_INPUT",
        ShadowRulesDetected = "DENY_SHADOW_RULES_DETECTED",
        NoMatchingRule = "DENY_NO_MATCHING_RULE",
        MissingCorrelationId = "DENY_MISSING_CORRELATION_ID",
        MissingRequiredControls = "DENY_MISSING_REQUIRED_CONTROLS",
        RequiresHuman = "DENY_REQUIRES_HUMAN",
        PolicyGateUnconfigured = "DENY_POLICY_GATE_UNCONFIGURED",
        InternalError = "DENY_INTERNAL_ERROR",
        PolicyGate = "DENY_POLICY_GATE",
        RequiresHumanApproval = "DENY_REQUIRES_HUMAN_APPROVAL",
        PolicyGateInvalidResponse = "DENY_POLICY_GATE_INVALID_RESPONSE",
        NoAvailableWorker = "DENY_NO_AVAILABLE_WORKER",
        AttestationUnconfigured = "DENY_ATTESTATION_UNCONFIGURED",
        WorkerAttestationMissing = "DENY_WORKER_ATTESTATION_MISSING",
        WorkerAttestationInvalidHash = "DENY_WORKER_ATTESTATION_INVALID_HASH",
        WorkerHashUnavailable = "DENY_WORKER_HASH_UNAVAILABLE",
        WorkerTampered = "DENY_WORKER_TAMPERED",
        PrivilegeEnvelopeUnconfigured = "DENY_PRIVILEGE_ENVELOPE_UNCONFIGURED",
        PrivilegeEnvelopeViolated = "DENY_PRIVILEGE_ENVELOPE_VIOLATED",
    }
);

impl Env {
    /// `prod` and `edge` get the stricter gates.
    pub const fn is_prod_like(self) -> bool {
        matches!(self, Env::Prod | Env::Edge)
    }
}

/// `matched_rule_id` of a decision denied before rule matching.
pub const PRE_ROUTING: &str = "PRE_ROUTING";
/// `matched_rule_id` when no rule was matched (or matching was refused).
pub const NO_MATCH: &str = "NO_MATCH";
/// Policy version reported when no gate ran.
pub const DEFAULT_POLICY_VERSION: &str = "policy.v0";
/// Output id of a candidate entry without a species id.
pub const MISSING_SPECIES: &str = "__missing__";
/// Control that switches the blast-radius gate on for a rule (underscores, SPEC.md §5).
pub const CTRL_BLAST_RADIUS_SCORING: &str = "ctrl.blast_radius_scoring";
/// Control that switches the privilege-envelope check on for a rule.
pub const CTRL_PRIVILEGE_ENVELOPES_REQUIRED: &str = "ctrl.privilege_envelopes_required";

/// Escalation policy of a rule, echoed in the decision.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct Escalation {
    pub policy_gate: bool,
    pub msavx_step_up: bool,
    pub human_required_default: bool,
    pub human_required_if: Vec<Map<String, Value>>,
    pub rationale: Option<String>,
}

/// Precondition flags of a rule, each defaulting independently.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct PreconditionsChecked {
    pub must_have_correlation_id: bool,
    pub must_attach_policy_version: bool,
    pub must_record_artifact_hash_if_executes: bool,
    pub deny_if_missing_required_controls: bool,
    pub deny_if_unsigned_artifact_in_prod: bool,
    pub deny_if_no_attestation_in_prod: bool,
}

impl Default for PreconditionsChecked {
    fn default() -> Self {
        Self {
            must_have_correlation_id: true,
            must_attach_policy_version: true,
            must_record_artifact_hash_if_executes: true,
            deny_if_missing_required_controls: true,
            deny_if_unsigned_artifact_in_prod: false,
            deny_if_no_attestation_in_prod: false,
        }
    }
}

/// Hall-wide floor. `None` where a config is optional means "no config" (docs/wcp.md, "HallConfig").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct HallConfig {
    pub require_signatory: bool,
    pub allowed_tenants: Vec<String>,
    /// Declared but not enforced in WCP 0.1: only logged.
    pub require_credential: bool,
    pub require_worker_attestation: bool,
    pub enforce_correlation_id: bool,
    pub enforce_required_controls: bool,
    pub enforce_blast_scoring_in_prod: bool,
    pub enforce_privilege_envelopes: bool,
}

impl Default for HallConfig {
    fn default() -> Self {
        Self {
            require_signatory: false,
            allowed_tenants: Vec::new(),
            require_credential: false,
            require_worker_attestation: false,
            enforce_correlation_id: true,
            enforce_required_controls: true,
            enforce_blast_scoring_in_prod: true,
            enforce_privilege_envelopes: false,
        }
    }
}

/// One entry of `candidate_workers_ranked` in a decision.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CandidateWorker {
    pub worker_species_id: String,
    pub score_hint: Option<f64>,
    /// Always null in decisions (the reference never copies it from the rule).
    pub requires_controls_minimum: Option<Vec<String>>,
    pub skip_reason: Option<String>,
}

/// `deny_reason_if_denied`: code, message and the code's extra keys.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DenyReason {
    pub code: DenyCode,
    pub message: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

pub use crate::telemetry::TelemetryEvent;

/// The response envelope (docs/wcp.md, "RouteDecision"). All fields are always serialized.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RouteDecision {
    pub decision_id: String,
    pub timestamp: String,
    pub correlation_id: String,
    pub tenant_id: String,
    pub capability_id: String,
    pub matched_rule_id: String,
    pub env: Env,
    pub data_label: DataLabel,
    pub tenant_risk: TenantRisk,
    pub qos_class: QosClass,
    pub denied: bool,
    pub deny_reason_if_denied: Option<DenyReason>,
    pub selected_worker_species_id: Option<String>,
    pub candidate_workers_ranked: Vec<CandidateWorker>,
    pub required_controls_effective: Vec<String>,
    pub recommended_profiles_effective: Vec<Value>,
    pub escalation_effective: Escalation,
    pub preconditions_checked: PreconditionsChecked,
    pub artifact_hash: Option<String>,
    pub worker_attestation_checked: bool,
    pub worker_attestation_valid: Option<bool>,
    pub dry_run: bool,
    pub telemetry_envelopes: Vec<TelemetryEvent>,
}

impl RouteDecision {
    /// The deny code, when denied.
    pub fn deny_code(&self) -> Option<DenyCode> {
        self.deny_reason_if_denied.as_ref().map(|r| r.code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_use_exact_wire_spelling() {
        assert_eq!(serde_json::to_string(&Env::Prod).unwrap(), "\"prod\"");
        assert_eq!(
            serde_json::to_string(&DataLabel::Restricted).unwrap(),
            "\"RESTRICTED\""
        );
        assert_eq!(
            DenyCode::parse("DENY_WORKER_TAMPERED"),
            Some(DenyCode::WorkerTampered)
        );
        assert_eq!(Env::parse("DEV"), None);
        assert!(Env::Edge.is_prod_like() && !Env::Stage.is_prod_like());
    }

    #[test]
    fn deny_reason_flattens_extra_keys() {
        let mut extra = Map::new();
        extra.insert("missing".into(), serde_json::json!(["ctrl.a"]));
        let r = DenyReason {
            code: DenyCode::MissingRequiredControls,
            message: "m".into(),
            extra,
        };
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"code": "DENY_MISSING_REQUIRED_CONTROLS", "message": "m", "missing": ["ctrl.a"]})
        );
        let back: DenyReason = serde_json::from_value(v).unwrap();
        assert_eq!(back, r);
    }
}
