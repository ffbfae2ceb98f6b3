//! [`Hall`]: the one handle every face (HTTP, CLI, desktop) uses. It owns the live registry and
//! rules, the ledger, worker health, alerts and the event bus, and it is the only place where a
//! decision is made, recorded and published.

use crate::alerts::{AlertKind, DenyRateMonitor, NewAlert};
use crate::config::{Config, Thresholds};
use crate::error::HallError;
use crate::events::{DecisionEvent, EventBus, HallEvent, HallEventKind, Source};
use crate::health::{Health, HealthBoard, Heartbeat};
use crate::live::{Live, RegistryExtra, Reloaded, RouterSettings};
use crate::receipt::{EvidenceReceipt, Routed};
use crate::watch::FileWatcher;
use arc_swap::ArcSwap;
use chrono::{SecondsFormat, Utc};
use serde::Serialize;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

/// How often worker health is re-evaluated against the clock.
const HEALTH_TICK: Duration = Duration::from_secs(1);

#[derive(Clone)]
pub struct Hall {
    inner: Arc<Inner>,
}

struct Inner {
    config: Mutex<Config>,
    thresholds: ArcSwap<Thresholds>,
    live: Live,
    ledger: crate::record::Recorder,
    bus: EventBus,
    health: HealthBoard,
    deny_rate: DenyRateMonitor,
    started: Instant,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    /// One enrollment at a time: "is this worker new?" and writing its file are one step, so two
    /// concurrent enrollments of one worker cannot both be told it was created.
    enrolling: tokio::sync::Mutex<()>,
    /// The MCP gateway: downstream servers, held approvals, client sessions.
    mcp: crate::mcp::Gateway,
    /// The hall key, signed receipts and checkpoints (anchor/).
    anchor: Arc<crate::anchor::Anchor>,
    /// This hall's claim on its data dir, released by [`Hall::close`].
    data_dir_lock: Mutex<Option<crate::lock::DataDirLock>>,
    /// `GET /metrics`: counted on the route and MCP call paths.
    metrics: crate::metrics::Metrics,
    /// OTLP export, when `[otel]` is configured.
    otel: Option<crate::otel::Otel>,
    /// Shipping to the fleet's central store, when `[fleet]` is configured; taken by `close`.
    fleet: Mutex<Option<fleet::Shipper>>,
}

/// See [`Hall::downgrade`].
pub(crate) struct WeakHall(std::sync::Weak<Inner>);

impl WeakHall {
    pub(crate) fn upgrade(&self) -> Option<Hall> {
        self.0.upgrade().map(|inner| Hall { inner })
    }
}

/// Longest id a RouteInput may carry. WCP sets no limit; the hall does, so one request cannot
/// bloat the ledger and every index with megabyte-long ids (docs/hall.md). Lookups by id (path
/// and query) accept the same length, so whatever was routed can be found again.
pub const MAX_INPUT_ID_LEN: usize = 1024;

/// The hall's limits on a RouteInput's ids: a length, and no control characters in the ids people
/// look decisions up by (they would not survive a URL, a terminal or a log line intact).
fn check_input_ids(input: &wcp::RouteInput) -> Result<(), HallError> {
    let ids = [
        ("capability_id", Some(&input.capability_id), true),
        ("tenant_id", Some(&input.tenant_id), true),
        ("correlation_id", Some(&input.correlation_id), true),
        ("tenant_credential", input.tenant_credential.as_ref(), false),
    ];
    for (field, value, looked_up) in ids {
        let Some(v) = value else { continue };
        if v.len() > MAX_INPUT_ID_LEN {
            return Err(HallError::InvalidRouteInput(format!(
                "{field}: {} bytes long; the hall accepts at most {MAX_INPUT_ID_LEN}",
                v.len()
            )));
        }
        if looked_up && v.chars().any(char::is_control) {
            return Err(HallError::InvalidRouteInput(format!(
                "{field}: contains control characters, which the hall does not accept in ids"
            )));
        }
    }
    Ok(())
}

/// Room for a typical decision (~2 KB) plus its evidence receipt: serializing never regrows the
/// buffer, and the HTTP answer is built in it ([`Routed::into_response_bytes`]). Each regrowth
/// was a ≥ 1 KB allocation, which in glibc's malloc also consolidates the small chunks the
/// request parse freed: a visible share of the server's CPU in a profile under load.
const DECISION_BUFFER: usize = 4096;

pub fn serialize_decision(decision: &wcp::RouteDecision) -> String {
    let mut buf = Vec::with_capacity(DECISION_BUFFER);
    serde_json::to_writer(&mut buf, decision).expect("a RouteDecision always serializes");
    String::from_utf8(buf).expect("serde_json writes UTF-8")
}

