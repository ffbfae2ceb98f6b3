//! The decision pipeline (SPEC.md §2, `make_decision`): one function from a request to a
//! decision that never fails and never panics. Every failure is a denied decision.
//!
//! The steps run in the specification's order; the first failing step decides. Callbacks the
//! reference takes as optional callables are injected trait objects here; a missing one is a
//! deny where the specification says so.

use crate::attestation::WorkerHashes;
use crate::clock::{Clock, IdSource, SystemClock, UuidV4Ids};
use crate::gate::{GateContext, PolicyGate};
use crate::hash::artifact_hash;
use crate::input::RouteInput;
use crate::model::*;
use crate::privilege::PrivilegePolicy;
use crate::py::{is_blank, repr, truthy_opt};
use crate::registry::{is_hex64, Registry};
use crate::rules::{MatchKey, Rule, RuleSet};
use crate::telemetry::{self, Ids, Routed};
use serde_json::{Map, Value};
use std::sync::Arc;

/// Blast scores at or above this are denied in prod/edge.
const BLAST_HUMAN_THRESHOLD: i64 = 85;
const REQUIRE_HUMAN_HIGH_BLAST: &str = "REQUIRE_HUMAN_HIGH_BLAST";

/// Everything a decision depends on: rules, registry view, hall floor and injected sources.
/// Cheap to clone (shared parts are reference-counted) and safe to share across threads.
#[derive(Clone)]
pub struct Router {
    rules: Arc<RuleSet>,
    registry: Arc<Registry>,
    hall: Option<HallConfig>,
    gate: Option<Arc<dyn PolicyGate>>,
    hashes: Option<Arc<dyn WorkerHashes>>,
    privilege: Option<Arc<dyn PrivilegePolicy>>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdSource>,
    task_id: String,
}

impl Router {
    /// A router with no hall config, no gate, no attestation or privilege sources, the system
    /// clock and random UUID decision ids.
    pub fn new(rules: Arc<RuleSet>, registry: Arc<Registry>) -> Self {
        Self {
            rules,
            registry,
            hall: None,
            gate: None,
            hashes: None,
            privilege: None,
            clock: Arc::new(SystemClock),
            ids: Arc::new(UuidV4Ids),
            task_id: "task_default".into(),
        }
    }

    /// Sets the hall floor (`None` = "no config", SPEC.md §2).
    pub fn with_hall_config(mut self, hall: Option<HallConfig>) -> Self {
        self.hall = hall;
        self
    }

    /// Sets the policy gate consulted by rules with `escalation.policy_gate`.
    pub fn with_policy_gate(mut self, gate: Arc<dyn PolicyGate>) -> Self {
        self.gate = Some(gate);
        self
    }

    /// Sets the attestation hash sources (step 12).
    pub fn with_worker_hashes(mut self, hashes: Arc<dyn WorkerHashes>) -> Self {
        self.hashes = Some(hashes);
        self
    }

    /// Sets the privilege-envelope policy (step 13); a [`Registry`] is one.
    pub fn with_privilege_policy(mut self, policy: Arc<dyn PrivilegePolicy>) -> Self {
        self.privilege = Some(policy);
        self
    }

    /// Sets the timestamp source.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Sets the decision id source.
    pub fn with_id_source(mut self, ids: Arc<dyn IdSource>) -> Self {
        self.ids = ids;
        self
    }

    /// Sets the `task_id` reported in `evt.os.task.routed`.
    pub fn with_task_id(mut self, task_id: impl Into<String>) -> Self {
        self.task_id = task_id.into();
        self
    }

    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    pub fn hall_config(&self) -> Option<&HallConfig> {
        self.hall.as_ref()
    }

    /// Decides one request. Never fails: every problem is a denied decision.
    pub fn decide(&self, inp: &RouteInput) -> RouteDecision {
        match self.pipeline(inp, false) {
            Ok(allowed) => allowed,
            Err(deny) => self.deny(inp, *deny),
        }
    }

