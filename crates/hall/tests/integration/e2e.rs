//! End to end over real HTTP: enroll → heartbeat → route → ledger → trace → SSE.

use crate::common;

use common::{place_worker, route_input, worker_record, TestHall};
use serde_json::{json, Value};
use std::time::Duration;

#[test]
fn enroll_heartbeat_route_record_trace_and_push() {
    let mut hall = TestHall::start();

    // Subscribe first, in the background, so the decision event cannot be missed.
    let mut sse = hall.events();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let decision = sse.wait_for("decision");
        let _ = tx.send(decision);
    });

    let enrolled = hall.post("/v1/workers", &worker_record("org.acme.summarizer.i-1"));
    assert_eq!(enrolled.status, 201, "{:?}", enrolled.body);
    assert_eq!(enrolled.body["updated"], false);
    assert!(hall
        .data()
        .join("registry/org.acme.summarizer.i-1.json")
        .is_file());
    let again = hall.post("/v1/workers", &worker_record("org.acme.summarizer.i-1"));
    assert_eq!(again.status, 200);
    assert_eq!(again.body["updated"], true);

    let hb = hall.post(
        "/v1/workers/org.acme.summarizer.i-1/heartbeat",
        &json!({"status": "ok", "latency_ms": 4.5}),
    );
    assert_eq!(hb.status, 200, "{:?}", hb.body);
    assert_eq!(hb.body["health"]["state"], "healthy");
    assert_eq!(
        hall.post("/v1/workers/org.nobody/heartbeat", &json!({}))
            .status,
        404
    );

    let routed = hall.post("/v1/route", &route_input("corr-e2e-1"));
    assert_eq!(routed.status, 200, "{:?}", routed.body);
    let d = &routed.body;
    assert_eq!(d["denied"], false, "{d}");
    assert_eq!(d["selected_worker_species_id"], "wrk.doc.summarizer");
    let receipt = &d["evidence_receipt"];
    assert_eq!(receipt["decision_id"], d["decision_id"]);
    assert_eq!(receipt["artifact_hash"], d["artifact_hash"]);
    assert_eq!(receipt["ledger_seq"], 1);
    assert_eq!(receipt["ledger_hash"].as_str().unwrap().len(), 64);

    // The record in the ledger is the decision as returned (minus the receipt).
    let id = d["decision_id"].as_str().unwrap();
    let stored = hall.get(&format!("/v1/decisions/{id}"));
    assert_eq!(stored.status, 200);
    assert_eq!(stored.body["hash"], receipt["ledger_hash"]);
    let mut without_receipt = d.clone();
    without_receipt
        .as_object_mut()
        .unwrap()
        .remove("evidence_receipt");
    assert_eq!(stored.body["decision"], without_receipt);

    let trace = hall.get("/v1/traces/corr-e2e-1");
    assert_eq!(trace.body["decisions"].as_array().unwrap().len(), 1);
    assert_eq!(trace.body["decisions"][0]["decision"]["decision_id"], id);

    let pushed = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("SSE subscriber got the decision");
    assert_eq!(pushed["decision_id"], id);
    assert_eq!(pushed["seq"], 1);

    // A deny is recorded too.
    let mut unknown = route_input("corr-e2e-2");
    unknown["capability_id"] = json!("cap.nothing.here");
    let denied = hall.post("/v1/route", &unknown);
    assert_eq!(denied.status, 200);
    assert_eq!(
        denied.body["deny_reason_if_denied"]["code"],
        "DENY_NO_MATCHING_RULE"
    );
    assert!(denied.body["evidence_receipt"]["artifact_hash"].is_null());
    let page = hall.get("/v1/decisions?denied=true");
    assert_eq!(page.body["decisions"].as_array().unwrap().len(), 1);
    // Free text and the other ledger filters are query parameters too.
    let ids = |path: &str| -> Vec<Value> {
        let page = hall.get(path);
        assert_eq!(page.status, 200, "{path}: {:?}", page.body);
        page.body["decisions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["decision"]["correlation_id"].clone())
            .collect()
    };
    assert_eq!(
        ids("/v1/decisions?q=cap.nothing.here"),
        [json!("corr-e2e-2")]
    );
    assert_eq!(
        ids("/v1/decisions?q=DENY_NO_MATCHING_RULE"),
        [json!("corr-e2e-2")]
    );
    assert_eq!(ids("/v1/decisions?q=no.such.words"), Vec::<Value>::new());
    assert_eq!(
        ids("/v1/decisions?data_label=PUBLIC&dry_run=false").len(),
        2
    );
    assert!(ids("/v1/decisions?data_label=RESTRICTED").is_empty());
    assert!(ids("/v1/decisions?dry_run=true").is_empty());
    assert_eq!(hall.get("/v1/decisions?data_label=SECRET").status, 400);

    let workers = hall.get("/v1/workers");
    assert_eq!(workers.body["count"], 1);
    assert_eq!(workers.body["workers"][0]["health"]["decisions_routed"], 1);
    let stats = hall.get("/v1/stats");
    assert_eq!(stats.body["decisions_total"], 2);
    assert_eq!(stats.body["denied"], 1);

    let verify = hall.get("/v1/ledger/verify");
    assert_eq!(verify.body["ok"], true, "{:?}", verify.body);
    assert_eq!(verify.body["records"], 2);

    // After shutdown the ledger file on disk holds both decisions and verifies.
    let ledger_path = hall.data().join("ledger/decisions.sqlite");
    hall.stop();
    let ledger = ledger::Ledger::open(&ledger_path).unwrap();
    let report = ledger.backend().verify(&mut |_| {}).unwrap();
    assert!(report.is_intact());
    assert_eq!(report.records_checked, 2);
}

