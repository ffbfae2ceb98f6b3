//! Hall configuration: one data directory holds everything of one hall (`config.toml`, the API token,
//! the registry dir, the rules file, the ledger). First start creates whatever is missing.
//!
//! Relative paths in `config.toml` are resolved against the data directory, so a data dir can be
//! moved or copied as a whole.

use crate::error::HallError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub const CONFIG_FILE: &str = "config.toml";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8765";
/// Written by a running hall with the URL it actually serves (e.g. after `--listen` or port 0),
/// so client commands find it; removed on clean shutdown.
pub const URL_FILE: &str = "hall.url";
/// Environment variable that points at the built web UI (overrides `ui_dir`).
pub const UI_DIR_ENV: &str = "PROCTOR_UI_DIR";

/// Health thresholds (seconds since the last heartbeat; latency in ms).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HealthThresholds {
    pub stale_after_s: u64,
    pub offline_after_s: u64,
    pub degraded_latency_ms: f64,
}

impl Default for HealthThresholds {
    fn default() -> Self {
        Self {
            stale_after_s: 30,
            offline_after_s: 120,
            degraded_latency_ms: 1000.0,
        }
    }
}

/// Deny-rate spike detection: alert when, over the last `deny_rate_window_s` seconds, at least
/// `deny_rate_min_decisions` decisions were made and the share denied reaches the threshold.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertThresholds {
    pub deny_rate_threshold: f64,
    pub deny_rate_window_s: u64,
    pub deny_rate_min_decisions: u64,
}

impl Default for AlertThresholds {
    fn default() -> Self {
        Self {
            deny_rate_threshold: 0.5,
            deny_rate_window_s: 60,
            deny_rate_min_decisions: 20,
        }
    }
}

/// Longest health threshold: a year, in seconds.
const MAX_HEALTH_S: u64 = 365 * 24 * 3600;
/// More decisions than any window of a hall will hold; also keeps the value a TOML integer (i64).
const MAX_MIN_DECISIONS: u64 = 1_000_000_000;

/// Runtime-adjustable thresholds (`PUT /v1/settings/thresholds`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    pub health: HealthThresholds,
    pub alerts: AlertThresholds,
}

impl Thresholds {
    /// Reject nonsense before it is applied: a zero window or inverted stale/offline order would
    /// silently disable alerting.
    pub fn validate(&self) -> Result<(), String> {
        let h = &self.health;
        let a = &self.alerts;
        if h.stale_after_s == 0 || h.offline_after_s <= h.stale_after_s {
            return Err("health: need 0 < stale_after_s < offline_after_s".into());
        }
        if h.offline_after_s > MAX_HEALTH_S {
            return Err(format!(
                "health: offline_after_s must be at most {MAX_HEALTH_S} (a year)"
            ));
        }
        if !(h.degraded_latency_ms.is_finite() && h.degraded_latency_ms > 0.0) {
            return Err("health: degraded_latency_ms must be a positive number".into());
        }
        if !(a.deny_rate_threshold > 0.0 && a.deny_rate_threshold <= 1.0) {
            return Err("alerts: deny_rate_threshold must be in (0, 1]".into());
        }
        if a.deny_rate_window_s == 0 || a.deny_rate_window_s > 3600 {
            return Err("alerts: deny_rate_window_s must be in 1..=3600".into());
        }
        if !(1..=MAX_MIN_DECISIONS).contains(&a.deny_rate_min_decisions) {
            return Err(format!(
                "alerts: deny_rate_min_decisions must be in 1..={MAX_MIN_DECISIONS}"
            ));
        }
        Ok(())
    }
}

