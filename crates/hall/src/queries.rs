//! Read side of the hall: history, traces, stats, alerts, chain verification. All of it is the
//! ledger's; this module shapes it for callers (docs/API.md) and raises integrity alerts. The
//! query parameters of the read endpoints live here too (the API and its OpenAPI document both
//! take them from this module).

use crate::alerts::{Alert, AlertKind, NewAlert};
use crate::error::HallError;
use crate::events::HallEventKind;
use crate::hall::Hall;
use crate::record::from_ledger_alert;
use chrono::{DateTime, Utc};
use ledger::{AlertFilter, Filter, PageRequest, StatsRequest, StoredDecision};
use serde_json::{json, Value};
use std::collections::HashSet;

pub mod summary;
pub mod syntax;

/// Default and largest page for `GET /v1/decisions`.
pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 500;

/// How far around a trace's decisions health transitions count as part of the incident.
const TRACE_CONTEXT: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

/// `GET /v1/decisions` query parameters.
#[derive(Debug, Default, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionQuery {
    pub capability_id: Option<String>,
    pub tenant_id: Option<String>,
    pub correlation_id: Option<String>,
    pub worker: Option<String>,
    pub env: Option<wcp::Env>,
    pub data_label: Option<wcp::DataLabel>,
    pub denied: Option<bool>,
    pub dry_run: Option<bool>,
    pub deny_code: Option<String>,
    pub rule_id: Option<String>,
    /// The hall that recorded the decision: a filter of the fleet view (`proctor serve
    /// --fleet`, docs/fleet.md) only. Not in the hall's OpenAPI document: a hall refuses it,
    /// as any parameter it does not document, but saying why.
    #[schemars(skip)]
    pub hall_id: Option<String>,
    /// A query in the query language (docs/API.md "Query syntax"): `field:value` filters, which
    /// add to the parameters (and must agree with them), and free text over ids, codes and deny
    /// messages (the ledger's full-text search).
    pub q: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub cursor: Option<String>,
    pub limit: Option<usize>,
}

impl DecisionQuery {
    /// The id-valued filters, for the handlers' id checks.
    pub fn ids(&self) -> [&Option<String>; 7] {
        [
            &self.capability_id,
            &self.tenant_id,
            &self.correlation_id,
            &self.worker,
            &self.deny_code,
            &self.rule_id,
            &self.hall_id,
        ]
    }

    /// The ledger's page request (limit checked) and the hall filter, which only the fleet
    /// view answers: a hall and the fleet view read the same parameters the same way.
    pub fn into_page(mut self) -> Result<(PageRequest, Option<String>), HallError> {
        let limit = self.limit.take().unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(HallError::InvalidQuery(format!(
                "limit must be between 1 and {MAX_LIMIT}"
            )));
        }
        let cursor = self.cursor.take();
        let (filter, hall_id) = self.into_filter()?;
        let request = PageRequest {
            filter,
            limit,
            cursor,
        };
        Ok((request, hall_id))
    }

    /// The ledger filter (the parameters, then `q` read by [`syntax::parse`] on top) and the
    /// hall filter. Paging parameters are the caller's to take first.
    pub fn into_filter(self) -> Result<(Filter, Option<String>), HallError> {
        let mut filter = Filter {
            since: self.since,
            until: self.until,
            tenant_id: self.tenant_id,
            capability_id: self.capability_id,
            worker: self.worker,
            rule_id: self.rule_id,
            correlation_id: self.correlation_id,
            denied: self.denied,
            deny_code: self.deny_code,
            env: self.env.map(|e| e.as_str().to_string()),
            data_label: self.data_label.map(|l| l.as_str().to_string()),
            dry_run: self.dry_run,
            text: None,
        };
        if let Some(q) = self.q.as_deref() {
            syntax::parse(q)
                .and_then(|query| syntax::merge(&mut filter, query))
                .map_err(|e| HallError::InvalidQuery(format!("q: {e}")))?;
        }
        Ok((filter, self.hall_id))
    }
}

