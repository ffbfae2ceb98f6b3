//! End-to-end verification: sign a real package on disk, then tamper with it in every way the
//! issue lists and check the verdict code. Also the reference HMAC manifests.

use crate::support;

use attest::manifest::MANIFEST_FILE;
use attest::signature::SIG_FILE;
use attest::{
    package_hash, sign_package, verify_package, BuildSource, Manifest, ManifestSignature,
    Namespace, NamespaceKey, NewManifest, SignRequest, TrustStore, Verdict, VerdictCode,
    VerifyOptions,
};
use chrono::TimeZone;
use std::path::Path;
use support::*;

const WORKER: &str = "org.example.summarizer.i-1";
const SPECIES: &str = "wrk.doc.summarizer";

struct Signed {
    dir: tempfile::TempDir,
    _config: tempfile::TempDir,
    key: NamespaceKey,
    trust: TrustStore,
}

fn sign_into(dir: &Path, worker_id: &str, key: &NamespaceKey) {
    let now = chrono::Utc
        .with_ymd_and_hms(2026, 2, 26, 10, 11, 12)
        .unwrap();
    let request = local_sign_request(worker_id, SPECIES, "1.0.0", now);
    let signed = sign_package(dir, key, &request).unwrap();
    assert_eq!(signed.package_hash, package_hash(dir).unwrap());
}

fn signed_package(files: &[(&str, &[u8])]) -> Signed {
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path(), files);
    let (config, key) = new_key("org.example");
    sign_into(dir.path(), WORKER, &key);
    let mut trust = TrustStore::default();
    trust.trust(key.public()).unwrap();
    Signed {
        dir,
        _config: config,
        key,
        trust,
    }
}

fn default_package() -> Signed {
    signed_package(&[("main.py", b"print('hi')\n"), ("lib/util.py", b"X = 1\n")])
}

/// Replaces `from` by `to` in the package's manifest file text.
fn edit_manifest(pkg: &Signed, from: &str, to: &str) {
    let path = pkg.dir.path().join(MANIFEST_FILE);
    let text = std::fs::read_to_string(&path).unwrap().replace(from, to);
    std::fs::write(&path, text).unwrap();
}

impl Signed {
    /// The package's verdict under its own trust store.
    fn verdict(&self) -> Verdict {
        verify_package(self.dir.path(), &VerifyOptions::new(&self.trust))
    }

    /// The package's verdict code under `trust`.
    fn code_under(&self, trust: &TrustStore) -> Option<VerdictCode> {
        verify_package(self.dir.path(), &VerifyOptions::new(trust)).code
    }
}

#[test]
fn a_signed_package_verifies() {
    let pkg = default_package();
    let verdict = pkg.verdict();
    assert!(verdict.valid, "{verdict:?}");
    assert_eq!(verdict.code, None);
    assert_eq!(verdict.details["scheme"], "ed25519");
    assert_eq!(verdict.details["key_id"], pkg.key.key_id().as_str());
    assert_eq!(verdict.details["namespace"], "org.example");
    assert_eq!(
        verdict.details["package_hash"],
        package_hash(pkg.dir.path()).unwrap().as_str()
    );
}

#[test]
fn manifest_file_is_pretty_sorted_with_trailing_newline() {
    let pkg = default_package();
    let text = std::fs::read_to_string(pkg.dir.path().join(MANIFEST_FILE)).unwrap();
    assert!(text.starts_with(
        "{\n  \"attested_at_utc\": \"2026-02-26T10:11:12Z\",\n  \"build_source\": \"local\",\n"
    ));
    assert!(text.ends_with("}\n"));
}

#[test]
fn content_tampering_is_a_hash_mismatch() {
    type Tamper = fn(&Path);
    let tampers: [(&str, Tamper); 4] = [
        ("one byte changed", |d| {
            std::fs::write(d.join("main.py"), b"print('hI')\n").unwrap()
        }),
        ("file added", |d| {
            std::fs::write(d.join("extra.py"), b"").unwrap()
        }),
        ("file removed", |d| {
            std::fs::remove_file(d.join("lib/util.py")).unwrap()
        }),
        ("file renamed", |d| {
            std::fs::rename(d.join("lib/util.py"), d.join("lib/utils.py")).unwrap()
        }),
    ];
    for (what, tamper) in tampers {
        let pkg = default_package();
        tamper(pkg.dir.path());
        let verdict = pkg.verdict();
        assert_eq!(verdict.code, Some(VerdictCode::HashMismatch), "{what}");
        assert!(!verdict.valid);
        assert!(
            verdict.message.contains("re-sign"),
            "message says what to do: {}",
            verdict.message
        );
    }
}

