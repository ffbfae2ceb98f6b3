//! The stream fast paths of `wcp::wire` against the general paths they stand in for:
//! `write_decision` must write serde_json's bytes for every decision, and
//! `parse_canonical_route_input` must either decline a line or read the very RouteInput that
//! `parse_route_input_owned` reads from it (and decline every line the general path rejects).

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use serde_json::{json, Map, Value};
use wcp::scenario::{Outcome, Scenario};
use wcp::wire::{decision_to_vec, parse_canonical_route_input, write_decision};
use wcp::*;

fn assert_writes_as_serde_json(d: &RouteDecision) {
    let expected = serde_json::to_vec(d).unwrap();
    assert_eq!(
        String::from_utf8(decision_to_vec(d)).unwrap(),
        String::from_utf8(expected.clone()).unwrap()
    );
    // Appending after other lines changes nothing either.
    let mut out = b"{\"earlier\":\"line\"}\n".to_vec();
    write_decision(&mut out, d);
    assert_eq!(&out[19..], &expected[..]);
}

/// The general path over the same bytes, as `proctor route` runs it.
fn general(line: &[u8]) -> Result<RouteInput, String> {
    let v: Value = serde_json::from_slice(line).map_err(|e| e.to_string())?;
    parse_route_input_owned(v).map_err(|e| e.message)
}

fn assert_canonical_agrees(line: &[u8]) {
    if let Some(fast) = parse_canonical_route_input(line) {
        assert_eq!(Ok(fast), general(line), "{}", String::from_utf8_lossy(line));
    }
}

fn scenario_files() -> Vec<&'static str> {
    vec![
        include_str!("../../../../tests/vectors/route.jsonl"),
        include_str!("../fixtures/differential.jsonl"),
    ]
}

#[test]
fn every_vector_and_differential_decision_writes_as_serde_json() {
    let (mut decisions, mut canonical) = (0, 0);
    for text in scenario_files() {
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let scenario = Scenario::from_line(line).expect("scenario sets up");
            if let Outcome::Decision(d) = scenario.run() {
                assert_writes_as_serde_json(&d);
                decisions += 1;
            }
            // Its input, as one JSONL line: read the same, or left to the general path.
            let v: Value = serde_json::from_str(line).unwrap();
            let input_line = serde_json::to_vec(&v["input"]).unwrap();
            assert_canonical_agrees(&input_line);
            if let Some(fast) = parse_canonical_route_input(&input_line) {
                assert_eq!(Ok(&fast), scenario.input.as_ref());
                canonical += 1;
            }
        }
    }
    eprintln!("{decisions} decisions, {canonical} canonical inputs");
    assert!(decisions > 1000, "{decisions}");
    // Most vector inputs are canonical; the lenient coercions are not.
    assert!(canonical > 700 && canonical < 1150, "{canonical}");
}

#[test]
fn reference_decisions_write_as_serde_json() {
    for line in include_str!("../fixtures/reference_decisions.jsonl").lines() {
        let d: RouteDecision = serde_json::from_str(line).unwrap();
        assert_writes_as_serde_json(&d);
    }
}

#[test]
fn benchmark_scenario_inputs_are_canonical() {
    let text = include_str!("../../../../benches/reference/scenario/requests.jsonl");
    for line in text.lines() {
        let fast = parse_canonical_route_input(line.as_bytes());
        assert!(fast.is_some(), "{line}");
        assert_canonical_agrees(line.as_bytes());
    }
}

/// Strings with everything serde_json escapes (and much it does not).
fn arb_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z0-9._-]{0,40}",
        1 => "[\"\\\\\u{0}-\u{1f}\u{7f}a é😀/]{0,20}",
        1 => any::<String>(),
    ]
}

fn arb_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        arb_text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((arb_text(), inner), 0..4)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn arb_object() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::vec((arb_text(), arb_value()), 0..3).prop_map(|kv| kv.into_iter().collect())
}

fn arb_event() -> impl Strategy<Value = TelemetryEvent> {
    prop::collection::vec((arb_text(), arb_value()), 0..6).prop_map(|kv| {
        let mut e = TelemetryEvent::default();
        for (k, v) in kv {
            e.insert(k, v);
        }
        e
    })
}

