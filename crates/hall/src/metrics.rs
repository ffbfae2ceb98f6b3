//! Prometheus metrics, served at `GET /metrics` in the text exposition format, version 0.0.4
//! (docs/observability.md lists every metric and its labels).
//!
//! What happens is counted where it happens: decisions and route latency on the route path, MCP
//! calls where their outcome is recorded: prometheus-client's atomic counters, one read-locked
//! map lookup per labelled family, and a histogram observation (prometheus-client guards each
//! histogram with a mutex, held for a bucket search), so counting costs a route well under a
//! microsecond. What is a state (worker health, the ledger's lag, the fleet outbox) is read when
//! scraped, and costs routes nothing.

use crate::hall::Hall;
use crate::health::HealthState;
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::collections::HashSet;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// The `Content-Type` of `GET /metrics`.
pub use prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Distinct `capability` label values `proctor_decisions_total` keeps. Capability ids come from
/// callers (a RouteInput may name any string, and rules may match wildcards), so without a bound
/// one client could add a series per request; past it, new capabilities count under
/// [`OTHER_CAPABILITY`].
pub const MAX_CAPABILITY_LABELS: usize = 256;
pub const OTHER_CAPABILITY: &str = "_other";
/// `deny_code` of an allowed decision.
const NO_DENY_CODE: &str = "none";

/// A capability id as a label value, shared with the set that bounds them (no allocation per
/// route once a capability has been seen).
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
struct Capability(Arc<str>);

impl EncodeLabelValue for Capability {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        EncodeLabelValue::encode(&&*self.0, encoder)
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DecisionLabels {
    outcome: &'static str,
    deny_code: &'static str,
    capability: Capability,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct McpCallLabels {
    server: String,
    tool: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StreamLabels {
    stream: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WorkerLabels {
    worker_id: String,
    state: &'static str,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// The hall's counters and histograms (the scrape-time gauges are built in [`Metrics::render`]).
pub(crate) struct Metrics {
    registry: Registry,
    decisions: Family<DecisionLabels, Counter>,
    route_seconds: Histogram,
    mcp_call_seconds: HistogramFamily<McpCallLabels>,
    commit_queue: Gauge,
    capabilities: RwLock<HashSet<Arc<str>>>,
}

/// A route is a decision plus a group commit: from ~100 µs to seconds on a stalled disk.
fn route_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0001, 2.0, 17))
}

/// A tool call may wait for a person (`approval_timeout_s`, 120 s by default): 1 ms to ~2 min.
fn mcp_call_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 18))
}

impl Default for Metrics {
    fn default() -> Self {
        let decisions = Family::<DecisionLabels, Counter>::default();
        let route_seconds = route_histogram();
        let mcp_call_seconds: HistogramFamily<McpCallLabels> =
            Family::new_with_constructor(mcp_call_histogram);
        let commit_queue = Gauge::default();
        let mut registry = Registry::default();
        // prometheus-client appends `_total` to counters.
        registry.register(
            "proctor_decisions",
            "Decisions recorded, by outcome (allowed/denied), deny code and capability",
            decisions.clone(),
        );
        registry.register(
            "proctor_route_duration_seconds",
            "Time of Hall::route for recorded decisions: parse, decide and the durable ledger record",
            route_seconds.clone(),
        );
        registry.register(
            "proctor_mcp_call_duration_seconds",
            "MCP tools/call through the gateway, from routing to the outcome record, by server, tool and outcome",
            mcp_call_seconds.clone(),
        );
        registry.register(
            "proctor_ledger_commit_queue",
            "Decisions handed to the ledger's group commit and not yet durable",
            commit_queue.clone(),
        );
        Metrics {
            registry,
            decisions,
            route_seconds,
            mcp_call_seconds,
            commit_queue,
            capabilities: RwLock::new(HashSet::new()),
        }
    }
}

/// Counts a decision into the ledger's commit queue until it is durable (or failed): dropped
/// when the append resolves.
pub(crate) struct Queued<'a>(&'a Gauge);

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

impl Metrics {
    /// A recorded decision, and how long its route took.
    pub(crate) fn routed(&self, d: &wcp::RouteDecision, took: Duration) {
        let labels = DecisionLabels {
            outcome: if d.denied { "denied" } else { "allowed" },
            deny_code: d.deny_code().map_or(NO_DENY_CODE, |c| c.as_str()),
            capability: self.capability(&d.capability_id),
        };
        self.decisions.get_or_create(&labels).inc();
        self.route_seconds.observe(took.as_secs_f64());
    }

