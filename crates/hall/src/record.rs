//! The hall's handle on the ledger: group-committed appends on the hot path, and the ledger's
//! blocking queries moved off the async runtime. Append failures go to
//! [`crate::unwritable`] (a rate-limited log, and an alert while they last).

use crate::alerts::{Alert, AlertKind, NewAlert};
use crate::error::HallError;
use crate::events::EventBus;
use crate::unwritable::Failures;
use arc_swap::ArcSwapOption;
use ledger::{DecisionFields, Ledger, LedgerBackend, LedgerError, NewRecord, Receipt};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

pub struct Recorder {
    /// `None` once closed: appends then fail (and routes are denied), never hang.
    ledger: ArcSwapOption<Ledger>,
    failures: Arc<Failures>,
}

impl Recorder {
    pub async fn open(path: &Path, bus: EventBus) -> Result<Recorder, HallError> {
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
            failures: Arc::new(Failures::new(bus)),
        })
    }

    /// Append one decision ([`decision_record`]); resolves once it is durable.
    pub async fn append(&self, record: NewRecord) -> Result<Receipt, String> {
        let ledger = self.ledger.load_full().ok_or("the ledger is closed")?;
        let appended = ledger.append_record(record).await;
        Failures::note(&self.failures, &appended);
        appended.map_err(|e| e.to_string())
    }

    /// Committed records the ledger's indexer has not indexed yet (0 once closed).
    pub fn unindexed(&self) -> u64 {
        self.ledger.load().as_ref().map_or(0, |l| l.unindexed())
    }

    /// The `ledger_unwritable` alert, while appends fail.
    pub fn unwritable(&self) -> Option<Alert> {
        self.failures.alert()
    }

    /// Queue one linked record now, in order with what came before and ahead of the ledger
    /// closing (which commits everything queued); the future resolves once it is durable, and
    /// need not be awaited for the record to be written.
    pub fn submit_linked(
        &self,
        record: ledger::NewLinkedRecord,
        urgency: ledger::Urgency,
    ) -> impl std::future::Future<Output = Result<ledger::LinkedRecord, String>> + Send + 'static
    {
        let queued = match self.ledger.load_full() {
            Some(ledger) => ledger.submit_linked(record, urgency),
            None => Err(LedgerError::Closed),
        };
        let failures = Arc::clone(&self.failures);
        async move {
            let appended = match queued {
                Ok(answer) => answer.await.unwrap_or(Err(LedgerError::Closed)),
                Err(e) => Err(e),
            };
            Failures::note(&failures, &appended);
            appended.map_err(|e| e.to_string())
        }
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
            acked_by: None,
            ack_note: None,
            resolved_at: None,
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

/// A decision as the ledger records it: `json` (its serialization) plus the filter columns,
/// taken from the decision itself rather than parsed back out of `json` (that parse was ~5% of
/// a route's CPU). They are the same values: see the test below.
pub fn decision_record(d: &wcp::RouteDecision, json: String) -> ledger::Result<NewRecord> {
    let ts_micros = ledger::timestamp_micros(&d.timestamp)
        .map_err(|e| LedgerError::BadRecord(format!("decision {}: {e}", d.decision_id)))?;
    let reason = d.deny_reason_if_denied.as_ref();
    let fields = DecisionFields {
        ts_micros,
        decision_id: d.decision_id.clone(),
        correlation_id: d.correlation_id.clone(),
        tenant_id: d.tenant_id.clone(),
        capability_id: d.capability_id.clone(),
        matched_rule_id: d.matched_rule_id.clone(),
        worker: d.selected_worker_species_id.clone(),
        env: d.env.as_str().to_string(),
        data_label: d.data_label.as_str().to_string(),
        qos_class: d.qos_class.as_str().to_string(),
        denied: d.denied,
        deny_code: reason.map(|r| r.code.as_str().to_string()),
        deny_message: reason.map(|r| r.message.clone()),
        dry_run: d.dry_run,
        artifact_hash: d.artifact_hash.clone(),
    };
    NewRecord::from_parts(fields, json)
}

fn map_error(e: LedgerError) -> HallError {
    match e {
        LedgerError::BadQuery(m) => HallError::InvalidQuery(m),
        LedgerError::BadCursor(_) => HallError::InvalidQuery(e.to_string()),
        other => HallError::LedgerUnavailable(other.to_string()),
    }
}

pub(crate) fn severity(kind: AlertKind) -> ledger::Severity {
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
    let stamp =
        |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    Alert {
        open: a.acknowledged_at.is_none() && a.resolved_at.is_none(),
        acked_by: a.acked_by,
        ack_note: a.ack_note,
        resolved_at: a.resolved_at.map(stamp),
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
        acked_at: a.acknowledged_at.map(stamp),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wcp::scenario::{Outcome, Scenario};

    /// Every public vector's decision (allowed, every deny code, dry runs, null and set
    /// workers and hashes): the columns the hall hands the ledger are exactly those the ledger
    /// would parse out of the JSON it stores.
    #[test]
    fn decision_record_columns_equal_the_parsed_json() {
        let mut checked = (0, 0);
        for line in include_str!("../../../tests/vectors/route.jsonl").lines() {
            let Outcome::Decision(d) = Scenario::from_line(line).unwrap().run() else {
                continue;
            };
            let json = crate::hall::serialize_decision(&d);
            let record = decision_record(&d, json.clone()).unwrap();
            assert_eq!(record.json, json);
            assert_eq!(
                record.fields,
                DecisionFields::from_json(&json).unwrap(),
                "{}",
                d.decision_id
            );
            if d.denied {
                checked.1 += 1;
            } else {
                checked.0 += 1;
            }
        }
        assert!(checked.0 > 20 && checked.1 > 100, "{checked:?}");
    }

    #[test]
    fn a_decision_with_an_unreadable_timestamp_is_refused() {
        let line = include_str!("../../../tests/vectors/route.jsonl")
            .lines()
            .next()
            .unwrap();
        let Outcome::Decision(mut d) = Scenario::from_line(line).unwrap().run() else {
            panic!("the first vector decides");
        };
        d.timestamp = "yesterday".into();
        let err = decision_record(&d, crate::hall::serialize_decision(&d)).unwrap_err();
        assert!(err.to_string().contains("yesterday"), "{err}");
    }
}
