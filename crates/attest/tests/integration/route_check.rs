//! Signed packages enforced at route time, through the real wcp router: real packages signed
//! with real Ed25519 keys, a trust store file on disk, no `require_worker_attestation`.

use crate::support;

use attest::{
    sign_package, HashCache, KeyStore, LiveHashes, Namespace, NamespaceKey, PackageRef, Reason,
    SignedPackages, TrustSource, TrustStore,
};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use support::{local_sign_request, rules_and_registry, write_tree};
use wcp::{DenyCode, RouteDecision, Router};

const SPECIES: &str = "wrk.doc.summarizer";
const WORKER: &str = "org.acme.summarizer";

struct Setup {
    dir: tempfile::TempDir,
    key: NamespaceKey,
    refusals: Arc<Mutex<Vec<(String, Reason)>>>,
    signed: Arc<SignedPackages>,
    cache: Arc<HashCache>,
}

impl Setup {
    /// A temp dir with `pkg/` (two files), an `org.acme` key and a trust store trusting it.
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        write_tree(
            &dir.path().join("pkg"),
            &[
                ("summarize.py", b"print('hi')\n"),
                ("lib/util.py", b"X = 1\n"),
            ],
        );
        let key = key_for(dir.path(), "org.acme");
        let mut trust = TrustStore::default();
        trust.trust(key.public()).unwrap();
        trust.save(&dir.path().join("trust.json")).unwrap();
        let refusals = Arc::new(Mutex::new(Vec::new()));
        let seen = refusals.clone();
        let hook: attest::route_check::RefusalHook = Box::new(move |pkg, verdict| {
            seen.lock()
                .unwrap()
                .push((pkg.worker_id.clone(), verdict.reason))
        });
        let cache = Arc::new(HashCache::default());
        let trust = TrustSource::new(dir.path().join("trust.json"));
        let signed = Arc::new(SignedPackages::new(trust, cache.clone(), Some(hook)));
        Setup {
            dir,
            key,
            refusals,
            signed,
            cache,
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn sign(&self, worker_id: &str, key: &NamespaceKey) {
        let now = "2026-12-01T10:00:00Z".parse().unwrap();
        let request = local_sign_request(worker_id, SPECIES, "1.2.0", now);
        sign_package(&self.path("pkg"), key, &request).unwrap();
    }

    fn edit_trust(&self, edit: impl FnOnce(&mut TrustStore)) {
        let path = self.path("trust.json");
        let mut trust = TrustStore::load(&path).unwrap();
        edit(&mut trust);
        trust.save(&path).unwrap();
    }

    fn router(&self, record: Value) -> Router {
        let (rules, registry) = rules_and_registry(SPECIES, &record);
        let hashes = LiveHashes::from_registry(&registry, self.dir.path(), self.cache.clone())
            .with_signed_packages(self.signed.clone());
        Router::new(Arc::new(rules), Arc::new(registry)).with_worker_hashes(Arc::new(hashes))
    }

    /// A router for WORKER, its package in `pkg/`.
    fn pkg_router(&self) -> Router {
        self.router(record(WORKER, json!({"package_dir": "pkg"})))
    }

    /// WORKER's package signed with the trusted key, and a router that lets it route.
    fn signed_router(&self) -> Router {
        self.sign(WORKER, &self.key);
        let router = self.pkg_router();
        assert!(!route(&router).denied);
        router
    }

    fn refusals(&self) -> Vec<(String, Reason)> {
        self.refusals.lock().unwrap().clone()
    }
}

fn key_for(dir: &Path, namespace: &str) -> NamespaceKey {
    KeyStore::new(&dir.join("keys"))
        .create(&Namespace::parse(namespace).unwrap())
        .unwrap()
}

fn record(worker_id: &str, attestation: Value) -> Value {
    json!({"worker_id": worker_id, "worker_species_id": SPECIES,
           "capabilities": ["cap.doc.summarize"], "risk_tier": "low", "attestation": attestation})
}

fn route(router: &Router) -> RouteDecision {
    let input = wcp::parse_route_input_str(
        r#"{"capability_id": "cap.doc.summarize", "tenant_id": "t", "correlation_id": "c-1",
            "env": "dev", "data_label": "PUBLIC", "tenant_risk": "low", "qos_class": "P2", "request": {}}"#,
    )
    .unwrap();
    router.decide(&input)
}

