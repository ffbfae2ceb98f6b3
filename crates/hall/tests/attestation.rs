//! Attestation through the hall: by hand (hash/sign/verify), per enrolled worker, and at route
//! time (tampered code is denied and raises an alert).

mod common;

use common::{route_input, setup_keys, wait_for, worker_record, TestHall};
use serde_json::json;

/// A hall that checks worker code at route time.
fn attesting_hall() -> TestHall {
    hall_with_config("[hall_config]\nrequire_worker_attestation = true\n")
}

fn hall_with_config(config: &'static str) -> TestHall {
    TestHall::start_with(|dir| std::fs::write(dir.join("config.toml"), config).unwrap())
}

#[test]
fn hash_sign_verify_by_hand_and_per_worker_and_at_route_time() {
    let _cfg = setup_keys();
    let pkg = tempfile::tempdir().unwrap();
    std::fs::write(pkg.path().join("main.py"), "print('summarize')\n").unwrap();
    std::fs::create_dir(pkg.path().join("lib")).unwrap();
    std::fs::write(pkg.path().join("lib/util.py"), "X = 1\n").unwrap();
    let expected_hash = attest::package_hash(pkg.path()).unwrap();
    let pkg_dir = pkg.path().to_str().unwrap().to_string();

    let hall = attesting_hall();

    let hashed = hall.post("/v1/attest/hash", &json!({"path": pkg_dir}));
    assert_eq!(hashed.status, 200, "{:?}", hashed.body);
    assert_eq!(hashed.body["package_hash"], expected_hash);
    assert_eq!(hashed.body["files"], 2);

    let sign_req = json!({"path": pkg_dir, "worker_id": "org.acme.sum.i-1", "worker_species_id": "wrk.doc.summarizer",
                          "worker_version": "1.0.0"});
    let signed = hall.post("/v1/attest/sign", &sign_req);
    assert_eq!(signed.status, 200, "{:?}", signed.body);
    assert_eq!(signed.body["manifest"]["package_hash"], expected_hash);
    assert!(pkg.path().join("manifest.json").is_file());
    let mut other_ns = sign_req.clone();
    other_ns["worker_id"] = json!("org.nokey.w");
    let refused = hall.post("/v1/attest/sign", &other_ns);
    assert_eq!(refused.status, 400);
    assert_eq!(refused.body["error"]["code"], "NO_NAMESPACE_KEY");

    let verify_req = json!({"path": pkg_dir, "worker_id": "org.acme.sum.i-1", "worker_species_id": "wrk.doc.summarizer"});
    let verified = hall.post("/v1/attest/verify", &verify_req);
    assert_eq!(verified.body["ok"], true, "{:?}", verified.body);
    assert_eq!(verified.body["verdict"], "valid");

    // Enroll with the package as its attestation: route-time attestation passes.
    let record = json!({"worker_id": "org.acme.sum.i-1", "worker_species_id": "wrk.doc.summarizer",
        "capabilities": ["cap.doc.summarize"],
        "attestation": {"code_hash": expected_hash, "package_dir": pkg_dir}});
    assert_eq!(hall.post("/v1/workers", &record).status, 201);
    let ok = hall.post("/v1/route", &route_input("att-1")).body;
    assert_eq!(ok["denied"], false, "{ok}");
    assert_eq!(ok["worker_attestation_checked"], true);
    assert_eq!(ok["worker_attestation_valid"], true);
    let per_worker = hall.post("/v1/workers/org.acme.sum.i-1/verify", &json!({}));
    assert_eq!(per_worker.body["verdict"], "valid", "{:?}", per_worker.body);

    // Tamper with the code.
    std::fs::write(pkg.path().join("lib/util.py"), "X = 2  # backdoor\n").unwrap();
    let denied = hall.post("/v1/route", &route_input("att-2")).body;
    assert_eq!(
        denied["deny_reason_if_denied"]["code"], "DENY_WORKER_TAMPERED",
        "{denied}"
    );
    assert_eq!(denied["worker_attestation_valid"], false);
    let per_worker = hall.post("/v1/workers/org.acme.sum.i-1/verify", &json!({}));
    assert_eq!(
        per_worker.body["verdict"], "tampered",
        "{:?}",
        per_worker.body
    );
    assert_eq!(per_worker.body["code"], "ATTEST_HASH_MISMATCH");
    let alert = wait_for("tamper alerts", || {
        let alerts = hall.get("/v1/alerts").body;
        let tamper: Vec<_> = alerts["alerts"]
            .as_array()?
            .iter()
            .filter(|a| a["kind"] == "tamper")
            .cloned()
            .collect();
        (tamper.len() >= 2).then_some(tamper)
    });
    assert!(alert.iter().all(|a| a["severity"] == "critical"));

    assert_eq!(
        hall.post("/v1/workers/org.nobody/verify", &json!({}))
            .status,
        404
    );
    let missing = hall.post(
        "/v1/attest/verify",
        &json!({"path": "/nonexistent/dir", "worker_id": "x", "worker_species_id": "y"}),
    );
    assert_eq!(missing.status, 400);
    assert_eq!(missing.body["error"]["code"], "INVALID_PATH");
}

#[test]
fn a_registry_reload_does_not_launder_a_tampered_source_file() {
    let code = tempfile::tempdir().unwrap();
    let file = code.path().join("worker.py");
    std::fs::write(&file, "def run(): pass\n").unwrap();
    // The reference's enrollment snapshot of an unsigned `source_file` (SPEC.md §3.6) is what
    // is tested here; the signed-package check would refuse the unsigned file before it
    // (route_attestation.rs covers that), so it is off.
    let hall = hall_with_config(
        "[hall_config]\nrequire_worker_attestation = true\n[attestation]\nenforce_signed = false\n",
    );
    let mut record = worker_record("org.acme.sum.i-1");
    record["attestation"] = json!({"source_file": file.to_str().unwrap()});
    assert_eq!(hall.post("/v1/workers", &record).status, 201);
    assert_eq!(
        hall.post("/v1/route", &route_input("snap-1")).body["denied"],
        false
    );

    std::fs::write(&file, "def run(): evil()\n").unwrap();
    // Enrolling another worker reloads the registry; the snapshot must survive it.
    let mut other = worker_record("org.acme.other.i-1");
    other["worker_species_id"] = json!("wrk.other");
    assert_eq!(hall.post("/v1/workers", &other).status, 201);
    let denied = hall.post("/v1/route", &route_input("snap-2")).body;
    assert_eq!(
        denied["deny_reason_if_denied"]["code"], "DENY_WORKER_TAMPERED",
        "{denied}"
    );

    // Re-enrolling the worker accepts its current code.
    assert_eq!(hall.post("/v1/workers", &record).status, 200);
    assert_eq!(
        hall.post("/v1/route", &route_input("snap-3")).body["denied"],
        false
    );
}