    /// The decision for a request a person approved after `decide` denied it with
    /// `DENY_REQUIRES_HUMAN` (step 9) or `DENY_REQUIRES_HUMAN_APPROVAL` (step 10): the same
    /// pipeline, in which those two human gates pass and every other step still applies (a gate
    /// that now says `DENY`, a worker gone, a tampered package still deny). Not a reference
    /// decision: the hall keeps it as the evidence of the approved dispatch, beside the
    /// reference's denied decision (docs/wcp.md, "Human approval").
    pub fn decide_approved(&self, inp: &RouteInput) -> RouteDecision {
        match self.pipeline(inp, true) {
            Ok(allowed) => allowed,
            Err(deny) => self.deny(inp, *deny),
        }
    }

    fn floor(&self, pick: fn(&HallConfig) -> bool, without_config: bool) -> bool {
        self.hall.as_ref().map_or(without_config, pick)
    }

    fn pipeline(&self, inp: &RouteInput, approved: bool) -> Result<RouteDecision, Box<Deny>> {
        // 1. Signatory tenants.
        if let Some(hall) = self.hall.as_ref().filter(|h| h.require_signatory) {
            if !hall.allowed_tenants.contains(&inp.tenant_id) {
                let message = "Tenant is not registered as a signatory. Register via the Hall configuration before dispatching workers.";
                return Err(Deny::pre_routing(DenyCode::UnknownTenant, message)
                    .extra("tenant_id", inp.tenant_id.clone().into()));
            }
        }
        // 2. Credentials are declared but not enforced in WCP 0.1.
        if self.floor(|h| h.require_credential, false) {
            tracing::debug!(target: "wcp::router", "require_credential is set but not enforced in WCP 0.1");
        }
        // 3. Tenant presence.
        if is_blank(&inp.tenant_id) {
            return Err(Deny::pre_routing(
                DenyCode::MissingTenantId,
                "tenant_id is required and must not be empty or whitespace.",
            ));
        }
        // 4. Caller-supplied blast score range.
        if let Some(score) = inp.blast_score.filter(|s| !(0..=100).contains(s)) {
            return Err(Deny::pre_routing(
                DenyCode::InvalidInput,
                "blast_score must be in [0, 100]",
            )
            .extra("blast_score", score.into()));
        }
        // 5. Shadowed rules fail closed in prod/edge.
        let shadows = self.rules.shadow_warnings();
        if inp.env.is_prod_like() && !shadows.is_empty() {
            let ids: Vec<Value> = shadows
                .iter()
                .map(|w| Value::String(w.shadowed.clone()))
                .collect();
            let message = "Rule set contains shadow rules in prod/edge environment. Fix rule ordering before deploying to production.";
            return Err(Deny::new(NO_MATCH, DenyCode::ShadowRulesDetected, message)
                .extra("shadowed_rule_ids", Value::Array(ids))
                .extra("shadow_count", shadows.len().into()));
        }
        // 6. First matching rule.
        let key = MatchKey {
            capability_id: &inp.capability_id,
            env: inp.env,
            data_label: inp.data_label,
            tenant_risk: inp.tenant_risk,
            qos_class: inp.qos_class,
        };
        let Some(rule) = self.rules.first_match(&key) else {
            return Err(Deny::new(
                NO_MATCH,
                DenyCode::NoMatchingRule,
                "No routing rule matched. Fail-closed per WCP spec section 5.1.",
            ));
        };
        let in_rule = |code, message: &str| Deny::in_rule(rule, code, message);
        // 7. Correlation id (hall floor can only be relaxed by an explicit config).
        let pre = &rule.preconditions;
        if (pre.must_have_correlation_id || self.floor(|h| h.enforce_correlation_id, true))
            && is_blank(&inp.correlation_id)
        {
            return Err(in_rule(
                DenyCode::MissingCorrelationId,
                "correlation_id is required but absent or empty.",
            ));
        }
        // 8. Required controls.
        let missing: Vec<Value> = rule
            .required_controls
            .iter()
            .filter(|c| !self.registry.has_control(c))
            .map(|c| Value::String(c.clone()))
            .collect();
        if (pre.deny_if_missing_required_controls
            || self.floor(|h| h.enforce_required_controls, true))
            && !missing.is_empty()
        {
            return Err(in_rule(
                DenyCode::MissingRequiredControls,
                "Required controls not present in registry.",
            )
            .extra("missing", Value::Array(missing)));
        }
        // 9. Blast radius gate.
        let blast_in_prod =
            inp.env.is_prod_like() && self.floor(|h| h.enforce_blast_scoring_in_prod, true);
        let blast_score =
            (rule.requires_blast_scoring || blast_in_prod).then(|| effective_blast_score(inp));
        if let Some(score) = blast_score
            .filter(|&s| !approved && inp.env.is_prod_like() && s >= BLAST_HUMAN_THRESHOLD)
        {
            let mut escalation = rule.escalation.clone();
            escalation.human_required_default = true;
            escalation.rationale = Some(REQUIRE_HUMAN_HIGH_BLAST.into());
            return Err(in_rule(
                DenyCode::RequiresHuman,
                "Blast radius too high for autonomous execution.",
            )
            .extra("blast_score", score.into())
            .extra("reason", REQUIRE_HUMAN_HIGH_BLAST.into())
            .escalation(escalation));
        }
        // 10. Policy gate.
        let with_rule_escalation =
            |code, message: &str| in_rule(code, message).escalation(rule.escalation.clone());
        let mut policy_version = DEFAULT_POLICY_VERSION.to_string();
        if rule.escalation.policy_gate {
            policy_version = self.policy_gate(inp, rule, approved)?;
        }
        // 11. Candidate selection.
        let (candidates, selected) = self.select_candidate(rule);
        let Some(selected) = selected else {
            let mut deny = with_rule_escalation(
                DenyCode::NoAvailableWorker,
                "No available worker candidates. Route to review queue.",
            );
            deny.candidates = candidates;
            return Err(deny);
        };
        // 12. Worker attestation.
        let hash_floor = self.floor(|h| h.require_worker_attestation, false);
        if hash_floor {
            self.attest(rule, &selected)?;
        }
        // Proctor extension: a species with a signed-package check is checked on every route.
        let signed_checked = self.attest_signed(rule, &selected)?;
        let attestation_attempted = hash_floor || signed_checked;
        let attestation_valid = attestation_attempted.then_some(true);
        // 13. Privilege envelope.
        let privilege_applies = rule.requires_privilege_envelope
            || self.floor(|h| h.enforce_privilege_envelopes, false);
        if privilege_applies {
            self.check_privilege(inp, rule, &selected)?;
        }
        // 14. Telemetry.
        let ts = self.clock.now_iso();
        let ids = Ids::new(&inp.correlation_id, &inp.tenant_id, &inp.capability_id);
        let mut events = Vec::with_capacity(6);
        if let Some(score) = blast_score {
            events.push(telemetry::blast_scored(
                &ts,
                &ids,
                inp.env,
                inp.data_label,
                &policy_version,
                score,
            ));
        }
        if privilege_applies {
            events.push(telemetry::privilege_checked(
                &ts,
                &ids,
                inp.env,
                inp.data_label,
                &policy_version,
                &selected,
            ));
        }
        if !attestation_attempted && inp.env.is_prod_like() {
            events.push(telemetry::attestation_skipped(&ids, &selected, inp.env));
        }
        events.extend(telemetry::mandatory(&Routed {
            ts: &ts,
            ids: &ids,
            task_id: &self.task_id,
            matched_rule_id: &rule.rule_id,
            species: &selected,
            policy_version: &policy_version,
            qos_class: inp.qos_class,
            gated: rule.escalation.policy_gate,
        }));
        if inp.dry_run {
            telemetry::mark_dry_run(&mut events);
        }
        // 15. The allowed decision and its evidence receipt.
        Ok(RouteDecision {
            decision_id: self.ids.new_id(),
            timestamp: ts,
            correlation_id: inp.correlation_id.clone(),
            tenant_id: inp.tenant_id.clone(),
            capability_id: inp.capability_id.clone(),
            matched_rule_id: rule.rule_id.clone(),
            env: inp.env,
            data_label: inp.data_label,
            tenant_risk: inp.tenant_risk,
            qos_class: inp.qos_class,
            denied: false,
            deny_reason_if_denied: None,
            selected_worker_species_id: Some(selected),
            candidate_workers_ranked: candidates,
            required_controls_effective: rule.required_controls.clone(),
            recommended_profiles_effective: rule.recommended_profiles.clone(),
            escalation_effective: rule.escalation.clone(),
            preconditions_checked: rule.preconditions.clone(),
            artifact_hash: Some(artifact_hash(inp)),
            worker_attestation_checked: attestation_valid.is_some(),
            worker_attestation_valid: attestation_valid,
            dry_run: inp.dry_run,
            telemetry_envelopes: events,
        })
    }

