//! The decision pipeline step by step, including every edge case of SPEC.md §6 that concerns
//! routing (#11, package ordering, belongs to the attest crate).

use serde_json::{json, Value};
use std::sync::Arc;
use wcp::hash::artifact_preimage;
use wcp::*;

const H1: &str = "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1";
const H2: &str = "2222222222222222222222222222222222222222222222222222222222222222";

fn rules(rules: Value) -> Arc<RuleSet> {
    Arc::new(RuleSet::from_json(&json!({ "rules": rules })).expect("valid rules"))
}

fn registry(records: Value) -> Arc<Registry> {
    let mut r = Registry::new();
    for rec in records.as_array().unwrap() {
        r.enroll(rec).unwrap();
    }
    Arc::new(r)
}

fn worker(species: &str, controls: &[&str]) -> Value {
    json!({"worker_id": format!("org.t.{species}"), "worker_species_id": species, "capabilities": ["cap.x"], "currently_implements": controls})
}

fn input(extra: Value) -> RouteInput {
    let mut v = json!({"capability_id": "cap.x", "env": "dev", "data_label": "PUBLIC", "tenant_risk": "low",
                       "qos_class": "P2", "tenant_id": "acme", "correlation_id": "c-1"});
    for (k, x) in extra.as_object().unwrap() {
        v[k] = x.clone();
    }
    parse_route_input(&v).unwrap()
}

fn simple_rule(id: &str, decision: Value) -> Value {
    json!({"rule_id": id, "match": {"capability_id": "cap.x"}, "decision": decision})
}

fn router_with(rule_decision: Value, records: Value) -> Router {
    Router::new(
        rules(json!([simple_rule("r1", rule_decision)])),
        registry(records),
    )
}

fn basic_router() -> Router {
    router_with(
        json!({"candidate_workers_ranked": [{"worker_species_id": "wrk.a"}]}),
        json!([worker("wrk.a", &[])]),
    )
}

fn code(d: &RouteDecision) -> Option<&'static str> {
    d.deny_code().map(DenyCode::as_str)
}

fn extra(d: &RouteDecision) -> &serde_json::Map<String, Value> {
    &d.deny_reason_if_denied.as_ref().unwrap().extra
}

fn event_ids(d: &RouteDecision) -> Vec<&str> {
    d.telemetry_envelopes
        .iter()
        .map(|e| e["event_id"].as_str().unwrap())
        .collect()
}

#[test]
fn allowed_decision_shape() {
    let d = basic_router().decide(&input(json!({})));
    assert!(!d.denied);
    assert_eq!(d.selected_worker_species_id.as_deref(), Some("wrk.a"));
    assert_eq!(d.matched_rule_id, "r1");
    assert_eq!(
        d.artifact_hash.as_deref(),
        Some(artifact_hash(&input(json!({}))).as_str())
    );
    assert_eq!(
        event_ids(&d),
        [
            "evt.os.task.routed",
            "evt.os.worker.selected",
            "evt.os.policy.gated"
        ]
    );
    assert_eq!(d.telemetry_envelopes[2]["reason"], "no_gate_required");
    assert_eq!(d.telemetry_envelopes[0]["task_id"], "task_default");
    assert_eq!(d.decision_id.len(), 36);
    let v = serde_json::to_value(&d).unwrap();
    assert_eq!(
        v.as_object().unwrap().len(),
        23,
        "all fields are always serialized"
    );
    assert_eq!(
        serde_json::from_value::<RouteDecision>(v).unwrap(),
        d,
        "round-trips"
    );
}

#[test]
fn edge_1_catch_all_first_denies_prod_but_routes_dev() {
    let r = Router::new(
        rules(json!([
            {"rule_id": "catch_all", "match": {}, "decision": {"candidate_workers_ranked": [{"worker_species_id": "wrk.a"}]}},
            {"rule_id": "specific", "match": {"capability_id": "cap.x"}}
        ])),
        registry(json!([worker("wrk.a", &[])])),
    );
    let d = r.decide(&input(json!({"env": "prod"})));
    assert_eq!(code(&d), Some("DENY_SHADOW_RULES_DETECTED"));
    assert_eq!(d.matched_rule_id, "NO_MATCH");
    assert_eq!(extra(&d)["shadowed_rule_ids"], json!(["specific"]));
    assert_eq!(extra(&d)["shadow_count"], 1);
    let d = r.decide(&input(json!({"env": "dev"})));
    assert!(!d.denied);
    assert_eq!(d.matched_rule_id, "catch_all");
}