/// The contents of `config.toml`. Every field has a default, so an empty file is a valid config.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConfigFile {
    pub listen: SocketAddr,
    pub ledger_path: PathBuf,
    pub registry_dir: PathBuf,
    pub rules_file: PathBuf,
    pub token_file: PathBuf,
    pub ui_dir: Option<PathBuf>,
    pub body_limit_bytes: usize,
    pub request_timeout_s: u64,
    /// Package hashing on request (`/v1/attest/*`, worker verify) answers within this.
    pub attest_timeout_s: u64,
    /// Open event streams (`GET /v1/events`) at most; one more is refused with 429.
    pub sse_max_subscribers: usize,
    pub health: HealthThresholds,
    pub alerts: AlertThresholds,
    /// WCP HallConfig (SPEC.md §1.5) as JSON-compatible TOML; absent = "no HallConfig".
    pub hall_config: Option<wcp::HallConfig>,
    /// Per-env egress allowlist for the privilege-envelope policy (SPEC.md §1.8).
    pub egress_allowlist: BTreeMap<wcp::Env, Vec<String>>,
    /// Operator-set controls added to "controls present" (SPEC.md §1.7).
    pub controls_present_extra: Vec<String>,
    /// A declarative policy gate (JSON, `wcp::DeclarativeGate`); absent = no gate configured, so
    /// rules with `escalation.policy_gate` deny with `DENY_POLICY_GATE_UNCONFIGURED`.
    pub policy_gate_file: Option<PathBuf>,
    /// The MCP gateway: the conditions every tool call is routed under, and its limits.
    pub mcp: McpConfig,
    /// A second directory every signed checkpoint is copied to (another disk, a synced
    /// folder); verification uses the newest of both (docs/ledger.md, "Anchoring").
    pub checkpoint_mirror: Option<PathBuf>,
    /// Signed packages enforced at route time (docs/attest.md).
    pub attestation: AttestationConfig,
    /// OTLP export of decisions and MCP calls (docs/observability.md); absent = none.
    pub otel: Option<crate::otel::OtelConfig>,
    /// Shipping the ledger to a fleet's central PostgreSQL (docs/fleet.md); absent = none.
    pub fleet: Option<crate::fleet::FleetConfig>,
}

/// `[attestation]` in config.toml: a worker whose record names a package is routed only when
/// the package is signed by a trusted, unrevoked key of its namespace (docs/attest.md,
/// "Signed packages at route time").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AttestationConfig {
    /// `false` turns the check off: packaged workers route as records without a package do.
    pub enforce_signed: bool,
    /// The trust store (keys and revocations); relative to the data dir. Absent: the one
    /// `proctor keys` writes (`$PROCTOR_CONFIG_DIR`, else the user's config dir + `proctor`,
    /// then `trust.json`).
    pub trust_file: Option<PathBuf>,
}

impl Default for AttestationConfig {
    fn default() -> Self {
        Self {
            enforce_signed: true,
            trust_file: None,
        }
    }
}

/// `[mcp]` in config.toml (docs/mcp.md). `proctor mcp`'s flags override the routing conditions
/// for its session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct McpConfig {
    pub tenant_id: String,
    #[schemars(with = "String")]
    pub env: wcp::Env,
    #[schemars(with = "String")]
    pub data_label: wcp::DataLabel,
    #[schemars(with = "String")]
    pub tenant_risk: wcp::TenantRisk,
    #[schemars(with = "String")]
    pub qos_class: wcp::QosClass,
    /// How long a call that needs a person waits for a verdict before it is refused.
    pub approval_timeout_s: u64,
    /// `"full"` keeps a call's arguments in the ledger, `"hash"` only their SHA-256.
    pub record_arguments: crate::mcp::RecordArguments,
    /// `"after_answer"` (default) or `"before_answer"`: whether answering a call waits for its
    /// outcome record's fsync (docs/mcp.md, "The audit trail").
    pub record_outcome: crate::mcp::RecordOutcome,
    /// A forwarded call that takes longer is answered with a timeout tool error.
    pub call_timeout_s: u64,
    /// Calls in flight per MCP worker; one more is refused at once.
    pub max_concurrent_calls: usize,
    /// A larger downstream result is refused (a tool error) rather than passed on.
    pub max_result_bytes: usize,
}

