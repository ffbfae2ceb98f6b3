//! Properties that must hold for any input: no panics on arbitrary JSON, deterministic
//! decisions (ids and timestamps aside), and no allowed decision without a selected worker
//! and an evidence receipt.

use proptest::prelude::*;
use serde_json::{json, Map, Value};
use std::sync::Arc;
use wcp::*;

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        prop_oneof![
            Just("dev".to_string()),
            Just("prod".to_string()),
            Just("P0".to_string()),
            Just("RESTRICTED".to_string()),
            Just("in".to_string()),
            ".{0,8}"
        ]
        .prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 40, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![
                        Just("in".to_string()),
                        Just("any".to_string()),
                        Just("rules".to_string()),
                        Just("env".to_string()),
                        "[a-z_]{1,6}"
                    ],
                    inner
                ),
                0..5
            )
            .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn pick<T: Clone + std::fmt::Debug + 'static>(items: &'static [T]) -> impl Strategy<Value = T> {
    prop::sample::select(items)
}

const ENVS: &[&str] = &["dev", "stage", "prod", "edge"];
const LABELS: &[&str] = &["PUBLIC", "INTERNAL", "RESTRICTED"];
const RISKS: &[&str] = &["low", "medium", "high"];
const QOS: &[&str] = &["P0", "P1", "P2", "P3"];
const CAPS: &[&str] = &["cap.a", "cap.b", "cap.c"];
const SPECIES: &[&str] = &["wrk.a", "wrk.b", "wrk.c", ""];
const CONTROLS: &[&str] = &[
    "ctrl.x",
    "ctrl.blast_radius_scoring",
    "ctrl.privilege_envelopes_required",
    "BAD",
];

fn arb_condition(values: &'static [&'static str]) -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        Just(None),
        Just(Some(Value::Null)),
        pick(values).prop_map(|v| Some(json!(v))),
        Just(Some(json!({"any": true}))),
        Just(Some(json!({"any": false}))),
        prop::sample::subsequence(values.to_vec(), 0..values.len())
            .prop_map(|s| Some(json!({ "in": s }))),
    ]
}