    /// Step 10: returns the gate's policy version when it allows.
    /// `approved`: a person already approved this request, so `REQUIRE_HUMAN` passes.
    fn policy_gate(
        &self,
        inp: &RouteInput,
        rule: &Rule,
        approved: bool,
    ) -> Result<String, Box<Deny>> {
        let with_escalation = |code, message: &str, escalation: Escalation| {
            Deny::in_rule(rule, code, message).escalation(escalation)
        };
        let Some(gate) = &self.gate else {
            return Err(with_escalation(
                DenyCode::PolicyGateUnconfigured,
                "policy_gate_eval is required when escalation.policy_gate is True. Pass a PolicyGate instance's .evaluate method.",
                rule.escalation.clone(),
            ));
        };
        let ctx = GateContext {
            capability_id: &inp.capability_id,
            tenant_id: &inp.tenant_id,
            env: inp.env,
            data_label: inp.data_label,
            tenant_risk: inp.tenant_risk,
            qos_class: inp.qos_class,
            policy_version: DEFAULT_POLICY_VERSION,
        };
        let verdict = match gate.evaluate(&ctx) {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(target: "wcp::router", error = %e, rule_id = %rule.rule_id, "policy gate failed");
                return Err(with_escalation(
                    DenyCode::InternalError,
                    "policy_gate_eval raised an exception. See server logs for details.",
                    rule.escalation.clone(),
                ));
            }
        };
        let rationale = |text: &str| Escalation {
            rationale: Some(text.into()),
            ..rule.escalation.clone()
        };
        let reason_keys = |d: Box<Deny>| {
            d.extra("reason", verdict.reason.clone().into())
                .extra("policy_version", verdict.policy_version.clone().into())
        };
        match verdict.decision.as_str() {
            "ALLOW" => Ok(verdict.policy_version),
            "DENY" => Err(reason_keys(with_escalation(
                DenyCode::PolicyGate,
                "Policy gate denied.",
                rationale(&verdict.reason),
            ))),
            "REQUIRE_HUMAN" if approved => Ok(verdict.policy_version),
            "REQUIRE_HUMAN" => {
                let escalation = Escalation {
                    human_required_default: true,
                    ..rationale(&verdict.reason)
                };
                let message = "Policy gate requires human approval before this worker can be dispatched. Submit the pending approval via wcp.approval.resolve.";
                Err(reason_keys(with_escalation(
                    DenyCode::RequiresHumanApproval,
                    message,
                    escalation,
                ))
                .extra("supervisor_required", true.into()))
            }
            other => {
                let message = format!(
                    "policy_gate_eval returned unrecognized decision: {}. Expected 'ALLOW', 'DENY', or 'REQUIRE_HUMAN'. Failing closed.",
                    repr(&Value::String(other.into()))
                );
                Err(with_escalation(
                    DenyCode::PolicyGateInvalidResponse,
                    &message,
                    rationale("invalid_gate_response"),
                ))
            }
        }
    }

    /// Step 11 (§2.2): the rule's candidates in order, the first available one selected.
    fn select_candidate(&self, rule: &Rule) -> (Vec<CandidateWorker>, Option<String>) {
        let mut selected: Option<String> = None;
        let candidates = rule
            .candidates
            .iter()
            .map(|c| {
                let available = c
                    .worker_species_id
                    .as_deref()
                    .is_some_and(|w| self.registry.worker_available(w));
                let skip_reason = match (available, selected.is_some()) {
                    (false, _) => Some("unavailable"),
                    (true, true) => Some("already_selected"),
                    (true, false) => {
                        selected = c.worker_species_id.clone();
                        None
                    }
                };
                CandidateWorker {
                    worker_species_id: c
                        .worker_species_id
                        .clone()
                        .unwrap_or_else(|| MISSING_SPECIES.into()),
                    score_hint: c.score_hint,
                    requires_controls_minimum: None,
                    skip_reason: skip_reason.map(str::to_owned),
                }
            })
            .collect();
        (candidates, selected)
    }

    /// Step 12: compares the registered and current code hash of the selected species.
    fn attest(&self, rule: &Rule, species: &str) -> Result<(), Box<Deny>> {
        let deny = |code, message: String| {
            Deny::in_rule(rule, code, &message).escalation(rule.escalation.clone())
        };
        let Some(hashes) = &self.hashes else {
            return Err(deny(
                DenyCode::AttestationUnconfigured,
                "require_worker_attestation is True but hash callables were not provided. Pass registry_get_worker_hash and get_current_worker_hash to make_decision().".into(),
            ));
        };
        // Both sources are consulted before judging, as in the reference; errors count as absent.
        let registered = hashes.registered_hash(species).unwrap_or_else(|e| {
            tracing::warn!(target: "wcp::router", error = %e, species, "registered hash lookup failed");
            None
        });
        let current = hashes.current_hash(species).unwrap_or_else(|e| {
            tracing::warn!(target: "wcp::router", error = %e, species, "current hash lookup failed");
            None
        });
        let Some(registered) = registered else {
            return Err(deny(
                DenyCode::WorkerAttestationMissing,
                format!("Worker '{species}' has no registered code hash. Register the worker with an attestation hash before enabling require_worker_attestation."),
            ));
        };
        if !is_hex64(&registered) {
            return Err(deny(
                DenyCode::WorkerAttestationInvalidHash,
                format!("Worker '{species}' registered hash is not a valid SHA-256 digest. Re-register with a 64-character lowercase hex SHA-256 hash."),
            ));
        }
        let Some(current) = current.filter(|h| is_hex64(h)) else {
            return Err(deny(
                DenyCode::WorkerHashUnavailable,
                format!("Worker '{species}' current code hash could not be retrieved or is invalid. Verify the get_current_worker_hash implementation."),
            ));
        };
        if current != registered {
            // Never reveal the hashes: they tell an attacker what to forge.
            let mut d = deny(
                DenyCode::WorkerTampered,
                format!("Worker '{species}' code hash mismatch. Worker may have been modified after attestation. Re-attest the worker or investigate for tampering."),
            )
            .extra("worker_species_id", species.into());
            d.attestation_checked = true;
            d.attestation_valid = Some(false);
            return Err(d);
        }
        Ok(())
    }

    /// Step 12, Proctor extension (docs/wcp.md): the worker source's signed-package check.
    /// `Ok(false)` when the source has none for this species.
    fn attest_signed(&self, rule: &Rule, species: &str) -> Result<bool, Box<Deny>> {
        let Some(verdict) = self.hashes.as_ref().and_then(|h| h.enforce_signed(species)) else {
            return Ok(false);
        };
        let refusal = match verdict {
            Ok(()) => return Ok(true),
            Err(refusal) => refusal,
        };
        let mut d =
            Deny::in_rule(rule, refusal.code, &refusal.message).escalation(rule.escalation.clone());
        d.extra = refusal.extra;
        d.attestation_checked = true;
        d.attestation_valid = Some(false);
        Err(d)
    }

    /// Step 13.
    fn check_privilege(
        &self,
        inp: &RouteInput,
        rule: &Rule,
        species: &str,
    ) -> Result<(), Box<Deny>> {
        let deny = |code, message: &str| {
            Deny::in_rule(rule, code, message).escalation(rule.escalation.clone())
        };
        let Some(policy) = &self.privilege else {
            return Err(deny(
                DenyCode::PrivilegeEnvelopeUnconfigured,
                "ctrl.privilege_envelopes_required is set but privilege envelope callables were not provided. Pass registry_get_privilege_envelope and registry_policy_allows_privilege to make_decision().",
            ));
        };
        match policy.check(species, inp.env, inp.data_label) {
            Err(e) => {
                tracing::warn!(target: "wcp::router", error = %e, species, "privilege check failed");
                Err(deny(
                    DenyCode::InternalError,
                    "Privilege envelope check raised an exception.",
                ))
            }
            Ok(v) if !v.allowed => {
                let message = format!(
                    "Worker privilege envelope denied for {}/{}: {}",
                    inp.env, inp.data_label, v.reason
                );
                Err(deny(DenyCode::PrivilegeEnvelopeViolated, &message)
                    .extra("reason", v.reason.into())
                    .extra("worker_species_id", species.into()))
            }
            Ok(_) => Ok(()),
        }
    }

    fn deny(&self, inp: &RouteInput, d: Deny) -> RouteDecision {
        let ts = self.clock.now_iso();
        let ids = Ids::new(&inp.correlation_id, &inp.tenant_id, &inp.capability_id);
        let mut event =
            telemetry::task_denied(&ts, &ids, d.code.as_str(), &d.message, &d.matched_rule_id);
        if inp.dry_run {
            telemetry::mark_dry_run(std::slice::from_mut(&mut event));
        }
        RouteDecision {
            decision_id: self.ids.new_id(),
            timestamp: ts,
            correlation_id: inp.correlation_id.clone(),
            tenant_id: inp.tenant_id.clone(),
            capability_id: inp.capability_id.clone(),
            matched_rule_id: d.matched_rule_id,
            env: inp.env,
            data_label: inp.data_label,
            tenant_risk: inp.tenant_risk,
            qos_class: inp.qos_class,
            denied: true,
            deny_reason_if_denied: Some(DenyReason {
                code: d.code,
                message: d.message,
                extra: d.extra,
            }),
            selected_worker_species_id: None,
            candidate_workers_ranked: d.candidates,
            required_controls_effective: d.required_controls,
            recommended_profiles_effective: Vec::new(),
            escalation_effective: d.escalation,
            preconditions_checked: d.preconditions,
            artifact_hash: None,
            worker_attestation_checked: d.attestation_checked,
            worker_attestation_valid: d.attestation_valid,
            dry_run: inp.dry_run,
            telemetry_envelopes: vec![event],
        }
    }
}