/// `GET /v1/hall-events` query parameters.
#[derive(Debug, Default, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HallEventsQuery {
    pub worker_id: Option<String>,
    /// An unknown kind is a mistake (`400`), not a filter that silently matches nothing.
    pub kind: Option<HallEventKind>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub limit: Option<usize>,
}

/// `GET /v1/stats` query parameters.
#[derive(Debug, Default, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StatsQuery {
    pub since: Option<DateTime<Utc>>,
    /// Decisions strictly before this time (the charts' zoomed or fixed ranges).
    pub until: Option<DateTime<Utc>>,
    /// Width of one bucket in seconds, 1 to 86,400 (a day); 60 when absent.
    pub bucket_s: Option<i64>,
}

/// The widest bucket `GET /v1/stats` answers: a 7-day chart needs hours, nothing needs more than days.
const MAX_BUCKET_S: i64 = 86_400;

impl StatsQuery {
    /// The checked bucket width (a hall's and the fleet view's).
    pub fn bucket_seconds(&self) -> Result<i64, HallError> {
        let bucket_seconds = self.bucket_s.unwrap_or(60);
        if !(1..=MAX_BUCKET_S).contains(&bucket_seconds) {
            return Err(HallError::InvalidQuery(format!(
                "bucket_s must be between 1 and {MAX_BUCKET_S} seconds, got {bucket_seconds}"
            )));
        }
        Ok(bucket_seconds)
    }
}

/// `GET /v1/alerts` query parameters.
#[derive(Debug, Default, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertsQuery {
    #[serde(default)]
    pub open: bool,
    pub limit: Option<u32>,
}

/// `GET /v1/issues` query parameters.
#[derive(Debug, Default, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IssuesQuery {
    /// Start of the window; 24 hours before `until` when absent.
    pub since: Option<DateTime<Utc>>,
    /// End of the window (exclusive); now when absent.
    pub until: Option<DateTime<Utc>>,
}

/// The window `GET /v1/issues` looks at by default, the points of each trend line, and how many
/// denials it reads at most (a local ledger holds far fewer in a day; past it the answer says so).
const ISSUE_WINDOW: chrono::TimeDelta = chrono::TimeDelta::hours(24);
const ISSUE_TREND_POINTS: usize = 24;
const ISSUE_SCAN_LIMIT: usize = 100_000;

/// `GET /v1/issues`: the window, how many denials it holds and their groups.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct IssueList {
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    /// Points of each issue's `trend`: equal slices of the window.
    pub trend_points: usize,
    /// Denials read (all in the window unless `truncated`).
    pub denials: usize,
    /// The window held more than the hall reads in one answer: the issues cover its newest denials.
    pub truncated: bool,
    pub issues: Vec<Issue>,
}

/// One group of similar denials, keyed by deny code × capability × worker.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct Issue {
    pub deny_code: Option<String>,
    pub capability_id: String,
    /// The worker the denial concerned: its first-ranked candidate (a denial selects none).
    pub worker: Option<String>,
    pub count: u64,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// Denials per equal slice of the window, oldest first.
    pub trend: Vec<u64>,
}

/// Only what grouping reads from a decision's JSON.
#[derive(serde::Deserialize)]
struct Candidates {
    #[serde(default)]
    candidate_workers_ranked: Vec<Candidate>,
}
#[derive(serde::Deserialize)]
struct Candidate {
    worker_species_id: String,
}

/// A hall answers for its own decisions: `hall_id` is a filter of the fleet view.
fn own_decisions_only(hall_id: Option<String>) -> Result<(), HallError> {
    match hall_id {
        None => Ok(()),
        Some(_) => Err(HallError::InvalidQuery(
            "hall_id filters the fleet view (`proctor serve --fleet`); a hall holds only its own \
             decisions"
                .into(),
        )),
    }
}

/// A ledger record as shown to callers: chain position plus the decision as recorded.
fn record_json(r: &StoredDecision) -> Value {
    decision_json(r.seq, &r.hash, &r.json)
}

