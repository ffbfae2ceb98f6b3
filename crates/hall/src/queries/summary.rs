//! `GET /v1/decisions/summary`: what the Decisions explorer shows around the list for a filter
//! (how many match, a histogram, the top values per facet), from one bounded ledger read; and
//! `GET /v1/decisions/count`: the exact total past the summary's scan, within a time budget.

use super::DecisionQuery;
use crate::error::HallError;
use crate::hall::Hall;
use chrono::{DateTime, Utc};
use ledger::{CountRequest, SummaryRequest};
use std::time::Duration;

/// The most matching decisions one summary reads (the newest), which bounds its cost on any
/// ledger (at 50,000, a 1M-record ledger took 0.2-0.7 s per summary; at this, about a fifth);
/// past it the total is a lower bound unless an index counts the filter (time alone, or one
/// posting column alone), and `GET /v1/decisions/count` gives the exact one.
pub const SUMMARY_SCAN: usize = 10_000;
/// Values listed per facet.
pub const FACET_TOP: usize = 10;
/// How long one count may read before it answers a lower bound: on the 1M-record benchmark
/// ledger the slowest filters take well under this (BENCHMARKS.md), so only a pathological
/// filter on a larger ledger hits it, and an explorer waiting for it stays responsive.
pub const COUNT_BUDGET: Duration = Duration::from_millis(1_500);

/// The answer of `GET /v1/decisions/summary`.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct DecisionSummary {
    /// Decisions matching the filter: exact when `total_exact`, else at least this many.
    pub total: u64,
    pub total_exact: bool,
    /// The newest matching decisions that `buckets` and `facets` count (at most 10,000).
    pub scanned: u64,
    /// The histogram's bucket width, picked for about 60 buckets over the filter's time range
    /// (or the scanned decisions' when it is open).
    pub bucket_seconds: i64,
    /// Non-empty buckets, oldest first.
    pub buckets: Vec<SummaryBucket>,
    /// Per field (tenant_id, env, capability_id, deny_code, worker, data_label: the parameter
    /// names), its most frequent values among the scanned decisions, at most 10.
    pub facets: Vec<SummaryFacet>,
}

/// The answer of `GET /v1/decisions/count`.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct DecisionCount {
    /// Decisions matching the filter: exact when `exact`, else at least this many (the count
    /// ran out of its 1.5 s budget).
    pub total: u64,
    pub exact: bool,
}

#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct SummaryBucket {
    pub start: DateTime<Utc>,
    pub decisions: u64,
    pub denied: u64,
}

#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct SummaryFacet {
    pub field: String,
    pub values: Vec<FacetValue>,
}

#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct FacetValue {
    pub value: String,
    pub count: u64,
}

impl DecisionQuery {
    /// The ledger's summary request: the filter of `GET /v1/decisions`, without its paging.
    pub fn into_summary(self) -> Result<(SummaryRequest, Option<String>), HallError> {
        let (filter, hall_id) = self.into_whole_filter("a summary")?;
        let request = SummaryRequest {
            filter,
            bucket_seconds: None,
            top: FACET_TOP,
            scan: SUMMARY_SCAN,
        };
        Ok((request, hall_id))
    }

    /// The filter of `GET /v1/decisions` for an answer about all it matches (paging refused).
    fn into_whole_filter(self, what: &str) -> Result<(ledger::Filter, Option<String>), HallError> {
        if self.cursor.is_some() || self.limit.is_some() {
            return Err(HallError::InvalidQuery(format!(
                "cursor and limit page the list (GET /v1/decisions); {what} covers the whole filter"
            )));
        }
        self.into_filter()
    }
}

impl From<ledger::Summary> for DecisionSummary {
    fn from(s: ledger::Summary) -> Self {
        Self {
            total: s.total,
            total_exact: s.total_exact,
            scanned: s.scanned,
            bucket_seconds: s.bucket_seconds,
            buckets: s
                .buckets
                .into_iter()
                .map(|b| SummaryBucket {
                    start: b.start,
                    decisions: b.decisions,
                    denied: b.denied,
                })
                .collect(),
            facets: s
                .facets
                .into_iter()
                .map(|f| SummaryFacet {
                    field: f.field.to_string(),
                    values: f
                        .values
                        .into_iter()
                        .map(|c| FacetValue {
                            value: c.key,
                            count: c.count,
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

impl Hall {
    pub async fn decisions_summary(&self, q: DecisionQuery) -> Result<DecisionSummary, HallError> {
        let (request, hall_id) = q.into_summary()?;
        super::own_decisions_only(hall_id)?;
        let summary = self.ledger().query(move |b| b.summary(&request)).await?;
        Ok(summary.into())
    }

    pub async fn decisions_count(&self, q: DecisionQuery) -> Result<DecisionCount, HallError> {
        let (filter, hall_id) = q.into_whole_filter("a count")?;
        super::own_decisions_only(hall_id)?;
        let request = CountRequest {
            filter,
            budget: COUNT_BUDGET,
        };
        let count = self.ledger().query(move |b| b.count(&request)).await?;
        Ok(DecisionCount {
            total: count.total,
            exact: count.exact,
        })
    }
}