#[test]
fn editing_a_signed_manifest_field_breaks_the_signature() {
    let pkg = default_package();
    edit_manifest(&pkg, "\"1.0.0\"", "\"9.9.9\"");
    assert_eq!(pkg.verdict().code, Some(VerdictCode::SigInvalid));
}

#[test]
fn unsigned_manifest_fields_are_not_covered_like_the_reference() {
    // SPEC §3.3: attested_at_utc and trust_statement are not signed.
    let pkg = default_package();
    edit_manifest(&pkg, "Package attested", "Totally attested");
    assert_eq!(pkg.verdict().code, None);
}

#[test]
fn a_signature_swapped_in_from_another_package_is_invalid() {
    let a = default_package();
    let b = signed_package(&[("other.py", b"pass\n")]);
    let mut trust = a.trust.clone();
    trust.trust(b.key.public()).unwrap();
    std::fs::copy(b.dir.path().join(SIG_FILE), a.dir.path().join(SIG_FILE)).unwrap();
    assert_eq!(a.code_under(&trust), Some(VerdictCode::SigInvalid));

    // Swapping manifest and signature together moves the hash check instead.
    std::fs::copy(
        b.dir.path().join(MANIFEST_FILE),
        a.dir.path().join(MANIFEST_FILE),
    )
    .unwrap();
    assert_eq!(a.code_under(&trust), Some(VerdictCode::HashMismatch));
}

#[test]
fn another_namespace_cannot_sign_our_workers() {
    let (_c, other) = new_key("org.other");
    let manifest_for =
        |dir: &Path| Manifest::parse(&std::fs::read(dir.join(MANIFEST_FILE)).unwrap()).unwrap();

    let pkg = default_package();
    let err = ManifestSignature::sign(&manifest_for(pkg.dir.path()), &other).unwrap_err();
    assert!(err.to_string().contains("org.other"), "{err}");

    // A forged manifest.sig naming the other namespace.
    let mut trust = pkg.trust.clone();
    trust.trust(other.public()).unwrap();
    let mut forged = ManifestSignature::sign(&manifest_for(pkg.dir.path()), &pkg.key).unwrap();
    forged.namespace = Namespace::parse("org.other").unwrap();
    forged.key_id = other.key_id();
    forged.write_into(pkg.dir.path()).unwrap();
    assert_eq!(pkg.code_under(&trust), Some(VerdictCode::NamespaceMismatch));

    // Claiming our namespace with the other namespace's key.
    let message = [
        attest::signature::DOMAIN,
        &manifest_for(pkg.dir.path()).signed_bytes(),
    ]
    .concat();
    use base64::Engine;
    forged.namespace = Namespace::parse("org.example").unwrap();
    forged.signature =
        base64::engine::general_purpose::STANDARD.encode(other.sign(&message).to_bytes());
    forged.write_into(pkg.dir.path()).unwrap();
    assert_eq!(pkg.code_under(&trust), Some(VerdictCode::KeyUntrusted));
}

#[test]
fn trust_and_revocation_are_enforced() {
    let pkg = default_package();
    assert_eq!(
        pkg.code_under(&TrustStore::default()),
        Some(VerdictCode::NamespaceUntrusted)
    );

    let mut trust = pkg.trust.clone();
    trust.revoke_key(&pkg.key.key_id());
    assert_eq!(pkg.code_under(&trust), Some(VerdictCode::KeyRevoked));

    let mut trust = pkg.trust.clone();
    trust
        .revoke_package(&package_hash(pkg.dir.path()).unwrap())
        .unwrap();
    assert_eq!(pkg.code_under(&trust), Some(VerdictCode::PackageRevoked));
}