#[test]
fn re_enrolling_a_hand_placed_worker_replaces_its_file() {
    let hall = TestHall::start_with(|dir| place_worker(dir, "10-summarizer.json", "org.acme.w"));
    let mut record = worker_record("org.acme.w");
    record["risk_tier"] = json!("high");
    let r = hall.post("/v1/workers", &record);
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["updated"], true);
    assert!(!hall.data().join("registry/org.acme.w.json").exists());
    let workers = hall.get("/v1/workers").body;
    assert_eq!(workers["count"], 1);
    assert_eq!(workers["workers"][0]["risk_tier"], "high");
    assert_eq!(workers["workers"][0]["source_file"], "10-summarizer.json");
}

#[test]
fn enrollment_artifact_hash_is_checked() {
    let hall = TestHall::start();
    let mut record = worker_record("org.acme.w2");
    record["artifact_hash"] = json!(hall::enroll_hash::enrollment_hash(&record));
    let ok = hall.post("/v1/workers", &record);
    assert_eq!(ok.status, 201, "{:?}", ok.body);
    assert_eq!(ok.body["artifact_hash_verified"], true);

    record["capabilities"] = json!(["cap.doc.summarize", "cap.sneaky"]);
    let tampered = hall.post("/v1/workers", &record);
    assert_eq!(tampered.status, 400);
    assert_eq!(tampered.body["error"]["code"], "DENY_WORKER_TAMPERED");

    for (bad, field) in [
        (
            json!({"worker_species_id": "s", "capabilities": ["c"]}),
            "worker_id",
        ),
        (
            json!({"worker_id": "x.a.b", "capabilities": ["c"]}),
            "worker_species_id",
        ),
        (
            json!({"worker_id": "x.a.b", "worker_species_id": "s", "capabilities": []}),
            "capabilities",
        ),
        (
            json!({"worker_id": "../etc/passwd", "worker_species_id": "s", "capabilities": ["c"]}),
            "worker_id",
        ),
        (
            json!({"worker_id": " w.padded ", "worker_species_id": "s", "capabilities": ["c"]}),
            "worker_id",
        ),
        (
            // One byte past what `<worker_id>.json` can name on a 255-byte file name limit.
            json!({"worker_id": "w".repeat(251), "worker_species_id": "s", "capabilities": ["c"]}),
            "worker_id",
        ),
    ] {
        let r = hall.post("/v1/workers", &bad);
        assert_eq!(r.status, 400, "{bad}");
        assert_eq!(r.body["error"]["code"], "INVALID_RECORD");
        assert!(
            r.body["error"]["message"].as_str().unwrap().contains(field),
            "{:?}",
            r.body
        );
    }
    assert!(!hall.data().join("etc").exists());

    let longest = worker_record(&"w".repeat(250));
    let r = hall.post("/v1/workers", &longest);
    assert_eq!(r.status, 201, "the longest worker id enrolls: {:?}", r.body);
}

