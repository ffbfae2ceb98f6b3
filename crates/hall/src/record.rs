//! The hall's handle on the ledger: group-committed appends on the hot path, and the ledger's
//! blocking queries moved off the async runtime.

use crate::alerts::{Alert, AlertKind, NewAlert};
use crate::error::HallError;
use arc_swap::ArcSwapOption;
use ledger::{Ledger, LedgerBackend, LedgerError, Receipt};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

pub struct Recorder {
    /// `None` once closed: appends then fail (and routes are denied), never hang.
    ledger: ArcSwapOption<Ledger>,
}

impl Recorder {
    pub async fn open(path: &Path) -> Result<Recorder, HallError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| HallError::io(dir, e))?;
        }
        let p = path.to_path_buf();
        let ledger = tokio::task::spawn_blocking(move || Ledger::open(&p))
            .await
            .map_err(|e| HallError::Config(format!("ledger open task failed: {e}")))?
            .map_err(|e| HallError::LedgerUnavailable(e.to_string()))?;
        Ok(Recorder {
            ledger: ArcSwapOption::from_pointee(ledger),
        })
    }

    /// Append one decision; resolves once it is durable.
    pub async fn append(&self, json: String) -> Result<Receipt, String> {
        let ledger = self.ledger.load_full().ok_or("the ledger is closed")?;
        ledger.append(json).await.map_err(|e| e.to_string())
    }

    /// Run a blocking ledger call on the blocking pool.
    pub async fn query<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn LedgerBackend) -> ledger::Result<T> + Send + 'static,
    ) -> Result<T, HallError> {
        let ledger = self
            .ledger
            .load_full()
            .ok_or_else(|| HallError::LedgerUnavailable("the ledger is closed".into()))?;
        tokio::task::spawn_blocking(move || f(ledger.backend()))
            .await
            .map_err(|e| HallError::LedgerUnavailable(format!("ledger task failed: {e}")))?
            .map_err(map_error)
    }

    pub async fn insert_alert(&self, alert: &NewAlert) -> Result<Alert, HallError> {
        let stored = to_ledger_alert(alert);
        let id = {
            let stored = stored.clone();
            self.query(move |b| b.insert_alert(&stored)).await?
        };
        Ok(from_ledger_alert(ledger::Alert {
            id,
            alert: stored,
            acknowledged_at: None,
        }))
    }

    /// Stop accepting appends, then wait for the writer to commit what is queued.
    pub async fn close(&self) {
        let Some(mut ledger) = self.ledger.swap(None) else {
            return;
        };
        // In-flight appends hold a clone for a moment; wait for them (the server has drained).
        for _ in 0..500 {
            match Arc::try_unwrap(ledger) {
                Ok(owned) => {
                    let _ = tokio::task::spawn_blocking(move || owned.close()).await;
                    return;
                }
                Err(shared) => {
                    ledger = shared;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
        tracing::warn!("ledger still in use at shutdown; it flushes when the last user drops it");
    }
}

fn map_error(e: LedgerError) -> HallError {
    match e {
        LedgerError::BadQuery(m) => HallError::InvalidQuery(m),
        LedgerError::BadCursor(_) => HallError::InvalidQuery(e.to_string()),
        other => HallError::LedgerUnavailable(other.to_string()),
    }
}

fn severity(kind: AlertKind) -> ledger::Severity {
    match kind.severity() {
        crate::alerts::Severity::Info => ledger::Severity::Info,
        crate::alerts::Severity::Warning => ledger::Severity::Warning,
        crate::alerts::Severity::Critical => ledger::Severity::Critical,
    }
}

fn to_ledger_alert(a: &NewAlert) -> ledger::NewAlert {
    let about_worker = matches!(a.kind, AlertKind::WorkerStale | AlertKind::WorkerOffline);
    ledger::NewAlert {
        created_at: chrono::Utc::now(),
        severity: severity(a.kind),
        code: a.kind.as_str().to_string(),
        message: a.message.clone(),
        worker_id: about_worker.then(|| a.subject.clone()),
        correlation_id: None,
        details: serde_json::json!({"subject": a.subject}),
    }
}

pub fn from_ledger_alert(a: ledger::Alert) -> Alert {
    Alert {
        id: a.id,
        created_at: a
            .alert
            .created_at
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        kind: a.alert.code,
        severity: a.alert.severity.as_str().to_string(),
        subject: a.alert.details["subject"]
            .as_str()
            .map(str::to_string)
            .or(a.alert.worker_id)
            .unwrap_or_default(),
        message: a.alert.message,
        acked: a.acknowledged_at.is_some(),
        acked_at: a
            .acknowledged_at
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
    }
}
