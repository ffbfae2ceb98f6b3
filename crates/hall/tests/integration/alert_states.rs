//! Alerts end by themselves when their condition does (a worker reports again, a deny-rate
//! spike passes, the rules file loads again), and an acknowledgement keeps who made it and
//! why, across a restart. Through a real hall over HTTP.

use crate::common;

use common::{alerts_of, route_input, wait_for, worker_record, TestHall};
use serde_json::{json, Value};

fn thresholds(stale_after_s: u64, window_s: u64) -> String {
    format!(
        "[health]\nstale_after_s = {stale_after_s}\noffline_after_s = 3600\ndegraded_latency_ms = 1000.0\n\n\
         [alerts]\ndeny_rate_threshold = 0.5\ndeny_rate_window_s = {window_s}\ndeny_rate_min_decisions = 3\n"
    )
}

#[test]
fn a_stale_worker_that_reports_again_resolves_its_alert() {
    let hall = TestHall::start_with(|dir| {
        std::fs::write(dir.join("config.toml"), thresholds(1, 60)).unwrap()
    });
    assert_eq!(
        hall.post("/v1/workers", &worker_record("org.acme.w"))
            .status,
        201
    );
    hall.post("/v1/workers/org.acme.w/heartbeat", &json!({}));
    let stale = wait_for("a stale alert", || {
        alerts_of(&hall, "worker_stale").into_iter().next()
    });
    assert_eq!(
        (stale["open"].clone(), stale["resolved_at"].clone()),
        (json!(true), Value::Null)
    );
    assert!(hall.get("/v1/stats").body["alerts_open"].as_u64().unwrap() >= 1);
    let mut sse = hall.events();

    hall.post("/v1/workers/org.acme.w/heartbeat", &json!({}));
    let event = sse.wait_for("alert");
    assert_eq!(event["id"], stale["id"]);
    assert_eq!(event["open"], false);
    assert!(event["resolved_at"].is_string(), "{event}");
    let listed = alerts_of(&hall, "worker_stale");
    let same = listed.iter().find(|a| a["id"] == stale["id"]).unwrap();
    assert_eq!(
        (same["open"].clone(), same["acked"].clone()),
        (json!(false), json!(false))
    );
    assert_eq!(same["resolved_at"], event["resolved_at"]);
    // Resolved is not open: `?open=true` and the count leave it out.
    let open = hall.get("/v1/alerts?open=true").body;
    assert!(
        !open["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["id"] == stale["id"]),
        "{open}"
    );
}

#[test]
fn a_deny_rate_spike_ends_when_its_window_passes() {
    let hall = TestHall::start_with(|dir| {
        std::fs::write(dir.join("config.toml"), thresholds(600, 2)).unwrap()
    });
    let mut unknown = route_input("spike");
    unknown["capability_id"] = json!("cap.unknown");
    for _ in 0..3 {
        assert_eq!(hall.post("/v1/route", &unknown).body["denied"], true);
    }
    let spike = wait_for("the spike alert", || {
        alerts_of(&hall, "deny_rate_spike").into_iter().next()
    });
    assert_eq!(spike["open"], true);
    // No decision comes: the health tick ages the 2 s window and ends the spike.
    let resolved = wait_for("the spike to end", || {
        alerts_of(&hall, "deny_rate_spike")
            .into_iter()
            .find(|a| a["id"] == spike["id"] && a["resolved_at"].is_string())
    });
    assert_eq!(resolved["open"], false);
    assert_eq!(
        alerts_of(&hall, "deny_rate_spike").len(),
        1,
        "one alert for one spike"
    );
}

#[test]
fn a_rules_file_that_loads_again_resolves_its_rejection() {
    let hall = TestHall::start();
    let rules = hall.data().join("rules.json");
    std::fs::write(&rules, "{\"rules\": [ {").unwrap();
    let rejected = wait_for("rules_rejected", || {
        alerts_of(&hall, "rules_rejected").into_iter().next()
    });
    assert_eq!(rejected["open"], true);
    common::replace_file(&rules, common::RULES);
    let resolved = wait_for("the rejection resolved", || {
        alerts_of(&hall, "rules_rejected")
            .into_iter()
            .find(|a| a["resolved_at"].is_string())
    });
    assert_eq!(resolved["id"], rejected["id"]);
}

#[test]
fn an_acknowledgement_keeps_its_author_and_note_across_a_restart() {
    let hall = TestHall::start_with(|dir| {
        std::fs::write(dir.join("config.toml"), thresholds(1, 60)).unwrap()
    });
    for w in ["org.acme.a", "org.acme.b"] {
        hall.post("/v1/workers", &worker_record(w));
        hall.post(&format!("/v1/workers/{w}/heartbeat"), &json!({}));
    }
    let ids = wait_for("two stale alerts", || {
        let ids: Vec<i64> = alerts_of(&hall, "worker_stale")
            .iter()
            .map(|a| a["id"].as_i64().unwrap())
            .collect();
        (ids.len() == 2).then_some(ids)
    });
    let (noted, bare) = (ids[0], ids[1]);

    // Refused: unknown fields, a name over lines, too long a note.
    for bad in [
        json!({"who": "x"}),
        json!({"by": "a\nb"}),
        json!({"note": "x".repeat(1001)}),
    ] {
        let r = hall.post(&format!("/v1/alerts/{noted}/ack"), &bad);
        assert_eq!(r.status, 422, "{bad}: {:?}", r.body);
    }
    let acked = hall.post(
        &format!("/v1/alerts/{noted}/ack"),
        &json!({"note": "restarting it", "by": "ana"}),
    );
    assert_eq!(acked.status, 200, "{:?}", acked.body);
    assert_eq!(
        (
            &acked.body["acked_by"],
            &acked.body["ack_note"],
            &acked.body["open"]
        ),
        (&json!("ana"), &json!("restarting it"), &json!(false))
    );
    // A second acknowledgement changes nothing.
    let again = hall.post(
        &format!("/v1/alerts/{noted}/ack"),
        &json!({"note": "other", "by": "bo"}),
    );
    assert_eq!(again.body, acked.body);
    // No body: the HTTP caller is whoever holds the token.
    let r = hall.request(
        "POST",
        &format!("/v1/alerts/{bare}/ack"),
        Some(&hall.bearer()),
        None,
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        (&r.body["acked_by"], &r.body["ack_note"]),
        (&json!("token holder"), &Value::Null)
    );

    let hall = TestHall::restart(hall);
    let after = alerts_of(&hall, "worker_stale");
    let kept = after.iter().find(|a| a["id"] == noted).unwrap();
    assert_eq!(kept["acked_by"], "ana");
    assert_eq!(kept["ack_note"], "restarting it");
    assert_eq!(kept["acked_at"], acked.body["acked_at"]);
}
