//! Signed packages enforced at route time, through a real hall: packages signed with real
//! Ed25519 keys, the trust store a file the hall reads (`[attestation] trust_file`), records
//! enrolled over HTTP, decisions and alerts read back over HTTP. No `require_worker_attestation`:
//! the check is on by default for every record that names a package.

use crate::common;

use attest::{
    BuildSource, HashOptions, KeyStore, Namespace, NamespaceKey, SignRequest, TrustStore,
};
use common::{route_input, wait_for, TestHall};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

const WORKER: &str = "org.acme.summarizer";
const SPECIES: &str = "wrk.doc.summarizer";

/// A package, an `org.acme` key and a trust store trusting it, all in one temp dir.
struct Fixture {
    dir: tempfile::TempDir,
    key: NamespaceKey,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("pkg/lib")).unwrap();
        std::fs::write(dir.path().join("pkg/summarize.py"), "print('hi')\n").unwrap();
        std::fs::write(dir.path().join("pkg/lib/util.py"), "X = 1\n").unwrap();
        let key = new_key(&dir.path().join("keys"));
        let fixture = Fixture { dir, key };
        fixture.edit_trust(|t| {
            t.trust(fixture.key.public()).unwrap();
        });
        fixture
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn sign(&self, key: &NamespaceKey) {
        let request = SignRequest {
            worker_id: WORKER,
            worker_species_id: SPECIES,
            worker_version: "1.2.0",
            build_source: BuildSource::Ci,
            hmac_secret: None,
            hash: HashOptions::default(),
            progress: None,
            now: "2026-12-01T10:00:00Z".parse().unwrap(),
        };
        attest::sign_package(&self.path("pkg"), key, &request).unwrap();
    }

    /// What `proctor keys import` / `revoke` do: load, change, save (atomically).
    fn edit_trust(&self, edit: impl FnOnce(&mut TrustStore)) {
        let path = self.path("trust.json");
        let mut trust = TrustStore::load_or_default(&path).unwrap();
        edit(&mut trust);
        trust.save(&path).unwrap();
    }

    /// A hall whose config names this trust store, plus `extra` config lines.
    fn hall(&self, extra: &str) -> TestHall {
        let config = format!(
            "[attestation]\ntrust_file = {:?}\n{extra}",
            self.path("trust.json").to_str().unwrap()
        );
        TestHall::start_with(|dir| std::fs::write(dir.join("config.toml"), config).unwrap())
    }

    /// Enrolls the worker with this package as its `package_dir`.
    fn enroll(&self, hall: &TestHall, worker_id: &str) {
        let record = json!({"worker_id": worker_id, "worker_species_id": SPECIES,
            "capabilities": ["cap.doc.summarize"], "risk_tier": "low",
            "attestation": {"package_dir": self.path("pkg")}});
        let reply = hall.post("/v1/workers", &record);
        assert_eq!(reply.status, 201, "{:?}", reply.body);
    }
}

fn new_key(dir: &Path) -> NamespaceKey {
    KeyStore::new(dir)
        .create(&Namespace::parse("org.acme").unwrap())
        .unwrap()
}

fn route(hall: &TestHall, correlation_id: &str) -> Value {
    let reply = hall.post("/v1/route", &route_input(correlation_id));
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply.body
}

/// (deny code, attestation reason, message) of a refused decision.
fn refusal(d: &Value) -> (String, String, String) {
    let r = &d["deny_reason_if_denied"];
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    (
        text(&r["code"]),
        text(&r["attestation_reason"]),
        text(&r["message"]),
    )
}

fn worker(hall: &TestHall, worker_id: &str) -> Value {
    let list = hall.get("/v1/workers").body;
    let workers = list
        .as_array()
        .or_else(|| list["workers"].as_array())
        .cloned();
    workers
        .unwrap_or_default()
        .into_iter()
        .find(|w| w["worker_id"] == worker_id)
        .unwrap_or_else(|| panic!("{worker_id} not listed: {list}"))
}

fn alert(hall: &TestHall, kind: &str, subject: &str) -> Option<Value> {
    let alerts = hall.get("/v1/alerts").body;
    alerts["alerts"]
        .as_array()?
        .iter()
        .find(|a| a["kind"] == kind && a["subject"] == subject)
        .cloned()
}

