//! What callers ask the ledger: history filters, pages with opaque keyset cursors, stats.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::error::{LedgerError, Result};
use crate::record::StoredDecision;

/// History filters; every set field must match (AND). `None` means "any".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Decisions at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Decisions strictly before this time.
    pub until: Option<DateTime<Utc>>,
    pub tenant_id: Option<String>,
    pub capability_id: Option<String>,
    /// Selected worker species.
    pub worker: Option<String>,
    pub rule_id: Option<String>,
    pub correlation_id: Option<String>,
    /// `Some(true)`: denies only; `Some(false)`: allows only.
    pub denied: Option<bool>,
    pub deny_code: Option<String>,
    pub env: Option<String>,
    pub data_label: Option<String>,
    pub dry_run: Option<bool>,
    /// Free text over ids, codes and deny messages: every word must appear (see docs/ledger.md).
    pub text: Option<String>,
}

/// One page request. Pages are newest first (highest `seq` first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub filter: Filter,
    /// Rows per page, 1..=[`MAX_PAGE`].
    pub limit: usize,
    /// The `next_cursor` of the previous page, or `None` for the first page.
    pub cursor: Option<String>,
}

/// The largest page the ledger returns in one call.
pub const MAX_PAGE: usize = 10_000;

impl PageRequest {
    pub fn first(filter: Filter, limit: usize) -> Self {
        Self {
            filter,
            limit,
            cursor: None,
        }
    }

    /// The checked page size and the exclusive upper `seq` bound the cursor encodes.
    pub(crate) fn bounds(&self) -> Result<(usize, Option<i64>)> {
        if self.limit == 0 || self.limit > MAX_PAGE {
            return Err(LedgerError::BadQuery(format!(
                "limit must be between 1 and {MAX_PAGE}, got {}",
                self.limit
            )));
        }
        let before = self.cursor.as_deref().map(decode_cursor).transpose()?;
        Ok((self.limit, before))
    }
}

/// A page of history and the cursor of the next (older) page, if there is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Page {
    pub records: Vec<StoredDecision>,
    pub next_cursor: Option<String>,
}

const CURSOR_PREFIX: &str = "v1.";

/// Cursors are opaque to callers; inside they hold the last `seq` shown.
pub(crate) fn encode_cursor(seq: i64) -> String {
    format!("{CURSOR_PREFIX}{seq:016x}")
}

fn decode_cursor(cursor: &str) -> Result<i64> {
    cursor
        .strip_prefix(CURSOR_PREFIX)
        .filter(|h| h.len() == 16)
        .and_then(|h| i64::from_str_radix(h, 16).ok())
        .filter(|seq| *seq > 0)
        .ok_or_else(|| LedgerError::BadCursor(cursor.to_string()))
}

/// Chart data over the decisions a filter selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsRequest {
    pub filter: Filter,
    /// Width of one time bucket, in seconds (≥ 1).
    pub bucket_seconds: i64,
    /// How many deny codes and workers to list.
    pub top: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stats {
    pub total: u64,
    pub denied: u64,
    /// Non-empty buckets, oldest first.
    pub buckets: Vec<Bucket>,
    /// Most frequent deny codes, most frequent first.
    pub top_deny_codes: Vec<Count>,
    /// Decisions per selected worker, most frequent first (denies have no worker).
    pub workers: Vec<Count>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bucket {
    pub start: DateTime<Utc>,
    pub decisions: u64,
    pub denied: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Count {
    pub key: String,
    pub count: u64,
}

/// The explorer's summary of a filter: how many match, over time, and per value of the facet
/// columns. It reads at most `scan` matching records, newest first, so its cost is bounded
/// whatever the ledger's size; past that the total is exact only where an index counts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryRequest {
    pub filter: Filter,
    /// Bucket width in seconds (≥ 1); `None` picks one that gives about [`SUMMARY_BUCKETS`].
    pub bucket_seconds: Option<i64>,
    /// Values listed per facet, most frequent first.
    pub top: usize,
    /// The most matching records read for buckets and facets.
    pub scan: usize,
}

/// About how many buckets a summary with no bucket width is given.
pub const SUMMARY_BUCKETS: i64 = 60;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Decisions matching the filter: exact when `total_exact`, else at least this many.
    pub total: u64,
    pub total_exact: bool,
    /// Matching records the buckets and facets were computed from (the newest ones).
    pub scanned: u64,
    pub bucket_seconds: i64,
    /// Non-empty buckets of the scanned records, oldest first.
    pub buckets: Vec<Bucket>,
    /// Per facet column, the most frequent values among the scanned records.
    pub facets: Vec<Facet>,
}

/// How many records match a filter, counted for at most `budget`: a filter that would read a
/// huge ledger record by record answers a lower bound in time instead of holding its caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountRequest {
    pub filter: Filter,
    pub budget: std::time::Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MatchCount {
    /// Records matching the filter: exact when `exact`, else at least this many (the budget ran
    /// out first).
    pub total: u64,
    pub exact: bool,
}

/// One facet: a column (the API's parameter name) and its most frequent values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Facet {
    pub field: &'static str,
    pub values: Vec<Count>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        assert_eq!(decode_cursor(&encode_cursor(42)).unwrap(), 42);
        for bad in [
            "",
            "42",
            "v1.zz",
            "v1.0000000000000000",
            "v2.000000000000002a",
        ] {
            assert!(
                matches!(decode_cursor(bad), Err(LedgerError::BadCursor(_))),
                "{bad}"
            );
        }
    }
}
