//! Property tests: canonical order against a direct model of SPEC §3.1 step 3, and
//! verification never says "valid" for arbitrary bytes, nor for a correctly signed manifest
//! whose signed fields or signature were tampered with. The trust store of those properties
//! trusts the signing key (the untampered manifest verifies, checked in every case), so a
//! refusal there comes from the Ed25519 check itself, not from an untrusted namespace.

use crate::support;

use attest::walk::list_package;
use attest::{
    verify_manifest, BuildSource, Manifest, ManifestSignature, Namespace, NamespaceKey,
    NewManifest, TrustStore, VerdictCode, VerifyOptions,
};
use base64::Engine;
use proptest::prelude::*;
use support::write_tree;

/// Path components drawn from characters that sort around `/` and each other.
fn component() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just('a'),
            Just('A'),
            Just('-'),
            Just('.'),
            Just('0'),
            Just('_'),
            Just('é'),
            Just('~')
        ],
        1..4,
    )
    .prop_map(|chars| chars.into_iter().collect())
    .prop_filter("not a dot-only name", |c: &String| c != "." && c != "..")
}

const HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A manifest signed by a fresh `org.example` key, and a trust store that trusts that key.
struct Signed {
    manifest: serde_json::Map<String, serde_json::Value>,
    signature: ManifestSignature,
    trust: TrustStore,
}

fn signed() -> Signed {
    let key = NamespaceKey::generate(Namespace::parse("org.example").unwrap());
    let manifest = Manifest::build(&NewManifest {
        worker_id: "org.example.summarizer.i-1",
        worker_species_id: "wrk.doc.summarizer",
        worker_version: "1.0.0",
        package_hash: HASH,
        build_source: BuildSource::Local,
        built_at: chrono::DateTime::from_timestamp(1_772_100_672, 0).unwrap(),
    })
    .unwrap();
    let signature = ManifestSignature::sign(&manifest, &key).unwrap();
    let mut trust = TrustStore::default();
    trust.trust(key.public()).unwrap();
    let signed = Signed {
        manifest: serde_json::from_str(&manifest.to_file_text()).unwrap(),
        signature,
        trust,
    };
    // The control: untampered, it verifies, so the trust store lets verification reach (and
    // pass) the signature check.
    let verdict = signed.verify(&signed.manifest, &signed.signature, HASH);
    assert!(
        verdict.valid,
        "the untampered manifest verifies: {verdict:?}"
    );
    signed
}

impl Signed {
    fn verify(
        &self,
        manifest: &serde_json::Map<String, serde_json::Value>,
        signature: &ManifestSignature,
        package_hash: &str,
    ) -> attest::Verdict {
        let manifest = serde_json::to_vec(manifest).unwrap();
        let signature = signature.to_file_text();
        verify_manifest(
            &manifest,
            Some(signature.as_bytes()),
            package_hash,
            &VerifyOptions::new(&self.trust),
        )
    }
}

