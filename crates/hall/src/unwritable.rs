//! When the ledger cannot write (disk full, read-only, locked, broken), every decision is
//! denied. Two things say so (docs/hall.md, "When the ledger cannot write"):
//! - the `ledger_unwritable` alert, kept in memory (the ledger cannot store it): raised on the
//!   first failed append, listed with the alerts and published as an event while appends fail,
//!   cleared by the first append that succeeds;
//! - the log, at most one line per [`LOG_INTERVAL`], each with the count of the failures it did
//!   not log. A full disk fails every request: a line each was 226 MB of log a minute.

use crate::alerts::{Alert, AlertKind, IN_MEMORY_ALERT_ID};
use crate::events::{EventBus, HallEvent};
use chrono::{DateTime, SecondsFormat, Utc};
use ledger::LedgerError;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const LOG_INTERVAL: Duration = Duration::from_secs(10);

pub struct Failures {
    /// Set while appends fail: a successful append checks only this.
    failing: AtomicBool,
    state: Mutex<State>,
    bus: EventBus,
}

#[derive(Default)]
struct State {
    /// The current run of failures (the alert), if appends fail now.
    run: Option<Run>,
    /// When the last line was logged.
    logged_at: Option<Instant>,
    /// Failures since the last line that no line reported.
    unlogged: u64,
    /// Appends succeed again and no line said so yet (it waits for the interval to end).
    recovery_unlogged: bool,
}

struct Run {
    since: DateTime<Utc>,
    count: u64,
    last_error: String,
}

impl Failures {
    pub fn new(bus: EventBus) -> Self {
        Failures {
            failing: AtomicBool::new(false),
            state: Mutex::new(State::default()),
            bus,
        }
    }

    /// Account for one append's outcome.
    pub fn note<T>(this: &Arc<Self>, appended: &ledger::Result<T>) {
        match appended {
            Ok(_) if this.failing.load(Ordering::Relaxed) => Self::succeeded(this),
            Ok(_) => {}
            Err(e) if cannot_write(e) => this.failed(e.to_string()),
            Err(_) => {}
        }
    }

    /// The `ledger_unwritable` alert while appends fail.
    pub fn alert(&self) -> Option<Alert> {
        if !self.failing.load(Ordering::Relaxed) {
            return None;
        }
        let state = self.state.lock().expect("ledger failures lock");
        state.run.as_ref().map(Run::alert)
    }

    fn failed(&self, error: String) {
        let mut state = self.state.lock().expect("ledger failures lock");
        let raised = match &mut state.run {
            Some(run) => {
                run.count += 1;
                run.last_error = error;
                None
            }
            None => {
                let run = Run {
                    since: Utc::now(),
                    count: 1,
                    last_error: error,
                };
                let alert = run.alert();
                state.run = Some(run);
                self.failing.store(true, Ordering::Relaxed);
                Some(alert)
            }
        };
        if state.may_log() {
            let not_logged = state.unlogged;
            let run = state.run.as_ref().expect("set above");
            tracing::error!(error = %run.last_error, failing_since = %stamp(run.since), not_logged, "the ledger cannot write: decisions are denied (fail closed) until it can; this is logged at most every {} s", LOG_INTERVAL.as_secs());
            state.logged();
        } else {
            state.unlogged += 1;
        }
        drop(state);
        if let Some(alert) = raised {
            self.bus.publish(HallEvent::Alert(alert));
        }
    }

    fn succeeded(this: &Arc<Self>) {
        let mut state = this.state.lock().expect("ledger failures lock");
        this.failing.store(false, Ordering::Relaxed);
        let Some(run) = state.run.take() else { return };
        if state.may_log() {
            state.log_recovery();
        } else if !state.recovery_unlogged {
            // Said once the interval ends, unless appends fail again meanwhile.
            state.recovery_unlogged = true;
            let wait =
                LOG_INTERVAL.saturating_sub(state.logged_at.map_or(LOG_INTERVAL, |t| t.elapsed()));
            let this = this.clone();
            tokio::spawn(async move {
                tokio::time::sleep(wait).await;
                let mut state = this.state.lock().expect("ledger failures lock");
                // Failing again by now: the next recovery schedules its own line.
                if std::mem::take(&mut state.recovery_unlogged) && state.run.is_none() {
                    state.log_recovery();
                }
            });
        }
        drop(state);
        // Shown as resolved: live views update it in place, and drop it on their next load.
        let mut alert = run.alert();
        alert.resolved_at = Some(stamp(Utc::now()));
        alert.open = false;
        this.bus.publish(HallEvent::Alert(alert));
    }
}

impl State {
    fn may_log(&self) -> bool {
        self.logged_at.is_none_or(|t| t.elapsed() >= LOG_INTERVAL)
    }

    fn logged(&mut self) {
        self.logged_at = Some(Instant::now());
        self.unlogged = 0;
        self.recovery_unlogged = false;
    }

    fn log_recovery(&mut self) {
        tracing::warn!(
            not_logged = self.unlogged,
            "the ledger writes again; decisions are recorded and answered"
        );
        self.logged();
    }
}

impl Run {
    fn alert(&self) -> Alert {
        let kind = AlertKind::LedgerUnwritable;
        Alert {
            id: IN_MEMORY_ALERT_ID,
            created_at: stamp(self.since),
            kind: kind.as_str().to_string(),
            severity: crate::record::severity(kind).as_str().to_string(),
            subject: "ledger".to_string(),
            message: format!(
                "the ledger cannot write, so every decision is denied: {} ({} failed appends since this began)",
                self.last_error, self.count
            ),
            acked: false,
            acked_at: None,
            acked_by: None,
            ack_note: None,
            resolved_at: None,
            open: true,
        }
    }
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Failures of the ledger's storage, as opposed to a record it refuses or a closed ledger.
fn cannot_write(e: &LedgerError) -> bool {
    matches!(
        e,
        LedgerError::WriteFailed(_)
            | LedgerError::DiskFull { .. }
            | LedgerError::ReadOnly { .. }
            | LedgerError::Locked { .. }
            | LedgerError::Database { .. }
            | LedgerError::Corrupt { .. }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_alert_lasts_while_appends_fail_and_quiet_failures_are_counted() {
        let bus = EventBus::default();
        let mut events = bus.subscribe();
        let failures = Arc::new(Failures::new(bus));
        let full: ledger::Result<()> = Err(LedgerError::DiskFull { path: "l".into() });
        for _ in 0..100 {
            Failures::note(&failures, &full);
        }
        // A record the ledger refuses is no storage failure.
        Failures::note(&failures, &Err::<(), _>(LedgerError::BadRecord("x".into())));
        let alert = failures.alert().expect("raised");
        assert_eq!((alert.id, alert.kind.as_str()), (0, "ledger_unwritable"));
        assert_eq!(alert.severity, "critical");
        assert!(
            alert.message.contains("(100 failed appends"),
            "{}",
            alert.message
        );
        assert_eq!(
            failures.state.lock().unwrap().unlogged,
            99,
            "one line, 99 counted"
        );

        Failures::note(&failures, &Ok(()));
        assert!(failures.alert().is_none());
        let open: Vec<bool> = std::iter::from_fn(|| match events.try_recv() {
            Ok(HallEvent::Alert(a)) => Some(a.open && a.resolved_at.is_none()),
            _ => None,
        })
        .collect();
        assert_eq!(open, [true, false], "raised once, then resolved");
    }
}
