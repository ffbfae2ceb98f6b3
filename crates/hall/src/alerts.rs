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
    /// Who acknowledged it: the name the client gave (`by`), else [`DEFAULT_ACKED_BY`]; the
    /// desktop's OS user. `null` when not acknowledged (or acknowledged before names were kept).
    pub acked_by: Option<String>,
    /// The note given with the acknowledgement.
    pub ack_note: Option<String>,
    /// When its condition ended by itself (the worker reports again, the file loads...).
    pub resolved_at: Option<String>,
    /// Neither acknowledged nor resolved: someone should look.
    pub open: bool,
}

/// Who acknowledged, when an HTTP client gives no name: all the hall knows is that it held the
/// token.
pub const DEFAULT_ACKED_BY: &str = "token holder";
/// Longest `by` and `note` an acknowledgement may carry (bytes).
pub const MAX_ACK_TEXT: usize = 1000;

/// The OS user of the desktop app, which its `hall_call` puts on every request it dispatches
/// (a request extension: an HTTP client cannot send one). Acknowledgements made there name it.
#[derive(Debug, Clone)]
pub struct DesktopUser(pub String);

impl DesktopUser {
    pub fn current() -> Self {
        let name = ["USER", "LOGNAME", "USERNAME"]
            .iter()
            .find_map(|v| std::env::var(v).ok().filter(|n| !n.trim().is_empty()));
        Self(name.unwrap_or_else(|| "desktop user".to_string()))
    }
}

/// `POST /v1/alerts/{id}/ack` body (optional): who acknowledges and why.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AckRequest {
    /// A note for whoever looks next ("restarting the worker", "known, a deploy").
    pub note: Option<String>,
    /// Who acknowledges (default: `token holder`; the desktop: the OS user).
    pub by: Option<String>,
}

impl AckRequest {
    /// The acknowledgement to store: texts checked, blanks dropped, `by` defaulted.
    pub fn into_ack(self, default_by: &str, at: DateTime<Utc>) -> Result<ledger::AlertAck, String> {
        for (field, text) in [("note", &self.note), ("by", &self.by)] {
            let Some(text) = text else { continue };
            if text.len() > MAX_ACK_TEXT {
                return Err(format!("{field}: at most {MAX_ACK_TEXT} bytes"));
            }
            // A note may run over lines; a name may not.
            if text
                .chars()
                .any(|c| c.is_control() && !(field == "note" && c == '\n'))
            {
                return Err(format!("{field}: contains control characters"));
            }
        }
        let by = self
            .by
            .map(|b| b.trim().to_string())
            .filter(|b| !b.is_empty());
        Ok(ledger::AlertAck {
            at,
            by: by.unwrap_or_else(|| default_by.to_string()),
            note: self
                .note
                .map(|n| n.trim().to_string())
                .filter(|n| !n.is_empty()),
        })
    }
}

/// What a decision (or a quiet second) did to the deny-rate spike.
#[derive(Debug)]
pub enum Spike {
    /// The window crossed the threshold: raise this alert.
    Began(NewAlert),
    /// The window is back under the threshold: the spike's alert is resolved.
    Ended,
}

/// Sliding-window deny counter with one bucket per second. A spike raises one alert, however
/// long it lasts (and at most one per window, so a flapping rate does not flood the list), and
/// ends when the window falls back under the threshold.
pub struct DenyRateMonitor {
    inner: Mutex<Window>,
}

struct Window {
    /// (unix second, decisions, denied), oldest first.
    buckets: VecDeque<(i64, u64, u64)>,
    last_alert_at: Option<i64>,
    spiking: bool,
}

impl Default for DenyRateMonitor {
    fn default() -> Self {
        Self {
            inner: Mutex::new(Window {
                buckets: VecDeque::new(),
                last_alert_at: None,
                spiking: false,
            }),
        }
    }
}

impl DenyRateMonitor {
    /// Count one decision; says when a spike begins or ends.
    pub fn observe(&self, now: DateTime<Utc>, denied: bool, t: &AlertThresholds) -> Option<Spike> {
        let sec = now.timestamp();
        let mut w = self.inner.lock().expect("deny-rate lock");
        match w.buckets.back_mut() {
            Some(b) if b.0 == sec => {
                b.1 += 1;
                b.2 += u64::from(denied);
            }
            _ => w.buckets.push_back((sec, 1, u64::from(denied))),
        }
        w.update(sec, t)
    }

