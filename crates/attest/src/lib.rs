//! Worker attestation for Proctor (WCP SPEC.md §3).
//!
//! - [`hash`]: the canonical package hash, byte-identical to the reference algorithm,
//!   computed safely ([`walk`]) and in parallel.
//! - [`manifest`]: the `awp.v1` manifest and the bytes a signature covers.
//! - [`namespace`]: `org.<name>` / `x.<name>` signer namespaces.
//! - [`keys`], [`trust`]: Ed25519 namespace keys on disk, trusted keys and revocations.
//! - [`sign`]: hash + manifest + signature in one step.
//! - [`signature`]: Proctor's `manifest.sig` (Ed25519); [`hmac_sig`]: the reference's HMAC.
//! - [`live`]: cached registered/current hashes for the router (`wcp::WorkerHashes`).
//! - [`route_check`]: signed packages enforced at route time, verdicts cached per package.
//! - [`verify`]: the ordered checks; [`verdict`]: what they conclude, with `ATTEST_*` codes.

pub mod error;
pub mod fsutil;
pub mod hash;
pub mod hmac_sig;
pub mod keys;
pub mod live;
pub mod manifest;
pub mod namespace;
pub mod route_check;
pub mod sign;
pub mod signature;
pub mod trust;
pub mod verdict;
pub mod verify;
pub mod walk;

pub use error::{AttestError, Result};
pub use hash::{
    file_sha256, package_hash, package_hash_with, HashOptions, PackageDigest, Progress, ProgressFn,
};
pub use keys::{KeyStore, NamespaceKey, PublicKey};
pub use live::{HashCache, LiveHashes, LiveSource};
pub use manifest::{BuildSource, Manifest, NewManifest};
pub use namespace::Namespace;
pub use route_check::{PackageRef, Reason, RouteVerdict, SignedPackages, TrustSource};
pub use sign::{sign_package, SignRequest, SignedPackage};
pub use signature::ManifestSignature;
pub use trust::TrustStore;
pub use verdict::{Verdict, VerdictCode};
pub use verify::{verify_manifest, verify_package, VerifyOptions};
