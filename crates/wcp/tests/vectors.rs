//! Every public WCP routing vector (tests/vectors/route.jsonl, produced by the reference
//! implementation) must be reproduced exactly: decision fields, deny reasons including their
//! messages, artifact hashes and telemetry (timestamps aside).

use wcp::scenario::{compare, Scenario};

const VECTORS: &str = include_str!("../../../tests/vectors/route.jsonl");

#[test]
fn all_route_vectors_pass() {
    let mut failures = Vec::new();
    let mut count = 0;
    for line in VECTORS.lines().filter(|l| !l.trim().is_empty()) {
        count += 1;
        let scenario = Scenario::from_line(line).expect("scenario sets up");
        let expected = scenario.expected.clone().expect("vector has expected");
        let mismatches = compare(&expected, &scenario.run().observed());
        if !mismatches.is_empty() {
            failures.push(format!("{}:\n  {}", scenario.id, mismatches.join("\n  ")));
        }
    }
    assert_eq!(count, 300, "the public vector file has 300 scenarios");
    assert!(
        failures.is_empty(),
        "{} of {count} vectors failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