fn arb_rule(i: usize) -> impl Strategy<Value = Value> {
    (
        arb_condition(CAPS),
        arb_condition(ENVS),
        arb_condition(LABELS),
        arb_condition(QOS),
        prop::collection::vec(pick(SPECIES), 0..4),
        prop::sample::subsequence(CONTROLS[..3].to_vec(), 0..3),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(move |(cap, env, label, qos, cands, ctrls, gate, relax)| {
            let mut m = Map::new();
            for (k, c) in [("capability_id", cap), ("env", env), ("data_label", label), ("qos_class", qos)] {
                if let Some(c) = c {
                    m.insert(k.into(), c);
                }
            }
            let cands: Vec<Value> = cands.iter().map(|s| json!({"worker_species_id": s, "score_hint": 1.0})).collect();
            json!({"rule_id": format!("r{i}"), "match": m, "decision": {
                "candidate_workers_ranked": cands, "required_controls_suggested": ctrls,
                "escalation": {"policy_gate": gate},
                "preconditions": {"deny_if_missing_required_controls": !relax, "must_have_correlation_id": !relax}}})
        })
}

fn arb_rules() -> impl Strategy<Value = Value> {
    (0usize..6)
        .prop_flat_map(|n| (0..n).map(arb_rule).collect::<Vec<_>>())
        .prop_map(|rules| json!({ "rules": rules }))
}

fn arb_record() -> impl Strategy<Value = Value> {
    (pick(SPECIES), prop::sample::subsequence(CONTROLS.to_vec(), 0..4), any::<bool>(), any::<bool>()).prop_map(|(s, c, env, att)| {
        let mut r = json!({"worker_id": format!("org.t.{s}"), "worker_species_id": s, "capabilities": ["cap.a"], "currently_implements": c});
        if env {
            r["privilege_envelope"] = json!({"egress": {"allowlist": ["api.x"]}});
        }
        if att {
            r["attestation"] = json!({"code_hash": "a".repeat(64)});
        }
        r
    })
}

fn arb_input() -> impl Strategy<Value = Value> {
    (
        pick(CAPS),
        pick(ENVS),
        pick(LABELS),
        pick(RISKS),
        pick(QOS),
        prop_oneof![Just("acme"), Just(" "), Just("t\u{1}x")],
        prop_oneof![Just("c-1"), Just(""), Just("a\nb")],
        prop::option::of(-5i64..110),
        any::<(bool, bool, bool)>(),
    )
        .prop_map(|(cap, env, label, risk, qos, tenant, corr, score, (egress, writes, dry))| {
            json!({"capability_id": cap, "env": env, "data_label": label, "tenant_risk": risk, "qos_class": qos,
                   "tenant_id": tenant, "correlation_id": corr, "blast_score": score, "dry_run": dry,
                   "request": {"egress": egress, "writes": writes, "n": 1.5}})
        })
}

fn arb_hall() -> impl Strategy<Value = Option<HallConfig>> {
    prop::option::of(any::<[bool; 7]>().prop_map(|b| HallConfig {
        require_signatory: b[0],
        allowed_tenants: vec!["acme".into()],
        require_credential: b[1],
        require_worker_attestation: b[2],
        enforce_correlation_id: b[3],
        enforce_required_controls: b[4],
        enforce_blast_scoring_in_prod: b[5],
        enforce_privilege_envelopes: b[6],
    }))
}

fn build(rules: &Value, records: &[Value], hall: Option<HallConfig>, wired: bool) -> Router {
    let rules = RuleSet::from_json(rules).expect("generated rules are valid");
    let mut registry = Registry::new();
    for r in records {
        let _ = registry.enroll(r);
    }
    let registry = Arc::new(registry);
    let mut router = Router::new(Arc::new(rules), registry.clone()).with_hall_config(hall);
    if wired {
        let mut hashes = MapHashes::default();
        hashes.current.insert("wrk.a".into(), "a".repeat(64));
        hashes.registered = registry.registered_hashes().clone();
        router = router
            .with_policy_gate(Arc::new(StubGate))
            .with_privilege_policy(registry)
            .with_worker_hashes(Arc::new(hashes));
    }
    router
}

/// The decision with its random parts (decision id and every timestamp) blanked.
fn masked(d: &RouteDecision) -> Value {
    let mut v = serde_json::to_value(d).unwrap();
    v["decision_id"] = Value::Null;
    v["timestamp"] = Value::Null;
    for e in v["telemetry_envelopes"].as_array_mut().unwrap() {
        if let Some(t) = e.get_mut("timestamp") {
            *t = Value::Null;
        }
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_json_never_panics_the_parsers(v in arb_json()) {
        let _ = parse_route_input(&v);
        let _ = RuleSet::from_json(&v);
        let _ = RuleSet::from_json(&json!({"rules": [v.clone()]}));
        let _ = RuleSet::from_json(&json!({"rules": [{"rule_id": "r", "match": v.clone(), "decision": v.clone()}]}));
        let _ = RuleSet::from_json(&json!({"rules": [{"rule_id": "r", "match": {"env": v.clone()}}, {"rule_id": "s", "match": {"env": v.clone(), "x": 1}}]}));
        let mut registry = Registry::new();
        let _ = registry.enroll(&v);
        let _ = check_worker(&v);
        let _ = DeclarativeGate::from_json(&v);
        let _ = wcp::scenario::Scenario::from_json(&json!({"rules": v.clone(), "registry": v.clone(), "hall": v.clone(), "input": v}));
    }

    #[test]
    fn decisions_are_deterministic_and_allowed_means_selected_and_hashed(
        rules in arb_rules(),
        records in prop::collection::vec(arb_record(), 0..4),
        hall in arb_hall(),
        wired in any::<bool>(),
        raw in arb_input(),
    ) {
        let router = build(&rules, &records, hall, wired);
        let Ok(input) = parse_route_input(&raw) else { return Ok(()) };
        let first = router.decide(&input);
        let second = router.decide(&input);
        prop_assert_eq!(masked(&first), masked(&second));
        if first.denied {
            prop_assert!(first.selected_worker_species_id.is_none() && first.artifact_hash.is_none());
            prop_assert_eq!(first.telemetry_envelopes.len(), 1);
        } else {
            prop_assert!(first.selected_worker_species_id.is_some());
            prop_assert_eq!(first.artifact_hash.as_deref().map(str::len), Some(64));
            prop_assert!(first.telemetry_envelopes.len() >= 3);
        }
        prop_assert_eq!(first.dry_run, input.dry_run);
    }
}