#[test]
fn edge_2_caller_cannot_lower_the_blast_score() {
    let d = basic_router().decide(&input(
        json!({"env": "prod", "data_label": "RESTRICTED", "qos_class": "P0",
        "request": {"egress": true}, "blast_score": 0}),
    ));
    assert_eq!(code(&d), Some("DENY_REQUIRES_HUMAN"));
    assert_eq!(extra(&d)["blast_score"], 90);
    assert_eq!(extra(&d)["reason"], "REQUIRE_HUMAN_HIGH_BLAST");
    assert!(d.escalation_effective.human_required_default);
    assert_eq!(
        d.escalation_effective.rationale.as_deref(),
        Some("REQUIRE_HUMAN_HIGH_BLAST")
    );
    // The caller can raise it.
    let d = basic_router().decide(&input(json!({"env": "edge", "blast_score": 85})));
    assert_eq!(code(&d), Some("DENY_REQUIRES_HUMAN"));
    assert_eq!(extra(&d)["blast_score"], 85);
}

#[test]
fn edge_3_blast_score_range_and_type() {
    for bad in [101, -1] {
        let d = basic_router().decide(&input(json!({"blast_score": bad})));
        assert_eq!(code(&d), Some("DENY_INVALID_INPUT"));
        assert_eq!(d.matched_rule_id, "PRE_ROUTING");
        assert_eq!(extra(&d)["blast_score"], bad);
    }
    let mut v = serde_json::to_value(input(json!({}))).unwrap();
    v["blast_score"] = json!(true);
    assert_eq!(
        parse_route_input(&v).unwrap_err().invalid_fields,
        ["blast_score"]
    );
}

#[test]
fn edge_4_blast_gate_is_prod_only_but_scored_when_required() {
    let r = router_with(
        json!({"candidate_workers_ranked": [{"worker_species_id": "wrk.a"}], "required_controls_suggested": ["ctrl.blast_radius_scoring"]}),
        json!([worker("wrk.a", &["ctrl.blast_radius_scoring"])]),
    );
    let d = r.decide(&input(json!({"data_label": "RESTRICTED", "qos_class": "P0", "request": {"egress": 1, "writes": "yes"}})));
    assert!(!d.denied);
    assert_eq!(d.telemetry_envelopes[0]["event_id"], "evt.gov.blast_scored");
    assert_eq!(d.telemetry_envelopes[0]["blast_score"], 90);
    assert_eq!(d.telemetry_envelopes[0]["policy_version"], "policy.v0");
}

fn gated(gate_result: [&str; 3]) -> RouteDecision {
    let gate = DeclarativeGate::from_json(&json!({"rules": [], "default": gate_result})).unwrap();
    router_with(json!({"candidate_workers_ranked": [{"worker_species_id": "wrk.a"}], "escalation": {"policy_gate": true, "rationale": "r"}}), json!([worker("wrk.a", &[])]))
        .with_policy_gate(Arc::new(gate))
        .decide(&input(json!({})))
}

