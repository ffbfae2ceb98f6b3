//! Worker health from heartbeats. Health is for watching only: routing availability follows the
//! registry exactly as WCP specifies (SPEC.md §1.7), so a stale worker is reported, not unrouted.
//!
//! The state is a pure function of (now, last heartbeat, reported status, latency, thresholds), so
//! the periodic tick and the heartbeat handler agree, and tests need no sleeping.
//!
//! What must survive a restart comes from the ledger when the hall opens: the decisions routed
//! per species ([`HealthBoard::seed_routed`]) and each worker's last heartbeat
//! ([`HealthBoard::restore`]), which the hall saves in batches ([`HealthBoard::take_unsaved`]).

use crate::config::HealthThresholds;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Mutex;

/// How many heartbeats each worker's time series keeps.
pub const SERIES_LEN: usize = 120;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum HealthState {
    Healthy,
    Degraded,
    Stale,
    Offline,
}

impl HealthState {
    pub const ALL: [HealthState; 4] = [
        HealthState::Healthy,
        HealthState::Degraded,
        HealthState::Stale,
        HealthState::Offline,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            HealthState::Healthy => "healthy",
            HealthState::Degraded => "degraded",
            HealthState::Stale => "stale",
            HealthState::Offline => "offline",
        }
    }

    /// Transitions into these states raise alerts.
    fn is_bad(self) -> bool {
        matches!(self, HealthState::Stale | HealthState::Offline)
    }
}

/// What a worker says about itself in a heartbeat.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum ReportedStatus {
    #[default]
    Ok,
    Degraded,
    Offline,
}

impl ReportedStatus {
    /// As the API spells it (and the ledger keeps it).
    pub fn as_str(self) -> &'static str {
        match self {
            ReportedStatus::Ok => "ok",
            ReportedStatus::Degraded => "degraded",
            ReportedStatus::Offline => "offline",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [Self::Ok, Self::Degraded, Self::Offline]
            .into_iter()
            .find(|r| r.as_str() == s)
    }
}

/// Body of `POST /v1/workers/{id}/heartbeat`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Heartbeat {
    #[serde(default)]
    pub status: ReportedStatus,
    #[serde(default)]
    pub latency_ms: Option<f64>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Sample {
    pub at: DateTime<Utc>,
    pub latency_ms: Option<f64>,
    /// Decisions routed to the worker's species since the previous heartbeat.
    pub decisions: u64,
}

/// Health as shown to the API.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Health {
    pub state: HealthState,
    pub reported_status: Option<ReportedStatus>,
    pub last_heartbeat_at: Option<DateTime<Utc>>,
    pub last_latency_ms: Option<f64>,
    /// Decisions routed to this worker, from the ledger: a decision selects a species, so this
    /// is its species' count when the worker is the only enrolled worker of its species, and
    /// `null` when several share it (which of them served a decision is not recorded).
    pub decisions_routed: Option<u64>,
    /// Decisions routed to the worker's species, from the ledger (shared by its workers).
    pub species_decisions_routed: u64,
    /// Enrolled workers of the worker's species, this one included.
    pub species_workers: u64,
    pub series: Vec<Sample>,
}

/// A change of state, published as a `health` event.
#[derive(Debug, Clone, Serialize, PartialEq, schemars::JsonSchema)]
pub struct Transition {
    pub worker_id: String,
    pub from: HealthState,
    pub to: HealthState,
    pub at: DateTime<Utc>,
    pub reported_status: Option<ReportedStatus>,
}

impl Transition {
    pub fn is_bad(&self) -> bool {
        self.to.is_bad()
    }
}

/// Classify one worker. Never heard from = offline.
pub fn classify(
    now: DateTime<Utc>,
    last: Option<DateTime<Utc>>,
    reported: Option<ReportedStatus>,
    latency_ms: Option<f64>,
    t: &HealthThresholds,
) -> HealthState {
    let Some(last) = last else {
        return HealthState::Offline;
    };
    let age = (now - last).num_milliseconds().max(0) as u64;
    if reported == Some(ReportedStatus::Offline) || age >= t.offline_after_s * 1000 {
        return HealthState::Offline;
    }
    if age >= t.stale_after_s * 1000 {
        return HealthState::Stale;
    }
    let slow = latency_ms.is_some_and(|l| l > t.degraded_latency_ms);
    if reported == Some(ReportedStatus::Degraded) || slow {
        HealthState::Degraded
    } else {
        HealthState::Healthy
    }
}

