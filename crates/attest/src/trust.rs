//! The trust store: which public keys may sign for which namespace, and what is revoked.
//!
//! One JSON file (default `<config dir>/trust.json`):
//! ```json
//! {
//!   "schema": "proctor.trust.v1",
//!   "keys": [ { "algorithm": "ed25519", "namespace": "org.example", "key_id": "…", "public_key": "…" } ],
//!   "revoked": { "key_ids": ["…"], "package_hashes": ["…"] }
//! }
//! ```
//! Key entries use the same format as `proctor keys export --public`, so an exported key can
//! be pasted in. Every entry is validated on load; a bad entry refuses the whole file.

use crate::error::{AttestError, Result};
use crate::keys::PublicKey;
use crate::manifest::is_hex64;
use crate::namespace::Namespace;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::Path;

pub const TRUST_SCHEMA: &str = "proctor.trust.v1";
pub const TRUST_FILE: &str = "trust.json";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustStore {
    schema: String,
    #[serde(default)]
    keys: Vec<PublicKey>,
    #[serde(default)]
    revoked: Revocations,
}

/// Revoked key ids and package hashes; a revoked entry fails verification whatever else holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Revocations {
    #[serde(default)]
    pub key_ids: BTreeSet<String>,
    #[serde(default)]
    pub package_hashes: BTreeSet<String>,
}

impl Default for TrustStore {
    fn default() -> Self {
        Self {
            schema: TRUST_SCHEMA.into(),
            keys: Vec::new(),
            revoked: Revocations::default(),
        }
    }
}

impl TrustStore {
    /// Loads a trust store; a missing file is an error.
    pub fn load(path: &Path) -> Result<Self> {
        let unreadable = |reason: String| AttestError::TrustStoreUnreadable {
            path: path.to_path_buf(),
            reason,
        };
        let mut file = std::fs::File::open(path).map_err(|e| unreadable(e.to_string()))?;
        // Whoever can write the trust store decides which keys are trusted.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let meta = file.metadata().map_err(|e| unreadable(e.to_string()))?;
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o022 != 0 {
                return Err(unreadable(format!(
                    "group or others may write it (mode {mode:o}); run `chmod go-w {}`",
                    path.display()
                )));
            }
        }
        let mut text = String::new();
        std::io::Read::read_to_string(&mut file, &mut text)
            .map_err(|e| unreadable(e.to_string()))?;
        Self::parse(&text).map_err(|reason| AttestError::TrustStoreFormat {
            path: path.to_path_buf(),
            reason,
        })
    }

    /// Loads a trust store, or an empty one when the file does not exist yet.
    pub fn load_or_default(path: &Path) -> Result<Self> {
        if path.exists() {
            Self::load(path)
        } else {
            Ok(Self::default())
        }
    }

    fn parse(text: &str) -> Result<Self, String> {
        let store: Self = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if store.schema != TRUST_SCHEMA {
            return Err(format!(
                "schema is {:?}, expected {TRUST_SCHEMA:?}",
                store.schema
            ));
        }
        for key in &store.keys {
            key.verifying_key().map_err(|e| e.to_string())?;
        }
        if let Some(bad) = store.revoked.package_hashes.iter().find(|h| !is_hex64(h)) {
            return Err(format!(
                "revoked package hash {bad:?} is not 64 lowercase hex digits"
            ));
        }
        Ok(store)
    }

    /// Writes the store atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| AttestError::io(parent, e))?;
        }
        let text =
            serde_json::to_string_pretty(self).expect("a trust store always serializes") + "\n";
        crate::fsutil::write_atomic(path, text.as_bytes(), Some(0o644))
            .map_err(|e| AttestError::io(path, e))
    }

    /// Trusts `key` for its namespace. Returns false if it was already trusted.
    pub fn trust(&mut self, key: PublicKey) -> Result<bool> {
        key.verifying_key()?;
        if self.keys.contains(&key) {
            return Ok(false);
        }
        self.keys.push(key);
        Ok(true)
    }

    pub fn keys(&self) -> &[PublicKey] {
        &self.keys
    }

    /// The trusted keys of one namespace.
    pub fn keys_for<'a>(
        &'a self,
        namespace: &'a Namespace,
    ) -> impl Iterator<Item = &'a PublicKey> + 'a {
        self.keys.iter().filter(move |k| &k.namespace == namespace)
    }

    pub fn revocations(&self) -> &Revocations {
        &self.revoked
    }

    pub fn revoke_key(&mut self, key_id: &str) -> bool {
        self.revoked.key_ids.insert(key_id.to_owned())
    }

    pub fn revoke_package(&mut self, package_hash: &str) -> Result<bool> {
        if !is_hex64(package_hash) {
            return Err(AttestError::InvalidManifestField {
                field: "package_hash",
                reason: format!("{package_hash:?} is not 64 lowercase hex digits"),
            });
        }
        Ok(self.revoked.package_hashes.insert(package_hash.to_owned()))
    }

    pub fn is_key_revoked(&self, key_id: &str) -> bool {
        self.revoked.key_ids.contains(key_id)
    }

    pub fn is_package_revoked(&self, package_hash: &str) -> bool {
        self.revoked.package_hashes.contains(package_hash)
    }
}
