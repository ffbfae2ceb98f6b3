//! A rules file, registry file or registry dir that becomes writable by every user under a
//! running hall is refused like a broken file: an alert names it and the fix, and the last good
//! version keeps routing. The lock: one hall per data dir, in one process too.

use crate::common;

use common::{place_worker, replace_file, route_input, wait_for, worker_record, TestHall, RULES};
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// The first alert of `kind` whose message names `path` and says how to fix it.
fn refusal(hall: &TestHall, kind: &str, path: &Path) -> Option<Value> {
    let fix = format!("run `chmod o-w {}`", path.display());
    hall.get("/v1/alerts").body["alerts"]
        .as_array()?
        .iter()
        .find(|a| a["kind"] == kind && a["message"].as_str().is_some_and(|m| m.contains(&fix)))
        .cloned()
}

fn matched_rule(hall: &TestHall) -> String {
    let d = hall.post("/v1/route", &route_input("corr-perm")).body;
    d["matched_rule_id"].as_str().unwrap_or("").to_string()
}

fn worker_ids(hall: &TestHall) -> Vec<String> {
    hall.get("/v1/workers").body["workers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["worker_id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_world_writable_rules_file_is_refused_and_the_last_good_rules_stay() {
    let hall = TestHall::start_with(|dir| place_worker(dir, "w.json", "org.acme.w"));
    assert_eq!(matched_rule(&hall), "rr_doc");
    let rules = hall.data().join("rules.json");
    replace_file(&rules, &RULES.replace("rr_doc", "rr_planted"));
    chmod(&rules, 0o666);
    let alert = wait_for("the rules refusal", || {
        refusal(&hall, "rules_rejected", &rules)
    });
    assert!(
        alert["message"]
            .as_str()
            .unwrap()
            .contains("writable by every user"),
        "{alert}"
    );
    assert_eq!(matched_rule(&hall), "rr_doc", "the last good rules route");

    chmod(&rules, 0o644);
    wait_for("the fixed rules", || {
        (matched_rule(&hall) == "rr_planted").then_some(())
    });
}

#[test]
fn a_world_writable_registry_file_or_dir_is_refused_and_the_last_good_workers_stay() {
    let hall = TestHall::start_with(|dir| place_worker(dir, "w.json", "org.acme.w"));
    let registry = hall.data().join("registry");
    let file = registry.join("w.json");
    assert_eq!(worker_ids(&hall), ["org.acme.w"]);

    let mut changed = worker_record("org.acme.w");
    changed["capabilities"] = serde_json::json!(["cap.planted"]);
    replace_file(&file, &changed.to_string());
    chmod(&file, 0o666);
    wait_for("the registry file refusal", || {
        refusal(&hall, "registry_rejected", &file)
    });
    let workers = hall.get("/v1/workers").body;
    assert_eq!(
        workers["workers"][0]["capabilities"],
        serde_json::json!(["cap.doc.summarize"]),
        "the last good record stays: {workers}"
    );
    chmod(&file, 0o644);

    // A dir anyone may drop records into: nothing in it is read until it is fixed.
    chmod(&registry, 0o777);
    std::fs::write(
        registry.join("planted.json"),
        worker_record("org.evil.planted").to_string(),
    )
    .unwrap();
    wait_for("the registry dir refusal", || {
        refusal(&hall, "registry_rejected", &registry)
    });
    assert_eq!(worker_ids(&hall), ["org.acme.w"]);
    chmod(&registry, 0o755);
    wait_for("the fixed registry", || {
        (worker_ids(&hall).len() == 2).then_some(())
    });
}

#[test]
fn a_second_hall_in_the_same_process_is_refused_until_the_first_closes() {
    let mut first = TestHall::start();
    let (config, _) = hall::Config::load_or_init(&first.data()).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let err = rt
        .block_on(hall::Hall::open(config.clone()))
        .err()
        .expect("the data dir is taken")
        .to_string();
    assert!(
        err.contains("another hall is already running")
            && err.contains(&format!("pid {}", std::process::id()))
            && err.contains(&format!("url http://{}", first.addr)),
        "{err}"
    );
    first.stop();
    let second = rt.block_on(hall::Hall::open(config)).unwrap();
    rt.block_on(second.close());
}