fn arb_candidate() -> impl Strategy<Value = CandidateWorker> {
    (
        arb_text(),
        prop::option::of(any::<f64>()),
        prop::option::of(prop::collection::vec(arb_text(), 0..3)),
        prop::option::of(arb_text()),
    )
        .prop_map(
            |(worker_species_id, score_hint, minimum, skip_reason)| CandidateWorker {
                worker_species_id,
                score_hint,
                requires_controls_minimum: minimum,
                skip_reason,
            },
        )
}

prop_compose! {
    fn arb_decision()(
        ids in prop::collection::vec(arb_text(), 6),
        enums in (0..4usize, 0..3usize, 0..3usize, 0..4usize),
        flags in any::<[bool; 16]>(),
        deny in prop::option::of((0..DenyCode::ALL.len(), arb_text(), arb_object())),
        selected in prop::option::of(arb_text()),
        candidates in prop::collection::vec(arb_candidate(), 0..3),
        controls in prop::collection::vec(arb_text(), 0..3),
        profiles in prop::collection::vec(arb_value(), 0..2),
        human_if in prop::collection::vec(arb_object(), 0..2),
        rationale in prop::option::of(arb_text()),
        hash in prop::option::of(arb_text()),
        valid in prop::option::of(any::<bool>()),
        events in prop::collection::vec(arb_event(), 0..4),
    ) -> RouteDecision {
        RouteDecision {
            decision_id: ids[0].clone(),
            timestamp: ids[1].clone(),
            correlation_id: ids[2].clone(),
            tenant_id: ids[3].clone(),
            capability_id: ids[4].clone(),
            matched_rule_id: ids[5].clone(),
            env: Env::ALL[enums.0],
            data_label: DataLabel::ALL[enums.1],
            tenant_risk: TenantRisk::ALL[enums.2],
            qos_class: QosClass::ALL[enums.3],
            denied: flags[0],
            deny_reason_if_denied: deny.map(|(code, message, extra)| DenyReason {
                code: DenyCode::ALL[code],
                message,
                extra,
            }),
            selected_worker_species_id: selected,
            candidate_workers_ranked: candidates,
            required_controls_effective: controls,
            recommended_profiles_effective: profiles,
            escalation_effective: Escalation {
                policy_gate: flags[1],
                msavx_step_up: flags[2],
                human_required_default: flags[3],
                human_required_if: human_if,
                rationale,
            },
            preconditions_checked: PreconditionsChecked {
                must_have_correlation_id: flags[4],
                must_attach_policy_version: flags[5],
                must_record_artifact_hash_if_executes: flags[6],
                deny_if_missing_required_controls: flags[7],
                deny_if_unsigned_artifact_in_prod: flags[8],
                deny_if_no_attestation_in_prod: flags[9],
            },
            artifact_hash: hash,
            worker_attestation_checked: flags[10],
            worker_attestation_valid: valid,
            dry_run: flags[11],
            telemetry_envelopes: events,
        }
    }
}

/// A value for one envelope field: canonical, coercible, wrong, null or odd.
fn arb_field(canonical: &'static [&'static str]) -> impl Strategy<Value = Value> {
    prop_oneof![
        6 => prop::sample::select(canonical).prop_map(Value::from),
        1 => Just(Value::Null),
        1 => Just(json!(" ")),
        1 => Just(json!("")),
        1 => Just(json!("yes")),
        1 => Just(json!("5")),
        1 => Just(json!(" 42 ")),
        1 => Just(json!(7)),
        1 => Just(json!(1.0)),
        1 => Just(json!(0)),
        1 => Just(json!(true)),
        1 => Just(json!(false)),
        1 => Just(json!(u64::MAX)),
        1 => Just(json!([])),
        1 => Just(json!({"egress": true, "n": 1.5})),
        1 => arb_value(),
    ]
}

const KEYS: &[(&str, &[&str])] = &[
    ("capability_id", &["cap.a", "cap.doc.summarize", "c\u{1}x"]),
    ("env", &["dev", "stage", "prod", "edge", "DEV"]),
    ("data_label", &["PUBLIC", "INTERNAL", "RESTRICTED"]),
    ("tenant_risk", &["low", "medium", "high"]),
    ("qos_class", &["P0", "P1", "P2", "P3"]),
    ("tenant_id", &["acme", "t\u{1}x", "mcp.my-app"]),
    ("correlation_id", &["c-1", "", "a\nb"]),
    ("request", &[]),
    ("blast_radius", &[]),
    ("blast_score", &[]),
    ("privilege_context", &[]),
    ("dry_run", &[]),
    ("tenant_credential", &["k", ""]),
];