/// A configured gate that cannot be loaded stops the start: routing without it would silently
/// turn every gated rule into a deny, or worse, if the file was meant to deny.
fn load_gate(config: &Config) -> Result<Option<Arc<dyn wcp::PolicyGate>>, HallError> {
    let Some(path) = &config.policy_gate_file else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(path).map_err(|e| HallError::io(path, e))?;
    let json: Value = serde_json::from_str(&text)
        .map_err(|e| HallError::Config(format!("{}: not valid JSON: {e}", path.display())))?;
    let gate = wcp::DeclarativeGate::from_json(&json)
        .map_err(|e| HallError::Config(format!("{}: {e}", path.display())))?;
    Ok(Some(Arc::new(gate)))
}

/// Reply to an enrollment (docs/API.md).
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Enrolled {
    pub enrolled: bool,
    pub updated: bool,
    pub worker_id: String,
    pub enrolled_at: String,
    pub artifact_hash_verified: bool,
}

/// A worker as listed by `GET /v1/workers`.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct WorkerView {
    pub worker_id: String,
    pub worker_species_id: String,
    pub capabilities: Value,
    pub risk_tier: Value,
    pub source_file: String,
    #[schemars(with = "serde_json::Map<String, Value>")]
    pub record: Value,
    pub health: Option<Health>,
    pub conformance: WorkerConformance,
    /// The signed-package verdict routing applies to this worker (docs/attest.md); `null` when
    /// its record names no package or `[attestation] enforce_signed = false`.
    pub attestation: Option<attest::RouteVerdict>,
}

/// A worker's WCP conformance level (docs/wcp.md) as scored by `wcp::conformance::check_worker`,
/// so every client shows the same level instead of re-implementing the rules.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct WorkerConformance {
    pub level: wcp::conformance::Level,
    /// The first level not reached (`null` once `WCP-Full` is reached).
    pub next_level: Option<wcp::conformance::Level>,
    /// Labels of the checks that level (and any below it) still lacks.
    pub missing: Vec<&'static str>,
}

impl WorkerConformance {
    fn of(record: &Value) -> Self {
        let report = wcp::conformance::check_worker(record);
        let (next_level, missing) = match report.next_level() {
            Some((level, missing)) => (Some(level), missing),
            None => (None, Vec::new()),
        };
        WorkerConformance {
            level: report.achieved_level,
            next_level,
            missing,
        }
    }
}

impl Hall {
    /// Open the ledger, load registry and rules, start watching and ticking. Must run inside a
    /// tokio runtime.
    pub async fn open(config: Config) -> Result<Hall, HallError> {
        let lock = crate::lock::DataDirLock::acquire(&config.data_dir)?;
        for path in [&config.rules_file, &config.registry_dir] {
            crate::permissions::refuse_world_writable(path).map_err(HallError::Config)?;
        }
        // Before the ledger is opened: opening would create a missing or emptied file afresh.
        let (anchor, latest) = crate::anchor::Anchor::open(&config)?;
        let bus = EventBus::default();
        let ledger = crate::record::Recorder::open(&config.ledger_path, bus.clone()).await?;
        let anchor = Arc::new(anchor);
        {
            let (anchor, config) = (anchor.clone(), config.clone());
            ledger
                .query(move |b| Ok(anchor.start(&config, b, latest.as_ref())))
                .await??;
        }
        let extra = RegistryExtra {
            controls_present_extra: config.file.controls_present_extra.clone(),
            egress_allowlist: config.file.egress_allowlist.clone(),
        };
        let hash_cache = Arc::new(attest::HashCache::new(attest::HashOptions::default()));
        let signed = crate::route_attest::signed_packages(&config, hash_cache.clone())?;
        let settings = RouterSettings {
            hall_config: config.file.hall_config.clone(),
            hash_cache,
            gate: load_gate(&config)?,
            signed: signed.as_ref().map(|(s, _)| s.clone()),
        };
        let (live, loaded) = Live::load(&config.rules_file, &config.registry_dir, extra, settings);
        let (mcp, server_events) = crate::mcp::Gateway::new(config.file.mcp.clone());
        let otel = config
            .file
            .otel
            .as_ref()
            .map(|o| crate::otel::Otel::start(o, &bus, &anchor.public().name))
            .transpose()?;
        // After the ledger opened (the shipper reads it) and the key exists (it is registered).
        let fleet = crate::fleet::start(&config, anchor.public())?;
        let hall = Hall {
            inner: Arc::new(Inner {
                thresholds: ArcSwap::from_pointee(config.file.thresholds()),
                config: Mutex::new(config.clone()),
                live,
                ledger,
                bus,
                health: HealthBoard::default(),
                deny_rate: DenyRateMonitor::default(),
                started: Instant::now(),
                tasks: Mutex::new(Vec::new()),
                enrolling: tokio::sync::Mutex::new(()),
                mcp,
                anchor,
                data_dir_lock: Mutex::new(Some(lock)),
                metrics: crate::metrics::Metrics::default(),
                otel,
                fleet: Mutex::new(fleet),
            }),
        };
        hall.start_mcp_events(server_events);
        if let Some((signed, alerts)) = signed {
            hall.inner
                .mcp
                .set_start_check(crate::route_attest::mcp_start_check(hall.downgrade()));
            let tasks = hall.start_attestation_alerts(signed, alerts);
            hall.inner.tasks.lock().expect("tasks lock").extend(tasks);
        }
        for outcome in loaded {
            hall.apply_reload(outcome).await;
        }
        hall.restore_health().await?;
        hall.start_watching(&config)?;
        hall.start_health_ticks();
        hall.start_integrity_check();
        hall.start_checkpoints();
        Ok(hall)
    }

