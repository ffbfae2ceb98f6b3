//! The explorer's summary (total, buckets, facets) against what pages of the same filter hold,
//! in a real SQLite file: both fully indexed and with an unindexed tail.

use crate::common;

use std::collections::HashMap;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use ledger::{CountRequest, Filter, LedgerBackend, PageRequest, SummaryRequest};

/// Every record a filter selects, by paging (the reference the summary must agree with).
fn all(b: &dyn LedgerBackend, filter: &Filter) -> Vec<ledger::StoredDecision> {
    b.page(&PageRequest::first(filter.clone(), 10_000))
        .unwrap()
        .records
}

fn summary(b: &dyn LedgerBackend, filter: Filter, scan: usize) -> ledger::Summary {
    b.summary(&SummaryRequest {
        filter,
        bucket_seconds: None,
        top: 100,
        scan,
    })
    .unwrap()
}

/// The whole ledger, one tenant (a posting index drives it), env + denied (no index), free text.
fn filters() -> Vec<Filter> {
    vec![
        Filter::default(),
        Filter {
            tenant_id: Some(common::TENANTS[1].into()),
            ..Filter::default()
        },
        Filter {
            env: Some("prod".into()),
            denied: Some(true),
            ..Filter::default()
        },
        Filter {
            text: Some("DENY_REQUIRES_HUMAN".into()),
            ..Filter::default()
        },
    ]
}

#[test]
fn summary_counts_what_pages_of_the_same_filter_hold() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = common::ledger_with(&dir, 600);
    let b = ledger.backend();
    for filter in filters() {
        let records = all(b, &filter);
        let s = summary(b, filter.clone(), 10_000);
        assert_eq!(
            (s.total, s.total_exact),
            (records.len() as u64, true),
            "{filter:?}"
        );
        assert_eq!(s.scanned, s.total);
        assert_eq!(s.buckets.iter().map(|x| x.decisions).sum::<u64>(), s.total);
        let denied = records.iter().filter(|r| r.fields.denied).count() as u64;
        assert_eq!(s.buckets.iter().map(|x| x.denied).sum::<u64>(), denied);
        assert!(s.buckets.windows(2).all(|w| w[0].start < w[1].start));
        let mut tenants: HashMap<&str, u64> = HashMap::new();
        for r in &records {
            *tenants.entry(r.fields.tenant_id.as_str()).or_default() += 1;
        }
        let facet = s.facets.iter().find(|f| f.field == "tenant_id").unwrap();
        assert_eq!(facet.values.len(), tenants.len(), "{filter:?}");
        for v in &facet.values {
            assert_eq!(tenants[v.key.as_str()], v.count, "{filter:?} {}", v.key);
        }
        assert!(facet.values.windows(2).all(|w| w[0].count >= w[1].count));
        let fields: Vec<&str> = s.facets.iter().map(|f| f.field).collect();
        assert_eq!(
            fields,
            [
                "tenant_id",
                "env",
                "capability_id",
                "deny_code",
                "worker",
                "data_label"
            ]
        );
    }
}

#[test]
fn a_bounded_scan_says_when_its_total_is_a_lower_bound() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = common::ledger_with(&dir, 300);
    let b = ledger.backend();
    let s = summary(b, Filter::default(), 50);
    // Time alone (or nothing) is counted exactly on the time index.
    assert_eq!((s.total, s.total_exact, s.scanned), (300, true, 50));
    let since = Utc.timestamp_opt(1_767_225_600 + 100, 0).unwrap();
    let timed = Filter {
        since: Some(since),
        ..Filter::default()
    };
    let s = summary(b, timed.clone(), 50);
    assert_eq!(
        (s.total, s.total_exact),
        (all(b, &timed).len() as u64, true)
    );
    // One column with a posting index, alone, is counted on its blocks.
    let tenant = Filter {
        tenant_id: Some(common::TENANTS[1].into()),
        ..Filter::default()
    };
    let s = summary(b, tenant.clone(), 5);
    assert_eq!(
        (s.total, s.total_exact, s.scanned),
        (all(b, &tenant).len() as u64, true, 5)
    );
    let denied = Filter {
        denied: Some(false),
        ..Filter::default()
    };
    let s = summary(b, denied, 50);
    assert_eq!((s.total, s.total_exact, s.scanned), (50, false, 50));
    // 300 s of records in about 60 buckets: 5 s each.
    let s = summary(b, Filter::default(), 1000);
    assert_eq!(s.bucket_seconds, 5);
    assert_eq!(s.buckets.len(), 60);
    let tight = b.summary(&SummaryRequest {
        filter: Filter::default(),
        bucket_seconds: Some(0),
        top: 10,
        scan: 10,
    });
    assert!(tight.is_err());
}

fn count(b: &dyn LedgerBackend, filter: &Filter, budget: Duration) -> ledger::MatchCount {
    b.count(&CountRequest {
        filter: filter.clone(),
        budget,
    })
    .unwrap()
}

#[test]
fn a_count_is_exact_in_its_budget_and_a_lower_bound_past_it() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = common::ledger_with(&dir, 3_000);
    let b = ledger.backend();
    let allowed = Filter {
        denied: Some(false),
        ..Filter::default()
    };
    let since = Filter {
        since: Some(common::second(1_000)),
        ..Filter::default()
    };
    let mut filters = filters();
    filters.extend([since, allowed.clone()]);
    for filter in &filters {
        let expected = b
            .page(&PageRequest::first(filter.clone(), 10_000))
            .unwrap()
            .records
            .len() as u64;
        let exact = count(b, filter, Duration::from_secs(30));
        assert_eq!((exact.total, exact.exact), (expected, true), "{filter:?}");
    }
    // A spent budget stops a walk before it starts or by its first 1,024 rows (the clock, or
    // the interrupt sooner): a lower bound, said to be one.
    let spent = count(b, &allowed, Duration::ZERO);
    assert!(!spent.exact && spent.total <= 1_024, "{spent:?}");
    assert!(count(b, &allowed, Duration::from_secs(30)).total > 2_000);
}