    /// Age the window with no decision (the hall's health tick): a spike also ends when the
    /// decisions stop.
    pub fn settle(&self, now: DateTime<Utc>, t: &AlertThresholds) -> Option<Spike> {
        let mut w = self.inner.lock().expect("deny-rate lock");
        if !w.spiking {
            return None;
        }
        w.update(now.timestamp(), t)
    }
}

impl Window {
    fn update(&mut self, sec: i64, t: &AlertThresholds) -> Option<Spike> {
        let window = t.deny_rate_window_s as i64;
        while self.buckets.front().is_some_and(|b| b.0 <= sec - window) {
            self.buckets.pop_front();
        }
        let (total, denies) = self
            .buckets
            .iter()
            .fold((0, 0), |(t, d), b| (t + b.1, d + b.2));
        let rate = if total == 0 {
            0.0
        } else {
            denies as f64 / total as f64
        };
        let above = total >= t.deny_rate_min_decisions && rate >= t.deny_rate_threshold;
        if self.spiking {
            self.spiking = above;
            return (!above).then_some(Spike::Ended);
        }
        if !above || self.last_alert_at.is_some_and(|at| sec - at < window) {
            return None;
        }
        self.spiking = true;
        self.last_alert_at = Some(sec);
        Some(Spike::Began(NewAlert::new(
            AlertKind::DenyRateSpike,
            "hall",
            format!(
                "deny rate {:.0}% over the last {} s ({denies} of {total} decisions denied)",
                rate * 100.0,
                t.deny_rate_window_s
            ),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn began(s: Option<Spike>) -> Option<NewAlert> {
        match s {
            Some(Spike::Began(a)) => Some(a),
            _ => None,
        }
    }

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
        let alert = began(m.observe(t0, true, &t)).expect("10 of 10 denied");
        assert_eq!(alert.kind, AlertKind::DenyRateSpike);
        assert!(alert.message.contains("10 of 10"), "{}", alert.message);
        assert!(
            m.observe(t0 + Duration::seconds(30), true, &t).is_none(),
            "still the same spike"
        );
        // A new window of mostly allowed decisions ends it, and raises nothing.
        assert!(matches!(
            m.observe(t0 + Duration::seconds(200), false, &t),
            Some(Spike::Ended)
        ));
        for _ in 0..50 {
            assert!(m.observe(t0 + Duration::seconds(200), false, &t).is_none());
        }
    }

    #[test]
    fn a_spike_ends_when_decisions_stop_and_a_new_one_is_a_new_alert() {
        let t = AlertThresholds {
            deny_rate_threshold: 0.5,
            deny_rate_window_s: 10,
            deny_rate_min_decisions: 2,
        };
        let m = DenyRateMonitor::default();
        let t0: DateTime<Utc> = "2026-11-25T12:00:00Z".parse().unwrap();
        assert!(m.settle(t0, &t).is_none(), "nothing to end");
        assert!(m.observe(t0, true, &t).is_none());
        assert!(began(m.observe(t0, true, &t)).is_some());
        assert!(
            m.settle(t0 + Duration::seconds(5), &t).is_none(),
            "inside the window"
        );
        assert!(matches!(
            m.settle(t0 + Duration::seconds(10), &t),
            Some(Spike::Ended)
        ));
        assert!(
            m.settle(t0 + Duration::seconds(11), &t).is_none(),
            "ended once"
        );
        assert!(m.observe(t0 + Duration::seconds(20), true, &t).is_none());
        assert!(began(m.observe(t0 + Duration::seconds(20), true, &t)).is_some());
    }

    #[test]
    fn an_acknowledgement_defaults_its_author_and_refuses_bad_text() {
        let at: DateTime<Utc> = "2026-11-25T12:00:00Z".parse().unwrap();
        let ack = AckRequest::default()
            .into_ack(DEFAULT_ACKED_BY, at)
            .unwrap();
        assert_eq!((ack.by.as_str(), ack.note), ("token holder", None));
        let ack = AckRequest {
            note: Some("  restarting it\nback soon ".into()),
            by: Some(" ana ".into()),
        }
        .into_ack(DEFAULT_ACKED_BY, at)
        .unwrap();
        assert_eq!(ack.by, "ana");
        assert_eq!(ack.note.as_deref(), Some("restarting it\nback soon"));
        let bad = AckRequest {
            note: None,
            by: Some("a\nb".into()),
        };
        assert!(bad.into_ack("x", at).unwrap_err().contains("by"));
        let long = AckRequest {
            note: Some("x".repeat(MAX_ACK_TEXT + 1)),
            by: None,
        };
        assert!(long.into_ack("x", at).unwrap_err().contains("note"));
    }
}
