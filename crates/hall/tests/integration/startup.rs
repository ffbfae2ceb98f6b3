//! What a hall does when its files are bad at start-up.

use crate::common;

use common::{route_input, wait_for, TestHall};

#[test]
fn broken_rules_at_start_route_nothing_and_say_why() {
    let hall = TestHall::start_with(|dir| {
        std::fs::write(dir.join("rules.json"), "{\"rules\": [").unwrap()
    });
    let d = hall.post("/v1/route", &route_input("start-1")).body;
    assert_eq!(
        d["deny_reason_if_denied"]["code"], "DENY_NO_MATCHING_RULE",
        "{d}"
    );
    wait_for("rules_rejected alert", || {
        let alerts = hall.get("/v1/alerts").body;
        alerts["alerts"]
            .as_array()?
            .iter()
            .any(|a| a["kind"] == "rules_rejected")
            .then_some(())
    });
}

#[test]
fn an_unloadable_policy_gate_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("config.toml"),
        "policy_gate_file = \"gate.json\"\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("gate.json"), r#"{"default": ["MAYBE"]}"#).unwrap();
    let (config, _) = hall::Config::load_or_init(dir.path()).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let err = rt
        .block_on(hall::Hall::open(config))
        .err()
        .expect("start must fail");
    assert!(err.to_string().contains("gate.json"), "{err}");

    std::fs::remove_file(dir.path().join("gate.json")).unwrap();
    let (config, _) = hall::Config::load_or_init(dir.path()).unwrap();
    let err = rt
        .block_on(hall::Hall::open(config))
        .err()
        .expect("missing gate must fail");
    assert!(err.to_string().contains("gate.json"), "{err}");
}

#[test]
fn a_tampered_ledger_raises_an_integrity_alert_at_start() {
    let mut hall = TestHall::start();
    for i in 0..3 {
        assert_eq!(
            hall.post("/v1/route", &route_input(&format!("t-{i}")))
                .status,
            200
        );
    }
    let data = hall.data();
    hall.stop();
    // Someone deletes a record behind the hall's back.
    let db = rusqlite::Connection::open(data.join("ledger/decisions.sqlite")).unwrap();
    assert_eq!(
        db.execute("DELETE FROM decisions WHERE seq = 2", [])
            .unwrap(),
        1
    );
    drop(db);

    let restarted = TestHall::restart(hall);
    let alert = wait_for("ledger_integrity alert", || {
        let alerts = restarted.get("/v1/alerts").body;
        alerts["alerts"]
            .as_array()?
            .iter()
            .find(|a| a["kind"] == "ledger_integrity")
            .cloned()
    });
    assert_eq!(alert["severity"], "critical");
    assert!(
        alert["message"].as_str().unwrap().contains("record 2"),
        "{alert}"
    );
}