#[test]
fn edge_5_gate_answers_are_exact() {
    let d = gated(["allow", "p.v1", "lower"]);
    assert_eq!(code(&d), Some("DENY_POLICY_GATE_INVALID_RESPONSE"));
    assert_eq!(
        d.escalation_effective.rationale.as_deref(),
        Some("invalid_gate_response")
    );
    assert!(d.deny_reason_if_denied.unwrap().message.contains("'allow'"));
    let d = gated(["REQUIRE_HUMAN", "p.v1", "needs review"]);
    assert_eq!(code(&d), Some("DENY_REQUIRES_HUMAN_APPROVAL"));
    assert_eq!(extra(&d)["supervisor_required"], true);
    assert_eq!(extra(&d)["policy_version"], "p.v1");
    assert_eq!(
        d.escalation_effective.rationale.as_deref(),
        Some("needs review")
    );
    assert!(d.escalation_effective.human_required_default);
    let d = gated(["DENY", "p.v1", "no"]);
    assert_eq!(code(&d), Some("DENY_POLICY_GATE"));
    assert_eq!(extra(&d)["reason"], "no");
    let d = gated(["__RAISE__", "p", "r"]);
    assert_eq!(code(&d), Some("DENY_INTERNAL_ERROR"));
    assert_eq!(
        d.escalation_effective.rationale.as_deref(),
        Some("r"),
        "rule escalation unmodified"
    );
    let d = gated(["ALLOW", "p.v7", "fine"]);
    assert!(!d.denied);
    assert_eq!(d.telemetry_envelopes[2]["reason"], "policy_gate_allow");
    assert_eq!(d.telemetry_envelopes[2]["policy_version"], "p.v7");
    assert_eq!(d.telemetry_envelopes[0]["policy_version"], "p.v7");
    // No gate configured at all.
    let d = router_with(json!({"escalation": {"policy_gate": true}}), json!([]))
        .decide(&input(json!({})));
    assert_eq!(code(&d), Some("DENY_POLICY_GATE_UNCONFIGURED"));
}

#[test]
fn edge_6_matching_precedes_the_correlation_check() {
    let d = basic_router().decide(&input(
        json!({"correlation_id": "  ", "capability_id": "cap.none"}),
    ));
    assert_eq!(code(&d), Some("DENY_NO_MATCHING_RULE"));
    let d = basic_router().decide(&input(json!({"correlation_id": "  "})));
    assert_eq!(code(&d), Some("DENY_MISSING_CORRELATION_ID"));
    assert_eq!(d.matched_rule_id, "r1");
}

#[test]
fn edge_7_candidate_walk() {
    let r = router_with(
        json!({"candidate_workers_ranked": [{"worker_species_id": "A", "score_hint": 0.9}, {}, {"worker_species_id": "B"}, {"worker_species_id": "C"}]}),
        json!([worker("B", &[]), worker("C", &[])]),
    );
    let d = r.decide(&input(json!({})));
    assert_eq!(d.selected_worker_species_id.as_deref(), Some("B"));
    let got: Vec<(&str, Option<&str>)> = d
        .candidate_workers_ranked
        .iter()
        .map(|c| (c.worker_species_id.as_str(), c.skip_reason.as_deref()))
        .collect();
    assert_eq!(
        got,
        [
            ("A", Some("unavailable")),
            ("__missing__", Some("unavailable")),
            ("B", None),
            ("C", Some("already_selected"))
        ]
    );
    assert_eq!(d.candidate_workers_ranked[0].score_hint, Some(0.9));
    // None available: the deny carries the list.
    let d = router_with(
        json!({"candidate_workers_ranked": [{"worker_species_id": "A"}]}),
        json!([]),
    )
    .decide(&input(json!({})));
    assert_eq!(code(&d), Some("DENY_NO_AVAILABLE_WORKER"));
    assert_eq!(d.candidate_workers_ranked.len(), 1);
}

fn attested(registered: Option<&str>, current: Option<&str>) -> RouteDecision {
    let mut hashes = MapHashes::default();
    if let Some(h) = registered {
        hashes.registered.insert("wrk.a".into(), h.into());
    }
    if let Some(h) = current {
        hashes.current.insert("wrk.a".into(), h.into());
    }
    basic_router()
        .with_hall_config(Some(HallConfig {
            require_worker_attestation: true,
            ..HallConfig::default()
        }))
        .with_worker_hashes(Arc::new(hashes))
        .decide(&input(json!({"env": "prod"})))
}

