//! # wcp: the Worker Class Protocol core
//!
//! Pure and deterministic: no I/O; time and randomness come in through [`Clock`] and
//! [`IdSource`]. Wire-compatible with the reference (pyhall-wcp 0.3.0, WCP "0.1"); see
//! `docs/wcp.md` for the choices made where SPEC.md is silent.
//!
//! ## Using it
//! ```
//! use std::sync::Arc;
//! use wcp::{parse_route_input, Registry, Router, RuleSet};
//!
//! let rules: RuleSet = r#"{"rules": [{"rule_id": "r1",
//!     "match": {"capability_id": "cap.doc.summarize"},
//!     "decision": {"candidate_workers_ranked": [{"worker_species_id": "wrk.doc.summarizer"}]}}]}"#.parse().unwrap();
//! let mut registry = Registry::new();
//! registry.enroll(&serde_json::json!({"worker_id": "org.acme.sum", "worker_species_id": "wrk.doc.summarizer"})).unwrap();
//! let router = Router::new(Arc::new(rules), Arc::new(registry));
//! let input = parse_route_input(&serde_json::json!({"capability_id": "cap.doc.summarize", "env": "dev",
//!     "data_label": "PUBLIC", "tenant_risk": "low", "qos_class": "P2", "tenant_id": "acme",
//!     "correlation_id": "5d1c2a9e-0000-4000-8000-000000000000"})).unwrap();
//! let decision = router.decide(&input);
//! assert!(!decision.denied);
//! assert_eq!(decision.selected_worker_species_id.as_deref(), Some("wrk.doc.summarizer"));
//! ```
//!
//! ## Map
//! - [`input`]: [`RouteInput`] and its lenient parser ([`parse_route_input`], §1.14).
//! - [`model`]: enums, [`RouteDecision`] and its parts, [`DenyCode`], [`HallConfig`].
//! - [`rules`]: [`RuleSet`] — validation, the capability/enum-mask index, first match.
//! - [`shadow`]: shadow-rule detection, run once per rule-set load.
//! - [`registry`]: [`Registry`] — enrollment, controls present, availability, envelopes.
//! - [`router`]: [`Router::decide`], the §2 pipeline. Never panics, never errors.
//! - [`gate`], [`attestation`], [`privilege`], [`clock`]: the injected traits and their
//!   defaults/doubles ([`StubGate`], [`DeclarativeGate`], [`MapHashes`], [`SystemClock`]).
//! - [`hash`]: the byte-exact [`artifact_hash`] evidence receipt (§1.11).
//! - [`pyjson`]: Python `json.dumps(sort_keys=True)` bytes, the one serializer behind every
//!   hash and signature over Python-serialized JSON (§1.11, §3.2, §3.3, §4.1).
//! - [`telemetry`]: event builders and id sanitization (§1.12).
//! - [`conformance`]: worker scoring (§1.13) and the CI decision check.
//! - [`error`]: [`Error`], wrapping every load/parse error with a stable `code()`.
//! - [`scenario`]: the conformance-vector harness (`tests/vectors/route.jsonl` format).
//! - [`wire`]: the stream fast paths: a decision written as serde_json writes it, a canonical
//!   request line read without an intermediate `Value`.

pub mod attestation;
pub mod clock;
pub mod conformance;
pub mod error;
pub mod gate;
pub mod hash;
pub mod input;
pub mod model;
pub mod privilege;
pub mod py;
pub mod pyjson;
pub mod registry;
pub mod router;
pub mod rules;
pub mod scenario;
pub mod shadow;
pub mod telemetry;
pub mod wire;

pub use attestation::{AttestationRefusal, HashError, MapHashes, WorkerHashes};
pub use clock::{
    format_timestamp, Clock, FixedClock, IdSource, SequentialIds, SystemClock, UuidV4Ids,
};
pub use conformance::{
    check_worker, ConformanceFailure, ConformanceReport, ConformanceSpec, Level,
};
pub use error::Error;
pub use gate::{
    DeclarativeGate, GateConfigError, GateContext, GateError, GateVerdict, PolicyGate, StubGate,
};
pub use hash::artifact_hash;
pub use input::{
    parse_route_input, parse_route_input_owned, parse_route_input_str, InputError, RouteInput,
};
pub use model::{
    CandidateWorker, DataLabel, DenyCode, DenyReason, Env, Escalation, HallConfig,
    PreconditionsChecked, QosClass, RouteDecision, TelemetryEvent, TenantRisk,
};
pub use privilege::{PrivilegeError, PrivilegePolicy, PrivilegeVerdict};
pub use registry::{Registry, RegistryError};
pub use router::Router;
pub use rules::{Rule, RuleSet, RulesError};
pub use shadow::ShadowWarning;

/// WCP protocol version implemented.
pub const WCP_VERSION: &str = "0.1";