    pub fn config(&self) -> Config {
        self.inner.config.lock().expect("config lock").clone()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<HallEvent> {
        self.inner.bus.subscribe()
    }

    /// Parse, decide, record durably, publish. Returns only recorded decisions: if the ledger
    /// cannot record, the caller gets `DENY_LEDGER_UNAVAILABLE` and nothing is allowed.
    pub async fn route(&self, input: Value) -> Result<Routed, HallError> {
        self.route_and_record(input).await.map(|(_, routed)| routed)
    }

    /// [`Hall::route`] for the MCP gateway, which also needs the decision itself.
    pub(crate) async fn route_mcp(
        &self,
        input: Value,
    ) -> Result<(wcp::RouteDecision, Routed), HallError> {
        self.route_and_record(input).await
    }

    async fn route_and_record(
        &self,
        input: Value,
    ) -> Result<(wcp::RouteDecision, Routed), HallError> {
        let started = Instant::now();
        let input = wcp::parse_route_input_owned(input)
            .map_err(|e| HallError::InvalidRouteInput(e.message))?;
        check_input_ids(&input)?;
        let snapshot = self.inner.live.snapshot();
        let decision = snapshot.router.decide(&input);
        let json = serialize_decision(&decision);
        let recorded = match crate::record::decision_record(&decision, json.clone()) {
            Ok(record) => {
                let _queued = self.inner.metrics.queued_for_commit();
                self.inner.ledger.append(record).await
            }
            Err(e) => Err(e.to_string()),
        };
        let anchor = Some(&*self.inner.anchor);
        // A refusal is logged by the recorder (rate-limited), not once per request.
        let routed =
            crate::receipt::answer(&decision, json, recorded, anchor).map_err(HallError::from)?;
        self.inner.metrics.routed(&decision, started.elapsed());
        self.after_record(&decision, &routed.receipt);
        Ok((decision, routed))
    }

    /// Bookkeeping once a decision is durable: health counters, alert rules, the event.
    fn after_record(&self, d: &wcp::RouteDecision, receipt: &EvidenceReceipt) {
        if let Some(species) = &d.selected_worker_species_id {
            self.inner.health.record_routed(species);
        }
        let thresholds = self.inner.thresholds.load();
        let spike = self
            .inner
            .deny_rate
            .observe(Utc::now(), d.denied, &thresholds.alerts);
        self.on_spike(spike);
        let deny_code = d.deny_code().map(|c| c.as_str().to_string());
        // A signed-package refusal (it names its `attestation_reason`) has raised its own
        // `attestation_refused` alert, once per change instead of once per route.
        let signed_refusal = d
            .deny_reason_if_denied
            .as_ref()
            .is_some_and(|r| r.extra.contains_key("attestation_reason"));
        if deny_code.as_deref() == Some("DENY_WORKER_TAMPERED") && !signed_refusal {
            let species = d
                .candidate_workers_ranked
                .iter()
                .find(|c| c.skip_reason.is_none());
            let subject = species.map_or("unknown".to_string(), |c| c.worker_species_id.clone());
            self.raise(NewAlert::new(
                AlertKind::Tamper,
                subject.clone(),
                format!("route-time attestation failed for {subject}: live code hash differs from the registered one (decision {})", d.decision_id),
            ));
        }
        if !self.inner.bus.has_subscribers() {
            return; // nobody is watching: skip building the event
        }
        self.inner
            .bus
            .publish(HallEvent::Decision(Arc::new(DecisionEvent {
                seq: receipt.ledger_seq as u64,
                hash: receipt.ledger_hash.clone(),
                recorded_at: receipt.recorded_at.clone(),
                decision_id: d.decision_id.clone(),
                correlation_id: d.correlation_id.clone(),
                tenant_id: d.tenant_id.clone(),
                capability_id: d.capability_id.clone(),
                env: d.env.as_str().to_string(),
                data_label: d.data_label.as_str().to_string(),
                denied: d.denied,
                deny_code,
                matched_rule_id: d.matched_rule_id.clone(),
                selected_worker_species_id: d.selected_worker_species_id.clone(),
                dry_run: d.dry_run,
            })));
    }

    /// Enroll a record: validate, verify its `artifact_hash` if given, write it atomically into the
    /// registry dir and reload the registry before answering.
    pub async fn enroll(&self, record: Value) -> Result<Enrolled, HallError> {
        let entry = crate::live::validate_record(&record).map_err(HallError::InvalidRecord)?;
        let artifact_hash_verified = match record.get("artifact_hash") {
            None | Some(Value::Null) => false,
            Some(Value::String(given)) => {
                if !crate::enroll_hash::matches(&record, given) {
                    return Err(HallError::EnrollTampered);
                }
                true
            }
            Some(_) => {
                return Err(HallError::InvalidRecord(
                    "artifact_hash must be a string".into(),
                ))
            }
        };
        let _one_at_a_time = self.inner.enrolling.lock().await;
        let dir = self.inner.live.registry_dir().to_path_buf();
        // Re-enrolling replaces the worker's record where it lives, even in a hand-named file,
        // so one worker never ends up in two files.
        let existing = self
            .inner
            .live
            .snapshot()
            .workers
            .iter()
            .find(|w| w.worker_id == entry.worker_id)
            .map(|w| w.file.clone());
        let path = dir.join(existing.unwrap_or_else(|| format!("{}.json", entry.worker_id)));
        let updated = path.exists();
        let bytes = serde_json::to_vec_pretty(&record).expect("JSON value serializes");
        tokio::task::spawn_blocking(move || {
            crate::permissions::create_shared_dir(&dir).map_err(|e| HallError::io(&dir, e))?;
            crate::config::write_atomic(&path, &bytes, None)
        })
        .await
        .map_err(|e| HallError::Config(format!("enroll task failed: {e}")))??;
        // An enrollment is what may change a `source_file` species' registered hash; plain
        // registry reloads keep the snapshot taken at enrollment.
        self.inner
            .live
            .hash_cache()
            .forget_enrollment(&entry.worker_species_id);
        let outcome = self.reload(Source::Registry).await?;
        self.apply_reload(outcome).await;
        tracing::info!(worker_id = %entry.worker_id, updated, "worker enrolled");
        self.remember(
            HallEventKind::Enrollment,
            Some(&entry.worker_id),
            json!({"updated": updated, "artifact_hash_verified": artifact_hash_verified}),
        );
        Ok(Enrolled {
            enrolled: true,
            updated,
            worker_id: entry.worker_id,
            enrolled_at: Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true),
            artifact_hash_verified,
        })
    }

