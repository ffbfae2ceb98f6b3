//! The worker registry (SPEC.md §1.7): what enrolled records make available to the router.
//!
//! Enrolling a record adds its species to the available set, its valid
//! `currently_implements` ids to "controls present", its privilege envelope (last truthy one
//! per species wins) and its attestation hash (if hex64). A record whose field types the
//! reference would crash on is rejected whole, before anything is applied, so a half-enrolled
//! worker never exists.

use crate::model::{DataLabel, Env};
use crate::privilege::{PrivilegeError, PrivilegePolicy, PrivilegeVerdict};
use crate::py::{py_eq, to_str, truthy, truthy_opt};
use serde_json::{Map, Value};
use std::collections::{BTreeSet, HashMap, HashSet};

/// A record that cannot be enrolled.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("registry record {worker}: {field}: {problem}")]
pub struct RegistryError {
    /// The record's `worker_id`, or a placeholder.
    pub worker: String,
    pub field: String,
    pub problem: String,
}

/// Whether `s` is a control id the registry accepts: `^ctrl\.[a-z0-9][a-z0-9._\-]*$`.
pub fn is_valid_control_id(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("ctrl.") else {
        return false;
    };
    let mut chars = rest.chars();
    let lower_alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    chars.next().is_some_and(lower_alnum)
        && chars.all(|c| lower_alnum(c) || matches!(c, '.' | '_' | '-'))
}

