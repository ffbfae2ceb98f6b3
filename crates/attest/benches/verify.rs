//! Verifying a signed manifest (JSON parse, namespace and trust checks, Ed25519 verify_strict)
//! against a known package hash, and the per-route cost of the signed-package check once its
//! verdict is cached. Run: `cargo bench -p attest --bench verify`.

use attest::{
    verify_manifest, BuildSource, Manifest, ManifestSignature, Namespace, NamespaceKey,
    NewManifest, TrustStore, VerifyOptions,
};
use criterion::{criterion_group, criterion_main, Criterion};

fn verify(c: &mut Criterion) {
    let hash = "58ce8955ddf9eff5888e71b89f1d0e55486c36c24908191d611a4488fc686221";
    let key = NamespaceKey::generate(Namespace::parse("org.example").unwrap());
    let manifest = Manifest::build(&NewManifest {
        worker_id: "org.example.summarizer.i-1",
        worker_species_id: "wrk.doc.summarizer",
        worker_version: "1.0.0",
        package_hash: hash,
        build_source: BuildSource::Local,
        built_at: chrono::Utc::now(),
    })
    .unwrap();
    let signature = ManifestSignature::sign(&manifest, &key)
        .unwrap()
        .to_file_text();
    let manifest = manifest.to_file_text();
    let mut trust = TrustStore::default();
    trust.trust(key.public()).unwrap();
    let options = VerifyOptions::new(&trust);
    assert!(
        verify_manifest(
            manifest.as_bytes(),
            Some(signature.as_bytes()),
            hash,
            &options
        )
        .valid
    );
    c.bench_function("verify_signed_manifest_ed25519", |b| {
        b.iter(|| {
            verify_manifest(
                manifest.as_bytes(),
                Some(signature.as_bytes()),
                hash,
                &options,
            )
        })
    });
}

/// What a route pays for the signed-package check of a 10-file package whose verdict is
/// cached: the live hash's stat walk, three `stat`s, a lookup. Against the stat walk alone
/// (what the live hash cache already cost with `require_worker_attestation`).
fn route_check(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let pkg = dir.path().join("pkg");
    std::fs::create_dir_all(pkg.join("lib")).unwrap();
    for i in 0..10 {
        std::fs::write(pkg.join(format!("lib/m{i}.py")), format!("X = {i}\n")).unwrap();
    }
    let key = attest::KeyStore::new(&dir.path().join("keys"))
        .create(&Namespace::parse("org.example").unwrap())
        .unwrap();
    let request = attest::SignRequest {
        worker_id: "org.example.summarizer",
        worker_species_id: "wrk.doc.summarizer",
        worker_version: "1.0.0",
        build_source: BuildSource::Local,
        hmac_secret: None,
        hash: attest::HashOptions::default(),
        progress: None,
        now: chrono::Utc::now(),
    };
    attest::sign_package(&pkg, &key, &request).unwrap();
    let mut trust = TrustStore::default();
    trust.trust(key.public()).unwrap();
    trust.save(&dir.path().join("trust.json")).unwrap();
    let cache = std::sync::Arc::new(attest::HashCache::default());
    let signed = attest::SignedPackages::new(
        attest::TrustSource::new(dir.path().join("trust.json")),
        cache.clone(),
        None,
    );
    let target = attest::PackageRef {
        worker_id: "org.example.summarizer".into(),
        species: "wrk.doc.summarizer".into(),
        dir: pkg.clone(),
    };
    assert!(signed.check(&target).valid);
    let source = attest::LiveSource::PackageDir(pkg);
    c.bench_function("live_hash_cached_10_files", |b| {
        b.iter(|| cache.current_hash(&source).unwrap())
    });
    c.bench_function("route_check_cached_10_files", |b| {
        b.iter(|| signed.check(&target))
    });
}

criterion_group!(benches, verify, route_check);
criterion_main!(benches);