/// The deny code, the precise reason word and the message of a refused decision.
fn refused(d: &RouteDecision) -> (DenyCode, String, String) {
    let reason = d.deny_reason_if_denied.as_ref().expect("denied");
    let extra = |k: &str| {
        reason
            .extra
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    (
        reason.code,
        extra("attestation_reason"),
        reason.message.clone(),
    )
}

#[test]
fn a_signed_and_trusted_package_routes_and_the_decision_says_it_was_checked() {
    let s = Setup::new();
    s.sign(WORKER, &s.key);
    let d = route(&s.pkg_router());
    assert!(!d.denied, "{:?}", d.deny_reason_if_denied);
    assert!(d.worker_attestation_checked);
    assert_eq!(d.worker_attestation_valid, Some(true));
    let v = s.signed.check(&PackageRef {
        worker_id: WORKER.into(),
        species: SPECIES.into(),
        dir: s.path("pkg"),
    });
    assert_eq!(v.key_id.as_deref(), Some(s.key.key_id().as_str()));
    assert_eq!(v.namespace.as_deref(), Some("org.acme"));
    assert_eq!(v.worker_version.as_deref(), Some("1.2.0"));
    assert_eq!(v.signed_at.as_deref(), Some("2026-12-01T10:00:00Z"));
}

#[test]
fn an_unsigned_package_is_refused_as_unsigned() {
    let s = Setup::new();
    let d = route(&s.pkg_router());
    let (code, reason, message) = refused(&d);
    assert_eq!(code, DenyCode::WorkerAttestationMissing);
    assert_eq!(reason, "unsigned");
    assert!(message.contains("no manifest"), "{message}");
    assert!(d.worker_attestation_checked);
    assert_eq!(d.worker_attestation_valid, Some(false));
    assert_eq!(s.refusals(), vec![(WORKER.into(), Reason::Unsigned)]);
}

#[test]
fn a_key_the_trust_store_does_not_hold_is_refused_as_untrusted() {
    let s = Setup::new();
    let other = key_for(&s.path("elsewhere"), "org.acme");
    s.sign(WORKER, &other);
    let (code, reason, message) = refused(&route(&s.pkg_router()));
    assert_eq!(code, DenyCode::WorkerAttestationMissing);
    assert_eq!(reason, "untrusted_key");
    assert!(message.contains(&other.key_id()), "{message}");
}

#[test]
fn revoking_the_key_refuses_the_very_next_route_and_reports_it_once() {
    let s = Setup::new();
    let router = s.signed_router();
    s.edit_trust(|t| {
        t.revoke_key(&s.key.key_id());
    });
    let (code, reason, message) = refused(&route(&router));
    assert_eq!(code, DenyCode::WorkerAttestationMissing);
    assert_eq!(reason, "revoked_key");
    assert!(message.contains("revoked"), "{message}");
    route(&router);
    assert_eq!(s.refusals(), vec![(WORKER.into(), Reason::RevokedKey)]);
}

#[test]
fn revoking_the_package_hash_refuses_the_next_route() {
    let s = Setup::new();
    let router = s.signed_router();
    let hash = attest::package_hash(&s.path("pkg")).unwrap();
    s.edit_trust(|t| {
        t.revoke_package(&hash).unwrap();
    });
    let (_, reason, _) = refused(&route(&router));
    assert_eq!(reason, "revoked_package");
}

#[test]
fn a_namespace_signing_for_another_namespace_s_worker_is_refused() {
    let s = Setup::new();
    s.sign(WORKER, &s.key);
    // acme's signature, but the manifest now claims a worker of org.beta (which acme may not sign).
    let manifest = s.path("pkg/manifest.json");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, text.replace(WORKER, "org.beta.summarizer")).unwrap();
    let d = route(&s.router(record("org.beta.summarizer", json!({"package_dir": "pkg"}))));
    let (code, reason, message) = refused(&d);
    assert_eq!(code, DenyCode::WorkerAttestationMissing);
    assert_eq!(reason, "namespace_mismatch");
    assert!(message.contains("org.beta"), "{message}");
}