impl Default for McpConfig {
    fn default() -> Self {
        Self {
            tenant_id: "mcp".into(),
            env: wcp::Env::Dev,
            data_label: wcp::DataLabel::Internal,
            tenant_risk: wcp::TenantRisk::Low,
            qos_class: wcp::QosClass::P2,
            approval_timeout_s: 120,
            record_arguments: crate::mcp::RecordArguments::Full,
            record_outcome: crate::mcp::RecordOutcome::AfterAnswer,
            call_timeout_s: 60,
            max_concurrent_calls: 16,
            max_result_bytes: 4 * 1024 * 1024,
        }
    }
}

impl McpConfig {
    /// The routing conditions of a call that no session overrides.
    pub fn conditions(&self) -> crate::mcp::call::Conditions {
        crate::mcp::call::Conditions {
            tenant_id: self.tenant_id.clone(),
            env: self.env,
            data_label: self.data_label,
            tenant_risk: self.tenant_risk,
            qos_class: self.qos_class,
        }
    }

    pub fn validate(&self) -> Result<(), String> {
        if self.tenant_id.trim().is_empty() {
            return Err("mcp.tenant_id must not be blank".into());
        }
        for (key, value, max) in [
            ("approval_timeout_s", self.approval_timeout_s, 7 * 24 * 3600),
            ("call_timeout_s", self.call_timeout_s, 24 * 3600),
            (
                "max_concurrent_calls",
                self.max_concurrent_calls as u64,
                10_000,
            ),
            ("max_result_bytes", self.max_result_bytes as u64, 1 << 30),
        ] {
            if !(1..=max).contains(&value) {
                return Err(format!("mcp.{key} must be in 1..={max}"));
            }
        }
        Ok(())
    }
}

impl Default for ConfigFile {
    fn default() -> Self {
        Self {
            listen: DEFAULT_LISTEN.parse().expect("constant address parses"),
            // In its own dir so the data-dir file watcher never sees ledger writes.
            ledger_path: "ledger/decisions.sqlite".into(),
            registry_dir: "registry".into(),
            rules_file: "rules.json".into(),
            token_file: "api-token".into(),
            ui_dir: None,
            body_limit_bytes: 1024 * 1024,
            request_timeout_s: 10,
            attest_timeout_s: 60,
            sse_max_subscribers: 64,
            health: HealthThresholds::default(),
            alerts: AlertThresholds::default(),
            hall_config: None,
            egress_allowlist: BTreeMap::new(),
            controls_present_extra: Vec::new(),
            policy_gate_file: None,
            mcp: McpConfig::default(),
            checkpoint_mirror: None,
            attestation: AttestationConfig::default(),
            otel: None,
            fleet: None,
        }
    }
}

impl ConfigFile {
    pub fn thresholds(&self) -> Thresholds {
        Thresholds {
            health: self.health,
            alerts: self.alerts,
        }
    }
}

/// A loaded configuration with every path made absolute.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub file: ConfigFile,
    pub ledger_path: PathBuf,
    pub registry_dir: PathBuf,
    pub rules_file: PathBuf,
    pub token_file: PathBuf,
    pub ui_dir: Option<PathBuf>,
    pub policy_gate_file: Option<PathBuf>,
}

/// What a first start created, to tell the user where everything is.
#[derive(Debug, Default, Clone)]
pub struct Created {
    pub paths: Vec<PathBuf>,
    /// What was changed that the user should hear about (a data dir's permissions tightened).
    pub notes: Vec<String>,
}

/// Default data dir: `<per-OS user data dir>/proctor`.
pub fn default_data_dir() -> Result<PathBuf, HallError> {
    dirs::data_dir().map(|d| d.join("proctor")).ok_or_else(|| {
        HallError::Config("no per-user data directory on this system; pass --data-dir".into())
    })
}

const EXAMPLE_RULES: &str = r#"{
  "rules": [
    {
      "rule_id": "example.doc.summarize",
      "match": {"capability_id": "cap.doc.summarize", "env": {"in": ["dev", "stage"]}},
      "decision": {
        "candidate_workers_ranked": [{"worker_species_id": "wrk.doc.summarizer", "score_hint": 1.0}],
        "required_controls_suggested": [],
        "escalation": {"policy_gate": false, "rationale": "example rule created by proctor on first start"}
      }
    }
  ]
}
"#;