#[test]
fn missing_or_broken_manifest_and_signature() {
    let pkg = default_package();
    std::fs::remove_file(pkg.dir.path().join(SIG_FILE)).unwrap();
    let verdict = pkg.verdict();
    assert_eq!(verdict.code, Some(VerdictCode::SignatureMissing));
    assert_eq!(verdict.details["signature_present"], false);

    std::fs::write(pkg.dir.path().join(SIG_FILE), b"{not json").unwrap();
    assert_eq!(pkg.verdict().code, Some(VerdictCode::SigInvalid));

    std::fs::write(pkg.dir.path().join(MANIFEST_FILE), b"{not json").unwrap();
    let verdict = pkg.verdict();
    assert_eq!(verdict.code, Some(VerdictCode::ManifestMissing));
    assert!(verdict.details["error"].as_str().unwrap().contains("JSON"));

    std::fs::remove_file(pkg.dir.path().join(MANIFEST_FILE)).unwrap();
    assert_eq!(pkg.verdict().code, Some(VerdictCode::ManifestMissing));
}

#[test]
fn expected_identity_is_checked_before_hashing() {
    let pkg = default_package();
    std::fs::write(pkg.dir.path().join("main.py"), b"tampered").unwrap();
    let mut options = VerifyOptions::new(&pkg.trust);
    options.expected_worker_id = Some("org.example.someone-else");
    let verdict = verify_package(pkg.dir.path(), &options);
    assert_eq!(verdict.code, Some(VerdictCode::ManifestIdMismatch));
    assert_eq!(verdict.details["manifest_worker_id"], WORKER);
    assert_eq!(
        verdict.details["expected_worker_id"],
        "org.example.someone-else"
    );
}

#[cfg(unix)]
#[test]
fn an_unsafe_package_is_refused_with_a_verdict() {
    let pkg = default_package();
    std::os::unix::fs::symlink("/etc/passwd", pkg.dir.path().join("passwd")).unwrap();
    let verdict = pkg.verdict();
    assert_eq!(verdict.code, Some(VerdictCode::PackageUnreadable));
    assert!(verdict.message.contains("passwd"), "{}", verdict.message);
}

#[test]
fn verdicts_serialize_with_wcp_codes() {
    let pkg = default_package();
    std::fs::write(pkg.dir.path().join("main.py"), b"x").unwrap();
    let verdict = pkg.verdict();
    let json = serde_json::to_value(&verdict).unwrap();
    assert_eq!(json["valid"], false);
    assert_eq!(json["code"], "ATTEST_HASH_MISMATCH");
    assert!(json["details"]["computed_hash"].is_string());
}

/// Produced by the reference algorithm (Python json + hmac) for the `basic` vector package.
const REFERENCE_HMAC_MANIFEST: &str = r#"{
  "attested_at_utc": "2026-02-26T10:11:12Z",
  "build_source": "local",
  "built_at_utc": "2026-02-26T10:11:12Z",
  "package_hash": "58ce8955ddf9eff5888e71b89f1d0e55486c36c24908191d611a4488fc686221",
  "schema_version": "awp.v1",
  "signature_hmac_sha256": "e66ca651d64e9b7b03884b829ff1bd376a7d45794f5c03a9b3c800daefab3b61",
  "trust_statement": "Package attested by namespace org.acme at 2026-02-26T10:11:12Z; package hash sha256:58ce8955ddf9eff5888e71b89f1d0e55486c36c24908191d611a4488fc686221.",
  "worker_id": "org.acme.r\u00e9sum\u00e9-bot",
  "worker_species_id": "wrk.doc.summarizer",
  "worker_version": "1.2.0"
}
"#;

fn reference_package() -> tempfile::TempDir {
    let case = package_vectors()
        .into_iter()
        .find(|c| c.name == "basic")
        .unwrap();
    let dir = materialize(&case);
    std::fs::write(dir.path().join(MANIFEST_FILE), REFERENCE_HMAC_MANIFEST).unwrap();
    dir
}