/// Exactly 64 lowercase hex characters.
pub fn is_hex64(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Enrolled workers and what the router derives from them.
#[derive(Clone, Debug, Default)]
pub struct Registry {
    /// Records by worker id, in first-enrollment order (re-enrolling replaces in place).
    records: Vec<(String, Value)>,
    record_index: HashMap<String, usize>,
    available: HashSet<String>,
    controls: HashSet<String>,
    envelopes: HashMap<String, Value>,
    registered_hashes: HashMap<String, String>,
    source_files: HashMap<String, String>,
    capabilities: HashMap<String, Vec<String>>,
    egress_allowlist: HashMap<Env, Vec<String>>,
    warnings: Vec<String>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Enrolls one record. Invalid control ids and malformed hashes are dropped with a
    /// warning (see [`Registry::warnings`]); wrong field types reject the whole record.
    pub fn enroll(&mut self, record: &Value) -> Result<(), RegistryError> {
        let parsed = ParsedRecord::parse(record, self.records.len())?;
        let ParsedRecord {
            worker_id,
            species,
            capabilities,
            controls,
            envelope,
            attestation,
        } = parsed;
        match self.record_index.get(&worker_id) {
            Some(&i) => self.records[i].1 = record.clone(),
            None => {
                self.record_index
                    .insert(worker_id.clone(), self.records.len());
                self.records.push((worker_id.clone(), record.clone()));
            }
        }
        if let Some(s) = &species {
            self.available.insert(s.clone());
        }
        for cap in capabilities {
            let list = self.capabilities.entry(cap).or_default();
            if let Some(s) = &species {
                if !list.contains(s) {
                    list.push(s.clone());
                }
            }
        }
        for ctrl in controls {
            if is_valid_control_id(&ctrl) {
                self.controls.insert(ctrl);
            } else {
                self.warn(format!(
                    "invalid control ID rejected at enrollment for worker '{worker_id}': {ctrl:?}"
                ));
            }
        }
        let Some(species) = species else {
            return Ok(());
        };
        if let Some(envelope) = envelope {
            self.envelopes.insert(species.clone(), envelope);
        }
        if let Some((code_hash, source_file)) = attestation {
            if let Some(hash) = code_hash {
                if is_hex64(&hash) {
                    self.registered_hashes.insert(species.clone(), hash);
                } else {
                    self.warn(format!("invalid code_hash format for species '{species}', skipped (must be 64 lowercase hex chars)"));
                }
            }
            if let Some(path) = source_file {
                self.source_files.insert(species, path);
            }
        }
        Ok(())
    }

    fn warn(&mut self, message: String) {
        tracing::warn!(target: "wcp::registry", "{message}");
        self.warnings.push(message);
    }

    /// Adds operator-declared controls (invalid ids are dropped with a warning).
    pub fn add_controls_present<I: IntoIterator<Item = String>>(&mut self, controls: I) {
        for ctrl in controls {
            if is_valid_control_id(&ctrl) {
                self.controls.insert(ctrl);
            } else {
                self.warn(format!(
                    "invalid control ID rejected in add_controls_present(): {ctrl:?}"
                ));
            }
        }
    }

    /// Replaces the set of available species (operator override).
    pub fn set_workers_available<I: IntoIterator<Item = String>>(&mut self, species: I) {
        self.available = species.into_iter().collect();
    }

    /// Sets the egress allowlist the privilege policy uses for `env` (§1.8).
    pub fn set_egress_allowlist(&mut self, env: Env, destinations: Vec<String>) {
        self.egress_allowlist.insert(env, destinations);
    }

    /// `worker_available(species)`.
    pub fn worker_available(&self, species: &str) -> bool {
        self.available.contains(species)
    }

    /// Whether a control id is present.
    pub fn has_control(&self, control: &str) -> bool {
        self.controls.contains(control)
    }

    /// Controls present, sorted.
    pub fn controls_present(&self) -> BTreeSet<&str> {
        self.controls.iter().map(String::as_str).collect()
    }

    /// Available species, sorted.
    pub fn available_species(&self) -> BTreeSet<&str> {
        self.available.iter().map(String::as_str).collect()
    }

    /// The last truthy privilege envelope enrolled for a species.
    pub fn privilege_envelope(&self, species: &str) -> Option<&Value> {
        self.envelopes.get(species)
    }

    /// Registered (enrollment-time) code hash of a species, always hex64.
    pub fn registered_hash(&self, species: &str) -> Option<&str> {
        self.registered_hashes.get(species).map(String::as_str)
    }

    /// All registered hashes by species.
    pub fn registered_hashes(&self) -> &HashMap<String, String> {
        &self.registered_hashes
    }

    /// `attestation.source_file` per species, for live hashing by the hall.
    pub fn source_file(&self, species: &str) -> Option<&str> {
        self.source_files.get(species).map(String::as_str)
    }

    /// Species serving a capability, in enrollment order.
    pub fn workers_for_capability(&self, capability_id: &str) -> &[String] {
        self.capabilities
            .get(capability_id)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Enrolled records with their worker ids.
    pub fn records(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.records.iter().map(|(id, r)| (id.as_str(), r))
    }

    /// Number of enrolled workers.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// No worker enrolled.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Warnings produced while enrolling (dropped control ids, malformed hashes).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
}

/// The reference's stub privilege policy (§1.8) over this registry's envelopes and egress
/// allowlists, with Python's behaviour on odd envelope shapes: an envelope that is not an
/// object (or whose truthy `egress` is not an object when it is read) is an error, which the
/// router turns into `DENY_INTERNAL_ERROR`.
impl PrivilegePolicy for Registry {
    fn check(
        &self,
        species: &str,
        env: Env,
        data_label: DataLabel,
    ) -> Result<PrivilegeVerdict, PrivilegeError> {
        let envelope = self.privilege_envelope(species).filter(|e| truthy(e));
        let empty = Map::new();
        let envelope = match envelope {
            None => &empty,
            Some(Value::Object(o)) => o,
            Some(_) => return Err(PrivilegeError::new("privilege envelope is not an object")),
        };
        let allow = Ok(PrivilegeVerdict {
            allowed: true,
            reason: "stub_allow".into(),
        });
        if !(env.is_prod_like() && data_label == DataLabel::Restricted) {
            return allow;
        }
        let egress = match envelope.get("egress").filter(|e| truthy(e)) {
            None => return allow,
            Some(Value::Object(o)) => o,
            Some(_) => {
                return Err(PrivilegeError::new(
                    "privilege envelope egress is not an object",
                ))
            }
        };
        let dests = egress.get("allowlist");
        if !truthy_opt(dests) {
            return allow;
        }
        let allowed = self
            .egress_allowlist
            .get(&env)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        if allowed.is_empty() {
            return Ok(PrivilegeVerdict {
                allowed: false,
                reason: "egress_denied_no_allowlist_configured".into(),
            });
        }
        let listed = |d: &Value| allowed.iter().any(|a| py_eq(d, &Value::String(a.clone())));
        // Python iterates a string by character and an object by key.
        let dests: Vec<Value> = match dests {
            Some(Value::Array(items)) => items.clone(),
            Some(Value::String(s)) => s.chars().map(|c| Value::String(c.into())).collect(),
            Some(Value::Object(o)) => o.keys().map(|k| Value::String(k.clone())).collect(),
            _ => {
                return Err(PrivilegeError::new(
                    "privilege envelope egress.allowlist is not iterable",
                ))
            }
        };
        Ok(match dests.iter().find(|d| !listed(d)) {
            Some(d) => PrivilegeVerdict {
                allowed: false,
                reason: format!("egress_not_allowlisted:{}", to_str(d)),
            },
            None => PrivilegeVerdict {
                allowed: true,
                reason: "stub_allow".into(),
            },
        })
    }
}

/// A record's router-relevant fields, type-checked before anything is applied.
struct ParsedRecord {
    worker_id: String,
    species: Option<String>,
    capabilities: Vec<String>,
    controls: Vec<String>,
    envelope: Option<Value>,
    attestation: Option<(Option<String>, Option<String>)>,
}

impl ParsedRecord {
    fn parse(record: &Value, enrolled_so_far: usize) -> Result<Self, RegistryError> {
        let Some(obj) = record.as_object() else {
            return Err(RegistryError {
                worker: "(not an object)".into(),
                field: "record".into(),
                problem: "must be a JSON object".into(),
            });
        };
        let worker_id = match obj.get("worker_id") {
            None => format!("unknown-{enrolled_so_far}"),
            Some(Value::String(s)) => s.clone(),
            Some(other) => to_str(other),
        };
        let err = |field: &str, problem: &str| RegistryError {
            worker: worker_id.clone(),
            field: field.into(),
            problem: problem.into(),
        };
        let species = match obj.get("worker_species_id") {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(v) if truthy(v) => return Err(err("worker_species_id", "must be a string")),
            _ => None,
        };
        let strings = |field: &str| -> Result<Vec<String>, RegistryError> {
            match obj.get(field) {
                None => Ok(Vec::new()),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|x| {
                        x.as_str()
                            .map(str::to_owned)
                            .ok_or_else(|| err(field, "must be an array of strings"))
                    })
                    .collect(),
                Some(_) => Err(err(field, "must be an array of strings")),
            }
        };
        let capabilities = strings("capabilities")?;
        let controls = strings("currently_implements")?;
        let envelope = obj.get("privilege_envelope").filter(|e| truthy(e)).cloned();
        let attestation = match obj.get("attestation") {
            Some(Value::Object(a)) if !a.is_empty() => {
                let code_hash = a.get("code_hash").filter(|h| truthy(h)).map(to_str);
                let source_file = match a.get("source_file") {
                    Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
                    Some(v) if truthy(v) => {
                        return Err(err("attestation.source_file", "must be a string"))
                    }
                    _ => None,
                };
                Some((code_hash, source_file))
            }
            Some(v) if truthy(v) => return Err(err("attestation", "must be an object")),
            _ => None,
        };
        Ok(Self {
            worker_id,
            species,
            capabilities,
            controls,
            envelope,
            attestation,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const H: &str = "33c5ae6e90052a38b8dd277bdef11357f8a30d7761a1100ff311968bba316ec5";

    #[test]
    fn control_id_format() {
        for ok in [
            "ctrl.a",
            "ctrl.blast_radius_scoring",
            "ctrl.obs.audit-log-append-only",
            "ctrl.0x",
        ] {
            assert!(is_valid_control_id(ok), "{ok}");
        }
        for bad in [
            "ctrl.",
            "ctrl._x",
            "ctrl.A",
            "control.a",
            "ctrl.a b",
            "ctrl.a/b",
        ] {
            assert!(!is_valid_control_id(bad), "{bad}");
        }
    }

    #[test]
    fn enrollment_derives_router_view() {
        let mut r = Registry::new();
        r.enroll(
            &json!({"worker_id": "org.a.w", "worker_species_id": "wrk.a", "capabilities": ["cap.a"],
            "currently_implements": ["ctrl.ok", "BAD"], "privilege_envelope": {"tools": []},
            "attestation": {"code_hash": H}}),
        )
        .unwrap();
        r.enroll(&json!({"worker_species_id": "wrk.b", "privilege_envelope": {}, "attestation": {"code_hash": "ABC"}})).unwrap();
        assert!(
            r.worker_available("wrk.a")
                && r.worker_available("wrk.b")
                && !r.worker_available("wrk.c")
        );
        assert_eq!(
            r.controls_present().into_iter().collect::<Vec<_>>(),
            ["ctrl.ok"]
        );
        assert_eq!(r.registered_hash("wrk.a"), Some(H));
        assert_eq!(r.registered_hash("wrk.b"), None);
        assert_eq!(r.privilege_envelope("wrk.a"), Some(&json!({"tools": []})));
        assert_eq!(
            r.privilege_envelope("wrk.b"),
            None,
            "an empty envelope is not stored"
        );
        assert_eq!(
            r.records().map(|(id, _)| id).collect::<Vec<_>>(),
            ["org.a.w", "unknown-1"]
        );
        assert_eq!(r.warnings().len(), 2);
        assert_eq!(r.workers_for_capability("cap.a"), ["wrk.a"]);
    }

    #[test]
    fn malformed_records_are_rejected_whole() {
        let mut r = Registry::new();
        let err = r
            .enroll(
                &json!({"worker_id": "w", "worker_species_id": "wrk.x", "capabilities": "cap.a"}),
            )
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "registry record w: capabilities: must be an array of strings"
        );
        assert!(!r.worker_available("wrk.x"));
        assert!(r.enroll(&json!(["not", "a", "record"])).is_err());
        assert!(r
            .enroll(&json!({"worker_species_id": "wrk.x", "currently_implements": [1]}))
            .is_err());
        assert!(r
            .enroll(&json!({"worker_species_id": "wrk.x", "attestation": "h"}))
            .is_err());
        assert!(r.is_empty());
    }

    fn policy(envelope: Value, allow: &[&str]) -> Result<PrivilegeVerdict, PrivilegeError> {
        let mut r = Registry::new();
        r.enroll(&json!({"worker_species_id": "wrk.a", "privilege_envelope": envelope}))
            .unwrap();
        r.set_egress_allowlist(Env::Prod, allow.iter().map(|s| s.to_string()).collect());
        r.check("wrk.a", Env::Prod, DataLabel::Restricted)
    }

    #[test]
    fn privilege_policy_follows_reference_stub() {
        let v = |allowed, reason: &str| PrivilegeVerdict {
            allowed,
            reason: reason.into(),
        };
        assert_eq!(
            policy(json!({"tools": []}), &[]).unwrap(),
            v(true, "stub_allow")
        );
        assert_eq!(
            policy(json!({"egress": {"allowlist": ["api.x"]}}), &[]).unwrap(),
            v(false, "egress_denied_no_allowlist_configured")
        );
        assert_eq!(
            policy(json!({"egress": {"allowlist": ["api.x", "b"]}}), &["api.x"]).unwrap(),
            v(false, "egress_not_allowlisted:b")
        );
        assert_eq!(
            policy(json!({"egress": {"allowlist": ["api.x"]}}), &["api.x"]).unwrap(),
            v(true, "stub_allow")
        );
        assert!(policy(json!("envelope"), &[]).is_err());
        assert!(policy(json!(["egress"]), &[]).is_err());
        assert!(policy(json!({"egress": "all"}), &[]).is_err());
        assert!(policy(json!({"egress": {"allowlist": 5}}), &["x"]).is_err());
        // Not prod-like or not RESTRICTED: always allowed, even with a malformed egress.
        let mut r = Registry::new();
        r.enroll(&json!({"worker_species_id": "wrk.a", "privilege_envelope": {"egress": "all"}}))
            .unwrap();
        assert!(
            r.check("wrk.a", Env::Dev, DataLabel::Restricted)
                .unwrap()
                .allowed
        );
        assert!(
            r.check("wrk.unknown", Env::Prod, DataLabel::Restricted)
                .unwrap()
                .allowed
        );
    }
}