#[test]
fn a_signed_trusted_worker_routes_and_the_api_shows_who_signed_it() {
    let f = Fixture::new();
    f.sign(&f.key);
    let hall = f.hall("");
    f.enroll(&hall, WORKER);
    let d = route(&hall, "signed-1");
    assert_eq!(d["denied"], false, "{d}");
    assert_eq!(d["worker_attestation_checked"], true);
    assert_eq!(d["worker_attestation_valid"], true);
    let a = &worker(&hall, WORKER)["attestation"];
    assert_eq!(a["valid"], true, "{a}");
    assert_eq!(a["reason"], "valid");
    assert_eq!(a["key_id"], f.key.key_id());
    assert_eq!(a["namespace"], "org.acme");
    assert_eq!(a["worker_version"], "1.2.0");
    assert_eq!(a["signed_at"], "2026-12-01T10:00:00Z");
}

#[test]
fn an_unsigned_package_is_refused_with_an_alert_and_shown_unverified() {
    let f = Fixture::new();
    let hall = f.hall("");
    f.enroll(&hall, WORKER);
    let d = route(&hall, "unsigned-1");
    let (code, reason, message) = refusal(&d);
    assert_eq!(code, "DENY_WORKER_ATTESTATION_MISSING", "{d}");
    assert_eq!(reason, "unsigned");
    assert!(message.contains("no manifest"), "{message}");
    let a = &worker(&hall, WORKER)["attestation"];
    assert_eq!(
        (a["valid"].clone(), a["reason"].clone()),
        (json!(false), json!("unsigned"))
    );
    let raised = wait_for("attestation_refused alert", || {
        alert(&hall, "attestation_refused", WORKER)
    });
    assert_eq!(raised["severity"], "critical");
}

#[test]
fn a_package_signed_by_a_key_nobody_trusts_is_refused() {
    let f = Fixture::new();
    let stranger = new_key(&f.path("stranger"));
    f.sign(&stranger);
    let hall = f.hall("");
    f.enroll(&hall, WORKER);
    let (code, reason, message) = refusal(&route(&hall, "untrusted-1"));
    assert_eq!(code, "DENY_WORKER_ATTESTATION_MISSING");
    assert_eq!(reason, "untrusted_key");
    assert!(message.contains(&stranger.key_id()), "{message}");
}

#[test]
fn revoking_the_signing_key_stops_the_next_route_and_raises_an_alert() {
    let f = Fixture::new();
    f.sign(&f.key);
    let hall = f.hall("");
    f.enroll(&hall, WORKER);
    assert_eq!(route(&hall, "revoke-1")["denied"], false);
    f.edit_trust(|t| {
        t.revoke_key(&f.key.key_id());
    });
    // No wait: the very next route sees the new trust store.
    let (code, reason, message) = refusal(&route(&hall, "revoke-2"));
    assert_eq!(code, "DENY_WORKER_ATTESTATION_MISSING");
    assert_eq!(reason, "revoked_key");
    assert!(message.contains(&f.key.key_id()), "{message}");
    let raised = wait_for("attestation_refused alert", || {
        alert(&hall, "attestation_refused", WORKER)
    });
    assert!(
        raised["message"].as_str().unwrap().contains("revoked"),
        "{raised}"
    );
}

#[test]
fn revoking_a_package_hash_raises_its_alert_without_any_route() {
    let f = Fixture::new();
    f.sign(&f.key);
    let hall = f.hall("");
    f.enroll(&hall, WORKER);
    assert_eq!(route(&hall, "revoke-pkg-1")["denied"], false);
    let hash = attest::package_hash(&f.path("pkg")).unwrap();
    f.edit_trust(|t| {
        t.revoke_package(&hash).unwrap();
    });
    wait_for("attestation_refused alert", || {
        alert(&hall, "attestation_refused", WORKER)
    });
    assert_eq!(
        worker(&hall, WORKER)["attestation"]["reason"],
        "revoked_package"
    );
    assert_eq!(refusal(&route(&hall, "revoke-pkg-2")).1, "revoked_package");
}

#[test]
fn a_namespace_may_not_sign_another_namespace_s_worker() {
    let f = Fixture::new();
    f.sign(&f.key);
    let manifest = f.path("pkg/manifest.json");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, text.replace(WORKER, "org.beta.summarizer")).unwrap();
    let hall = f.hall("");
    f.enroll(&hall, "org.beta.summarizer");
    let (code, reason, message) = refusal(&route(&hall, "ns-1"));
    assert_eq!(code, "DENY_WORKER_ATTESTATION_MISSING");
    assert_eq!(reason, "namespace_mismatch");
    assert!(
        message.contains("org.acme") && message.contains("org.beta"),
        "{message}"
    );
}

