//! Wire compatibility in both directions: decisions written by the reference implementation
//! (pyhall-wcp `model_dump_json`, from benches/reference) read into `RouteDecision` and write
//! back to the same JSON, key for key.

use serde_json::Value;
use wcp::RouteDecision;

#[test]
fn reference_decisions_round_trip() {
    let text = include_str!("../fixtures/reference_decisions.jsonl");
    let mut count = 0;
    for line in text.lines() {
        let original: Value = serde_json::from_str(line).unwrap();
        let decision: RouteDecision =
            serde_json::from_str(line).expect("reference decision parses");
        let back = serde_json::to_value(&decision).unwrap();
        assert!(
            wcp::py::py_eq(&original, &back),
            "differs:\n{original}\n{back}"
        );
        let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        assert_eq!(
            keys(&original),
            keys(&back),
            "decision keys in the reference's order"
        );
        // Key order of every telemetry event is kept too.
        for (a, b) in original["telemetry_envelopes"]
            .as_array()
            .unwrap()
            .iter()
            .zip(back["telemetry_envelopes"].as_array().unwrap())
        {
            assert_eq!(keys(a), keys(b));
        }
        count += 1;
    }
    assert!(count >= 5, "fixture covers allowed and denied decisions");
}
