//! Signed packages enforced at route time, as the hall runs it (docs/attest.md, "Signed
//! packages at route time"): the trust store it reads, the `attestation_refused` alerts, and a
//! worker's verdict for the API. The check itself is `attest::SignedPackages`, which the
//! router reaches through `attest::LiveHashes` (WCP step 12).

use crate::alerts::{AlertKind, NewAlert};
use crate::config::Config;
use crate::error::HallError;
use crate::hall::Hall;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// How often the hall looks for a changed trust store when no route does (so a revocation
/// raises its alert even while nobody routes).
const TRUST_TICK: Duration = Duration::from_secs(1);

/// Alerts from refused packages, raised by the hall once it runs.
pub(crate) type RefusalAlerts = mpsc::UnboundedReceiver<NewAlert>;

/// The checker for this config (`None` when `[attestation] enforce_signed = false`), sharing
/// `cache` with the router's live hashes.
pub(crate) fn signed_packages(
    config: &Config,
    cache: Arc<attest::HashCache>,
) -> Result<Option<(Arc<attest::SignedPackages>, RefusalAlerts)>, HallError> {
    if !config.file.attestation.enforce_signed {
        return Ok(None);
    }
    let trust = attest::TrustSource::new(trust_file(config)?);
    let (tx, rx) = mpsc::unbounded_channel();
    let hook: attest::route_check::RefusalHook = Box::new(move |pkg, verdict| {
        let message = format!(
            "worker {} ({}) is no longer routed to: {}",
            pkg.worker_id, pkg.species, verdict.message
        );
        let _ = tx.send(NewAlert::new(
            AlertKind::AttestationRefused,
            pkg.worker_id.clone(),
            message,
        ));
    });
    let signed = attest::SignedPackages::new(trust, cache, Some(hook));
    tracing::info!(trust_store = %signed.trust_path().display(), "signed packages are enforced at route time");
    Ok(Some((Arc::new(signed), rx)))
}

/// `[attestation] trust_file` (relative to the data dir), else the trust store `proctor keys`
/// writes.
fn trust_file(config: &Config) -> Result<PathBuf, HallError> {
    match &config.file.attestation.trust_file {
        Some(path) => Ok(config.data_dir.join(path)),
        None => attest::keys::config_dir(None)
            .map(|dir| dir.join(attest::trust::TRUST_FILE))
            .map_err(|e| HallError::Config(format!("[attestation] trust_file: {e}"))),
    }
}

/// The MCP gateway's check before it starts a worker's server: the worker's signed-package
/// verdict, as routing applies it (`Err` names the reason).
pub(crate) fn mcp_start_check(hall: crate::hall::WeakHall) -> crate::mcp::downstream::StartCheck {
    Arc::new(move |worker_id: &str| {
        let hall = hall.upgrade().ok_or("the hall is shutting down")?;
        match hall.attestation_of(worker_id) {
            Some(v) if !v.valid => Err(format!(
                "not started: the worker's signed package check failed ({}): {}",
                v.reason.describe(),
                v.message
            )),
            _ => Ok(()),
        }
    })
}

impl Hall {
    /// Raises the refusal alerts, and re-checks every packaged worker whenever the trust store
    /// changes, so a revocation is announced even before the next route.
    pub(crate) fn start_attestation_alerts(
        &self,
        signed: Arc<attest::SignedPackages>,
        mut alerts: RefusalAlerts,
    ) -> Vec<tokio::task::JoinHandle<()>> {
        let hall = self.clone();
        let raise = tokio::spawn(async move {
            while let Some(alert) = alerts.recv().await {
                hall.raise(alert);
            }
        });
        let hall = self.clone();
        let sweep = tokio::spawn(async move {
            let mut tick = tokio::time::interval(TRUST_TICK);
            let mut seen = None;
            loop {
                tick.tick().await;
                let (signed, hall) = (signed.clone(), hall.clone());
                let swept = tokio::task::spawn_blocking(move || {
                    let generation = signed.trust_generation();
                    if seen != Some(generation) {
                        for pkg in hall.snapshot().hashes.packages() {
                            signed.check(pkg);
                        }
                    }
                    generation
                });
                match swept.await {
                    Ok(generation) => seen = Some(generation),
                    Err(e) => tracing::error!(error = %e, "attestation sweep failed"),
                }
            }
        });
        vec![raise, sweep]
    }

    /// The signed-package verdict of an enrolled worker, `None` when its record names no
    /// package or enforcement is off.
    pub(crate) fn attestation_of(&self, worker_id: &str) -> Option<attest::RouteVerdict> {
        let snapshot = self.snapshot();
        let signed = snapshot.hashes.signed_packages()?;
        let pkg = snapshot
            .hashes
            .packages()
            .find(|p| p.worker_id == worker_id)?;
        Some((*signed.check(pkg)).clone())
    }
}
