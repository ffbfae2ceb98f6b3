//! What the Incidents screen asks: denials grouped into issues (deny code × capability × worker)
//! with a count, first and last seen and a trend, from the ledger over a time window.

use crate::common;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use common::{route_input, worker_record, TestHall};
use serde_json::{json, Value};

fn at(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn route(hall: &TestHall, input: &Value) -> Value {
    let r = hall.post("/v1/route", input);
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body
}

#[test]
fn denials_are_grouped_by_code_capability_and_worker_with_counts_and_trend() {
    let hall = TestHall::start();
    let begin = Utc::now() - Duration::seconds(1);
    // No worker enrolled: the rule names a candidate that is not there.
    let mut no_worker = Vec::new();
    for i in 0..3 {
        no_worker.push(route(&hall, &route_input(&format!("inc-a-{i}"))));
    }
    // No rule for this capability: no candidate at all.
    for i in 0..2 {
        let mut input = route_input(&format!("inc-b-{i}"));
        input["capability_id"] = json!("cap.unrouted");
        route(&hall, &input);
    }
    // An allowed decision is no issue.
    assert_eq!(
        hall.post("/v1/workers", &worker_record("org.acme.sum.i-1"))
            .status,
        201
    );
    assert_eq!(route(&hall, &route_input("inc-ok"))["denied"], false);
    let end = Utc::now() + Duration::seconds(1);

    let r = hall.get(&format!("/v1/issues?since={}&until={}", at(begin), at(end)));
    assert_eq!(r.status, 200, "{:?}", r.body);
    let body = r.body;
    assert_eq!(body["denials"], 5);
    assert_eq!(body["truncated"], false);
    let issues = body["issues"].as_array().unwrap();
    assert_eq!(issues.len(), 2, "{body}");

    let first = &issues[0];
    assert_eq!(first["count"], 3, "most frequent first: {body}");
    assert_eq!(first["capability_id"], "cap.doc.summarize");
    assert_eq!(
        first["worker"], "wrk.doc.summarizer",
        "the first-ranked candidate"
    );
    assert_eq!(
        first["deny_code"],
        no_worker[0]["deny_reason_if_denied"]["code"]
    );
    assert_eq!(
        first["first_seen"]
            .as_str()
            .unwrap()
            .parse::<DateTime<Utc>>()
            .unwrap(),
        no_worker[0]["timestamp"]
            .as_str()
            .unwrap()
            .parse::<DateTime<Utc>>()
            .unwrap()
    );
    assert_eq!(
        first["last_seen"]
            .as_str()
            .unwrap()
            .parse::<DateTime<Utc>>()
            .unwrap(),
        no_worker[2]["timestamp"]
            .as_str()
            .unwrap()
            .parse::<DateTime<Utc>>()
            .unwrap()
    );
    let trend: Vec<u64> = first["trend"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(trend.len() as u64, body["trend_points"].as_u64().unwrap());
    assert_eq!(trend.iter().sum::<u64>(), 3);

    let second = &issues[1];
    assert_eq!(second["count"], 2);
    assert_eq!(second["capability_id"], "cap.unrouted");
    assert_eq!(second["worker"], Value::Null, "no candidate, no worker");

    // A window after them holds no issue; the default window (the last 24 h) holds both.
    let later = hall.get(&format!(
        "/v1/issues?since={}&until={}",
        at(end + Duration::hours(1)),
        at(end + Duration::hours(2))
    ));
    assert_eq!(later.body["issues"], json!([]), "{:?}", later.body);
    assert_eq!(hall.get("/v1/issues").body["denials"], 5);
}

#[test]
fn a_window_that_ends_before_it_starts_or_an_unknown_parameter_is_refused() {
    let hall = TestHall::start();
    let now = Utc::now();
    let backwards = hall.get(&format!(
        "/v1/issues?since={}&until={}",
        at(now),
        at(now - Duration::hours(1))
    ));
    assert_eq!(backwards.status, 400, "{:?}", backwards.body);
    assert_eq!(backwards.body["error"]["code"], "INVALID_QUERY");
    assert!(backwards.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("since must be before until"));
    let unknown = hall.get("/v1/issues?sinse=2026-01-01T00:00:00Z");
    assert_eq!(unknown.status, 400, "{:?}", unknown.body);
}