#[test]
fn reference_enroll_alias_speaks_the_reference_shapes_behind_auth() {
    let hall = TestHall::start();
    let mut record = worker_record("org.acme.ref");
    let missing = hall.post("/enroll", &record);
    assert_eq!(missing.status, 400);
    assert!(missing.body["error"]
        .as_str()
        .unwrap()
        .starts_with("artifact_hash is required."));
    let no_id = hall.post(
        "/enroll",
        &json!({"worker_species_id": "s", "capabilities": ["c"]}),
    );
    assert_eq!(no_id.body, json!({"error": "worker_id is required"}));

    record["artifact_hash"] = json!(hall::enroll_hash::enrollment_hash(&record));
    let created = hall.post("/enroll", &record);
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(created.body["enrollment_id"].as_str().unwrap().len(), 36);
    assert_eq!(created.body["artifact_hash_verified"], true);
    let updated = hall.post("/enroll", &record);
    assert_eq!(updated.status, 200);
    assert_eq!(updated.body["updated"], true);

    record["risk_tier"] = json!("critical");
    let tampered = hall.post("/enroll", &record);
    assert_eq!(tampered.status, 400);
    assert_eq!(tampered.body["code"], "DENY_WORKER_TAMPERED");
    assert_eq!(
        hall.request("POST", "/enroll", None, Some(b"{}")).status,
        401,
        "auth is never weakened"
    );
    assert_eq!(hall.get("/v1/workers").body["count"], 1);
}

#[test]
fn workers_list_carries_the_conformance_wcp_scores() {
    let hall = TestHall::start();
    let mut full = worker_record("org.acme.full");
    full["required_controls"] = json!(["ctrl.obs.audit_log_append_only", "ctrl.pol.default_deny"]);
    full["currently_implements"] = json!(["ctrl.obs.evidence_receipt"]);
    full["allowed_environments"] = json!(["dev", "prod"]);
    full["blast_radius"] = json!({"data": "low", "network": "none", "financial": "none",
                                   "time": "low", "reversibility": "full"});
    full["privilege_envelope"] = json!({"network": "none"});
    full["idempotency"] = json!("idempotent");
    for record in [&full, &worker_record("org.acme.basic")] {
        let r = hall.post("/v1/workers", record);
        assert_eq!(r.status, 201, "{:?}", r.body);
    }
    let workers = hall.get("/v1/workers").body;
    let conformance = |i: usize| workers["workers"][i]["conformance"].clone();
    // Sorted by worker_id: basic first.
    assert_eq!(workers["workers"][0]["worker_id"], "org.acme.basic");
    assert_eq!(
        conformance(0),
        json!({"level": "WCP-Basic", "next_level": "WCP-Standard", "missing": [
            "required_controls[] declared", "currently_implements[] declared",
            "allowed_environments[] declared",
            "ctrl.obs.audit_log_append_only (or equivalent) declared",
            "ctrl.pol.default_deny (or equivalent) declared"]})
    );
    assert_eq!(
        conformance(1),
        json!({"level": "WCP-Full", "next_level": null, "missing": []})
    );
}

#[test]
fn concurrent_enrollments_of_one_worker_create_it_once() {
    let hall = TestHall::start();
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let posts: Vec<_> = (0..8)
            .map(|_| {
                scope.spawn(|| {
                    hall.post("/v1/workers", &worker_record("org.acme.race"))
                        .status
                })
            })
            .collect();
        posts.into_iter().map(|p| p.join().unwrap()).collect()
    });
    let created = statuses.iter().filter(|s| **s == 201).count();
    let updated = statuses.iter().filter(|s| **s == 200).count();
    assert_eq!((created, updated), (1, 7), "{statuses:?}");
    assert_eq!(hall.get("/v1/workers").body["count"], 1);
}