/// `{"seq", "hash", "decision"}`: a decision record as the API shows it, here and in the fleet
/// view (which adds the hall).
pub(crate) fn decision_json(seq: i64, hash: &str, json: &str) -> Value {
    let decision: Value = serde_json::from_str(json).unwrap_or(Value::Null);
    json!({"seq": seq, "hash": hash, "decision": decision})
}

impl Hall {
    pub async fn decisions(&self, q: DecisionQuery) -> Result<Value, HallError> {
        let (request, hall_id) = q.into_page()?;
        own_decisions_only(hall_id)?;
        let page = self.ledger().query(move |b| b.page(&request)).await?;
        let records: Vec<Value> = page.records.iter().map(record_json).collect();
        Ok(json!({"decisions": records, "next_cursor": page.next_cursor}))
    }

    pub async fn decision(&self, decision_id: &str) -> Result<Value, HallError> {
        let id = decision_id.to_string();
        let Some(r) = self.ledger().query(move |b| b.get(&id)).await? else {
            return Err(HallError::NotFound(format!("decision {decision_id}")));
        };
        let mut detail = record_json(&r);
        // What followed the decision: an MCP call's outcome, an approval's verdict.
        detail["linked"] = serde_json::to_value(self.linked_of(decision_id).await?)
            .expect("linked records serialize");
        Ok(detail)
    }

    pub async fn trace(&self, correlation_id: &str) -> Result<Value, HallError> {
        let id = correlation_id.to_string();
        let records = self.ledger().query(move |b| b.trace(&id)).await?;
        let decisions: Vec<Value> = records.iter().map(record_json).collect();
        let transitions = self.transitions_around(&records, &decisions).await?;
        let linked = self.linked_of_trace(correlation_id).await?;
        Ok(
            json!({"correlation_id": correlation_id, "decisions": decisions,
                  "health_transitions": transitions, "linked": linked}),
        )
    }

    /// Health transitions (hall events) of the workers a trace's decisions considered, from
    /// `TRACE_CONTEXT` before the first decision to `TRACE_CONTEXT` after the last: what an
    /// incident review needs to see next to the decisions.
    async fn transitions_around(
        &self,
        records: &[StoredDecision],
        decisions: &[Value],
    ) -> Result<Vec<ledger::StoredHallEvent>, HallError> {
        let times = records.iter().map(|r| r.fields.ts_micros);
        let (Some(first), Some(last)) = (times.clone().min(), times.max()) else {
            return Ok(Vec::new());
        };
        let species: HashSet<&str> = decisions
            .iter()
            .flat_map(|d| {
                d["decision"]["candidate_workers_ranked"]
                    .as_array()
                    .into_iter()
                    .flatten()
            })
            .filter_map(|c| c["worker_species_id"].as_str())
            .collect();
        let involved: HashSet<String> = self
            .workers()
            .into_iter()
            .filter(|w| species.contains(w.worker_species_id.as_str()))
            .map(|w| w.worker_id)
            .collect();
        if involved.is_empty() {
            return Ok(Vec::new());
        }
        let filter = ledger::EventFilter {
            kind: Some("health_transition".into()),
            since: DateTime::from_timestamp_micros(first).map(|t| t - TRACE_CONTEXT),
            until: DateTime::from_timestamp_micros(last).map(|t| t + TRACE_CONTEXT),
            limit: Some(1000),
            ..ledger::EventFilter::default()
        };
        let events = self.ledger().query(move |b| b.events(&filter)).await?;
        Ok(events
            .into_iter()
            .filter(|e| {
                e.event
                    .worker_id
                    .as_ref()
                    .is_some_and(|w| involved.contains(w))
            })
            .collect())
    }