#[test]
fn reference_hmac_manifests_verify_with_the_shared_secret() {
    let dir = reference_package();
    let trust = TrustStore::default();
    let mut options = VerifyOptions::new(&trust);
    options.hmac_secret = Some(b"shared-secret");
    let verdict = verify_package(dir.path(), &options);
    assert!(verdict.valid, "{verdict:?}");
    assert_eq!(verdict.details["scheme"], "hmac-sha256");
    assert_eq!(verdict.details["namespace"], "org.acme");

    options.hmac_secret = Some(b"wrong-secret");
    assert_eq!(
        verify_package(dir.path(), &options).code,
        Some(VerdictCode::SigInvalid)
    );

    options.hmac_secret = None;
    let verdict = verify_package(dir.path(), &options);
    assert_eq!(verdict.code, Some(VerdictCode::SignatureMissing));
    assert_eq!(verdict.details["signature_present"], true);
}

#[test]
fn our_hmac_manifest_is_byte_identical_to_the_reference() {
    let mut manifest = Manifest::build(&NewManifest {
        worker_id: "org.acme.résumé-bot",
        worker_species_id: "wrk.doc.summarizer",
        worker_version: "1.2.0",
        package_hash: "58ce8955ddf9eff5888e71b89f1d0e55486c36c24908191d611a4488fc686221",
        build_source: BuildSource::Local,
        built_at: chrono::Utc
            .with_ymd_and_hms(2026, 2, 26, 10, 11, 12)
            .unwrap(),
    })
    .unwrap();
    manifest.set_hmac_signature(b"shared-secret");
    assert_eq!(manifest.to_file_text(), REFERENCE_HMAC_MANIFEST);
}

#[test]
fn manifests_refuse_fields_that_could_never_verify() {
    let new = |worker_id, version, hash| NewManifest {
        worker_id,
        worker_species_id: SPECIES,
        worker_version: version,
        package_hash: hash,
        build_source: BuildSource::Ci,
        built_at: chrono::Utc::now(),
    };
    let good_hash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    assert!(Manifest::build(&new(WORKER, "1.0.0", good_hash)).is_ok());
    assert!(Manifest::build(&new("wrk.doc.x", "1.0.0", good_hash)).is_err());
    assert!(Manifest::build(&new("x..a", "1.0.0", good_hash)).is_err());
    assert!(Manifest::build(&new(WORKER, "v1", good_hash)).is_err());
    assert!(Manifest::build(&new(WORKER, "1.0.0", &good_hash.to_uppercase())).is_err());
}

#[cfg(unix)]
#[test]
fn manifest_files_must_be_small_regular_files() {
    let pkg = default_package();
    // A FIFO manifest must not hang the verifier.
    std::fs::remove_file(pkg.dir.path().join(MANIFEST_FILE)).unwrap();
    let status = std::process::Command::new("mkfifo")
        .arg(pkg.dir.path().join(MANIFEST_FILE))
        .status()
        .unwrap();
    assert!(status.success());
    let verdict = pkg.verdict();
    assert_eq!(verdict.code, Some(VerdictCode::ManifestMissing));
    assert!(
        verdict.message.contains("not a regular file"),
        "{}",
        verdict.message
    );

    let pkg = default_package();
    let outside = tempfile::tempdir().unwrap();
    std::fs::rename(pkg.dir.path().join(SIG_FILE), outside.path().join("sig")).unwrap();
    std::os::unix::fs::symlink(outside.path().join("sig"), pkg.dir.path().join(SIG_FILE)).unwrap();
    assert_eq!(pkg.verdict().code, Some(VerdictCode::SigInvalid));

    let pkg = default_package();
    std::fs::write(pkg.dir.path().join(SIG_FILE), vec![b' '; (1 << 20) + 1]).unwrap();
    let verdict = pkg.verdict();
    assert_eq!(verdict.code, Some(VerdictCode::SigInvalid));
    assert!(verdict.message.contains("1 MiB"), "{}", verdict.message);
}

#[test]
fn signing_outside_the_key_namespace_writes_nothing() {
    let dir = temp_tree(&[("a.py", b"a")]);
    let (_config, key) = new_key("org.example");
    let request = local_sign_request("org.other.worker", SPECIES, "1.0.0", chrono::Utc::now());
    assert!(sign_package(dir.path(), &key, &request).is_err());
    let bad_version = SignRequest {
        worker_id: WORKER,
        worker_version: "one",
        ..request
    };
    assert!(sign_package(dir.path(), &key, &bad_version).is_err());
    assert!(!dir.path().join(MANIFEST_FILE).exists() && !dir.path().join(SIG_FILE).exists());
}
