//! Signer namespaces (SPEC.md §3.5): `org.<name>` for organizations, `x.<name>` for
//! individuals. A worker id `org.acme.invoicer.i-2` belongs to namespace `org.acme`.
//!
//! Stricter than the reference (documented in docs/attest.md): every segment of a worker id
//! must be non-empty, a worker id needs at least one segment after the namespace, and the
//! namespace name is lowercase `[a-z0-9-]+` (it also names key files, so it must never
//! contain a path separator).

use crate::error::{AttestError, Result};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A validated signer namespace such as `org.example`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Namespace(String);

impl Namespace {
    /// Parses `org.<name>` or `x.<name>`.
    pub fn parse(text: &str) -> Result<Self> {
        let invalid = |reason: &str| AttestError::InvalidNamespace {
            namespace: text.to_owned(),
            reason: reason.into(),
        };
        let (kind, name) = text
            .split_once('.')
            .ok_or_else(|| invalid("expected org.<name> or x.<name>"))?;
        check_kind(kind).map_err(|r| invalid(&r))?;
        check_name(name).map_err(|r| invalid(&r))?;
        Ok(Self(text.to_owned()))
    }

    /// The namespace a worker id lives in.
    pub fn of_worker(worker_id: &str) -> Result<Self> {
        let invalid = |reason: String| AttestError::InvalidWorkerId {
            worker_id: worker_id.to_owned(),
            reason,
        };
        let segments: Vec<&str> = worker_id.split('.').collect();
        if segments.iter().any(|s| s.is_empty()) {
            return Err(invalid(
                "empty segment (two dots in a row, or a leading/trailing dot)".into(),
            ));
        }
        check_kind(segments[0]).map_err(invalid)?;
        if segments.len() < 3 {
            return Err(invalid(format!("expected {}.<name>.<worker>", segments[0])));
        }
        check_name(segments[1]).map_err(invalid)?;
        Ok(Self(format!("{}.{}", segments[0], segments[1])))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn check_kind(kind: &str) -> Result<(), String> {
    match kind {
        "org" | "x" => Ok(()),
        other => Err(format!(
            "namespace must start with org. or x., not {other:?}"
        )),
    }
}

fn check_name(name: &str) -> Result<(), String> {
    let valid = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if valid {
        Ok(())
    } else {
        Err(format!(
            "namespace name {name:?} must be non-empty lowercase letters, digits or '-'"
        ))
    }
}

impl fmt::Display for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Namespace {
    type Error = AttestError;
    fn try_from(text: String) -> Result<Self> {
        Self::parse(&text)
    }
}

impl From<Namespace> for String {
    fn from(ns: Namespace) -> String {
        ns.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_ids_map_to_their_namespace() {
        assert_eq!(
            Namespace::of_worker("org.acme.invoicer.i-2")
                .unwrap()
                .as_str(),
            "org.acme"
        );
        assert_eq!(
            Namespace::of_worker("x.bob.tool").unwrap().as_str(),
            "x.bob"
        );
    }

    #[test]
    fn malformed_worker_ids_are_rejected() {
        for id in [
            "x.",
            "x..tool",
            "org.acme",
            "org.acme.",
            "wrk.doc.summarizer",
            "cap.x.y",
            "",
            "org.Acme.w",
            "org.a/b.w",
        ] {
            assert!(Namespace::of_worker(id).is_err(), "{id:?} must be rejected");
        }
    }

    #[test]
    fn namespaces_parse_strictly() {
        assert!(Namespace::parse("org.example").is_ok());
        assert!(Namespace::parse("x.me-2").is_ok());
        for ns in [
            "org", "org.", "org.a.b", "ORG.a", "y.a", "org.../x", "x.a b",
        ] {
            assert!(Namespace::parse(ns).is_err(), "{ns:?} must be rejected");
        }
    }
}