    pub async fn stats(&self, q: StatsQuery) -> Result<Value, HallError> {
        let bucket_seconds = q.bucket_seconds()?;
        let request = StatsRequest {
            filter: Filter {
                since: q.since,
                until: q.until,
                ..Filter::default()
            },
            bucket_seconds,
            top: 10,
        };
        let stats = self.ledger().query(move |b| b.stats(&request)).await?;
        let open = self.alerts(true, 10_000).await?.len();
        let allowed = stats.total - stats.denied;
        let deny_rate = if stats.total == 0 {
            0.0
        } else {
            stats.denied as f64 / stats.total as f64
        };
        let counts = |items: &[ledger::Count]| -> Value {
            Value::Object(
                items
                    .iter()
                    .map(|c| (c.key.clone(), json!(c.count)))
                    .collect(),
            )
        };
        let workers: serde_json::Map<String, Value> = self
            .health_board()
            .counts()
            .into_iter()
            .map(|(s, n)| (s.as_str().to_string(), json!(n)))
            .collect();
        Ok(json!({
            "decisions_total": stats.total, "allowed": allowed, "denied": stats.denied, "deny_rate": deny_rate,
            "by_deny_code": counts(&stats.top_deny_codes), "by_worker": counts(&stats.workers),
            "buckets": stats.buckets, "workers": workers, "alerts_open": open,
            "uptime_s": self.uptime().as_secs(),
        }))
    }

    /// Denials in a window grouped into issues (deny code × capability × worker), most frequent
    /// first: read from the ledger, not from the newest decisions a screen happens to hold.
    pub async fn issues(&self, q: IssuesQuery) -> Result<IssueList, HallError> {
        let until = q.until.unwrap_or_else(Utc::now);
        let since = q.since.unwrap_or(until - ISSUE_WINDOW);
        if since >= until {
            return Err(HallError::InvalidQuery(
                "since must be before until".to_string(),
            ));
        }
        let filter = Filter {
            since: Some(since),
            until: Some(until),
            denied: Some(true),
            ..Filter::default()
        };
        let (from, span) = (
            since.timestamp_micros(),
            (until - since).num_microseconds().unwrap_or(i64::MAX),
        );
        let (issues, scanned, truncated) = self
            .ledger()
            .query(move |b| {
                let mut groups: std::collections::HashMap<_, Issue> = Default::default();
                let mut request = PageRequest::first(filter, ledger::MAX_PAGE);
                let mut scanned = 0;
                loop {
                    let page = b.page(&request)?;
                    for r in &page.records {
                        let worker = r.fields.worker.clone().or_else(|| {
                            serde_json::from_str::<Candidates>(&r.json)
                                .ok()
                                .and_then(|c| c.candidate_workers_ranked.into_iter().next())
                                .map(|c| c.worker_species_id)
                        });
                        let at = ledger::micros_to_time(r.fields.ts_micros);
                        let key = (
                            r.fields.deny_code.clone(),
                            r.fields.capability_id.clone(),
                            worker,
                        );
                        let issue = groups.entry(key.clone()).or_insert_with(|| Issue {
                            deny_code: key.0,
                            capability_id: key.1,
                            worker: key.2,
                            count: 0,
                            first_seen: at,
                            last_seen: at,
                            trend: vec![0; ISSUE_TREND_POINTS],
                        });
                        issue.count += 1;
                        issue.first_seen = issue.first_seen.min(at);
                        issue.last_seen = issue.last_seen.max(at);
                        let slot = (r.fields.ts_micros - from) as i128 * ISSUE_TREND_POINTS as i128
                            / span.max(1) as i128;
                        issue.trend[slot.clamp(0, ISSUE_TREND_POINTS as i128 - 1) as usize] += 1;
                    }
                    scanned += page.records.len();
                    match page.next_cursor {
                        Some(cursor) if scanned < ISSUE_SCAN_LIMIT => request.cursor = Some(cursor),
                        next => {
                            let mut issues: Vec<Issue> = groups.into_values().collect();
                            issues.sort_by(|a, b| {
                                b.count.cmp(&a.count).then(b.last_seen.cmp(&a.last_seen))
                            });
                            return Ok((issues, scanned, next.is_some()));
                        }
                    }
                }
            })
            .await?;
        Ok(IssueList {
            since,
            until,
            trend_points: ISSUE_TREND_POINTS,
            denials: scanned,
            truncated,
            issues,
        })
    }