/// Computed score (§1.9) raised, never lowered, by the caller's score.
pub fn effective_blast_score(inp: &RouteInput) -> i64 {
    let computed = compute_blast_score(inp);
    inp.blast_score
        .map_or(computed, |given| computed.max(given))
}

/// The reference's heuristic blast score, clamped to 100.
pub fn compute_blast_score(inp: &RouteInput) -> i64 {
    let flag = |a: &str, b: &str| truthy_opt(inp.request.get(a)) || truthy_opt(inp.request.get(b));
    let mut score = 10;
    score += match inp.data_label {
        DataLabel::Public => 0,
        DataLabel::Internal => 20,
        DataLabel::Restricted => 40,
    };
    if inp.env.is_prod_like() {
        score += 15;
    }
    if inp.qos_class == QosClass::P0 {
        score += 10;
    }
    if flag("egress", "external_call") {
        score += 15;
    }
    if flag("writes", "mutates_state") {
        score += 15;
    }
    score.min(100)
}

/// A deny under construction; defaults are those of SPEC.md §2 ("unless stated").
struct Deny {
    matched_rule_id: String,
    code: DenyCode,
    message: String,
    extra: Map<String, Value>,
    preconditions: PreconditionsChecked,
    required_controls: Vec<String>,
    escalation: Escalation,
    candidates: Vec<CandidateWorker>,
    attestation_checked: bool,
    attestation_valid: Option<bool>,
}