#[test]
fn edge_8_attestation() {
    let d = attested(None, Some(H1));
    assert_eq!(code(&d), Some("DENY_WORKER_ATTESTATION_MISSING"));
    let d = attested(Some(&H1.to_uppercase()), Some(H1));
    assert_eq!(code(&d), Some("DENY_WORKER_ATTESTATION_INVALID_HASH"));
    let d = attested(Some(H1), Some("abc"));
    assert_eq!(code(&d), Some("DENY_WORKER_HASH_UNAVAILABLE"));
    let d = attested(Some(H1), Some(H2));
    assert_eq!(code(&d), Some("DENY_WORKER_TAMPERED"));
    assert!(d.worker_attestation_checked);
    assert_eq!(d.worker_attestation_valid, Some(false));
    let text = serde_json::to_string(&d).unwrap();
    assert!(
        !text.contains(H1) && !text.contains(H2),
        "hashes are never revealed"
    );
    let d = attested(Some(H1), Some(H1));
    assert!(!d.denied);
    assert!(d.worker_attestation_checked);
    assert_eq!(d.worker_attestation_valid, Some(true));
    assert!(!event_ids(&d).contains(&"evt.os.worker.attestation_skipped"));
    // Required but no hash sources.
    let d = basic_router()
        .with_hall_config(Some(HallConfig {
            require_worker_attestation: true,
            ..HallConfig::default()
        }))
        .decide(&input(json!({})));
    assert_eq!(code(&d), Some("DENY_ATTESTATION_UNCONFIGURED"));
    assert!(!d.worker_attestation_checked);
    // Not required in prod: allowed with a warning event.
    let d = basic_router().decide(&input(json!({"env": "prod"})));
    assert_eq!(event_ids(&d)[1], "evt.os.worker.attestation_skipped");
    assert!(
        d.telemetry_envelopes[1].get("timestamp").is_none()
            && d.telemetry_envelopes[1].get("tenant_id").is_none()
    );
}

