//! Alert kinds and the deny-rate spike detector. Alerts are stored in the ledger database (its
//! alerts table) so they survive restarts and can be acknowledged.

use crate::config::AlertThresholds;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::sync::Mutex;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    DenyRateSpike,
    WorkerStale,
    WorkerOffline,
    Tamper,
    LedgerIntegrity,
    RulesRejected,
    RegistryRejected,
    RegistryMissing,
    /// The ledger cannot write (disk full, read-only...): every decision is denied. Kept in
    /// memory (the ledger cannot store it), listed while it lasts, gone once appends succeed.
    LedgerUnwritable,
    /// A packaged worker's signed-package check refuses it (unsigned, untrusted or revoked
    /// key, namespace mismatch, tampered): it is no longer routed to.
    AttestationRefused,
}

impl AlertKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::DenyRateSpike => "deny_rate_spike",
            AlertKind::WorkerStale => "worker_stale",
            AlertKind::WorkerOffline => "worker_offline",
            AlertKind::Tamper => "tamper",
            AlertKind::LedgerIntegrity => "ledger_integrity",
            AlertKind::RulesRejected => "rules_rejected",
            AlertKind::RegistryRejected => "registry_rejected",
            AlertKind::RegistryMissing => "registry_missing",
            AlertKind::LedgerUnwritable => "ledger_unwritable",
            AlertKind::AttestationRefused => "attestation_refused",
        }
    }

    pub fn severity(self) -> Severity {
        match self {
            AlertKind::LedgerUnwritable => Severity::Critical,
            AlertKind::Tamper | AlertKind::LedgerIntegrity | AlertKind::AttestationRefused => {
                Severity::Critical
            }
            AlertKind::WorkerStale => Severity::Info,
            _ => Severity::Warning,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

/// The id of the `ledger_unwritable` alert, which lives in memory (stored alerts count from 1).
/// It cannot be acknowledged: it clears itself once the ledger writes again.
pub const IN_MEMORY_ALERT_ID: i64 = 0;

/// An alert that is about to be raised (not stored yet).
#[derive(Debug, Clone)]
pub struct NewAlert {
    pub kind: AlertKind,
    pub subject: String,
    pub message: String,
}

impl NewAlert {
    pub fn new(kind: AlertKind, subject: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            kind,
            subject: subject.into(),
            message: message.into(),
        }
    }
}

/// An alert as stored and shown (docs/API.md).
#[derive(Debug, Clone, Serialize, PartialEq, schemars::JsonSchema)]
pub struct Alert {
    pub id: i64,
    pub created_at: String,
    #[schemars(with = "AlertKind")]
    pub kind: String,
    #[schemars(with = "Severity")]
    pub severity: String,
    pub subject: String,
    pub message: String,
    pub acked: bool,
    pub acked_at: Option<String>,
}

/// Sliding-window deny counter with one bucket per second. Raises at most one spike alert per
/// window, so a sustained spike does not flood the alert list.
pub struct DenyRateMonitor {
    inner: Mutex<Window>,
}

struct Window {
    /// (unix second, decisions, denied), oldest first.
    buckets: VecDeque<(i64, u64, u64)>,
    last_alert_at: Option<i64>,
}

impl Default for DenyRateMonitor {
    fn default() -> Self {
        Self {
            inner: Mutex::new(Window {
                buckets: VecDeque::new(),
                last_alert_at: None,
            }),
        }
    }
}

impl DenyRateMonitor {
    /// Count one decision; returns an alert when the window crosses the threshold.
    pub fn observe(
        &self,
        now: DateTime<Utc>,
        denied: bool,
        t: &AlertThresholds,
    ) -> Option<NewAlert> {
        let sec = now.timestamp();
        let window = t.deny_rate_window_s as i64;
        let mut w = self.inner.lock().expect("deny-rate lock");
        match w.buckets.back_mut() {
            Some(b) if b.0 == sec => {
                b.1 += 1;
                b.2 += u64::from(denied);
            }
            _ => w.buckets.push_back((sec, 1, u64::from(denied))),
        }
        while w.buckets.front().is_some_and(|b| b.0 <= sec - window) {
            w.buckets.pop_front();
        }
        if w.last_alert_at.is_some_and(|at| sec - at < window) {
            return None;
        }
        let (total, denies) = w
            .buckets
            .iter()
            .fold((0, 0), |(t, d), b| (t + b.1, d + b.2));
        let rate = denies as f64 / total as f64;
        if total >= t.deny_rate_min_decisions && rate >= t.deny_rate_threshold {
            w.last_alert_at = Some(sec);
            return Some(NewAlert::new(
                AlertKind::DenyRateSpike,
                "hall",
                format!(
                    "deny rate {:.0}% over the last {} s ({denies} of {total} decisions denied)",
                    rate * 100.0,
                    t.deny_rate_window_s
                ),
            ));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn spike_fires_once_per_window_and_only_above_minimum() {
        let t = AlertThresholds {
            deny_rate_threshold: 0.5,
            deny_rate_window_s: 60,
            deny_rate_min_decisions: 10,
        };
        let m = DenyRateMonitor::default();
        let t0: DateTime<Utc> = "2026-11-25T12:00:00Z".parse().unwrap();
        for i in 0..9 {
            assert!(m.observe(t0, true, &t).is_none(), "below minimum at {i}");
        }
        let alert = m.observe(t0, true, &t).expect("10 of 10 denied");
        assert_eq!(alert.kind, AlertKind::DenyRateSpike);
        assert!(alert.message.contains("10 of 10"), "{}", alert.message);
        assert!(
            m.observe(t0 + Duration::seconds(30), true, &t).is_none(),
            "cooldown"
        );
        // A new window of mostly allowed decisions does not fire.
        for _ in 0..50 {
            assert!(m.observe(t0 + Duration::seconds(200), false, &t).is_none());
        }
    }
}