impl Config {
    /// Load the config of `data_dir`, creating the dir, `config.toml`, the token, the registry dir
    /// and an example rules file when they are missing.
    pub fn load_or_init(data_dir: &Path) -> Result<(Config, Created), HallError> {
        let mut created = Created::default();
        if !data_dir.exists() {
            create_private_dir(data_dir)?;
            created.paths.push(data_dir.to_path_buf());
        }
        let data_dir = data_dir
            .canonicalize()
            .map_err(|e| HallError::io(data_dir, e))?;
        created
            .notes
            .extend(crate::permissions::private_data_dir(&data_dir)?);
        let cfg_path = data_dir.join(CONFIG_FILE);
        let file = if cfg_path.exists() {
            let text = fs::read_to_string(&cfg_path).map_err(|e| HallError::io(&cfg_path, e))?;
            let in_file = |e: String| HallError::Config(format!("{}: {e}", cfg_path.display()));
            check_hall_config_keys(&text).map_err(in_file)?;
            toml::from_str::<ConfigFile>(&text).map_err(|e| in_file(e.to_string()))?
        } else {
            let file = ConfigFile::default();
            write_atomic(&cfg_path, render_toml(&file)?.as_bytes(), Some(0o600))?;
            created.paths.push(cfg_path.clone());
            file
        };
        file.thresholds()
            .validate()
            .and_then(|()| file.mcp.validate())
            .and_then(|()| file.otel.as_ref().map_or(Ok(()), |o| o.validate()))
            .and_then(|()| file.fleet.as_ref().map_or(Ok(()), |f| f.validate()))
            .map_err(|e| HallError::Config(format!("{}: {e}", cfg_path.display())))?;
        let config = Config::resolve(data_dir, file);

        if !config.token_file.exists() {
            write_atomic(&config.token_file, new_token().as_bytes(), Some(0o600))?;
            created.paths.push(config.token_file.clone());
        }
        if !config.registry_dir.exists() {
            crate::permissions::create_shared_dir(&config.registry_dir)
                .map_err(|e| HallError::io(&config.registry_dir, e))?;
            created.paths.push(config.registry_dir.clone());
        }
        if !config.rules_file.exists() {
            write_atomic(&config.rules_file, EXAMPLE_RULES.as_bytes(), None)?;
            created.paths.push(config.rules_file.clone());
        }
        Ok((config, created))
    }

    fn resolve(data_dir: PathBuf, file: ConfigFile) -> Config {
        let abs = |p: &Path| {
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                data_dir.join(p)
            }
        };
        // A UI directory for UI development (env, then config); without one, the UI built into
        // the binary. Never the working directory's: whoever can write there would choose what
        // the hall serves.
        let ui_dir = std::env::var_os(UI_DIR_ENV)
            .map(PathBuf::from)
            .or_else(|| file.ui_dir.as_deref().map(abs));
        Config {
            policy_gate_file: file.policy_gate_file.as_deref().map(abs),
            ledger_path: abs(&file.ledger_path),
            registry_dir: abs(&file.registry_dir),
            rules_file: abs(&file.rules_file),
            token_file: abs(&file.token_file),
            ui_dir,
            data_dir,
            file,
        }
    }

    /// Read the API token; refuses a token file others can read (it grants full control).
    pub fn read_token(&self) -> Result<String, HallError> {
        read_token_file(&self.token_file)
    }

    /// Persist new thresholds into `config.toml`. Only the `[health]` and `[alerts]` values are
    /// edited, in the file as it is on disk: the user's comments and layout stay, and so do the
    /// other settings, which may differ from the ones this process runs with (`--listen`).
    pub fn save_thresholds(&mut self, thresholds: Thresholds) -> Result<(), HallError> {
        thresholds.validate().map_err(HallError::Config)?;
        let path = self.data_dir.join(CONFIG_FILE);
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(HallError::io(&path, e)),
        };
        let mut doc: toml_edit::DocumentMut = text
            .parse()
            .map_err(|e| HallError::Config(format!("{}: {e}", path.display())))?;
        let (h, a) = (&thresholds.health, &thresholds.alerts);
        // `validate` bounds every integer well inside i64, TOML's integer range.
        doc["health"]["stale_after_s"] = toml_edit::value(h.stale_after_s as i64);
        doc["health"]["offline_after_s"] = toml_edit::value(h.offline_after_s as i64);
        doc["health"]["degraded_latency_ms"] = toml_edit::value(h.degraded_latency_ms);
        doc["alerts"]["deny_rate_threshold"] = toml_edit::value(a.deny_rate_threshold);
        doc["alerts"]["deny_rate_window_s"] = toml_edit::value(a.deny_rate_window_s as i64);
        doc["alerts"]["deny_rate_min_decisions"] =
            toml_edit::value(a.deny_rate_min_decisions as i64);
        let mode = crate::permissions::kept_mode(&path, 0o600);
        write_atomic(&path, doc.to_string().as_bytes(), Some(mode))?;
        self.file.health = thresholds.health;
        self.file.alerts = thresholds.alerts;
        Ok(())
    }
}

