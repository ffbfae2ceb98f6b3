//! Property test: for random ledgers and random filters, paging with cursors returns exactly
//! the rows a simple in-memory model selects, newest first, each once.

use chrono::DateTime;
use ledger::{Filter, LedgerBackend, NewRecord, OpenOptions, PageRequest, SqliteBackend};
use proptest::prelude::*;
use serde_json::{json, Value};

const TENANTS: [&str; 3] = ["acme", "globex", "initech"];
const CAPS: [&str; 3] = ["cap.a", "cap.b", "cap.c"];
const ENVS: [&str; 2] = ["dev", "prod"];
const CODES: [&str; 2] = ["DENY_NO_MATCHING_RULE", "DENY_REQUIRES_HUMAN"];
const WORKERS: [&str; 2] = ["wrk.one", "wrk.two"];
const BASE: i64 = 1_767_225_600;

#[derive(Debug, Clone)]
struct D {
    tenant: usize,
    cap: usize,
    env: usize,
    /// `Some(code)` = denied with that code; else allowed by `worker`.
    deny: Option<usize>,
    worker: usize,
    dry_run: bool,
    /// Seconds after BASE; may repeat and go backwards (times are not seq order).
    at: i64,
}

impl D {
    fn json(&self, i: usize) -> String {
        let denied = self.deny.is_some();
        json!({
            "decision_id": format!("00000000-0000-4000-8000-{i:012}"),
            "timestamp": DateTime::from_timestamp(BASE + self.at, 0).unwrap().format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string(),
            "correlation_id": format!("corr-{}", i % 4),
            "tenant_id": TENANTS[self.tenant],
            "capability_id": CAPS[self.cap],
            "matched_rule_id": if denied { "NO_MATCH".to_string() } else { format!("rule-{}", self.cap) },
            "env": ENVS[self.env], "data_label": "PUBLIC", "tenant_risk": "low", "qos_class": "P1",
            "denied": denied,
            "deny_reason_if_denied": self.deny.map(|c| json!({"code": CODES[c], "message": "refused"})),
            "selected_worker_species_id": if denied { Value::Null } else { json!(WORKERS[self.worker]) },
            "artifact_hash": null,
            "dry_run": self.dry_run,
        })
        .to_string()
    }
}

fn decision() -> impl Strategy<Value = D> {
    (
        0..3usize,
        0..3usize,
        0..2usize,
        prop::option::of(0..2usize),
        0..2usize,
        any::<bool>(),
        0..40i64,
    )
        .prop_map(|(tenant, cap, env, deny, worker, dry_run, at)| D {
            tenant,
            cap,
            env,
            deny,
            worker,
            dry_run,
            at,
        })
}

#[derive(Debug, Clone)]
struct Q {
    tenant: Option<usize>,
    cap: Option<usize>,
    env: Option<usize>,
    denied: Option<bool>,
    code: Option<usize>,
    worker: Option<usize>,
    dry_run: Option<bool>,
    since: Option<i64>,
    until: Option<i64>,
    /// Free text: a tenant name.
    text: Option<usize>,
    limit: usize,
}

fn query() -> impl Strategy<Value = Q> {
    let o3 = || prop::option::of(0..3usize);
    let o2 = || prop::option::of(0..2usize);
    (
        (
            o3(),
            o3(),
            o2(),
            prop::option::of(any::<bool>()),
            o2(),
            o2(),
        ),
        (
            prop::option::of(any::<bool>()),
            prop::option::of(0..40i64),
            prop::option::of(0..40i64),
            o3(),
            1..8usize,
        ),
    )
        .prop_map(
            |((tenant, cap, env, denied, code, worker), (dry_run, since, until, text, limit))| Q {
                tenant,
                cap,
                env,
                denied,
                code,
                worker,
                dry_run,
                since,
                until,
                text,
                limit,
            },
        )
}

impl Q {
    fn filter(&self) -> Filter {
        let t = |s: i64| DateTime::from_timestamp(BASE + s, 0).unwrap();
        Filter {
            tenant_id: self.tenant.map(|i| TENANTS[i].into()),
            capability_id: self.cap.map(|i| CAPS[i].into()),
            env: self.env.map(|i| ENVS[i].into()),
            denied: self.denied,
            deny_code: self.code.map(|i| CODES[i].into()),
            worker: self.worker.map(|i| WORKERS[i].into()),
            dry_run: self.dry_run,
            since: self.since.map(t),
            until: self.until.map(t),
            text: self.text.map(|i| TENANTS[i].into()),
            ..Filter::default()
        }
    }

    fn matches(&self, d: &D) -> bool {
        self.tenant.is_none_or(|t| t == d.tenant)
            && self.text.is_none_or(|t| t == d.tenant)
            && self.cap.is_none_or(|c| c == d.cap)
            && self.env.is_none_or(|e| e == d.env)
            && self.denied.is_none_or(|x| x == d.deny.is_some())
            && self.code.is_none_or(|c| d.deny == Some(c))
            && self
                .worker
                .is_none_or(|w| d.deny.is_none() && w == d.worker)
            && self.dry_run.is_none_or(|x| x == d.dry_run)
            && self.since.is_none_or(|s| d.at >= s)
            && self.until.is_none_or(|u| d.at < u)
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn pages_match_the_model(
        decisions in prop::collection::vec(decision(), 0..60),
        queries in prop::collection::vec(query(), 1..6),
        steps in prop::collection::vec(1usize..25, 0..5),
        key_merge_every in 1u64..400,
    ) {
        let dir = tempfile::tempdir().unwrap();
        // Merges (every `key_merge_every` records, up to 60 here) and posting-block compactions
        // (of windows of `key_merge_every / 32` records, up to 12) happen between steps.
        let options = OpenOptions { key_merge_every, ..OpenOptions::default() };
        let backend = SqliteBackend::open(dir.path().join("l.db"), options).unwrap();
        let jsons: Vec<String> = decisions.iter().enumerate().map(|(i, d)| d.json(i)).collect();
        let batch: Vec<NewRecord> = jsons.iter().map(|j| NewRecord::from_json(j.as_str()).unwrap()).collect();
        if !batch.is_empty() {
            for r in backend.append_batch(&batch).unwrap() {
                r.unwrap();
            }
        }
        // Index the records in a few steps of random sizes (several posting blocks per value),
        // perhaps not all of them (the rest is the scanned tail).
        for step in steps {
            backend.catch_up(step).unwrap();
        }
        for q in &queries {
            let expected: Vec<i64> = (1..=decisions.len() as i64).rev().filter(|&seq| q.matches(&decisions[seq as usize - 1])).collect();
            let mut got = Vec::new();
            let mut request = PageRequest::first(q.filter(), q.limit);
            loop {
                let page = backend.page(&request).unwrap();
                prop_assert!(page.records.len() <= q.limit);
                for r in &page.records {
                    // Byte-exact round trip of every row the page returns.
                    prop_assert_eq!(&r.json, &jsons[r.seq as usize - 1]);
                    got.push(r.seq);
                }
                match page.next_cursor {
                    Some(c) => { prop_assert_eq!(page.records.len(), q.limit); request.cursor = Some(c) }
                    None => break,
                }
            }
            prop_assert_eq!(got, expected, "query {:?}", q);
        }
    }
}