    pub fn heartbeat(&self, worker_id: &str, hb: &Heartbeat) -> Result<Health, HallError> {
        let thresholds = self.inner.thresholds.load();
        let (health, transition) = self
            .inner
            .health
            // In µs, as the ledger saves it: the time shown is the same after a restart.
            .heartbeat(
                worker_id,
                hb,
                ledger::micros_to_time(Utc::now().timestamp_micros()),
                &thresholds.health,
            )
            .ok_or_else(|| HallError::NotFound(format!("worker {worker_id} is not enrolled")))?;
        if let Some(t) = transition {
            self.on_transition(t);
        }
        Ok(health)
    }

    pub fn workers(&self) -> Vec<WorkerView> {
        let snapshot = self.inner.live.snapshot();
        let mut views: Vec<WorkerView> = snapshot
            .workers
            .iter()
            .map(|w| WorkerView {
                worker_id: w.worker_id.clone(),
                worker_species_id: w.worker_species_id.clone(),
                capabilities: w.record.get("capabilities").cloned().unwrap_or(Value::Null),
                risk_tier: w.record.get("risk_tier").cloned().unwrap_or(Value::Null),
                source_file: w.file.clone(),
                record: w.record.clone(),
                health: self.inner.health.get(&w.worker_id),
                conformance: WorkerConformance::of(&w.record),
                attestation: self.attestation_of(&w.worker_id),
            })
            .collect();
        views.sort_by(|a, b| a.worker_id.cmp(&b.worker_id));
        views
    }

    pub fn settings(&self) -> Value {
        let c = self.config();
        let t = self.inner.thresholds.load();
        json!({
            "listen": c.file.listen.to_string(),
            "data_dir": c.data_dir, "ledger_path": c.ledger_path, "registry_dir": c.registry_dir,
            "rules_file": c.rules_file, "ui_dir": c.ui_dir, "body_limit_bytes": c.file.body_limit_bytes,
            "health": t.health, "alerts": t.alerts, "hall_config": c.file.hall_config,
        })
    }

