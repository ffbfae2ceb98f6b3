//! The key store's file rules and the trust store's validation.

#![cfg(unix)]

use crate::support;

use attest::{AttestError, KeyStore, Namespace, PublicKey, TrustStore};
use std::os::unix::fs::PermissionsExt;

fn ns(text: &str) -> Namespace {
    Namespace::parse(text).unwrap()
}

#[test]
fn new_keys_are_private_files_that_are_never_overwritten() {
    let config = tempfile::tempdir().unwrap();
    let store = KeyStore::new(config.path());
    let key = store.create(&ns("org.example")).unwrap();
    let path = store.key_path(&ns("org.example"));
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        std::fs::metadata(path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o700
    );
    let before = std::fs::read(&path).unwrap();

    let err = store.create(&ns("org.example")).unwrap_err();
    assert!(matches!(err, AttestError::KeyExists(_)), "{err}");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "the existing key is untouched"
    );

    let loaded = store.load(&ns("org.example")).unwrap();
    assert_eq!(loaded.public(), key.public());
}

#[test]
fn a_key_file_others_can_read_is_refused() {
    let config = tempfile::tempdir().unwrap();
    let store = KeyStore::new(config.path());
    store.create(&ns("x.me")).unwrap();
    let path = store.key_path(&ns("x.me"));
    for mode in [0o644, 0o640, 0o604] {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        let err = store.load(&ns("x.me")).unwrap_err();
        assert!(
            matches!(err, AttestError::KeyPermissions { .. }),
            "{mode:o}: {err}"
        );
        assert!(err.to_string().contains("chmod 600"), "{err}");
    }
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o400)).unwrap();
    assert!(store.load(&ns("x.me")).is_ok());
}

#[test]
fn missing_and_corrupt_keys_are_named() {
    let config = tempfile::tempdir().unwrap();
    let store = KeyStore::new(config.path());
    assert!(matches!(
        store.load(&ns("org.none")),
        Err(AttestError::KeyNotFound { .. })
    ));
    store.create(&ns("org.bad")).unwrap();
    std::fs::write(store.key_path(&ns("org.bad")), b"garbage").unwrap();
    let err = store.load(&ns("org.bad")).unwrap_err();
    assert!(
        matches!(err, AttestError::KeyFormat { .. }) && err.to_string().contains("org.bad.pem"),
        "{err}"
    );
}

#[test]
fn private_key_material_never_appears_in_debug_output() {
    let config = tempfile::tempdir().unwrap();
    let store = KeyStore::new(config.path());
    let key = store.create(&ns("org.example")).unwrap();
    let pem = std::fs::read_to_string(store.key_path(&ns("org.example"))).unwrap();
    let secret_b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let debug = format!("{key:?}");
    assert!(
        debug.contains("org.example") && debug.contains(&key.key_id()),
        "{debug}"
    );
    assert!(!debug.contains(&secret_b64), "{debug}");
    assert!(!debug.contains("SigningKey"), "no inner key dump: {debug}");
}

#[test]
fn list_shows_public_halves_sorted() {
    let config = tempfile::tempdir().unwrap();
    let store = KeyStore::new(config.path());
    assert!(store.list().unwrap().is_empty());
    let b = store.create(&ns("x.bob")).unwrap();
    let a = store.create(&ns("org.acme")).unwrap();
    assert_eq!(store.list().unwrap(), vec![a.public(), b.public()]);
}

#[test]
fn exported_public_keys_round_trip_and_are_checked() {
    let (_config, key) = support::new_key("org.example");
    let text = key.public().to_file_text();
    assert_eq!(PublicKey::parse(&text).unwrap(), key.public());

    let mut wrong_id = key.public();
    wrong_id.key_id = "0000000000000000".into();
    assert!(PublicKey::parse(&serde_json::to_string(&wrong_id).unwrap()).is_err());
    assert!(PublicKey::parse(&text.replace("ed25519", "rsa")).is_err());
    assert!(PublicKey::parse(&text.replace("org.example", "org.Example")).is_err());
}

#[test]
fn trust_store_round_trips_and_rejects_bad_entries() {
    let (config, key) = support::new_key("org.example");
    let path = config.path().join("trust.json");
    assert_eq!(
        TrustStore::load_or_default(&path).unwrap(),
        TrustStore::default()
    );
    assert!(
        TrustStore::load(&path).is_err(),
        "an explicit trust file must exist"
    );

    let mut trust = TrustStore::default();
    assert!(trust.trust(key.public()).unwrap());
    assert!(
        !trust.trust(key.public()).unwrap(),
        "trusting twice is a no-op"
    );
    trust.revoke_key("abcdef0123456789");
    trust.revoke_package(&"a".repeat(64)).unwrap();
    assert!(trust.revoke_package("not-a-hash").is_err());
    trust.save(&path).unwrap();
    let loaded = TrustStore::load(&path).unwrap();
    assert_eq!(loaded, trust);
    assert_eq!(loaded.keys_for(&ns("org.example")).count(), 1);

    let text = std::fs::read_to_string(&path).unwrap();
    let tampered = text.replace(&key.key_id(), "ffffffffffffffff");
    std::fs::write(&path, tampered).unwrap();
    let err = TrustStore::load(&path).unwrap_err();
    assert!(matches!(err, AttestError::TrustStoreFormat { .. }), "{err}");
    std::fs::write(&path, text.replace("proctor.trust.v1", "v0")).unwrap();
    assert!(TrustStore::load(&path).is_err());
}

#[test]
fn a_trust_store_others_can_write_is_refused() {
    let config = tempfile::tempdir().unwrap();
    let path = config.path().join("trust.json");
    TrustStore::default().save(&path).unwrap();
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o644
    );
    for mode in [0o664, 0o646, 0o666] {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        let err = TrustStore::load(&path).unwrap_err();
        assert!(err.to_string().contains("chmod go-w"), "{mode:o}: {err}");
    }
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert!(TrustStore::load(&path).is_ok());
}