#[derive(Debug)]
struct WorkerHealth {
    species: String,
    state: HealthState,
    last: Option<DateTime<Utc>>,
    reported: Option<ReportedStatus>,
    latency_ms: Option<f64>,
    /// Species decision count at the previous heartbeat, to compute per-sample deltas.
    decisions_at_last_sample: u64,
    series: VecDeque<Sample>,
}

#[derive(Default)]
struct Board {
    workers: BTreeMap<String, WorkerHealth>,
    /// Decisions routed per species (workers share their species' count).
    routed: HashMap<String, u64>,
    /// Workers heard from since their last heartbeat was saved.
    unsaved: BTreeSet<String>,
}

impl Board {
    fn snapshot(&self, w: &WorkerHealth) -> Health {
        let species_decisions_routed = self.routed.get(&w.species).copied().unwrap_or(0);
        let species_workers = self
            .workers
            .values()
            .filter(|o| o.species == w.species)
            .count() as u64;
        Health {
            state: w.state,
            reported_status: w.reported,
            last_heartbeat_at: w.last,
            last_latency_ms: w.latency_ms,
            decisions_routed: (species_workers == 1).then_some(species_decisions_routed),
            species_decisions_routed,
            species_workers,
            series: w.series.iter().cloned().collect(),
        }
    }
}

/// All workers' health. One mutex: heartbeats and ticks are rare next to routes, and
/// `record_routed` holds it for one hash-map increment.
#[derive(Default)]
pub struct HealthBoard {
    inner: Mutex<Board>,
}

impl HealthBoard {
    /// Make the board follow the registry: new workers start offline, removed ones are forgotten.
    pub fn sync_workers<'a>(&self, workers: impl IntoIterator<Item = (&'a str, &'a str)>) {
        let mut board = self.inner.lock().expect("health lock");
        let mut keep = BTreeMap::new();
        for (id, species) in workers {
            let entry = board.workers.remove(id).unwrap_or_else(|| WorkerHealth {
                species: species.to_string(),
                state: HealthState::Offline,
                last: None,
                reported: None,
                latency_ms: None,
                decisions_at_last_sample: 0,
                series: VecDeque::new(),
            });
            keep.insert(
                id.to_string(),
                WorkerHealth {
                    species: species.to_string(),
                    ..entry
                },
            );
        }
        board.workers = keep;
        let Board {
            workers, unsaved, ..
        } = &mut *board;
        unsaved.retain(|id| workers.contains_key(id));
    }

    /// Start the species counts from the ledger's (decisions recorded before this start).
    pub fn seed_routed(&self, counts: impl IntoIterator<Item = (String, u64)>) {
        let mut board = self.inner.lock().expect("health lock");
        for (species, n) in counts {
            *board.routed.entry(species).or_default() += n;
        }
    }

    /// Take back the last heartbeats saved before a restart, for the workers enrolled now, and
    /// classify them against the clock without a transition: what changed while the hall was
    /// down was not seen, so nothing is announced or alerted for it.
    pub fn restore(
        &self,
        saved: impl IntoIterator<Item = ledger::LastHeartbeat>,
        now: DateTime<Utc>,
        t: &HealthThresholds,
    ) {
        let mut board = self.inner.lock().expect("health lock");
        for beat in saved {
            let Some(w) = board.workers.get_mut(&beat.worker_id) else {
                continue;
            };
            if w.last.is_some_and(|last| last >= beat.at) {
                continue; // heard from since this start
            }
            w.last = Some(beat.at);
            w.reported = beat.reported.as_deref().and_then(ReportedStatus::parse);
            w.latency_ms = beat.latency_ms;
            w.state = classify(now, w.last, w.reported, w.latency_ms, t);
        }
    }

    /// The last heartbeat of each worker heard from since the previous call, to save.
    pub fn take_unsaved(&self) -> Vec<ledger::LastHeartbeat> {
        let mut board = self.inner.lock().expect("health lock");
        let Board {
            workers, unsaved, ..
        } = &mut *board;
        std::mem::take(unsaved)
            .into_iter()
            .filter_map(|id| {
                let w = workers.get(&id)?;
                Some(ledger::LastHeartbeat {
                    at: w.last?,
                    reported: w.reported.map(|r| r.as_str().to_string()),
                    latency_ms: w.latency_ms,
                    worker_id: id,
                })
            })
            .collect()
    }

    /// Count one decision routed to `species`.
    pub fn record_routed(&self, species: &str) {
        let mut board = self.inner.lock().expect("health lock");
        match board.routed.get_mut(species) {
            Some(n) => *n += 1,
            None => {
                board.routed.insert(species.to_string(), 1);
            }
        }
    }

    /// Apply a heartbeat. `None` when the worker is unknown.
    pub fn heartbeat(
        &self,
        worker_id: &str,
        hb: &Heartbeat,
        now: DateTime<Utc>,
        t: &HealthThresholds,
    ) -> Option<(Health, Option<Transition>)> {
        let mut board = self.inner.lock().expect("health lock");
        let Board {
            workers,
            routed,
            unsaved,
        } = &mut *board;
        let w = workers.get_mut(worker_id)?;
        let total = routed.get(&w.species).copied().unwrap_or(0);
        if w.series.len() == SERIES_LEN {
            w.series.pop_front();
        }
        w.series.push_back(Sample {
            at: now,
            latency_ms: hb.latency_ms,
            decisions: total.saturating_sub(w.decisions_at_last_sample),
        });
        w.decisions_at_last_sample = total;
        w.last = Some(now);
        w.reported = Some(hb.status);
        w.latency_ms = hb.latency_ms;
        let transition = update_state(worker_id, w, now, t);
        if !unsaved.contains(worker_id) {
            unsaved.insert(worker_id.to_string());
        }
        let w = &board.workers[worker_id];
        Some((board.snapshot(w), transition))
    }

    /// Re-evaluate every worker against the clock (heartbeats that stopped coming).
    pub fn tick(&self, now: DateTime<Utc>, t: &HealthThresholds) -> Vec<Transition> {
        let mut board = self.inner.lock().expect("health lock");
        board
            .workers
            .iter_mut()
            .filter_map(|(id, w)| update_state(id, w, now, t))
            .collect()
    }

    pub fn get(&self, worker_id: &str) -> Option<Health> {
        let board = self.inner.lock().expect("health lock");
        let w = board.workers.get(worker_id)?;
        Some(board.snapshot(w))
    }

    /// Every worker's state, for `GET /metrics`.
    pub fn states(&self) -> Vec<(String, HealthState)> {
        let board = self.inner.lock().expect("health lock");
        board
            .workers
            .iter()
            .map(|(id, w)| (id.clone(), w.state))
            .collect()
    }

    /// Number of workers per state, for `/v1/stats`.
    pub fn counts(&self) -> BTreeMap<HealthState, u64> {
        let board = self.inner.lock().expect("health lock");
        let mut counts: BTreeMap<HealthState, u64> =
            HealthState::ALL.into_iter().map(|s| (s, 0)).collect();
        for w in board.workers.values() {
            *counts.entry(w.state).or_default() += 1;
        }
        counts
    }
}