    pub async fn alerts(&self, open_only: bool, limit: u32) -> Result<Vec<Alert>, HallError> {
        let filter = AlertFilter {
            min_severity: None,
            open_only,
            limit: Some(limit as usize),
        };
        let stored = self.ledger().query(move |b| b.alerts(&filter)).await?;
        // The ledger's own failure is not in it: newest, so first.
        let mut alerts: Vec<Alert> = self.ledger().unwritable().into_iter().collect();
        alerts.extend(stored.into_iter().map(from_ledger_alert));
        alerts.truncate(limit as usize);
        Ok(alerts)
    }

    /// Acknowledge an alert with who and why. Acknowledging twice returns the alert unchanged
    /// (the first acknowledgement's author and note stay).
    pub async fn ack_alert(
        &self,
        id: i64,
        req: crate::alerts::AckRequest,
        default_by: &str,
    ) -> Result<Alert, HallError> {
        if id == crate::alerts::IN_MEMORY_ALERT_ID {
            return Err(HallError::Conflict(
                "the ledger_unwritable alert cannot be acknowledged: it clears itself once the ledger writes again".into(),
            ));
        }
        let ack = req
            .into_ack(default_by, Utc::now())
            .map_err(HallError::InvalidSettings)?;
        let acked = self.ledger().query(move |b| b.ack_alert(id, &ack)).await?;
        let alert = self.stored_alerts(&[id]).await?.pop();
        let alert = alert.ok_or_else(|| HallError::NotFound(format!("alert {id}")))?;
        if acked {
            self.publish_alert(alert.clone());
        }
        Ok(alert)
    }

    /// The stored alerts with these ids (the ledger has no lookup by id; alerts are few).
    pub(crate) async fn stored_alerts(&self, ids: &[i64]) -> Result<Vec<Alert>, HallError> {
        let filter = AlertFilter {
            min_severity: None,
            open_only: false,
            limit: Some(100_000),
        };
        let all = self.ledger().query(move |b| b.alerts(&filter)).await?;
        Ok(all
            .into_iter()
            .filter(|a| ids.contains(&a.id))
            .map(from_ledger_alert)
            .collect())
    }

    /// What the hall saw: enrollments, health transitions, registry and rules reloads (oldest
    /// first).
    pub async fn hall_events(&self, q: HallEventsQuery) -> Result<Value, HallError> {
        let limit = q.limit.unwrap_or(100);
        if !(1..=1000).contains(&limit) {
            return Err(HallError::InvalidQuery(
                "limit must be between 1 and 1000".into(),
            ));
        }
        let filter = ledger::EventFilter {
            worker_id: q.worker_id,
            correlation_id: None,
            kind: q.kind.map(|k| k.as_str().to_string()),
            since: q.since,
            until: q.until,
            limit: Some(limit),
        };
        let events = self.ledger().query(move |b| b.events(&filter)).await?;
        Ok(json!({"count": events.len(), "events": events}))
    }

    /// Walk the whole hash chain; a broken chain raises a critical alert.
    pub async fn verify_ledger(&self) -> Result<Value, HallError> {
        let report = self.ledger().query(|b| b.verify(&mut |_| {})).await?;
        let message = match &report.finding {
            None => "chain intact".to_string(),
            Some(f) => f.to_string(),
        };
        if let Some(f) = &report.finding {
            self.raise(NewAlert::new(
                AlertKind::LedgerIntegrity,
                "ledger",
                format!("ledger verification failed: {f}"),
            ));
        }
        Ok(json!({
            "ok": report.is_intact(), "records": report.records_checked, "head_seq": report.last_seq,
            "first_bad_seq": report.finding.as_ref().map(|f| f.seq), "message": message,
        }))
    }
}
