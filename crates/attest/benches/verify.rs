//! Verifying a signed manifest (JSON parse, namespace and trust checks, Ed25519 verify_strict)
//! against a known package hash. Run: `cargo bench -p attest --bench verify`.

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

criterion_group!(benches, verify);
criterion_main!(benches);
