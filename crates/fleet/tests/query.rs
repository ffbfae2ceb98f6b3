//! The fleet view's reads (`fleet::query`) against a real PostgreSQL: the migrated central
//! schema, filled with decisions of several halls (`fleet::query::fixture`).

use chrono::Utc;
use fleet::query::fixture::{
    self, A_DECISIONS, B_DECISIONS, HALL_A, HALL_B, HALL_C, LINKED_DECISION, SPANNING,
};
use fleet::query::{DecisionFilter, HallHealth, QueryError, Reader};
use fleet::testing::TempPostgres;
use std::collections::HashSet;

async fn central() -> (TempPostgres, Reader) {
    let pg = TempPostgres::start();
    let (mut client, connection) = tokio_postgres::connect(&pg.url(), tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    fleet::schema::migrate(&mut client).await.expect("migrate");
    fixture::seed(&client, Utc::now()).await.expect("seed");
    let reader = Reader::new(&pg.url()).expect("reader");
    (pg, reader)
}

fn filter(f: impl FnOnce(&mut DecisionFilter)) -> DecisionFilter {
    let mut out = DecisionFilter::default();
    f(&mut out);
    out
}

/// Every decision the filter selects, page after page of `limit`, as (hall, seq).
async fn all(reader: &Reader, f: &DecisionFilter, limit: usize) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let page = reader
            .decisions(f, limit, cursor.as_deref())
            .await
            .expect("page");
        assert!(page.records.len() <= limit);
        out.extend(page.records.iter().map(|r| (r.hall_id.clone(), r.seq)));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return out,
        }
    }
}

#[tokio::test]
async fn pages_run_newest_first_across_halls_and_every_filter_narrows_them() {
    let (_pg, reader) = central().await;

    let first = reader
        .decisions(&DecisionFilter::default(), 3, None)
        .await
        .unwrap();
    let shown: Vec<(&str, i64)> = first
        .records
        .iter()
        .map(|r| (r.hall_id.as_str(), r.seq))
        .collect();
    // Hall A's seq 30 is the newest (at 60 s), then B's 20 (41 s) ... A at even seconds, B odd.
    assert_eq!(shown, [(HALL_A, 30), (HALL_A, 29), (HALL_A, 28)]);
    let body: serde_json::Value = serde_json::from_str(&first.records[0].body).unwrap();
    assert_eq!(body["decision_id"], "dec-hall-a-30");
    assert_eq!(first.records[0].hash.len(), 64);

    // Keyset pages of 7 cover all 50 once each, in time order, both halls interleaved.
    let everything = all(&reader, &DecisionFilter::default(), 7).await;
    assert_eq!(everything.len() as i64, A_DECISIONS + B_DECISIONS);
    assert_eq!(
        everything.iter().collect::<HashSet<_>>().len(),
        everything.len()
    );
    let b_at = everything
        .iter()
        .position(|(h, s)| h == HALL_B && *s == 20)
        .unwrap();
    assert_eq!(everything[b_at - 1], (HALL_A.to_string(), 21));
    assert_eq!(everything[b_at + 1], (HALL_A.to_string(), 20));

    let count = |f: DecisionFilter| {
        let reader = &reader;
        async move { all(reader, &f, 500).await }
    };
    let hall_b = count(filter(|f| f.hall_id = Some(HALL_B.into()))).await;
    assert_eq!(hall_b.len() as i64, B_DECISIONS);
    assert!(hall_b.iter().all(|(h, _)| h == HALL_B));
    assert_eq!(count(filter(|f| f.hall_id = Some(HALL_C.into()))).await, []);
    // Hall A's even seqs are tenant-y.
    let y = count(filter(|f| f.filter.tenant_id = Some("tenant-y".into()))).await;
    assert_eq!(y.len(), 15);
    // Denied: A's every 5th (6), B's every 4th (5).
    let denied = count(filter(|f| f.filter.denied = Some(true))).await;
    assert_eq!(denied.len(), 11);
    let by_code = count(filter(|f| {
        f.filter.deny_code = Some("DENY_NO_MATCHING_RULE".into())
    }))
    .await;
    assert_eq!(by_code, denied);
    let allowed = count(filter(|f| f.filter.denied = Some(false))).await;
    assert_eq!(allowed.len(), 39);
    let b_denied = count(filter(|f| {
        f.hall_id = Some(HALL_B.into());
        f.filter.denied = Some(true);
    }))
    .await;
    assert_eq!(
        b_denied,
        [
            (HALL_B.to_string(), 20),
            (HALL_B.into(), 16),
            (HALL_B.into(), 12),
            (HALL_B.into(), 8),
            (HALL_B.into(), 4)
        ]
    );
    let ocr = count(filter(|f| {
        f.filter.capability_id = Some("cap.doc.ocr".into())
    }))
    .await;
    assert_eq!(ocr.len(), 15);
    let worker = count(filter(|f| f.filter.worker = Some("wrk.cap.doc.ocr".into()))).await;
    assert_eq!(worker, ocr);
    let rule = count(filter(|f| f.filter.rule_id = Some("NO_MATCH".into()))).await;
    assert_eq!(rule, denied);
    let spanning = count(filter(|f| f.filter.correlation_id = Some(SPANNING.into()))).await;
    assert_eq!(
        spanning,
        [
            (HALL_B.to_string(), 11),
            (HALL_B.into(), 10),
            (HALL_A.into(), 10)
        ]
    );
    assert_eq!(
        count(filter(|f| f.filter.env = Some("prod".into()))).await,
        []
    );
    assert_eq!(
        count(filter(|f| f.filter.env = Some("dev".into())))
            .await
            .len(),
        50
    );
    // Free text: every word, case-insensitive, anywhere in the searchable columns.
    let text = count(filter(|f| f.filter.text = Some("DEC-HALL-B-1".into()))).await;
    assert_eq!(text.len(), 11, "b-1 and b-10 .. b-19: {text:?}");
    let two_words = count(filter(|f| f.filter.text = Some("hall-b-1 cap.none".into()))).await;
    assert_eq!(two_words, [(HALL_B.to_string(), 16), (HALL_B.into(), 12)]);
    // A LIKE wildcard in the text is a literal character.
    assert_eq!(
        count(filter(|f| f.filter.text = Some("dec%".into()))).await,
        []
    );

    // A time window: [since, until).
    let newest = reader
        .decisions(&DecisionFilter::default(), 1, None)
        .await
        .unwrap()
        .records[0]
        .ts;
    let window = count(filter(|f| {
        f.filter.since = Some(newest - chrono::Duration::seconds(20));
        f.filter.until = Some(newest - chrono::Duration::seconds(17));
    }))
    .await;
    assert_eq!(
        window,
        [
            (HALL_A.to_string(), 21),
            (HALL_B.into(), 20),
            (HALL_A.into(), 20)
        ]
    );
}

