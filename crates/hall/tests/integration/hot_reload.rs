//! Registry and rules change under a running hall: good changes apply, bad ones are rejected
//! with an alert naming the file while the last good version keeps routing.

use crate::common;

use common::{place_worker, replace_file, route_input, wait_for, worker_record, TestHall, RULES};
use serde_json::Value;

fn alert_of_kind(hall: &TestHall, kind: &str) -> Option<Value> {
    let alerts = hall.get("/v1/alerts");
    alerts.body["alerts"]
        .as_array()?
        .iter()
        .find(|a| a["kind"] == kind)
        .cloned()
}

fn matched_rule(hall: &TestHall) -> (String, Value) {
    let d = hall.post("/v1/route", &route_input("corr-reload")).body;
    (d["matched_rule_id"].as_str().unwrap_or("").to_string(), d)
}

#[test]
fn rules_edits_apply_and_broken_rules_keep_the_last_good_version() {
    let hall = TestHall::start_with(|dir| place_worker(dir, "w.json", "org.acme.w"));
    let mut sse = hall.events();
    assert_eq!(matched_rule(&hall).0, "rr_doc");

    let rules_file = hall.data().join("rules.json");
    replace_file(&rules_file, &RULES.replace("rr_doc", "rr_doc_v2"));
    let event = sse.wait_for("registry");
    assert_eq!(event["source"], "rules");
    assert_eq!(event["ok"], true);
    wait_for("new rules", || {
        (matched_rule(&hall).0 == "rr_doc_v2").then_some(())
    });

    std::fs::write(&rules_file, "{\"rules\": [ {\"rule_id\": ").unwrap();
    let alert = wait_for("rules_rejected alert", || {
        alert_of_kind(&hall, "rules_rejected")
    });
    let msg = alert["message"].as_str().unwrap();
    assert!(
        msg.contains("rules.json") && msg.contains("keeping the last good rules"),
        "{msg}"
    );
    assert_eq!(alert["acked"], false);
    let (rule, d) = matched_rule(&hall);
    assert_eq!(rule, "rr_doc_v2", "last good rules stay in force: {d}");
    assert_eq!(d["denied"], false);

    // A rules file that parses but fails validation is rejected the same way.
    std::fs::write(&rules_file, r#"{"rules": [{"match": {}}]}"#).unwrap();
    wait_for("second rules_rejected alert", || {
        let alerts = hall.get("/v1/alerts").body;
        let n = alerts["alerts"]
            .as_array()?
            .iter()
            .filter(|a| a["kind"] == "rules_rejected")
            .count();
        (n >= 2).then_some(())
    });
    assert_eq!(matched_rule(&hall).0, "rr_doc_v2");

    // Acknowledge it.
    let id = alert["id"].as_i64().unwrap();
    let acked = hall.post(&format!("/v1/alerts/{id}/ack"), &serde_json::json!({}));
    assert_eq!(acked.status, 200, "{:?}", acked.body);
    assert_eq!(acked.body["acked"], true);
    let again = hall.post(&format!("/v1/alerts/{id}/ack"), &serde_json::json!({}));
    assert_eq!(again.body["acked_at"], acked.body["acked_at"]);
    assert_eq!(
        hall.post("/v1/alerts/999999/ack", &serde_json::json!({}))
            .status,
        404
    );
    let open = hall.get("/v1/alerts?open=true").body;
    assert!(open["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["id"] != id));
}

#[test]
fn registry_files_and_the_registry_dir_going_away() {
    let hall = TestHall::start_with(|dir| place_worker(dir, "w.json", "org.acme.w"));
    assert_eq!(matched_rule(&hall).1["denied"], false);
    let registry = hall.data().join("registry");

    // A broken record file: rejected with an alert naming it; the good worker keeps serving.
    std::fs::write(registry.join("broken.json"), "{not json").unwrap();
    let alert = wait_for("registry_rejected", || {
        alert_of_kind(&hall, "registry_rejected")
    });
    assert!(
        alert["message"].as_str().unwrap().contains("broken.json"),
        "{alert}"
    );
    assert_eq!(hall.get("/v1/workers").body["count"], 1);

    // A good file edited into a bad one keeps its last good version.
    std::fs::write(
        registry.join("w.json"),
        r#"{"worker_id": "org.acme.w", "capabilities": "nope"}"#,
    )
    .unwrap();
    wait_for("w.json rejected", || {
        let a = hall.get("/v1/alerts").body;
        a["alerts"]
            .as_array()?
            .iter()
            .any(|a| a["message"].as_str().unwrap_or("").contains("w.json"))
            .then_some(())
    });
    let workers = hall.get("/v1/workers").body;
    assert_eq!(workers["count"], 1);
    assert_eq!(
        workers["workers"][0]["worker_species_id"],
        "wrk.doc.summarizer"
    );
    assert_eq!(matched_rule(&hall).1["denied"], false);

    // Deleting the registry dir: no worker is available (fail closed) and an alert says why.
    std::fs::remove_dir_all(&registry).unwrap();
    wait_for("registry_missing", || {
        alert_of_kind(&hall, "registry_missing")
    });
    wait_for("workers gone", || {
        (hall.get("/v1/workers").body["count"] == 0).then_some(())
    });
    let d = matched_rule(&hall).1;
    assert_eq!(
        d["deny_reason_if_denied"]["code"], "DENY_NO_AVAILABLE_WORKER",
        "{d}"
    );

    // Enrolling recreates the dir and routing resumes; the watch is re-attached.
    assert_eq!(
        hall.post("/v1/workers", &worker_record("org.acme.w3"))
            .status,
        201
    );
    assert_eq!(matched_rule(&hall).1["denied"], false);
    std::fs::remove_file(registry.join("org.acme.w3.json")).unwrap();
    wait_for("file removal noticed", || {
        (hall.get("/v1/workers").body["count"] == 0).then_some(())
    });
}

fn reload_events_of(hall: &TestHall, kind: &str) -> usize {
    hall.get(&format!("/v1/hall-events?kind={kind}&limit=1000"))
        .body["count"]
        .as_u64()
        .unwrap() as usize
}

fn reload_events(hall: &TestHall) -> usize {
    reload_events_of(hall, "rules_change") + reload_events_of(hall, "registry_change")
}

#[test]
fn reading_the_watched_files_does_not_reload() {
    let hall = TestHall::start_with(|dir| place_worker(dir, "w.json", "org.acme.w"));
    let rules_file = hall.data().join("rules.json");
    // One real edit, so the hall has just reloaded (and read the files) itself.
    replace_file(&rules_file, &RULES.replace("rr_doc", "rr_doc_v2"));
    wait_for("new rules", || {
        (matched_rule(&hall).0 == "rr_doc_v2").then_some(())
    });
    // Every reload so far has its row: the start's (rules and registry) and the edit's (rules).
    // Rows are written in the background, after the swap the routing above saw.
    wait_for("the start's and the edit's reload rows", || {
        (reload_events_of(&hall, "rules_change") >= 2
            && reload_events_of(&hall, "registry_change") >= 1)
            .then_some(())
    });
    let settled = reload_events(&hall);
    for _ in 0..5 {
        std::fs::read_to_string(&rules_file).unwrap();
        std::fs::read_to_string(hall.data().join("registry/w.json")).unwrap();
    }
    // A negative: nothing happens, so there is no state to wait for. The window bounds how long
    // a reload caused by a read (this test's, or the hall's own during the edit's reload, which
    // would repeat forever) takes to show: the debounce, the reload, and its row. It is checked
    // throughout, so a reload fails the test as soon as its row lands.
    let window = std::time::Instant::now() + watch_settle();
    while std::time::Instant::now() < window {
        assert_eq!(
            reload_events(&hall),
            settled,
            "reads (the hall's own included) must not trigger reloads"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(
        reload_events(&hall),
        settled,
        "reads (the hall's own included) must not trigger reloads"
    );
}

/// The watcher's debounce (hall::watch::DEBOUNCE, private to the hall).
const DEBOUNCE: std::time::Duration = std::time::Duration::from_millis(200);

/// Long enough for a debounced reload and its event row to land, with margin for a loaded
/// machine: four debounce periods.
fn watch_settle() -> std::time::Duration {
    DEBOUNCE * 4
}