    pub fn set_thresholds(&self, t: Thresholds) -> Result<Value, HallError> {
        t.validate().map_err(HallError::InvalidSettings)?;
        self.inner
            .config
            .lock()
            .expect("config lock")
            .save_thresholds(t)?;
        self.inner.thresholds.store(Arc::new(t));
        Ok(self.settings())
    }

    fn on_transition(&self, t: crate::health::Transition) {
        if t.is_bad() {
            let kind = if t.to == crate::health::HealthState::Offline {
                AlertKind::WorkerOffline
            } else {
                AlertKind::WorkerStale
            };
            let message = format!(
                "worker {} went {} (was {})",
                t.worker_id,
                t.to.as_str(),
                t.from.as_str()
            );
            self.raise(NewAlert::new(kind, t.worker_id.clone(), message));
        } else {
            // It reports again: what its silence raised is over.
            for kind in [AlertKind::WorkerStale, AlertKind::WorkerOffline] {
                self.resolve(kind, &t.worker_id);
            }
        }
        self.remember(
            HallEventKind::HealthTransition,
            Some(&t.worker_id),
            json!({"from": t.from, "to": t.to, "reported_status": t.reported_status}),
        );
        self.inner.bus.publish(HallEvent::Health(t));
    }

    /// Keep an operational record in the ledger's hall_events table (not hash-chained: context,
    /// not evidence), in the background.
    fn remember(&self, kind: HallEventKind, worker_id: Option<&str>, details: Value) {
        let event = ledger::NewHallEvent {
            at: Utc::now(),
            kind: kind.as_str().to_string(),
            worker_id: worker_id.map(str::to_string),
            correlation_id: None,
            details,
        };
        let hall = self.clone();
        tokio::spawn(async move {
            if let Err(e) = hall
                .inner
                .ledger
                .query(move |b| b.insert_event(&event))
                .await
            {
                tracing::warn!(error = %e, kind = kind.as_str(), "could not record hall event");
            }
        });
    }

    /// Store an alert (in the background: callers are on hot or sync paths) and publish it.
    pub fn raise(&self, alert: NewAlert) {
        let hall = self.clone();
        tokio::spawn(async move {
            match hall.inner.ledger.insert_alert(&alert).await {
                Ok(stored) => hall.inner.bus.publish(HallEvent::Alert(stored)),
                Err(e) => {
                    tracing::error!(error = %e, kind = alert.kind.as_str(), "could not store alert")
                }
            }
        });
    }

    /// Mark the open alerts of `kind` about `subject` resolved (their condition ended), in the
    /// background, and publish each as it now is.
    pub(crate) fn resolve(&self, kind: AlertKind, subject: &str) {
        let hall = self.clone();
        let subject = subject.to_string();
        tokio::spawn(async move {
            let at = Utc::now();
            let resolved = hall
                .inner
                .ledger
                .query(move |b| b.resolve_alerts(kind.as_str(), &subject, at))
                .await;
            let alerts = match resolved {
                Ok(ids) if ids.is_empty() => return,
                Ok(ids) => hall.stored_alerts(&ids).await,
                Err(e) => Err(e),
            };
            match alerts {
                Ok(alerts) => alerts.into_iter().for_each(|a| hall.publish_alert(a)),
                Err(e) => {
                    tracing::warn!(error = %e, kind = kind.as_str(), "could not resolve alerts")
                }
            }
        });
    }

    /// Resolve the open alerts of `kinds`, except those about a (kind, subject) in `still`.
    fn resolve_all_but(&self, kinds: &'static [AlertKind], still: Vec<(AlertKind, String)>) {
        let hall = self.clone();
        tokio::spawn(async move {
            let open = match hall.alerts(true, 500).await {
                Ok(open) => open,
                Err(e) => return tracing::warn!(error = %e, "could not read open alerts"),
            };
            let mut over: Vec<(AlertKind, String)> = Vec::new();
            for kind in kinds {
                for a in open.iter().filter(|a| a.kind == kind.as_str()) {
                    let pair = (*kind, a.subject.clone());
                    if !still.contains(&pair) && !over.contains(&pair) {
                        over.push(pair);
                    }
                }
            }
            for (kind, subject) in over {
                hall.resolve(kind, &subject);
            }
        });
    }

    pub(crate) fn publish_alert(&self, alert: crate::alerts::Alert) {
        self.inner.bus.publish(HallEvent::Alert(alert));
    }

    fn on_spike(&self, spike: Option<crate::alerts::Spike>) {
        match spike {
            Some(crate::alerts::Spike::Began(alert)) => self.raise(alert),
            Some(crate::alerts::Spike::Ended) => self.resolve(AlertKind::DenyRateSpike, "hall"),
            None => {}
        }
    }