#[tokio::test]
async fn a_decision_with_its_linked_records_and_a_trace_across_two_halls() {
    let (_pg, reader) = central().await;

    let (found, linked) = reader.decision(LINKED_DECISION).await.unwrap().unwrap();
    assert_eq!((found.hall_id.as_str(), found.seq), (HALL_B, 11));
    assert_eq!(linked.len(), 1);
    let chained: serde_json::Value = serde_json::from_str(&linked[0].json).unwrap();
    assert_eq!(chained["decision_hash"], found.hash.as_str());
    assert!(reader.decision("no-such-decision").await.unwrap().is_none());

    let trace = reader.trace(SPANNING).await.unwrap();
    let decisions: Vec<(&str, i64)> = trace
        .decisions
        .iter()
        .map(|d| (d.hall_id.as_str(), d.seq))
        .collect();
    assert_eq!(
        decisions,
        [(HALL_A, 10), (HALL_B, 10), (HALL_B, 11)],
        "oldest first"
    );
    assert_eq!(trace.linked.len(), 1);
    assert_eq!(trace.health_transitions.len(), 1);
    assert_eq!(trace.health_transitions[0].hall_id, HALL_B);
    assert_eq!(trace.health_transitions[0].details["to"], "degraded");
    let none = reader.trace("corr-nobody").await.unwrap();
    assert!(
        none.decisions.is_empty() && none.linked.is_empty() && none.health_transitions.is_empty()
    );
}

#[tokio::test]
async fn stats_count_the_fleet_or_one_hall_and_halls_show_contact_and_backlog() {
    let (_pg, reader) = central().await;

    let all = reader.stats(None, None, None, 86_400, 10).await.unwrap();
    assert_eq!((all.stats.total, all.stats.denied), (50, 11));
    assert_eq!(
        all.stats.buckets.iter().map(|b| b.decisions).sum::<u64>(),
        50
    );
    assert_eq!(all.stats.top_deny_codes.len(), 1);
    assert_eq!(all.stats.top_deny_codes[0].key, "DENY_NO_MATCHING_RULE");
    assert_eq!(all.stats.top_deny_codes[0].count, 11);
    assert_eq!(all.stats.workers[0].key, "wrk.cap.doc.summarize");
    assert_eq!(all.stats.workers[0].count, 24);
    assert_eq!(all.alerts_open, 1);
    let b = reader
        .stats(None, None, Some(HALL_B.into()), 10, 10)
        .await
        .unwrap();
    assert_eq!((b.stats.total, b.stats.denied), (20, 5));
    assert!(b.stats.buckets.len() >= 4, "10 s buckets over 40 s");
    assert!(b.stats.buckets.windows(2).all(|w| w[0].start < w[1].start));
    assert!(b
        .stats
        .buckets
        .iter()
        .all(|x| x.start.timestamp() % 10 == 0));

    let halls = reader.halls(Utc::now()).await.unwrap();
    let rows: Vec<(&str, HallHealth, i64, Option<i64>)> = halls
        .iter()
        .map(|h| (h.hall_id.as_str(), h.health, h.backlog, h.head_seq))
        .collect();
    assert_eq!(
        rows,
        [
            (HALL_B, HallHealth::Silent, 42, Some(20)),
            (HALL_A, HallHealth::Live, 0, Some(30)),
            (HALL_C, HallHealth::Never, 0, None),
        ],
        "by name: ci-runner-b, laptop-a, server-c"
    );
}

#[tokio::test]
async fn bad_requests_are_named_and_an_outage_is_unavailable_until_postgres_is_back() {
    let (pg, reader) = central().await;
    let all = DecisionFilter::default();
    for (limit, cursor) in [(0, None), (10_001, None), (5, Some("v1.000000000000002a"))] {
        let err = reader.decisions(&all, limit, cursor).await.unwrap_err();
        assert!(matches!(err, QueryError::BadQuery(_)), "{err}");
    }
    assert!(matches!(
        Reader::new("postgresql://u@h:notaport/db"),
        Err(QueryError::BadUrl(m)) if m.contains("database_url")
    ));

    pg.stop_server();
    let err = reader.decisions(&all, 5, None).await.unwrap_err();
    assert!(matches!(&err, QueryError::Unavailable(_)), "{err}");
    assert!(err.to_string().contains("unavailable"), "{err}");
    pg.start_server();
    // The next request reconnects.
    let page = reader.decisions(&all, 5, None).await.unwrap();
    assert_eq!(page.records.len(), 5);
}