#[test]
fn a_tampered_file_is_refused_and_named() {
    let f = Fixture::new();
    f.sign(&f.key);
    let hall = f.hall("");
    f.enroll(&hall, WORKER);
    assert_eq!(route(&hall, "tamper-1")["denied"], false);
    std::fs::write(f.path("pkg/lib/util.py"), "X = 2  # backdoor\n").unwrap();
    let d = route(&hall, "tamper-2");
    let (code, reason, message) = refusal(&d);
    assert_eq!(code, "DENY_WORKER_TAMPERED", "{d}");
    assert_eq!(reason, "tampered");
    assert!(message.contains("changed: lib/util.py"), "{message}");
    assert_eq!(d["worker_attestation_valid"], false);
    let a = &worker(&hall, WORKER)["attestation"];
    assert_eq!(a["changed_files"]["changed"], json!(["lib/util.py"]), "{a}");
    let raised = wait_for("attestation_refused alert", || {
        alert(&hall, "attestation_refused", WORKER)
    });
    assert!(
        raised["message"].as_str().unwrap().contains("lib/util.py"),
        "{raised}"
    );
}

#[test]
fn a_record_without_a_package_is_unaffected() {
    let f = Fixture::new();
    let hall = f.hall("");
    let reply = hall.post("/v1/workers", &common::worker_record(WORKER));
    assert_eq!(reply.status, 201);
    // Beside it, an unsigned packaged worker of another species: refused, and only it.
    let mut packaged = common::worker_record("org.acme.other");
    packaged["worker_species_id"] = json!("wrk.other");
    packaged["attestation"] = json!({"package_dir": f.path("pkg")});
    assert_eq!(hall.post("/v1/workers", &packaged).status, 201);
    let d = route(&hall, "plain-1");
    assert_eq!(d["denied"], false, "{d}");
    assert_eq!(d["worker_attestation_checked"], false);
    let plain = worker(&hall, WORKER);
    assert!(
        plain.as_object().unwrap().contains_key("attestation"),
        "{plain}"
    );
    assert_eq!(plain["attestation"], Value::Null);
    assert_eq!(
        worker(&hall, "org.acme.other")["attestation"]["reason"],
        "unsigned"
    );
}

#[test]
fn enforcement_switched_off_routes_an_unsigned_package_as_before() {
    let f = Fixture::new();
    let hall = f.hall("enforce_signed = false\n");
    f.enroll(&hall, WORKER);
    let d = route(&hall, "off-1");
    assert_eq!(d["denied"], false, "{d}");
    assert_eq!(d["worker_attestation_checked"], false);
    assert_eq!(worker(&hall, WORKER)["attestation"], Value::Null);
}

#[test]
fn an_mcp_worker_with_a_tampered_package_never_has_its_server_started() {
    let f = Fixture::new();
    f.sign(&f.key);
    std::fs::write(f.path("pkg/summarize.py"), "print('tampered')\n").unwrap();
    // The server command leaves a marker if it is ever run.
    let marker = f.path("server-started");
    let script = format!(
        "touch '{}' && exec '{}'",
        marker.display(),
        common::fixture().display()
    );
    let record = json!({"worker_id": WORKER, "worker_species_id": SPECIES,
        "capabilities": ["cap.doc.summarize"], "risk_tier": "low",
        "attestation": {"package_dir": f.path("pkg")},
        "mcp": {"command": "sh", "args": ["-c", script], "tools": {"echo": "cap.doc.summarize"}}});
    let hall = f.hall("");
    assert_eq!(hall.post("/v1/workers", &record).status, 201);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let client = rt.block_on(common::connect(&hall));
    let tools = rt.block_on(client.list_all_tools()).unwrap();
    assert!(tools.is_empty(), "{tools:?}");
    let called = rt.block_on(client.call_tool(common::call("echo", json!({"text": "hi"}))));
    assert!(called.is_err(), "{called:?}");
    let server = hall.get("/v1/mcp").body["servers"][0].clone();
    assert_eq!(server["status"]["state"], "failed", "{server}");
    let error = server["status"]["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("not started")
            && error.contains("tampered")
            && error.contains("summarize.py"),
        "{server}"
    );
    assert!(!marker.exists(), "the server was started");
    rt.block_on(client.cancel()).unwrap();
}