/// A signed field and a different value for it that passes every check before the signature's
/// (same namespace, matching package hash), so only the signature can refuse it.
fn tampered_field() -> impl Strategy<Value = (&'static str, String)> {
    prop_oneof![
        "[ -~]{0,20}".prop_map(|v| ("worker_species_id", v)),
        "[ -~]{0,20}".prop_map(|v| ("worker_version", v)),
        "[ -~]{0,20}".prop_map(|v| ("build_source", v)),
        "[ -~]{0,25}".prop_map(|v| ("built_at_utc", v)),
        "[a-z0-9-]{1,12}(\\.[a-z0-9-]{1,8})?"
            .prop_map(|v| ("worker_id", format!("org.example.{v}"))),
        "[0-9a-f]{64}".prop_map(|v| ("package_hash", v)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn order_is_component_wise_code_point_order(
        paths in proptest::collection::btree_set(proptest::collection::vec(component(), 1..4), 1..12)
    ) {
        // Keep only paths where no file is also a directory of another path.
        let paths: Vec<Vec<String>> = paths.iter().filter(|p| {
            !paths.iter().any(|q| q.len() > p.len() && q[..p.len()] == p[..])
        }).cloned().collect();
        let dir = tempfile::tempdir().unwrap();
        let joined: Vec<String> = paths.iter().map(|p| p.join("/")).collect();
        let files: Vec<(&str, &[u8])> = joined.iter().map(|p| (p.as_str(), p.as_bytes())).collect();
        write_tree(dir.path(), &files);

        let mut model = paths.clone();
        model.sort(); // Vec<String> order = Python's tuple-of-str order (code points).
        let listed: Vec<String> = list_package(dir.path()).unwrap().into_iter().map(|f| f.rel).collect();
        prop_assert_eq!(listed, model.into_iter().map(|p| p.join("/")).collect::<Vec<_>>());
    }

    #[test]
    fn arbitrary_manifest_and_signature_bytes_never_verify(
        manifest in proptest::collection::vec(any::<u8>(), 0..300),
        signature in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..300)),
    ) {
        let Signed { trust, .. } = signed();
        let verdict = verify_manifest(&manifest, signature.as_deref(), HASH, &VerifyOptions::new(&trust));
        prop_assert!(!verdict.valid);
        prop_assert!(verdict.code.is_some());
    }

    #[test]
    fn arbitrary_json_manifests_never_verify(
        fields in proptest::collection::btree_map("[a-z_]{1,20}", "[ -~]{0,30}", 0..10)
    ) {
        let manifest = serde_json::to_vec(&fields).unwrap();
        let Signed { signature, trust, .. } = signed();
        let signature = signature.to_file_text();
        for sig in [&b"{}"[..], signature.as_bytes()] {
            let verdict = verify_manifest(&manifest, Some(sig), HASH, &VerifyOptions::new(&trust));
            prop_assert!(!verdict.valid);
        }
    }

    #[test]
    fn signed_manifests_with_a_tampered_signed_field_never_verify(
        (field, value) in tampered_field()
    ) {
        let signed = signed();
        prop_assume!(signed.manifest[field] != value.as_str());
        let mut manifest = signed.manifest.clone();
        manifest.insert(field.to_owned(), value.clone().into());
        let hash = if field == "package_hash" { value.as_str() } else { HASH };
        let verdict = signed.verify(&manifest, &signed.signature, hash);
        prop_assert!(!verdict.valid, "{field} = {value:?} verified");
        prop_assert_eq!(verdict.code, Some(VerdictCode::SigInvalid), "{:?}", verdict);
    }

    #[test]
    fn signed_manifests_with_a_tampered_signature_never_verify(
        flip in (0usize..64, 1u8..=255),
        forged in proptest::collection::vec(any::<u8>(), 64),
        use_forged in any::<bool>(),
    ) {
        let signed = signed();
        let b64 = base64::engine::general_purpose::STANDARD;
        let mut bytes = b64.decode(&signed.signature.signature).unwrap();
        if use_forged {
            prop_assume!(forged != bytes);
            bytes = forged;
        } else {
            bytes[flip.0] ^= flip.1;
        }
        let mut signature = signed.signature.clone();
        signature.signature = b64.encode(&bytes);
        let verdict = signed.verify(&signed.manifest, &signature, HASH);
        prop_assert!(!verdict.valid, "a changed signature verified");
        prop_assert_eq!(verdict.code, Some(VerdictCode::SigInvalid), "{:?}", verdict);
    }

    #[test]
    fn a_signature_by_another_key_claiming_the_trusted_key_id_never_verifies(
        version in "[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}",
    ) {
        let signed = signed();
        let mut manifest = signed.manifest.clone();
        manifest.insert("worker_version".into(), version.into());
        let parsed = Manifest::parse(&serde_json::to_vec(&manifest).unwrap()).unwrap();
        let other = NamespaceKey::generate(Namespace::parse("org.example").unwrap());
        let mut signature = ManifestSignature::sign(&parsed, &other).unwrap();
        signature.key_id = signed.signature.key_id.clone();
        let verdict = signed.verify(&manifest, &signature, HASH);
        prop_assert!(!verdict.valid, "another key's signature verified");
        prop_assert_eq!(verdict.code, Some(VerdictCode::SigInvalid), "{:?}", verdict);
    }
}
