//! Chart data over the central decisions: the local ledger's [`ledger::Stats`] (totals, time
//! buckets, top deny codes and workers), for the fleet or one hall.

use super::decisions::{conditions, DecisionFilter};
use super::{QueryError, Reader, Result};
use chrono::{DateTime, Utc};
use ledger::{Bucket, Count, Stats};

/// [`ledger::Stats`] plus what the fleet adds: the open alerts (neither acknowledged nor
/// resolved) of every hall.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetStats {
    pub stats: Stats,
    pub alerts_open: u64,
}

impl Reader {
    /// Counts over the decisions in `[since, until)` (of one hall when `hall_id` is set),
    /// bucketed by `bucket_seconds` aligned to the epoch (as the local ledger does), and the
    /// `top` deny codes and workers.
    pub async fn stats(
        &self,
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
        hall_id: Option<String>,
        bucket_seconds: i64,
        top: usize,
    ) -> Result<FleetStats> {
        if bucket_seconds < 1 {
            return Err(QueryError::BadQuery(
                "bucket width must be at least 1 second".into(),
            ));
        }
        let mut c = conditions(&DecisionFilter {
            hall_id,
            filter: ledger::Filter {
                since,
                until,
                ..Default::default()
            },
        });
        let selected = c.where_clause();
        c.params.push(Box::new(bucket_seconds as f64));
        let width = c.params.len();
        // One scan for the buckets and both tops (grouping sets), and one statement, so one
        // snapshot, with the open alerts. part: b = bucket (start in epoch seconds), d = deny
        // code, w = worker, a = open alerts (neither acknowledged nor resolved; `resolved_at`
        // read through to_jsonb so that a store no hall of this build has migrated to V2 yet,
        // which this read-only view does not migrate, still answers).
        let sql = format!(
            "SELECT CASE WHEN GROUPING(b) = 0 THEN 'b' WHEN GROUPING(deny_code) = 0 THEN 'd' ELSE 'w' END AS part, \
                    COALESCE(extract(epoch FROM b)::bigint::text, deny_code, worker) AS key, \
                    count(*) AS n, count(*) FILTER (WHERE denied) AS denied \
             FROM (SELECT date_bin(make_interval(secs => ${width}::float8), ts, 'epoch'::timestamptz) AS b, \
                          CASE WHEN denied THEN deny_code END AS deny_code, worker, denied \
                   FROM decisions {selected}) d \
             GROUP BY GROUPING SETS ((b), (deny_code), (worker)) \
             UNION ALL SELECT 'a', NULL, count(*), 0 FROM alerts a \
             WHERE acknowledged_at IS NULL AND to_jsonb(a) ->> 'resolved_at' IS NULL"
        );
        let client = self.client().await?;
        let rows = client.query(&sql, &c.params()).await?;
        let count = |n: i64| n.max(0) as u64;
        let mut out = FleetStats {
            stats: Stats {
                total: 0,
                denied: 0,
                buckets: Vec::new(),
                top_deny_codes: Vec::new(),
                workers: Vec::new(),
            },
            alerts_open: 0,
        };
        for r in &rows {
            let (key, n): (Option<String>, i64) = (r.get("key"), r.get("n"));
            match (r.get::<_, &str>("part"), key) {
                ("b", key) => {
                    let bucket = Bucket {
                        start: key
                            .and_then(|k| k.parse().ok())
                            .and_then(|s| DateTime::from_timestamp(s, 0))
                            .unwrap_or_default(),
                        decisions: count(n),
                        denied: count(r.get("denied")),
                    };
                    out.stats.total += bucket.decisions;
                    out.stats.denied += bucket.denied;
                    out.stats.buckets.push(bucket);
                }
                ("a", _) => out.alerts_open = count(n),
                // The allowed decisions' group (no deny code) and the denied ones' (no worker).
                (_, None) => {}
                (part, Some(key)) => {
                    let item = Count {
                        key,
                        count: count(n),
                    };
                    if part == "d" {
                        out.stats.top_deny_codes.push(item);
                    } else {
                        out.stats.workers.push(item);
                    }
                }
            }
        }
        for tops in [&mut out.stats.top_deny_codes, &mut out.stats.workers] {
            tops.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
            tops.truncate(top);
        }
        out.stats.buckets.sort_by_key(|b| b.start);
        Ok(out)
    }
}