#[test]
fn edge_9_telemetry_ids_are_sanitized_decision_ids_are_not() {
    let inp = input(json!({"correlation_id": "a\nb", "capability_id": "cap.x"}));
    let d = basic_router().decide(&inp);
    assert_eq!(d.correlation_id, "a\nb");
    assert_eq!(d.telemetry_envelopes[0]["correlation_id"], "ab");
    assert!(String::from_utf8(artifact_preimage(&inp))
        .unwrap()
        .contains(r#""correlation_id": "a\nb""#));
    let d = basic_router().decide(&input(json!({"capability_id": "cap.\u{7f}y"})));
    assert_eq!(d.capability_id, "cap.\u{7f}y");
    assert_eq!(d.telemetry_envelopes[0]["capability_id"], "cap.y");
}

#[test]
fn edge_10_artifact_hash_uses_python_float_and_ascii_forms() {
    let inp = input(json!({"request": {"x": "é", "f": 1e-05}}));
    let pre = String::from_utf8(artifact_preimage(&inp)).unwrap();
    assert!(
        pre.contains(r#""request": {"f": 1e-05, "x": "\u00e9"}"#),
        "{pre}"
    );
}

#[test]
fn edge_12_non_list_in_is_rejected_at_load() {
    let err = RuleSet::from_json(
        &json!({"rules": [{"rule_id": "r", "match": {"capability_id": {"in": "abc"}}}]}),
    )
    .unwrap_err();
    assert!(err.to_string().contains("match.capability_id.in"), "{err}");
}

#[test]
fn edge_13_dry_run_marks_decision_and_every_event() {
    let d = basic_router().decide(&input(
        json!({"dry_run": true, "capability_id": "cap.none"}),
    ));
    assert!(d.denied && d.dry_run);
    assert_eq!(d.telemetry_envelopes.len(), 1);
    assert_eq!(d.telemetry_envelopes[0]["dry_run"], true);
    let d = basic_router().decide(&input(json!({"dry_run": true})));
    assert!(!d.denied && d.dry_run && d.artifact_hash.is_some());
    assert!(d.telemetry_envelopes.iter().all(|e| e["dry_run"] == true));
    let d = basic_router().decide(&input(json!({})));
    assert!(
        d.telemetry_envelopes
            .iter()
            .all(|e| e.get("dry_run").is_none()),
        "no key without dry-run"
    );
}

#[test]
fn edge_14_injected_clock_and_ids() {
    let d = basic_router()
        .with_clock(Arc::new(FixedClock("2026-02-26T10:11:12+00:00".into())))
        .with_id_source(Arc::new(SequentialIds::default()))
        .decide(&input(json!({})));
    assert_eq!(d.timestamp, "2026-02-26T10:11:12+00:00");
    assert_eq!(
        d.telemetry_envelopes[0]["timestamp"],
        "2026-02-26T10:11:12+00:00"
    );
    assert_eq!(d.decision_id, "00000000-0000-4000-8000-000000000001");
}

#[test]
fn pre_routing_checks() {
    let hall = HallConfig {
        require_signatory: true,
        allowed_tenants: vec!["acme".into()],
        ..HallConfig::default()
    };
    let d = basic_router()
        .with_hall_config(Some(hall.clone()))
        .decide(&input(json!({"tenant_id": "evil"})));
    assert_eq!(code(&d), Some("DENY_UNKNOWN_TENANT"));
    assert_eq!(extra(&d)["tenant_id"], "evil");
    assert_eq!(d.matched_rule_id, "PRE_ROUTING");
    assert_eq!(d.telemetry_envelopes[0]["deny_code"], "DENY_UNKNOWN_TENANT");
    assert!(
        !basic_router()
            .with_hall_config(Some(hall))
            .decide(&input(json!({})))
            .denied
    );
}

#[test]
fn required_controls_and_floors() {
    let decision = json!({"candidate_workers_ranked": [{"worker_species_id": "wrk.a"}],
        "required_controls_suggested": ["ctrl.b", "ctrl.a", "ctrl.c"], "preconditions": {"deny_if_missing_required_controls": false, "must_have_correlation_id": false}});
    let r = router_with(decision, json!([worker("wrk.a", &["ctrl.b"])]));
    let d = r.decide(&input(json!({})));
    assert_eq!(
        code(&d),
        Some("DENY_MISSING_REQUIRED_CONTROLS"),
        "no config: the floor stays on"
    );
    assert_eq!(extra(&d)["missing"], json!(["ctrl.a", "ctrl.c"]));
    assert_eq!(
        d.required_controls_effective,
        ["ctrl.a", "ctrl.b", "ctrl.c"]
    );
    assert!(!d.preconditions_checked.deny_if_missing_required_controls);
    let floors_off = HallConfig {
        enforce_required_controls: false,
        enforce_correlation_id: false,
        ..HallConfig::default()
    };
    let d = r
        .clone()
        .with_hall_config(Some(floors_off))
        .decide(&input(json!({"correlation_id": ""})));
    assert!(
        !d.denied,
        "an explicit config lets the rule relax both checks"
    );
}

#[test]
fn privilege_envelope_step() {
    let decision = json!({"candidate_workers_ranked": [{"worker_species_id": "wrk.a"}], "required_controls_suggested": ["ctrl.privilege_envelopes_required"]});
    let mut rec = worker("wrk.a", &["ctrl.privilege_envelopes_required"]);
    rec["privilege_envelope"] = json!({"egress": {"allowlist": ["api.x", "evil.y"]}});
    let reg = registry(json!([rec]));
    let r = Router::new(rules(json!([simple_rule("r1", decision)])), reg.clone());
    let prod_restricted = input(json!({"env": "prod", "data_label": "RESTRICTED"}));
    assert_eq!(
        code(&r.decide(&prod_restricted)),
        Some("DENY_PRIVILEGE_ENVELOPE_UNCONFIGURED")
    );
    let mut reg2 = (*reg).clone();
    reg2.set_egress_allowlist(Env::Prod, vec!["api.x".into()]);
    let reg2 = Arc::new(reg2);
    let r = Router::new(r.rules().clone().into(), reg2.clone()).with_privilege_policy(reg2);
    let d = r.decide(&prod_restricted);
    assert_eq!(code(&d), Some("DENY_PRIVILEGE_ENVELOPE_VIOLATED"));
    assert_eq!(extra(&d)["reason"], "egress_not_allowlisted:evil.y");
    assert_eq!(extra(&d)["worker_species_id"], "wrk.a");
    let d = r.decide(&input(json!({"env": "dev", "data_label": "RESTRICTED"})));
    assert!(!d.denied);
    assert_eq!(event_ids(&d)[0], "evt.gov.privilege_envelope.checked");
}

#[test]
fn conformance_check_mode() {
    let d = basic_router().decide(&input(json!({})));
    assert!(ConformanceSpec::default().validate(&d).is_ok());
    let mut broken = d.clone();
    broken
        .telemetry_envelopes
        .retain(|e| e["event_id"] != "evt.os.worker.selected");
    broken.telemetry_envelopes[0].insert("qos_class", Value::Null);
    let err = ConformanceSpec::default().validate(&broken).unwrap_err();
    assert_eq!(
        err.telemetry_errors,
        [
            "event_missing_dimensions:evt.os.task.routed",
            "missing_required_event:evt.os.worker.selected"
        ]
    );
}

#[test]
fn blank_tenant_is_denied_even_when_built_in_code() {
    // The parser rejects a blank tenant; a RouteInput built directly still meets step 3.
    let mut inp = input(json!({}));
    inp.tenant_id = " \u{1f}\t".into();
    let d = basic_router().decide(&inp);
    assert_eq!(code(&d), Some("DENY_MISSING_TENANT_ID"));
    assert_eq!(d.matched_rule_id, "PRE_ROUTING");
}

#[test]
fn privilege_policy_failure_is_an_internal_error() {
    let decision = json!({"candidate_workers_ranked": [{"worker_species_id": "wrk.a"}]});
    let mut rec = worker("wrk.a", &[]);
    rec["privilege_envelope"] = json!("not an object");
    let reg = registry(json!([rec]));
    let r = Router::new(rules(json!([simple_rule("r1", decision)])), reg.clone())
        .with_hall_config(Some(HallConfig {
            enforce_privilege_envelopes: true,
            ..HallConfig::default()
        }))
        .with_privilege_policy(reg);
    let d = r.decide(&input(json!({})));
    assert_eq!(code(&d), Some("DENY_INTERNAL_ERROR"));
    assert_eq!(
        d.deny_reason_if_denied.unwrap().message,
        "Privilege envelope check raised an exception."
    );
    assert!(
        d.candidate_workers_ranked.is_empty(),
        "only the no-available-worker deny lists candidates"
    );
}

fn gated_router(gate_result: [&str; 3], species: &str) -> Router {
    let gate = DeclarativeGate::from_json(&json!({"rules": [], "default": gate_result})).unwrap();
    router_with(json!({"candidate_workers_ranked": [{"worker_species_id": "wrk.a"}], "escalation": {"policy_gate": true}}), json!([worker(species, &[])]))
        .with_policy_gate(Arc::new(gate))
}

#[test]
fn an_approved_request_passes_the_human_gates_and_nothing_else() {
    // Step 10: the gate's REQUIRE_HUMAN passes once a person approved; its policy version stays.
    let r = gated_router(["REQUIRE_HUMAN", "p.v2", "needs review"], "wrk.a");
    let inp = input(json!({}));
    assert_eq!(code(&r.decide(&inp)), Some("DENY_REQUIRES_HUMAN_APPROVAL"));
    let d = r.decide_approved(&inp);
    assert!(!d.denied, "{:?}", d.deny_reason_if_denied);
    assert_eq!(d.selected_worker_species_id.as_deref(), Some("wrk.a"));
    assert!(d
        .telemetry_envelopes
        .iter()
        .any(|e| e["policy_version"] == "p.v2"));
    // A gate that denies still denies, approval or not.
    let r = gated_router(["DENY", "p.v2", "no"], "wrk.a");
    assert_eq!(code(&r.decide_approved(&inp)), Some("DENY_POLICY_GATE"));
    // Later steps still apply: no available worker.
    let r = gated_router(["REQUIRE_HUMAN", "p.v2", "r"], "wrk.other");
    assert_eq!(
        code(&r.decide_approved(&inp)),
        Some("DENY_NO_AVAILABLE_WORKER")
    );
    // Step 9: the blast gate passes once approved.
    let blast = input(
        json!({"env": "prod", "data_label": "RESTRICTED", "qos_class": "P0", "request": {"egress": true}}),
    );
    assert_eq!(
        code(&basic_router().decide(&blast)),
        Some("DENY_REQUIRES_HUMAN")
    );
    let d = basic_router().decide_approved(&blast);
    assert!(!d.denied, "{:?}", d.deny_reason_if_denied);
}
