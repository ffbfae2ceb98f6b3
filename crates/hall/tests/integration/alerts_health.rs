//! Worker health transitions and alert rules through a running hall; thresholds and the web UI.

use crate::common;

use common::{alerts_of, route_input, wait_for, worker_record, TestHall};
use serde_json::{json, Value};

const ALERTS: &str =
    "[alerts]\ndeny_rate_threshold = 0.5\ndeny_rate_window_s = 60\ndeny_rate_min_decisions = 5\n";

/// Stale after 1 s of silence, offline only after an hour: with a 1 s health tick a slow
/// machine could otherwise jump from degraded straight to offline (a tick at >= 2 s) and the
/// test would never see stale. Tests that need offline lower it through the API once they have
/// seen stale.
fn stale_only_thresholds() -> String {
    format!(
        "[health]\nstale_after_s = 1\noffline_after_s = 3600\ndegraded_latency_ms = 100.0\n\n{ALERTS}"
    )
}

/// A hall whose config.toml holds [`stale_only_thresholds`].
fn hall_with_stale_only_thresholds() -> TestHall {
    TestHall::start_with(|dir| {
        std::fs::write(dir.join("config.toml"), stale_only_thresholds()).unwrap()
    })
}

/// The `to` states of `worker_id`'s health transitions in the hall-events list (oldest first),
/// each checked to start where the previous one ended.
fn transitions_of(hall: &TestHall, worker_id: &str) -> Vec<String> {
    let events = hall
        .get(&format!(
            "/v1/hall-events?worker_id={worker_id}&kind=health_transition"
        ))
        .body;
    let mut to = Vec::new();
    for e in events["events"].as_array().unwrap() {
        let details = &e["details"];
        if let Some(prev) = to.last() {
            assert_eq!(&details["from"], prev, "transitions chain: {events}");
        }
        to.push(details["to"].as_str().unwrap().to_string());
    }
    to
}

/// Poll (10 s deadline; the health tick is 1 s) until `worker_id`'s transitions are `path`.
fn wait_for_path(hall: &TestHall, worker_id: &str, path: &[&str]) {
    wait_for(&format!("{worker_id} to go {path:?}"), || {
        let seen = transitions_of(hall, worker_id);
        assert!(
            seen.len() <= path.len() && seen[..] == path[..seen.len()],
            "transitions {seen:?}, expected a prefix of {path:?} (a state skipped or repeated)"
        );
        (seen == path).then_some(())
    })
}

