//! Scenario files whose expected outcomes were produced by the reference implementation must
//! be reproduced exactly: decision fields, deny reasons including their messages, artifact
//! hashes and telemetry (timestamps aside).
//!
//! - tests/vectors/route.jsonl: the 300 public WCP vectors.
//! - tests/fixtures/differential.jsonl: 850 random scenarios (benches/reference/differential.py,
//!   seeds 4 and 5, up to 60 per outcome) decided by pyhall-wcp 0.2.2, covering odd condition
//!   shapes, duplicate rule ids, malformed envelopes and lenient input coercions.

use wcp::scenario::{compare, Scenario};

fn run_file(text: &str) -> (usize, Vec<String>) {
    let mut failures = Vec::new();
    let mut count = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        count += 1;
        let scenario = Scenario::from_line(line).expect("scenario sets up");
        let expected = scenario.expected.clone().expect("scenario has expected");
        let mismatches = compare(&expected, &scenario.run().observed());
        if !mismatches.is_empty() {
            failures.push(format!("{}:\n  {}", scenario.id, mismatches.join("\n  ")));
        }
    }
    (count, failures)
}

#[test]
fn all_public_route_vectors_pass() {
    let (count, failures) = run_file(include_str!("../../../../tests/vectors/route.jsonl"));
    assert_eq!(count, 300, "the public vector file has 300 scenarios");
    assert!(
        failures.is_empty(),
        "{} of {count} vectors failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn differential_scenarios_match_the_reference() {
    let (count, failures) = run_file(include_str!("../fixtures/differential.jsonl"));
    assert_eq!(count, 850);
    assert!(
        failures.is_empty(),
        "{} of {count} scenarios failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn a_wrong_expectation_is_reported() {
    let line = include_str!("../../../../tests/vectors/route.jsonl")
        .lines()
        .next()
        .unwrap();
    let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
    v["expected"]["deny_reason"]["message"] = "something else".into();
    v["expected"]["telemetry"][0]["tenant_id"] = "x".into();
    let scenario = Scenario::from_json(&v).unwrap();
    let mismatches = compare(
        scenario.expected.as_ref().unwrap(),
        &scenario.run().observed(),
    );
    assert_eq!(mismatches.len(), 2, "{mismatches:?}");
    assert!(mismatches[0].starts_with("deny_reason: expected"));
    assert!(mismatches[1].starts_with("telemetry: expected"));
}