/// A request line: each known key present or not with any kind of value, sometimes an
/// unknown key, sometimes a key twice, written compactly or with spaces and `\u` escapes.
/// The line's noise level decides how often a field is absent or not canonical, so that lines
/// are often entirely canonical and often not.
fn arb_line() -> impl Strategy<Value = Vec<u8>> {
    let fields: Vec<_> = KEYS
        .iter()
        .map(|&(key, canonical)| {
            let canonical_value = match key {
                "request" | "blast_radius" | "privilege_context" => {
                    arb_object().prop_map(Value::Object).boxed()
                }
                "blast_score" => (0i64..120).prop_map(Value::from).boxed(),
                "dry_run" => any::<bool>().prop_map(Value::Bool).boxed(),
                _ => prop::sample::select(canonical)
                    .prop_map(Value::from)
                    .boxed(),
            };
            let other = arb_field(if canonical.is_empty() {
                &["x"]
            } else {
                canonical
            });
            (canonical_value, other, 0.0..1.0f64, 0.0..1.0f64)
                .prop_map(move |(c, o, present, odd)| (key, c, o, present, odd))
        })
        .collect();
    (
        fields,
        prop::sample::select(&[0.0, 0.02, 0.1, 0.4][..]),
        prop::option::of((arb_text(), arb_value())),
        prop::option::of(0..KEYS.len()),
        0..3usize,
    )
        .prop_map(|(fields, noise, unknown, twice, style)| {
            let mut entries: Vec<(String, Value)> = fields
                .into_iter()
                .filter(|&(_, _, _, present, _)| present >= noise / 2.0)
                .map(|(k, c, o, _, odd)| (k.to_string(), if odd < noise { o } else { c }))
                .collect();
            if let Some((k, v)) = unknown.filter(|_| noise > 0.0) {
                entries.push((k, v));
            }
            if let Some(i) = twice.filter(|&i| noise > 0.05 && i < entries.len()) {
                let repeated = entries[i].clone();
                entries.push(repeated);
            }
            let parts: Vec<String> = entries
                .iter()
                .map(|(k, v)| {
                    let (k, v) = (serde_json::to_string(k).unwrap(), v.to_string());
                    match style {
                        0 => format!("{k}:{v}"),
                        1 => format!("{k} : {v}"),
                        // Every 'e' inside keys and strings written as an escape.
                        _ => format!(
                            "{}:{}",
                            k.replace('e', "\\u0065"),
                            v.replace('e', "\\u0065")
                        ),
                    }
                })
                .collect();
            format!("{{{}}}\n", parts.join(", ")).into_bytes()
        })
}

#[test]
fn random_lines_take_both_paths() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = arb_line();
    let (mut fast, mut valid) = (0, 0);
    for _ in 0..2000 {
        let line = strategy.new_tree(&mut runner).unwrap().current();
        fast += usize::from(parse_canonical_route_input(&line).is_some());
        valid += usize::from(general(&line).is_ok());
    }
    // Canonical lines, lines only the general path accepts (coercions, repeated keys, enum
    // spellings with escapes) and rejected lines all occur.
    assert!(fast > 400, "{fast}");
    assert!(valid > fast + 20, "{valid} {fast}");
    assert!(valid < 1500, "{valid}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn random_decisions_write_as_serde_json(d in arb_decision()) {
        let expected = serde_json::to_vec(&d).unwrap();
        prop_assert_eq!(decision_to_vec(&d), expected);
    }

    #[test]
    fn random_lines_are_read_as_the_general_path_reads_them(line in arb_line()) {
        let fast = parse_canonical_route_input(&line);
        match general(&line) {
            Ok(input) => if let Some(fast) = fast {
                prop_assert_eq!(fast, input);
            },
            Err(e) => prop_assert!(fast.is_none(), "the general path rejects it: {}", e),
        }
    }

    #[test]
    fn arbitrary_bytes_are_read_as_the_general_path_reads_them(
        line in prop::collection::vec(any::<u8>(), 0..64)
    ) {
        assert_canonical_agrees(&line);
    }
}