impl Deny {
    fn new(matched_rule_id: &str, code: DenyCode, message: &str) -> Box<Self> {
        Box::new(Self {
            matched_rule_id: matched_rule_id.into(),
            code,
            message: message.into(),
            extra: Map::new(),
            preconditions: PreconditionsChecked::default(),
            required_controls: Vec::new(),
            escalation: Escalation::default(),
            candidates: Vec::new(),
            attestation_checked: false,
            attestation_valid: None,
        })
    }

    fn pre_routing(code: DenyCode, message: &str) -> Box<Self> {
        Self::new(PRE_ROUTING, code, message)
    }

    /// After matching: the rule's id, preconditions and required controls.
    fn in_rule(rule: &Rule, code: DenyCode, message: &str) -> Box<Self> {
        let mut d = Self::new(&rule.rule_id, code, message);
        d.preconditions = rule.preconditions.clone();
        d.required_controls = rule.required_controls.clone();
        d
    }
}

trait DenyExt {
    fn extra(self, key: &str, value: Value) -> Self;
    fn escalation(self, escalation: Escalation) -> Self;
}

impl DenyExt for Box<Deny> {
    fn extra(mut self, key: &str, value: Value) -> Self {
        self.extra.insert(key.into(), value);
        self
    }

    fn escalation(mut self, escalation: Escalation) -> Self {
        self.escalation = escalation;
        self
    }
}