#[test]
fn heartbeats_stop_worker_goes_stale_then_offline_with_events_and_alerts() {
    let hall = hall_with_stale_only_thresholds();
    assert_eq!(
        hall.post("/v1/workers", &worker_record("org.acme.w"))
            .status,
        201
    );
    let mut sse = hall.events();
    let hb = hall.post(
        "/v1/workers/org.acme.w/heartbeat",
        &json!({"latency_ms": 500.0}),
    );
    assert_eq!(
        hb.body["health"]["state"], "degraded",
        "slow heartbeat: {:?}",
        hb.body
    );
    // Each state is polled for in the hall-events list (deadline 10 s, ticks every 1 s) and
    // must extend the path seen so far: no state may be skipped.
    wait_for_path(&hall, "org.acme.w", &["degraded"]);
    wait_for_path(&hall, "org.acme.w", &["degraded", "stale"]);
    // Seen stale: now let it go offline (the next tick, 2 s after the heartbeat).
    let fast = json!({"health": {"stale_after_s": 1, "offline_after_s": 2, "degraded_latency_ms": 100.0},
                      "alerts": {"deny_rate_threshold": 0.5, "deny_rate_window_s": 60, "deny_rate_min_decisions": 5}});
    let r = hall.put("/v1/settings/thresholds", &fast);
    assert_eq!(r.status, 200, "{:?}", r.body);
    wait_for_path(&hall, "org.acme.w", &["degraded", "stale", "offline"]);
    // The event stream saw the same transitions, in the same order (all three were published
    // before their rows were polled above, so these reads do not wait).
    let path: Vec<String> = (0..3)
        .map(|_| {
            let t = sse.wait_for("health");
            assert_eq!(t["worker_id"], "org.acme.w");
            t["to"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(path, ["degraded", "stale", "offline"]);
    wait_for("stale and offline alerts", || {
        (alerts_of(&hall, "worker_stale").len() == 1
            && alerts_of(&hall, "worker_offline").len() == 1)
            .then_some(())
    });
    // The hall keeps what it saw in the ledger's hall_events table.
    let kinds = wait_for("hall events", || {
        let events = hall.get("/v1/hall-events?worker_id=org.acme.w").body;
        let kinds: Vec<String> = events["events"]
            .as_array()?
            .iter()
            .map(|e| e["kind"].as_str().unwrap().to_string())
            .collect();
        (kinds.len() == 4).then_some(kinds)
    });
    assert_eq!(
        kinds,
        [
            "enrollment",
            "health_transition",
            "health_transition",
            "health_transition"
        ]
    );
    let reloads = hall.get("/v1/hall-events?kind=registry_change").body;
    assert!(
        reloads["count"].as_u64().unwrap() >= 2,
        "start + enrollment: {reloads}"
    );
    assert_eq!(hall.get("/v1/hall-events?limit=0").status, 400);
    let stats = hall.get("/v1/stats").body;
    assert_eq!(stats["workers"]["offline"], 1);
    assert!(stats["alerts_open"].as_u64().unwrap() >= 2);
}

#[test]
fn deny_rate_spike_raises_one_alert() {
    let hall = hall_with_stale_only_thresholds();
    let mut unknown = route_input("spike");
    unknown["capability_id"] = json!("cap.unknown");
    for _ in 0..12 {
        assert_eq!(hall.post("/v1/route", &unknown).body["denied"], true);
    }
    let alerts = wait_for("spike alert", || {
        let a = alerts_of(&hall, "deny_rate_spike");
        (!a.is_empty()).then_some(a)
    });
    assert_eq!(alerts.len(), 1, "one alert per window: {alerts:?}");
    assert!(
        alerts[0]["message"]
            .as_str()
            .unwrap()
            .contains("of 5 decisions denied"),
        "{:?}",
        alerts[0]
    );
}

#[test]
fn thresholds_can_be_changed_and_are_persisted() {
    let hall = TestHall::start();
    let t = json!({"health": {"stale_after_s": 7, "offline_after_s": 70, "degraded_latency_ms": 250.0},
                   "alerts": {"deny_rate_threshold": 0.25, "deny_rate_window_s": 30, "deny_rate_min_decisions": 10}});
    let r = hall.put("/v1/settings/thresholds", &t);
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["health"]["stale_after_s"], 7);
    let settings = hall.get("/v1/settings").body;
    assert_eq!(settings["alerts"]["deny_rate_window_s"], 30);
    assert!(
        !settings.to_string().contains(&hall.token),
        "the token is never returned"
    );
    let saved = std::fs::read_to_string(hall.data().join("config.toml")).unwrap();
    assert!(saved.contains("stale_after_s = 7"), "{saved}");
}

#[test]
fn serves_the_web_ui_with_client_side_routing_and_strict_headers() {
    let ui = tempfile::tempdir().unwrap();
    std::fs::write(
        ui.path().join("index.html"),
        "<!doctype html><title>Proctor</title>",
    )
    .unwrap();
    std::fs::create_dir(ui.path().join("assets")).unwrap();
    std::fs::write(ui.path().join("assets/app.js"), "console.log(1)").unwrap();
    let ui_dir = ui.path().to_str().unwrap().to_string();
    let hall = TestHall::start_with(|dir| {
        std::fs::write(dir.join("config.toml"), format!("ui_dir = {ui_dir:?}\n")).unwrap();
    });
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    for (path, expect) in [
        ("/", "<title>Proctor"),
        ("/decisions/abc", "<title>Proctor"),
        ("/assets/app.js", "console.log"),
    ] {
        let mut resp = agent.get(hall.url(path)).call().unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        assert_eq!(resp.headers()["content-security-policy"], hall::api::CSP);
        assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
        assert!(
            resp.body_mut().read_to_string().unwrap().contains(expect),
            "{path}"
        );
    }
    let api_404 = hall.get("/v1/definitely-not");
    assert_eq!(api_404.status, 404);
    assert_eq!(api_404.body["error"]["code"], "NOT_FOUND");
}

#[test]
fn a_trace_includes_health_transitions_of_the_workers_its_decisions_considered() {
    let hall = hall_with_stale_only_thresholds();
    let mut other = worker_record("org.acme.other");
    other["worker_species_id"] = json!("wrk.other");
    other["capabilities"] = json!(["cap.other"]);
    for (record, id) in [
        (worker_record("org.acme.w"), "org.acme.w"),
        (other, "org.acme.other"),
    ] {
        assert_eq!(hall.post("/v1/workers", &record).status, 201);
        let hb = hall.post(
            &format!("/v1/workers/{id}/heartbeat"),
            &json!({"latency_ms": 500.0}),
        );
        assert_eq!(hb.status, 200, "{:?}", hb.body);
    }
    assert_eq!(
        hall.post("/v1/route", &route_input("incident-1")).status,
        200
    );
    // Both workers go degraded then stale; only the summarizer was a candidate of the decision.
    let transitions = wait_for("stale transition in the trace", || {
        let trace = hall.get("/v1/traces/incident-1").body;
        let t = trace["health_transitions"].as_array()?.clone();
        t.iter().any(|e| e["details"]["to"] == "stale").then_some(t)
    });
    assert!(
        transitions
            .iter()
            .all(|e| e["worker_id"] == "org.acme.w" && e["kind"] == "health_transition"),
        "{transitions:?}"
    );
    assert_eq!(transitions[0]["details"]["to"], "degraded");
    let other = hall.get("/v1/hall-events?worker_id=org.acme.other&kind=health_transition");
    assert!(
        other.body["count"].as_u64().unwrap() >= 1,
        "{:?}",
        other.body
    );
    let unknown = hall.get("/v1/traces/no-such-id").body;
    assert_eq!(unknown["health_transitions"], json!([]));
}

/// Issue 17: decisions routed were counted per species in memory, so two workers of one
/// species both showed the species total, and a restart reset it (and forgot every worker's
/// last heartbeat). Now the counts come from the ledger and the last heartbeat is saved.
#[test]
fn decisions_routed_and_last_heartbeats_survive_a_restart_and_are_never_a_shared_total() {
    let hall = TestHall::start_with(|dir| {
        let registry = dir.join("registry");
        std::fs::create_dir_all(&registry).unwrap();
        let mut other = worker_record("org.acme.other.i-1");
        other["worker_species_id"] = json!("wrk.other");
        other["capabilities"] = json!(["cap.other"]);
        std::fs::write(registry.join("other.json"), other.to_string()).unwrap();
        for id in ["org.acme.sum.i-1", "org.acme.sum.i-2"] {
            let file = registry.join(format!("{id}.json"));
            std::fs::write(file, worker_record(id).to_string()).unwrap();
        }
    });
    for i in 0..3 {
        assert_eq!(
            hall.post("/v1/route", &route_input(&format!("c-{i}")))
                .status,
            200
        );
    }
    let beat = hall.post(
        "/v1/workers/org.acme.other.i-1/heartbeat",
        &json!({"status": "degraded", "latency_ms": 42.5}),
    );
    assert_eq!(beat.status, 200, "{:?}", beat.body);
    let heard_at = beat.body["health"]["last_heartbeat_at"].clone();
    assert!(heard_at.is_string());
    let health = |hall: &TestHall, id: &str| -> Value {
        let workers = hall.get("/v1/workers");
        let w = workers.body["workers"].as_array().unwrap().iter();
        let found = w.clone().find(|w| w["worker_id"] == id);
        found.unwrap_or_else(|| panic!("{id} in {}", workers.body))["health"].clone()
    };
    for id in ["org.acme.sum.i-1", "org.acme.sum.i-2"] {
        let h = health(&hall, id);
        assert_eq!(
            h["decisions_routed"],
            Value::Null,
            "{id} shares its species: {h}"
        );
        assert_eq!(
            (
                h["species_decisions_routed"].clone(),
                h["species_workers"].clone()
            ),
            (json!(3), json!(2))
        );
    }
    assert_eq!(health(&hall, "org.acme.other.i-1")["decisions_routed"], 0);

    // The heartbeat is saved within a health tick (1 s); stopping the hall saves it too.
    let hall = TestHall::restart(hall);
    let other = health(&hall, "org.acme.other.i-1");
    assert_eq!(other["last_heartbeat_at"], heard_at, "{other}");
    assert_eq!(other["reported_status"], "degraded");
    assert_eq!(other["last_latency_ms"], 42.5);
    assert_eq!(
        other["state"], "degraded",
        "heard from a moment ago: {other}"
    );
    assert_eq!(
        health(&hall, "org.acme.sum.i-1")["last_heartbeat_at"],
        Value::Null
    );
    for id in ["org.acme.sum.i-1", "org.acme.sum.i-2"] {
        assert_eq!(
            health(&hall, id)["species_decisions_routed"],
            3,
            "{id} after the restart"
        );
    }
    // Counting goes on from the ledger's figure.
    assert_eq!(hall.post("/v1/route", &route_input("c-after")).status, 200);
    assert_eq!(
        health(&hall, "org.acme.sum.i-2")["species_decisions_routed"],
        4
    );

    // With i-2 gone, i-1 is its species' only worker: the count is its own.
    std::fs::remove_file(hall.data().join("registry/org.acme.sum.i-2.json")).unwrap();
    let hall = TestHall::restart(hall);
    let h = health(&hall, "org.acme.sum.i-1");
    assert_eq!(
        (h["decisions_routed"].clone(), h["species_workers"].clone()),
        (json!(4), json!(1))
    );
}
