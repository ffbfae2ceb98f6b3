//! The hall's own Ed25519 key: it signs the ledger's checkpoints and every evidence receipt.
//! Kept in the data dir's key store (`<data dir>/keys/`, attest's 0600 store), created on the
//! hall's first start; only the public half ever leaves it.

use std::path::{Path, PathBuf};

use attest::{AttestError, KeyStore, Namespace, NamespaceKey};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::{Signature, VerifyingKey};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::HallError;

/// The key store entry the hall key is kept under (`<data dir>/keys/x.hall.pem`).
const KEY_NAMESPACE: &str = "x.hall";
/// The signed-note signature type of Ed25519 (C2SP signed-note).
const ED25519: u8 = 0x01;

/// The hall's signing key.
pub struct HallKey {
    key: NamespaceKey,
    public: HallPublicKey,
}

impl HallKey {
    /// Load the hall key of `data_dir`, creating it on first start.
    pub fn load_or_create(data_dir: &Path) -> Result<HallKey, HallError> {
        let store = KeyStore::new(data_dir);
        let ns = namespace();
        let key = match store.load(&ns) {
            Err(AttestError::KeyNotFound { .. }) => match store.create(&ns) {
                // Another process created it first: use that one.
                Err(AttestError::KeyExists(_)) => store.load(&ns),
                created => created,
            },
            loaded => loaded,
        }
        .map_err(|e| HallError::Attest(format!("hall key: {e}")))?;
        Ok(HallKey::from(key))
    }

    /// The hall key of `data_dir` if it has one (never creates it).
    pub fn load(data_dir: &Path) -> Result<Option<HallKey>, HallError> {
        match KeyStore::new(data_dir).load(&namespace()) {
            Ok(key) => Ok(Some(HallKey::from(key))),
            Err(AttestError::KeyNotFound { .. }) => Ok(None),
            Err(e) => Err(HallError::Attest(format!("hall key: {e}"))),
        }
    }

    /// Where the hall key of `data_dir` is (or would be) kept.
    pub fn path(data_dir: &Path) -> PathBuf {
        KeyStore::new(data_dir).key_path(&namespace())
    }

    pub fn public(&self) -> &HallPublicKey {
        &self.public
    }

    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
    }
}

impl From<NamespaceKey> for HallKey {
    fn from(key: NamespaceKey) -> Self {
        let verifying = key
            .public()
            .verifying_key()
            .expect("a key from the store has a valid public half");
        HallKey {
            public: HallPublicKey::new(verifying),
            key,
        }
    }
}

fn namespace() -> Namespace {
    Namespace::parse(KEY_NAMESPACE).expect("constant namespace is valid")
}

/// The public half of a hall key: what `proctor hall key` prints and `GET /v1/hall/key`
/// returns. `name` is the key name and the checkpoints' origin line; `verifier_key` is the
/// signed-note verifier key (`<name>+<hex key id>+<base64(0x01 ‖ public key)>`) that
/// transparency-log tooling (Go's `golang.org/x/mod/sumdb/note`) reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct HallPublicKey {
    /// Always `ed25519`.
    pub algorithm: &'static str,
    /// `proctor-hall/<first 8 bytes of SHA-256(public key), hex>`.
    pub name: String,
    /// The signed-note key id: the first 4 bytes of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key), hex.
    pub key_id: String,
    /// The raw 32-byte public key, base64.
    pub public_key: String,
    pub verifier_key: String,
    #[serde(skip)]
    #[schemars(skip)]
    key: VerifyingKey,
}

impl HallPublicKey {
    fn new(key: VerifyingKey) -> Self {
        let name = format!("proctor-hall/{}", attest::keys::key_id(&key));
        let id = note_key_id(&name, &key);
        let mut typed = vec![ED25519];
        typed.extend_from_slice(key.as_bytes());
        HallPublicKey {
            algorithm: attest::keys::ALGORITHM,
            verifier_key: format!("{name}+{}+{}", hex::encode(id), B64.encode(&typed)),
            key_id: hex::encode(id),
            public_key: B64.encode(key.as_bytes()),
            name,
            key,
        }
    }

    /// Parse a signed-note verifier key (`name+keyid+base64(0x01 ‖ key)`), checking that its
    /// parts agree.
    pub fn parse_verifier_key(text: &str) -> Result<HallPublicKey, String> {
        let text = text.trim();
        // The base64 key may itself hold `+`: only the first two separate parts.
        let mut parts = text.splitn(3, '+');
        let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err("a verifier key is <name>+<hex key id>+<base64 key>".into());
        };
        let typed = B64
            .decode(key)
            .map_err(|e| format!("the key part is not base64: {e}"))?;
        let Some((&ED25519, raw)) = typed.split_first() else {
            return Err("not an Ed25519 verifier key (type byte 0x01)".into());
        };
        let raw: [u8; 32] = raw
            .try_into()
            .map_err(|_| "an Ed25519 public key is 32 bytes".to_string())?;
        let key = VerifyingKey::from_bytes(&raw).map_err(|e| format!("not an Ed25519 key: {e}"))?;
        let public = HallPublicKey::new(key);
        if public.name != name || public.key_id != id {
            return Err(format!(
                "its name and key id do not match its key (expected {})",
                public.verifier_key
            ));
        }
        Ok(public)
    }

    pub fn key_id_bytes(&self) -> [u8; 4] {
        note_key_id(&self.name, &self.key)
    }

    /// Whether `signature` is this key's (strict Ed25519) signature of `message`.
    pub fn verifies(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        self.key
            .verify_strict(message, &Signature::from_bytes(signature))
            .is_ok()
    }
}

/// C2SP signed-note key id: SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key), first 4 bytes.
fn note_key_id(name: &str, key: &VerifyingKey) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', ED25519]);
    h.update(key.as_bytes());
    h.finalize()[..4].try_into().expect("4 bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_private_and_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        assert!(HallKey::load(dir.path()).unwrap().is_none());
        let first = HallKey::load_or_create(dir.path()).unwrap();
        let again = HallKey::load_or_create(dir.path()).unwrap();
        assert_eq!(first.public(), again.public());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(HallKey::path(dir.path()))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn verifier_key_round_trips_and_checks_its_parts() {
        let dir = tempfile::tempdir().unwrap();
        let key = HallKey::load_or_create(dir.path()).unwrap();
        let public = key.public();
        assert_eq!(
            &HallPublicKey::parse_verifier_key(&public.verifier_key).unwrap(),
            public
        );
        let renamed = public.verifier_key.replacen("proctor-hall/", "other/", 1);
        assert!(HallPublicKey::parse_verifier_key(&renamed)
            .unwrap_err()
            .contains("do not match"));
        let sig = key.sign(b"m");
        assert!(public.verifies(b"m", &sig));
        assert!(!public.verifies(b"n", &sig));
    }
}
