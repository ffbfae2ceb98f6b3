//! Ed25519 namespace keys and the local key store.
//!
//! One private key per namespace lives in `<config dir>/keys/<namespace>.pem` (PKCS#8 PEM),
//! created with mode 0600 inside a 0700 directory, never overwritten, and never read when
//! group or others could read it. Private key material is never printed: [`NamespaceKey`]'s
//! `Debug` shows only the namespace and key id.

use crate::error::{AttestError, Result};
use crate::namespace::Namespace;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::pkcs8::{spki::der::pem::LineEnding, DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

pub const ALGORITHM: &str = "ed25519";
/// Environment variable overriding the configuration directory.
pub const CONFIG_DIR_ENV: &str = "PROCTOR_CONFIG_DIR";

/// Short stable name of a public key: the first 16 hex digits of SHA-256(public key bytes).
pub fn key_id(key: &VerifyingKey) -> String {
    hex::encode(&Sha256::digest(key.as_bytes())[..8])
}

/// A public key as exported, imported and kept in the trust store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicKey {
    pub algorithm: String,
    pub namespace: Namespace,
    pub key_id: String,
    /// Standard base64 of the 32 key bytes.
    pub public_key: String,
}

impl PublicKey {
    pub fn new(namespace: Namespace, key: &VerifyingKey) -> Self {
        Self {
            algorithm: ALGORITHM.into(),
            namespace,
            key_id: key_id(key),
            public_key: B64.encode(key.as_bytes()),
        }
    }

    /// Parses an exported public key (JSON) and checks it is self-consistent.
    pub fn parse(text: &str) -> Result<Self> {
        let key: Self =
            serde_json::from_str(text).map_err(|e| AttestError::PublicKeyFormat(e.to_string()))?;
        key.verifying_key()?;
        Ok(key)
    }

    /// The Ed25519 key, after checking the algorithm and that `key_id` matches the bytes.
    pub fn verifying_key(&self) -> Result<VerifyingKey> {
        let bad =
            |reason: String| AttestError::PublicKeyFormat(format!("key {}: {reason}", self.key_id));
        if self.algorithm != ALGORITHM {
            return Err(bad(format!(
                "unsupported algorithm {:?} (expected {ALGORITHM})",
                self.algorithm
            )));
        }
        let bytes = B64
            .decode(&self.public_key)
            .map_err(|e| bad(format!("public_key is not base64: {e}")))?;
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|_| bad("public_key must be 32 bytes".into()))?;
        let key = VerifyingKey::from_bytes(&bytes)
            .map_err(|e| bad(format!("not an Ed25519 point: {e}")))?;
        if key_id(&key) != self.key_id {
            return Err(bad(format!(
                "key_id does not match the key (expected {})",
                key_id(&key)
            )));
        }
        Ok(key)
    }

    /// Pretty JSON with a trailing newline: the export file format.
    pub fn to_file_text(&self) -> String {
        serde_json::to_string_pretty(self).expect("a public key always serializes") + "\n"
    }
}

/// A namespace's private signing key.
pub struct NamespaceKey {
    namespace: Namespace,
    key: SigningKey,
}

impl fmt::Debug for NamespaceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NamespaceKey")
            .field("namespace", &self.namespace)
            .field("key_id", &self.key_id())
            .finish_non_exhaustive()
    }
}

impl NamespaceKey {
    /// A fresh key from the operating system's random source.
    pub fn generate(namespace: Namespace) -> Self {
        Self {
            namespace,
            key: SigningKey::generate(&mut rand::rngs::OsRng),
        }
    }

    pub fn namespace(&self) -> &Namespace {
        &self.namespace
    }

    pub fn key_id(&self) -> String {
        key_id(&self.key.verifying_key())
    }

    pub fn public(&self) -> PublicKey {
        PublicKey::new(self.namespace.clone(), &self.key.verifying_key())
    }

    pub fn sign(&self, message: &[u8]) -> Signature {
        self.key.sign(message)
    }
}

/// Private keys on disk, one per namespace.
#[derive(Debug, Clone)]
pub struct KeyStore {
    dir: PathBuf,
}