    /// The label value of a capability: itself while fewer than [`MAX_CAPABILITY_LABELS`] are
    /// known, else [`OTHER_CAPABILITY`].
    fn capability(&self, id: &str) -> Capability {
        let known = |set: &HashSet<Arc<str>>| set.get(id).cloned();
        let read = self.capabilities.read().unwrap_or_else(|p| p.into_inner());
        if let Some(known) = known(&read) {
            return Capability(known);
        }
        drop(read);
        let mut set = self.capabilities.write().unwrap_or_else(|p| p.into_inner());
        let label = match known(&set) {
            Some(known) => known,
            None if set.len() < MAX_CAPABILITY_LABELS => {
                let id: Arc<str> = id.into();
                set.insert(id.clone());
                id
            }
            None => OTHER_CAPABILITY.into(),
        };
        Capability(label)
    }

    /// Hold the returned guard while a decision waits for its group commit.
    pub(crate) fn queued_for_commit(&self) -> Queued<'_> {
        self.commit_queue.inc();
        Queued(&self.commit_queue)
    }

    /// One MCP call's outcome. `server` and `tool` are bounded by the registry: only tools an
    /// enrolled worker maps are callable.
    pub(crate) fn mcp_call(&self, server: &str, tool: &str, outcome: &str, took: Duration) {
        let labels = McpCallLabels {
            server: server.to_string(),
            tool: tool.to_string(),
            outcome: outcome.to_string(),
        };
        self.mcp_call_seconds
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
    }

    /// The exposition text: the counters and histograms, then the gauges read now.
    pub(crate) fn render(&self, hall: &Hall) -> String {
        let mut now = Registry::default();
        let health = Family::<WorkerLabels, Gauge>::default();
        for (worker_id, current) in hall.health_board().states() {
            for state in HealthState::ALL {
                let labels = WorkerLabels {
                    worker_id: worker_id.clone(),
                    state: state.as_str(),
                };
                health
                    .get_or_create(&labels)
                    .set(i64::from(state == current));
            }
        }
        now.register(
            "proctor_worker_health",
            "1 for each enrolled worker's current health state (healthy, degraded, stale, offline), 0 for the others",
            health,
        );
        let unindexed = Gauge::<i64>::default();
        unindexed.set(i64::try_from(hall.ledger().unindexed()).unwrap_or(i64::MAX));
        now.register(
            "proctor_ledger_unindexed_records",
            "Records committed to the ledger that its indexer has not indexed yet (queries scan them)",
            unindexed,
        );
        // Absent unless `[fleet]` ships this hall's records (docs/fleet.md).
        let backlog = Family::<StreamLabels, Gauge>::default();
        if let Some(b) = hall.fleet_status().filter(|s| s.configured) {
            let b = b.backlog;
            let streams = [
                ("decisions", b.decisions),
                ("linked", b.linked),
                ("events", b.events),
                ("alerts", b.alerts),
                ("retention", b.retention),
            ];
            for (stream, n) in streams {
                backlog.get_or_create(&StreamLabels { stream }).set(n);
            }
        }
        now.register(
            "proctor_fleet_outbox_backlog",
            "Ledger records not yet shipped to the fleet's PostgreSQL, by stream",
            backlog,
        );
        let mut text = String::new();
        for registry in [&self.registry, &now] {
            prometheus_client::encoding::prometheus_text::encode(&mut text, registry)
                .expect("writing to a String does not fail");
        }
        text
    }
}

impl Hall {
    /// `GET /metrics`.
    pub fn metrics_text(&self) -> String {
        self.metrics().render(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capability_labels_are_bounded() {
        let m = Metrics::default();
        for i in 0..MAX_CAPABILITY_LABELS + 10 {
            let first = m.capability(&format!("cap.{i}"));
            // Asking again gives the same answer: a known capability stays itself.
            assert_eq!(m.capability(&format!("cap.{i}")), first);
            let expected = if i < MAX_CAPABILITY_LABELS {
                format!("cap.{i}")
            } else {
                OTHER_CAPABILITY.to_string()
            };
            assert_eq!(&*first.0, expected);
        }
        assert_eq!(&*m.capability("cap.0").0, "cap.0");
    }
}
