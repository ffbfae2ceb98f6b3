//! Property tests: canonical order against a direct model of SPEC §3.1 step 3, and
//! verification of arbitrary bytes never panics and never says "valid".

mod support;

use attest::walk::list_package;
use attest::{verify_manifest, TrustStore, VerifyOptions};
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
        let trust = TrustStore::default();
        let verdict = verify_manifest(&manifest, signature.as_deref(), &"0".repeat(64), &VerifyOptions::new(&trust));
        prop_assert!(!verdict.valid);
        prop_assert!(verdict.code.is_some());
    }

    #[test]
    fn arbitrary_json_manifests_never_verify(
        fields in proptest::collection::btree_map("[a-z_]{1,20}", "[ -~]{0,30}", 0..10)
    ) {
        let manifest = serde_json::to_vec(&fields).unwrap();
        let trust = TrustStore::default();
        let verdict = verify_manifest(&manifest, Some(b"{}"), &"0".repeat(64), &VerifyOptions::new(&trust));
        prop_assert!(!verdict.valid);
    }
}
