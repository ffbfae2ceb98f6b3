//! The `awp.v1` manifest (SPEC.md §3.2) and the bytes that get signed (§3.3).
//!
//! A manifest is kept as the JSON object it was read from, so a manifest written by another
//! WCP implementation (extra keys, missing keys) is signed and verified over exactly the
//! bytes the reference would use.

use crate::error::{AttestError, Result};
use crate::namespace::Namespace;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::path::Path;
use wcp::pyjson::{self, Format};

pub const MANIFEST_FILE: &str = "manifest.json";
pub const SCHEMA_VERSION: &str = "awp.v1";
/// Exactly the keys covered by a signature, in the order the reference sorts them.
pub const SIGNED_KEYS: [&str; 7] = [
    "build_source",
    "built_at_utc",
    "package_hash",
    "schema_version",
    "worker_id",
    "worker_species_id",
    "worker_version",
];
pub const HMAC_FIELD: &str = "signature_hmac_sha256";

/// Where the package was built (`build_source`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BuildSource {
    #[default]
    Local,
    Ci,
    Agent,
}

impl BuildSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Local => "local",
            Self::Ci => "ci",
            Self::Agent => "agent",
        }
    }
}

/// What a new manifest states about a package.
#[derive(Debug, Clone)]
pub struct NewManifest<'a> {
    pub worker_id: &'a str,
    pub worker_species_id: &'a str,
    pub worker_version: &'a str,
    pub package_hash: &'a str,
    pub build_source: BuildSource,
    pub built_at: DateTime<Utc>,
}

/// A manifest document.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    doc: Map<String, Value>,
}

impl Manifest {
    /// Builds a manifest, refusing fields that could never verify.
    pub fn build(new: &NewManifest<'_>) -> Result<Self> {
        let namespace = Namespace::of_worker(new.worker_id)?;
        if new.worker_species_id.trim().is_empty() {
            return Err(field_error("worker_species_id", "must not be empty"));
        }
        semver::Version::parse(new.worker_version).map_err(|e| {
            field_error(
                "worker_version",
                &format!("{:?} is not semver: {e}", new.worker_version),
            )
        })?;
        if !is_hex64(new.package_hash) {
            return Err(field_error(
                "package_hash",
                "must be 64 lowercase hex digits",
            ));
        }
        let at = utc_seconds(new.built_at);
        let fields = [
            ("schema_version", SCHEMA_VERSION),
            ("worker_id", new.worker_id),
            ("worker_species_id", new.worker_species_id),
            ("worker_version", new.worker_version),
            ("package_hash", new.package_hash),
            ("built_at_utc", &at),
            ("attested_at_utc", &at),
            ("build_source", new.build_source.as_str()),
            (
                "trust_statement",
                &trust_statement(&namespace, &at, new.package_hash),
            ),
        ];
        let doc = fields
            .into_iter()
            .map(|(k, v)| (k.to_owned(), Value::String(v.to_owned())))
            .collect();
        Ok(Self { doc })
    }

    /// Parses manifest bytes; the error text says why they are not a manifest.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(doc)) => Ok(Self { doc }),
            Ok(_) => Err("manifest is not a JSON object".into()),
            Err(e) => Err(format!("manifest is not valid JSON: {e}")),
        }
    }

    /// A string field, or `None` when it is absent or not a string.
    pub fn field(&self, key: &str) -> Option<&str> {
        self.doc.get(key).and_then(Value::as_str)
    }

    /// The bytes a signature covers: compact, sorted, ASCII-escaped JSON of the seven
    /// signed keys, absent ones as `null` (SPEC.md §3.3).
    pub fn signed_bytes(&self) -> Vec<u8> {
        let signed: Map<String, Value> = SIGNED_KEYS
            .iter()
            .map(|&k| {
                (
                    k.to_owned(),
                    self.doc.get(k).cloned().unwrap_or(Value::Null),
                )
            })
            .collect();
        pyjson::to_string(&Value::Object(signed), Format::COMPACT).into_bytes()
    }

    /// Adds the reference's HMAC-SHA256 signature field (compatibility mode).
    pub fn set_hmac_signature(&mut self, secret: &[u8]) {
        let signature = crate::hmac_sig::sign(secret, &self.signed_bytes());
        self.doc
            .insert(HMAC_FIELD.to_owned(), Value::String(signature));
    }

    /// The manifest file text: pretty, sorted, ASCII-escaped, trailing newline.
    pub fn to_file_text(&self) -> String {
        pyjson::to_string(&Value::Object(self.doc.clone()), Format::PRETTY) + "\n"
    }

    /// Writes `manifest.json` into the package via a temporary file + rename, so a crash
    /// never leaves a half-written manifest (`manifest.tmp` is excluded from the hash).
    pub fn write_into(&self, package_dir: &Path) -> Result<()> {
        let path = package_dir.join(MANIFEST_FILE);
        crate::fsutil::write_atomic(&path, self.to_file_text().as_bytes(), None)
            .map_err(|e| AttestError::io(&path, e))
    }
}

fn field_error(field: &'static str, reason: &str) -> AttestError {
    AttestError::InvalidManifestField {
        field,
        reason: reason.to_owned(),
    }
}

/// True for 64 lowercase hex digits, the only hash form WCP accepts.
pub fn is_hex64(text: &str) -> bool {
    text.len() == 64
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// `2026-02-26T10:11:12Z`: UTC, second precision (SPEC.md §3.2).
pub fn utc_seconds(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The reference's human trust statement.
pub fn trust_statement(namespace: &Namespace, at: &str, package_hash: &str) -> String {
    format!(
        "Package attested by namespace {namespace} at {at}; package hash sha256:{package_hash}."
    )
}