/// `wcp::HallConfig` ignores unknown keys; here a typo such as `require_worker_atestation` would
/// silently switch a protection off, so unknown `[hall_config]` keys are an error.
fn check_hall_config_keys(text: &str) -> Result<(), String> {
    let doc: toml::Table = text.parse().map_err(|e: toml::de::Error| e.to_string())?;
    let Some(toml::Value::Table(given)) = doc.get("hall_config") else {
        return Ok(());
    };
    let known = serde_json::to_value(wcp::HallConfig::default()).expect("HallConfig serializes");
    match given.keys().find(|k| known.get(k.as_str()).is_none()) {
        Some(k) => Err(format!(
            "unknown key `{k}` in [hall_config] (known: {})",
            known
                .as_object()
                .map(|o| o.keys().cloned().collect::<Vec<_>>().join(", "))
                .unwrap_or_default()
        )),
        None => Ok(()),
    }
}

/// Read and check a token file (shared with the CLI client).
pub fn read_token_file(path: &Path) -> Result<String, HallError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = fs::metadata(path).map_err(|e| HallError::io(path, e))?;
        if meta.permissions().mode() & 0o077 != 0 {
            return Err(HallError::Config(format!(
                "{}: token file is readable by other users; run `chmod 600 {}`",
                path.display(),
                path.display()
            )));
        }
    }
    let token = fs::read_to_string(path).map_err(|e| HallError::io(path, e))?;
    let token = token.trim().to_string();
    if token.len() < 32 || !token.chars().all(|c| c.is_ascii_graphic()) {
        return Err(HallError::Config(format!(
            "{}: token must be at least 32 printable ASCII characters",
            path.display()
        )));
    }
    Ok(token)
}

fn render_toml(file: &ConfigFile) -> Result<String, HallError> {
    let body = toml::to_string_pretty(file)
        .map_err(|e| HallError::Config(format!("cannot render config: {e}")))?;
    Ok(format!(
        "# Proctor hall configuration. Relative paths are relative to this directory.\n{body}"
    ))
}