#[test]
fn a_tampered_package_is_refused_naming_the_files_that_changed() {
    let s = Setup::new();
    let router = s.signed_router();
    std::fs::write(
        s.path("pkg/summarize.py"),
        "import os; os.system('curl evil')\n",
    )
    .unwrap();
    std::fs::write(s.path("pkg/backdoor.py"), "pass\n").unwrap();
    std::fs::remove_file(s.path("pkg/lib/util.py")).unwrap();
    let d = route(&router);
    let (code, reason, message) = refused(&d);
    assert_eq!(code, DenyCode::WorkerTampered);
    assert_eq!(reason, "tampered");
    assert!(
        message.contains("changed: summarize.py")
            && message.contains("added: backdoor.py")
            && message.contains("removed: lib/util.py"),
        "{message}"
    );
    let extra = &d.deny_reason_if_denied.as_ref().unwrap().extra;
    assert_eq!(extra["changed_files"]["changed"], json!(["summarize.py"]));
    assert_eq!(extra["worker_species_id"], json!(SPECIES));
    // Hash values are never returned (SPEC.md §2 step 12e).
    let hash = attest::package_hash(&s.path("pkg")).unwrap();
    assert!(!serde_json::to_string(&d).unwrap().contains(&hash));
}

#[test]
fn a_manifest_edited_to_match_tampered_files_is_refused_as_tampered() {
    let s = Setup::new();
    s.sign(WORKER, &s.key);
    std::fs::write(s.path("pkg/summarize.py"), "evil()\n").unwrap();
    let manifest = s.path("pkg/manifest.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
    let old = doc["package_hash"].as_str().unwrap().to_owned();
    let new = attest::package_hash(&s.path("pkg")).unwrap();
    let text = std::fs::read_to_string(&manifest)
        .unwrap()
        .replace(&old, &new);
    std::fs::write(&manifest, text).unwrap();
    let (code, reason, _) = refused(&route(&s.pkg_router()));
    assert_eq!(
        (code, reason.as_str()),
        (DenyCode::WorkerTampered, "tampered")
    );
}

#[test]
fn a_source_file_record_is_checked_against_the_manifest_beside_it() {
    let s = Setup::new();
    s.sign(WORKER, &s.key);
    let router = s.router(record(WORKER, json!({"source_file": "pkg/summarize.py"})));
    assert!(!route(&router).denied);
    std::fs::write(s.path("pkg/summarize.py"), "evil()\n").unwrap();
    let (code, _, message) = refused(&route(&router));
    assert_eq!(code, DenyCode::WorkerTampered);
    assert!(message.contains("changed: summarize.py"), "{message}");
}

#[test]
fn a_record_without_a_package_is_not_checked() {
    let s = Setup::new();
    let mut plain = record(WORKER, json!({}));
    plain.as_object_mut().unwrap().remove("attestation");
    let d = route(&s.router(plain));
    assert!(!d.denied);
    assert!(!d.worker_attestation_checked);
    assert_eq!(d.worker_attestation_valid, None);
}

#[test]
fn a_verdict_is_verified_once_and_reused_until_something_changes() {
    let s = Setup::new();
    s.sign(WORKER, &s.key);
    let pkg = PackageRef {
        worker_id: WORKER.into(),
        species: SPECIES.into(),
        dir: s.path("pkg"),
    };
    let first = s.signed.check(&pkg);
    assert!(first.valid, "{}", first.message);
    assert!(Arc::ptr_eq(&first, &s.signed.check(&pkg)), "cached");
    s.edit_trust(|t| {
        t.revoke_key("0000000000000000");
    });
    let after = s.signed.check(&pkg);
    assert!(
        !Arc::ptr_eq(&first, &after),
        "a new trust store generation re-verifies"
    );
    assert!(after.valid);
}

#[test]
fn an_unreadable_trust_store_refuses_every_package() {
    let s = Setup::new();
    s.sign(WORKER, &s.key);
    std::fs::write(s.path("trust.json"), "{ not json").unwrap();
    let (code, reason, message) = refused(&route(&s.pkg_router()));
    assert_eq!(code, DenyCode::WorkerHashUnavailable);
    assert_eq!(reason, "unreadable");
    assert!(message.contains("trust store"), "{message}");
    assert_eq!(s.refusals(), vec![(WORKER.into(), Reason::Unreadable)]);
}

#[test]
fn two_workers_of_one_package_keep_their_own_cached_verdict() {
    let s = Setup::new();
    s.sign(WORKER, &s.key);
    let pkg = |worker_id: &str| PackageRef {
        worker_id: worker_id.into(),
        species: SPECIES.into(),
        dir: s.path("pkg"),
    };
    let (signed_for, other) = (pkg(WORKER), pkg("org.acme.summarizer-2"));
    let first = s.signed.check(&signed_for);
    assert!(first.valid);
    assert_eq!(s.signed.check(&other).reason, Reason::IdentityMismatch);
    assert!(
        Arc::ptr_eq(&first, &s.signed.check(&signed_for)),
        "still cached"
    );
}