    /// Reading files and hashing `source_file`s is blocking work: keep it off the async workers.
    async fn reload(&self, source: Source) -> Result<Reloaded, HallError> {
        let hall = self.clone();
        tokio::task::spawn_blocking(move || match source {
            Source::Rules => hall.inner.live.reload_rules(),
            Source::Registry => hall.inner.live.reload_registry(),
        })
        .await
        .map_err(|e| HallError::Config(format!("reload task failed: {e}")))
    }

    async fn apply_reload(&self, outcome: Reloaded) {
        if outcome.event.source == Source::Registry {
            let snapshot = self.inner.live.snapshot();
            self.inner.health.sync_workers(
                snapshot
                    .workers
                    .iter()
                    .map(|w| (w.worker_id.as_str(), w.worker_species_id.as_str())),
            );
            self.inner
                .mcp
                .sync(
                    snapshot
                        .workers
                        .iter()
                        .map(|w| (w.worker_id.as_str(), &w.record)),
                )
                .await;
            self.inner.mcp.sessions.notify_tools_changed().await;
        }
        // What this source raised before and no longer finds wrong is over.
        let kinds: &[AlertKind] = match outcome.event.source {
            Source::Rules => &[AlertKind::RulesRejected],
            Source::Registry => &[AlertKind::RegistryRejected, AlertKind::RegistryMissing],
        };
        let still: Vec<(AlertKind, String)> = outcome
            .alerts
            .iter()
            .map(|a| (a.kind, a.subject.clone()))
            .collect();
        self.resolve_all_but(kinds, still);
        for alert in outcome.alerts {
            self.raise(alert);
        }
        let kind = match outcome.event.source {
            Source::Registry => HallEventKind::RegistryChange,
            Source::Rules => HallEventKind::RulesChange,
        };
        let e = &outcome.event;
        self.remember(
            kind,
            None,
            json!({"ok": e.ok, "workers": e.workers, "rules": e.rules, "message": e.message}),
        );
        self.inner.bus.publish(HallEvent::Registry(outcome.event));
    }

    fn start_watching(&self, config: &Config) -> Result<(), HallError> {
        let (mut watcher, mut changes) =
            FileWatcher::start(&config.rules_file, &config.registry_dir).map_err(|e| {
                HallError::Config(format!("cannot watch {}: {e}", config.data_dir.display()))
            })?;
        let hall = self.clone();
        let task = tokio::spawn(async move {
            while let Some(sources) = changes.recv().await {
                for source in sources {
                    if source == Source::Registry {
                        watcher.rewatch_registry();
                    }
                    match hall.reload(source).await {
                        Ok(outcome) => hall.apply_reload(outcome).await,
                        Err(e) => tracing::error!(error = %e, "reload failed"),
                    }
                }
            }
        });
        self.inner.tasks.lock().expect("tasks lock").push(task);
        Ok(())
    }

    /// Walk the hash chain once in the background at start: an edited, deleted or reordered
    /// record raises a `ledger_integrity` alert without anyone asking (routing is not delayed).
    fn start_integrity_check(&self) {
        let hall = self.clone();
        let task = tokio::spawn(async move {
            match hall.verify_ledger().await {
                Ok(report) if report["ok"] == true => {
                    tracing::info!(records = %report["records"], "ledger chain verified")
                }
                Ok(report) => {
                    tracing::error!(message = %report["message"], "ledger chain is broken")
                }
                Err(e) => tracing::error!(error = %e, "ledger chain could not be verified"),
            }
        });
        self.inner.tasks.lock().expect("tasks lock").push(task);
    }