/// 32 random bytes, hex: 256 bits of secret.
fn new_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn create_private_dir(dir: &Path) -> Result<(), HallError> {
    fs::create_dir_all(dir).map_err(|e| HallError::io(dir, e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(|e| HallError::io(dir, e))?;
    }
    Ok(())
}

/// Write via a temp file in the same directory + rename, so readers (and the file watcher) never
/// see a half-written file. `mode` (default 0o644) is applied before any content is written.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: Option<u32>) -> Result<(), HallError> {
    attest::fsutil::write_atomic(path, bytes, Some(mode.unwrap_or(0o644)))
        .map_err(|e| HallError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_start_creates_everything_and_second_start_keeps_it() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("hall");
        let (cfg, created) = Config::load_or_init(&dir).unwrap();
        assert_eq!(created.paths.len(), 5, "{created:?}");
        assert!(cfg.registry_dir.is_dir());
        assert!(cfg.rules_file.is_file());
        let token = cfg.read_token().unwrap();
        assert_eq!(token.len(), 64);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&cfg.token_file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let (cfg2, created2) = Config::load_or_init(&dir).unwrap();
        assert!(created2.paths.is_empty());
        assert_eq!(
            cfg2.read_token().unwrap(),
            token,
            "token must survive restarts"
        );
        assert_eq!(cfg2.file.listen.to_string(), DEFAULT_LISTEN);
    }

    #[test]
    fn unknown_config_key_is_an_error_naming_the_file() {
        let tmp = tempfile::tempdir().unwrap();
        fs::write(tmp.path().join(CONFIG_FILE), "listne = \"127.0.0.1:1\"\n").unwrap();
        let err = Config::load_or_init(tmp.path()).unwrap_err().to_string();
        assert!(
            err.contains("config.toml") && err.contains("listne"),
            "{err}"
        );
    }

    #[test]
    fn typos_in_hall_config_are_errors_not_silently_ignored() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join(CONFIG_FILE);
        fs::write(&path, "[hall_config]\nrequire_worker_atestation = true\n").unwrap();
        let err = Config::load_or_init(tmp.path()).unwrap_err().to_string();
        assert!(err.contains("require_worker_atestation"), "{err}");
        fs::write(&path, "[hall_config]\nrequire_worker_attestation = true\n").unwrap();
        let (cfg, _) = Config::load_or_init(tmp.path()).unwrap();
        assert!(cfg.file.hall_config.unwrap().require_worker_attestation);
    }

    #[test]
    fn world_readable_token_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let (cfg, _) = Config::load_or_init(tmp.path()).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&cfg.token_file, fs::Permissions::from_mode(0o644)).unwrap();
            let err = cfg.read_token().unwrap_err().to_string();
            assert!(err.contains("chmod 600"), "{err}");
        }
    }

    #[test]
    fn thresholds_round_trip_and_validate() {
        let tmp = tempfile::tempdir().unwrap();
        let (mut cfg, _) = Config::load_or_init(tmp.path()).unwrap();
        let mut t = Thresholds::default();
        t.health.stale_after_s = 5;
        cfg.save_thresholds(t).unwrap();
        let (cfg2, _) = Config::load_or_init(tmp.path()).unwrap();
        assert_eq!(cfg2.file.health.stale_after_s, 5);
        t.health.offline_after_s = 5;
        assert!(cfg.save_thresholds(t).is_err());
        let mut huge = Thresholds::default();
        huge.alerts.deny_rate_min_decisions = u64::MAX;
        assert!(cfg.save_thresholds(huge).is_err(), "beyond a TOML integer");
    }

    #[test]
    fn saving_thresholds_keeps_comments_and_does_not_persist_runtime_overrides() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join(CONFIG_FILE);
        fs::write(
            &path,
            "# my hall\nrequest_timeout_s = 7 # tuned\n\n[health]\n# be patient\nstale_after_s = 40\noffline_after_s = 90\ndegraded_latency_ms = 500.0\n",
        )
        .unwrap();
        let (mut cfg, _) = Config::load_or_init(tmp.path()).unwrap();
        cfg.file.listen = "127.0.0.1:9".parse().unwrap(); // as `serve --listen` does
        let mut t = cfg.file.thresholds();
        t.health.stale_after_s = 50;
        t.alerts.deny_rate_threshold = 0.25;
        cfg.save_thresholds(t).unwrap();

        let text = fs::read_to_string(&path).unwrap();
        for kept in ["# my hall", "# tuned", "# be patient"] {
            assert!(text.contains(kept), "lost {kept:?}:\n{text}");
        }
        assert!(
            !text.contains("listen"),
            "a runtime override was persisted:\n{text}"
        );
        let (cfg2, _) = Config::load_or_init(tmp.path()).unwrap();
        assert_eq!(cfg2.file.thresholds(), t);
        assert_eq!(cfg2.file.request_timeout_s, 7);
        assert_eq!(cfg2.file.listen.to_string(), DEFAULT_LISTEN);
    }
}