fn update_state(
    id: &str,
    w: &mut WorkerHealth,
    now: DateTime<Utc>,
    t: &HealthThresholds,
) -> Option<Transition> {
    let to = classify(now, w.last, w.reported, w.latency_ms, t);
    if to == w.state {
        return None;
    }
    let from = std::mem::replace(&mut w.state, to);
    Some(Transition {
        worker_id: id.to_string(),
        from,
        to,
        at: now,
        reported_status: w.reported,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn t0() -> DateTime<Utc> {
        "2026-11-25T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn classify_covers_every_state() {
        let t = HealthThresholds::default();
        let now = t0();
        let ok = Some(ReportedStatus::Ok);
        assert_eq!(classify(now, None, None, None, &t), HealthState::Offline);
        assert_eq!(
            classify(now, Some(now), ok, Some(5.0), &t),
            HealthState::Healthy
        );
        assert_eq!(
            classify(now, Some(now), ok, Some(5000.0), &t),
            HealthState::Degraded
        );
        assert_eq!(
            classify(now, Some(now), Some(ReportedStatus::Degraded), None, &t),
            HealthState::Degraded
        );
        assert_eq!(
            classify(now, Some(now), Some(ReportedStatus::Offline), None, &t),
            HealthState::Offline
        );
        assert_eq!(
            classify(now, Some(now - Duration::seconds(30)), ok, None, &t),
            HealthState::Stale
        );
        assert_eq!(
            classify(now, Some(now - Duration::seconds(120)), ok, None, &t),
            HealthState::Offline
        );
    }

    #[test]
    fn heartbeats_and_ticks_produce_transitions_and_series() {
        let t = HealthThresholds::default();
        let board = HealthBoard::default();
        board.sync_workers([("org.a.w1", "wrk.a")]);
        assert!(board
            .heartbeat("org.nope", &Heartbeat::default(), t0(), &t)
            .is_none());

        board.record_routed("wrk.a");
        board.record_routed("wrk.a");
        let (health, tr) = board
            .heartbeat("org.a.w1", &Heartbeat::default(), t0(), &t)
            .unwrap();
        let tr = tr.unwrap();
        assert_eq!(
            (tr.from, tr.to),
            (HealthState::Offline, HealthState::Healthy)
        );
        assert!(!tr.is_bad());
        assert_eq!(health.series.len(), 1);
        assert_eq!(health.series[0].decisions, 2);

        assert!(board.tick(t0() + Duration::seconds(10), &t).is_empty());
        let stale = board.tick(t0() + Duration::seconds(31), &t);
        assert_eq!(stale.len(), 1);
        assert_eq!(stale[0].to, HealthState::Stale);
        assert!(stale[0].is_bad());
        let offline = board.tick(t0() + Duration::seconds(121), &t);
        assert_eq!(offline[0].to, HealthState::Offline);
        assert_eq!(board.counts()[&HealthState::Offline], 1);
    }

    #[test]
    fn series_is_a_bounded_ring() {
        let t = HealthThresholds::default();
        let board = HealthBoard::default();
        board.sync_workers([("w", "s")]);
        for i in 0..(SERIES_LEN as i64 + 10) {
            board.heartbeat("w", &Heartbeat::default(), t0() + Duration::seconds(i), &t);
        }
        let h = board.get("w").unwrap();
        assert_eq!(h.series.len(), SERIES_LEN);
        assert_eq!(h.series[0].at, t0() + Duration::seconds(10));
    }

    #[test]
    fn a_shared_species_count_is_no_workers_own() {
        let board = HealthBoard::default();
        board.sync_workers([("a1", "s.a"), ("a2", "s.a"), ("b", "s.b")]);
        board.seed_routed([("s.a".to_string(), 1238), ("s.b".to_string(), 7)]);
        board.record_routed("s.b");
        let a1 = board.get("a1").unwrap();
        assert_eq!(
            (
                a1.decisions_routed,
                a1.species_decisions_routed,
                a1.species_workers
            ),
            (None, 1238, 2)
        );
        let b = board.get("b").unwrap();
        assert_eq!((b.decisions_routed, b.species_workers), (Some(8), 1));
        // When a2 leaves, a1 is its species' only worker: the count is its own.
        board.sync_workers([("a1", "s.a"), ("b", "s.b")]);
        assert_eq!(board.get("a1").unwrap().decisions_routed, Some(1238));
    }

    #[test]
    fn heartbeats_are_saved_once_per_batch_and_restored_without_a_transition() {
        let t = HealthThresholds::default();
        let board = HealthBoard::default();
        board.sync_workers([("a", "s"), ("b", "s")]);
        let slow = Heartbeat {
            status: ReportedStatus::Degraded,
            latency_ms: Some(5.0),
        };
        board.heartbeat("a", &Heartbeat::default(), t0(), &t);
        board.heartbeat("a", &slow, t0() + Duration::seconds(1), &t);
        let saved = board.take_unsaved();
        assert_eq!(saved.len(), 1, "the newest of a's two heartbeats");
        assert_eq!(saved[0].at, t0() + Duration::seconds(1));
        assert_eq!(saved[0].reported.as_deref(), Some("degraded"));
        assert!(board.take_unsaved().is_empty());

        let restarted = HealthBoard::default();
        restarted.sync_workers([("a", "s"), ("b", "s")]);
        restarted.restore(saved, t0() + Duration::seconds(40), &t);
        let a = restarted.get("a").unwrap();
        assert_eq!(a.last_heartbeat_at, Some(t0() + Duration::seconds(1)));
        assert_eq!(a.reported_status, Some(ReportedStatus::Degraded));
        assert_eq!(a.state, HealthState::Stale, "39 s without a heartbeat");
        assert_eq!(restarted.get("b").unwrap().last_heartbeat_at, None);
        // Classified at restore: the next tick announces nothing that happened while down.
        assert!(restarted.tick(t0() + Duration::seconds(41), &t).is_empty());
        assert!(
            restarted.take_unsaved().is_empty(),
            "restoring saves nothing"
        );
    }

    #[test]
    fn sync_forgets_removed_workers_and_keeps_known_ones() {
        let t = HealthThresholds::default();
        let board = HealthBoard::default();
        board.sync_workers([("a", "s"), ("b", "s")]);
        board.heartbeat("a", &Heartbeat::default(), t0(), &t);
        board.sync_workers([("a", "s")]);
        assert!(board.get("b").is_none());
        assert_eq!(board.get("a").unwrap().state, HealthState::Healthy);
    }
}