    fn start_health_ticks(&self) {
        let hall = self.clone();
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(HEALTH_TICK);
            loop {
                tick.tick().await;
                let thresholds = hall.inner.thresholds.load();
                for t in hall.inner.health.tick(Utc::now(), &thresholds.health) {
                    hall.on_transition(t);
                }
                let spike = hall.inner.deny_rate.settle(Utc::now(), &thresholds.alerts);
                hall.on_spike(spike);
                hall.save_heartbeats().await;
            }
        });
        self.inner.tasks.lock().expect("tasks lock").push(task);
    }

    /// What health must not forget across a restart, from the ledger: decisions routed per
    /// species (the ledger's count, so nothing recorded before this start is lost) and each
    /// enrolled worker's last heartbeat. Before the hall routes or takes heartbeats.
    async fn restore_health(&self) -> Result<(), HallError> {
        let (routed, beats) = self
            .inner
            .ledger
            .query(|b| Ok((b.decisions_per_worker()?, b.last_heartbeats()?)))
            .await?;
        let health = &self.inner.health;
        health.seed_routed(routed.into_iter().map(|c| (c.key, c.count)));
        let thresholds = self.inner.thresholds.load();
        health.restore(beats, Utc::now(), &thresholds.health);
        Ok(())
    }

    /// Save the last heartbeat of the workers heard from since the previous save: one write a
    /// health tick at most, however many heartbeats (an MCP call counts as one) came in.
    async fn save_heartbeats(&self) {
        let beats = self.inner.health.take_unsaved();
        if beats.is_empty() {
            return;
        }
        if let Err(e) = self
            .inner
            .ledger
            .query(move |b| b.save_heartbeats(&beats))
            .await
        {
            tracing::warn!(error = %e, "could not save the workers' last heartbeats");
        }
    }

    /// The hall key's public half (`GET /v1/hall/key`).
    pub fn hall_key(&self) -> &crate::anchor::HallPublicKey {
        self.inner.anchor.public()
    }

    /// Sign a checkpoint every [`crate::anchor::CHECKPOINT_EVERY`] while decisions arrive.
    fn start_checkpoints(&self) {
        let anchor = self.inner.anchor.clone();
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(crate::anchor::CHECKPOINT_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut failing = false;
            loop {
                tick.tick().await;
                let anchor = anchor.clone();
                match tokio::task::spawn_blocking(move || anchor.checkpoint()).await {
                    Ok(Err(e)) if !failing => {
                        tracing::error!(error = %e, "cannot write a checkpoint; retrying every second");
                        failing = true;
                    }
                    Ok(Ok(())) if failing => {
                        tracing::info!("checkpoints are written again");
                        failing = false;
                    }
                    _ => {}
                }
            }
        });
        self.inner.tasks.lock().expect("tasks lock").push(task);
    }

    /// The checkpoint of everything acknowledged, once the ledger is closed.
    async fn last_checkpoint(&self) {
        let anchor = self.inner.anchor.clone();
        match tokio::task::spawn_blocking(move || anchor.checkpoint()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "cannot write the last checkpoint"),
            Err(e) => tracing::error!(error = %e, "checkpoint task failed"),
        }
    }

    /// Stop background tasks and flush the ledger. Routes still in flight finish first (the HTTP
    /// server drains them before calling this).
    pub async fn close(&self) {
        for task in self.inner.tasks.lock().expect("tasks lock").drain(..) {
            task.abort();
        }
        self.inner.mcp.stop_all().await;
        self.save_heartbeats().await;
        // Before the ledger closes, so the writer's connection is the last one (it cleans up
        // the WAL); what was not shipped yet ships at the next start.
        let shipper = self.inner.fleet.lock().expect("fleet slot").take();
        if let Some(shipper) = shipper {
            let _ = tokio::task::spawn_blocking(move || shipper.stop()).await;
        }
        self.inner.ledger.close().await;
        self.last_checkpoint().await;
        if let Some(otel) = &self.inner.otel {
            otel.shutdown().await;
        }
        self.inner
            .data_dir_lock
            .lock()
            .expect("data dir lock slot")
            .take();
        tracing::info!("hall closed; ledger flushed");
    }

    /// Tell the next hall that tries this data dir where this one listens.
    pub(crate) fn announce_url(&self, url: &str) -> Result<(), HallError> {
        match &*self.inner.data_dir_lock.lock().expect("data dir lock slot") {
            Some(lock) => lock.set_url(url),
            None => Err(HallError::Config("the hall is closed".into())),
        }
    }

    /// The `ledger_unwritable` alert while the ledger cannot write (the desktop's tray shows it).
    pub fn ledger_unwritable(&self) -> Option<crate::alerts::Alert> {
        self.inner.ledger.unwritable()
    }

    /// This hall's shipping to the fleet's central store; `None` without `[fleet]` (or after
    /// `close`).
    pub fn fleet_status(&self) -> Option<fleet::FleetStatus> {
        let slot = self.inner.fleet.lock().expect("fleet slot");
        slot.as_ref().map(fleet::Shipper::status)
    }

    pub fn uptime(&self) -> Duration {
        self.inner.started.elapsed()
    }

    pub(crate) fn ledger(&self) -> &crate::record::Recorder {
        &self.inner.ledger
    }

    pub(crate) fn health_board(&self) -> &HealthBoard {
        &self.inner.health
    }

    pub(crate) fn metrics(&self) -> &crate::metrics::Metrics {
        &self.inner.metrics
    }

    pub(crate) fn otel(&self) -> Option<&crate::otel::Otel> {
        self.inner.otel.as_ref()
    }

    pub fn mcp(&self) -> &crate::mcp::Gateway {
        &self.inner.mcp
    }

    pub(crate) fn publish(&self, event: HallEvent) {
        self.inner.bus.publish(event);
    }

    /// A handle that does not keep the hall alive (for callbacks the hall itself owns).
    pub(crate) fn downgrade(&self) -> WeakHall {
        WeakHall(Arc::downgrade(&self.inner))
    }

    /// The registry and rules routing uses now.
    pub(crate) fn snapshot(&self) -> Arc<crate::live::Snapshot> {
        self.inner.live.snapshot()
    }

    /// The species of an enrolled worker.
    pub(crate) fn species_of(&self, worker_id: &str) -> Option<String> {
        let snapshot = self.inner.live.snapshot();
        let worker = snapshot.workers.iter().find(|w| w.worker_id == worker_id)?;
        Some(worker.worker_species_id.clone())
    }

    /// The decision for a request a person approved (`wcp::Router::decide_approved`) under the
    /// rules and registry of now.
    pub(crate) fn decide_approved(&self, input: Value) -> Result<wcp::RouteDecision, String> {
        let input = wcp::parse_route_input_owned(input).map_err(|e| e.message)?;
        Ok(self.inner.live.snapshot().router.decide_approved(&input))
    }

    /// Queue a linked record (an MCP call's outcome, an approval's ending) now; the future
    /// resolves once it is durable (`Ok`), and need not be awaited for it to be written.
    /// `urgency`: whether someone waits for it ([`ledger::Urgency`]).
    pub(crate) fn record_linked(
        &self,
        record: ledger::NewLinkedRecord,
        urgency: ledger::Urgency,
    ) -> impl std::future::Future<Output = Result<ledger::LinkedRecord, String>> + Send + 'static
    {
        self.inner.ledger.submit_linked(record, urgency)
    }

    /// A forwarded call is the worker's heartbeat: its latency, and whether the server answered.
    pub(crate) fn mcp_call_health(
        &self,
        worker_id: &str,
        outcome: crate::mcp::call::Outcome,
        latency: Duration,
    ) {
        use crate::health::ReportedStatus;
        use crate::mcp::call::Outcome;
        let status = match outcome {
            Outcome::Ok | Outcome::ToolError => ReportedStatus::Ok,
            Outcome::Unavailable => ReportedStatus::Offline,
            _ => ReportedStatus::Degraded,
        };
        let hb = Heartbeat {
            status,
            latency_ms: Some(latency.as_secs_f64() * 1000.0),
        };
        let _ = self.heartbeat(worker_id, &hb);
    }

    /// Server state changes feed health (a dead server is offline at once) and the live views;
    /// a changed tool list is announced to connected clients.
    fn start_mcp_events(
        &self,
        mut events: tokio::sync::mpsc::UnboundedReceiver<crate::mcp::ServerEvent>,
    ) {
        use crate::health::ReportedStatus;
        use crate::mcp::{ServerEvent, ServerState};
        let hall = self.clone();
        let task = tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                match &event {
                    ServerEvent::State {
                        worker_id, state, ..
                    } => {
                        let status = match state {
                            ServerState::Ready => Some(ReportedStatus::Ok),
                            ServerState::Failed => Some(ReportedStatus::Offline),
                            _ => None,
                        };
                        if let Some(status) = status {
                            let hb = Heartbeat {
                                status,
                                latency_ms: None,
                            };
                            let _ = hall.heartbeat(worker_id, &hb);
                        }
                    }
                    ServerEvent::ToolsChanged { .. } => {
                        hall.inner.mcp.sessions.notify_tools_changed().await;
                    }
                }
                hall.inner.bus.publish(HallEvent::McpServer(event));
            }
        });
        self.inner.tasks.lock().expect("tasks lock").push(task);
    }

    /// A person's verdict on a held call (`POST /v1/approvals/{id}`): recorded, then the call is
    /// forwarded (approve) or refused (deny).
    pub async fn decide_approval(
        &self,
        id: &str,
        approve: bool,
        by: String,
        note: Option<String>,
    ) -> Result<crate::mcp::Approval, HallError> {
        use crate::mcp::{ApprovalState, NotTaken, Verdict};
        let taken = self
            .inner
            .mcp
            .approvals
            .take(id)
            .map_err(|why| match why {
                NotTaken::Ended(state) => HallError::Conflict(format!(
                    "approval {id} already ended: {}",
                    serde_json::to_value(state)
                        .unwrap_or_default()
                        .as_str()
                        .unwrap_or("ended")
                )),
                NotTaken::Ending => HallError::Conflict(format!(
                    "approval {id} is ending now (another verdict, its expiry or its client leaving came first)"
                )),
                NotTaken::Unknown => HallError::NotFound(format!("no approval {id}")),
            })?;
        let state = if approve {
            ApprovalState::Approved
        } else {
            ApprovalState::Denied
        };
        let verdict = Verdict {
            by,
            at: Utc::now(),
            note,
        };
        crate::mcp::call::end_approval(self, taken, state, verdict)
            .await
            .map_err(HallError::LedgerUnavailable)
    }
}
