//! The one error type of this crate. Every variant names the path or value at fault so the
//! CLI and the hall can tell the user exactly what to fix.

use std::path::PathBuf;

/// Why an attestation operation could not be carried out.
///
/// Verification *failures* (tampered package, bad signature, ...) are not errors: they are
/// [`crate::Verdict`]s. An `AttestError` means the operation itself could not run.
#[derive(Debug, thiserror::Error)]
pub enum AttestError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: cannot open the package root ({reason})")]
    RootUnreadable { path: PathBuf, reason: String },
    #[error("{0}: the package root is not a directory")]
    NotADirectory(PathBuf),
    #[error("{path}: symlink points outside the package root (to {target}); refusing the package")]
    SymlinkEscape { path: PathBuf, target: PathBuf },
    #[error("{0}: symlink loops back to one of its parent directories; refusing the package")]
    SymlinkLoop(PathBuf),
    #[error("{path}: cannot read this entry ({reason}); refusing the package")]
    Unreadable { path: PathBuf, reason: String },
    #[error("{path}: is a {kind}, not a regular file or directory; refusing the package")]
    SpecialFile { path: PathBuf, kind: &'static str },
    #[error(
        "{0}: file name is not valid UTF-8; the canonical package hash is defined over UTF-8 paths, rename the file"
    )]
    NonUtf8Name(String),
    #[error(
        "{path}: file changed while it was being hashed ({detail}); hash again once it is stable"
    )]
    FileChanged { path: PathBuf, detail: String },
    #[error("hashing was stopped before it finished (its requester left or its time ran out)")]
    Cancelled,
    #[error("invalid worker id {worker_id:?}: {reason}")]
    InvalidWorkerId { worker_id: String, reason: String },
    #[error("invalid namespace {namespace:?}: {reason}")]
    InvalidNamespace { namespace: String, reason: String },
    #[error("invalid manifest field {field}: {reason}")]
    InvalidManifestField { field: &'static str, reason: String },
    #[error("{0}: a key already exists for this namespace; refusing to overwrite it")]
    KeyExists(PathBuf),
    #[error("no private key for namespace {namespace} (looked for {path})")]
    KeyNotFound { namespace: String, path: PathBuf },
    #[error(
        "{path}: private key file is readable by group or others (mode {mode:o}); run `chmod 600 {path}` first"
    )]
    KeyPermissions { path: PathBuf, mode: u32 },
    #[error("{path}: not a valid key file: {reason}")]
    KeyFormat { path: PathBuf, reason: String },
    #[error("{path}: cannot read the trust store ({reason})")]
    TrustStoreUnreadable { path: PathBuf, reason: String },
    #[error("{path}: invalid trust store: {reason}")]
    TrustStoreFormat { path: PathBuf, reason: String },
    #[error("invalid public key record: {0}")]
    PublicKeyFormat(String),
    #[error("no configuration directory: set PROCTOR_CONFIG_DIR or pass --config-dir")]
    NoConfigDir,
}

impl AttestError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    /// True when the error is about the content handed in (package, key, manifest, trust
    /// file) rather than the machine (disk, permissions of the config dir ...).
    pub fn is_bad_input(&self) -> bool {
        !matches!(self, Self::Io { .. } | Self::NoConfigDir)
    }
}

pub type Result<T, E = AttestError> = std::result::Result<T, E>;