impl KeyStore {
    /// The key store under a configuration directory.
    pub fn new(config_dir: &Path) -> Self {
        Self {
            dir: config_dir.join("keys"),
        }
    }

    pub fn key_path(&self, namespace: &Namespace) -> PathBuf {
        self.dir.join(format!("{namespace}.pem"))
    }

    /// Generates and stores a key for `namespace`; refuses if one exists.
    pub fn create(&self, namespace: &Namespace) -> Result<NamespaceKey> {
        let path = self.key_path(namespace);
        if path.exists() {
            return Err(AttestError::KeyExists(path));
        }
        create_private_dir(&self.dir)?;
        let key = NamespaceKey::generate(namespace.clone());
        let pem = key
            .key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| AttestError::KeyFormat {
                path: path.clone(),
                reason: e.to_string(),
            })?;
        write_new_private(&path, pem.as_bytes())?;
        tracing::info!(namespace = %namespace, key_id = %key.key_id(), "created namespace key");
        Ok(key)
    }

    /// Loads the key of `namespace`, refusing a file that group or others can read.
    pub fn load(&self, namespace: &Namespace) -> Result<NamespaceKey> {
        let path = self.key_path(namespace);
        if !path.exists() {
            return Err(AttestError::KeyNotFound {
                namespace: namespace.to_string(),
                path,
            });
        }
        let pem = read_private(&path)?;
        let key = SigningKey::from_pkcs8_pem(&pem).map_err(|e| AttestError::KeyFormat {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        Ok(NamespaceKey {
            namespace: namespace.clone(),
            key,
        })
    }

    /// The public halves of every stored key, sorted by namespace.
    pub fn list(&self) -> Result<Vec<PublicKey>> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(AttestError::io(&self.dir, e)),
        };
        let mut keys = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| AttestError::io(&self.dir, e))?;
            let name = entry.file_name();
            let Some(namespace) = name.to_str().and_then(|n| n.strip_suffix(".pem")) else {
                continue;
            };
            let Ok(namespace) = Namespace::parse(namespace) else {
                continue;
            };
            keys.push(self.load(&namespace)?.public());
        }
        keys.sort_by(|a, b| a.namespace.cmp(&b.namespace));
        Ok(keys)
    }
}

/// The configuration directory: `explicit`, else `$PROCTOR_CONFIG_DIR`, else the user's
/// config dir + `proctor`.
pub fn config_dir(explicit: Option<&Path>) -> Result<PathBuf> {
    if let Some(dir) = explicit {
        return Ok(dir.to_path_buf());
    }
    if let Some(dir) = std::env::var_os(CONFIG_DIR_ENV).filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    dirs::config_dir()
        .map(|d| d.join("proctor"))
        .ok_or(AttestError::NoConfigDir)
}

fn create_private_dir(dir: &Path) -> Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|e| AttestError::io(dir, e))
}

/// Creates `path` with mode 0600, failing if it exists (no overwrite, even in a race).
fn write_new_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => AttestError::KeyExists(path.to_path_buf()),
        _ => AttestError::io(path, e),
    })?;
    if let Err(e) = file.write_all(bytes).and_then(|()| file.sync_all()) {
        let _ = std::fs::remove_file(path); // never leave a truncated key behind
        return Err(AttestError::io(path, e));
    }
    Ok(())
}

/// Reads a private key file after checking, on the open handle, that only its owner can read it.
fn read_private(path: &Path) -> Result<Zeroizing<String>> {
    use std::io::Read;
    let mut file = std::fs::File::open(path).map_err(|e| AttestError::io(path, e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = file
            .metadata()
            .map_err(|e| AttestError::io(path, e))?
            .permissions()
            .mode()
            & 0o777;
        if mode & 0o077 != 0 {
            return Err(AttestError::KeyPermissions {
                path: path.to_path_buf(),
                mode,
            });
        }
    }
    // Zeroized on drop: the PEM text is the private key.
    let mut text = Zeroizing::new(String::new());
    file.read_to_string(&mut text)
        .map_err(|e| AttestError::KeyFormat {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    Ok(text)
}
