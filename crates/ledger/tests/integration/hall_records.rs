//! Alerts and hall events live in the same file as the decisions.

use chrono::{DateTime, Utc};
use ledger::{
    AlertAck, AlertFilter, EventFilter, Ledger, LedgerBackend, NewAlert, NewHallEvent, OpenOptions,
    Severity, SqliteBackend,
};
use serde_json::json;

fn at(s: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_767_225_600 + s, 0).unwrap()
}

fn alert(s: i64, severity: Severity, worker: &str) -> NewAlert {
    NewAlert {
        created_at: at(s),
        severity,
        code: "WORKER_UNHEALTHY".into(),
        message: format!("{worker} missed 3 heartbeats"),
        worker_id: Some(worker.into()),
        correlation_id: None,
        details: json!({"missed": 3}),
    }
}

#[test]
fn alerts_are_listed_by_severity_and_acknowledged_once() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(dir.path().join("l.db")).unwrap();
    let b = ledger.backend();
    let info = b.insert_alert(&alert(1, Severity::Info, "w1")).unwrap();
    let warn = b.insert_alert(&alert(2, Severity::Warning, "w2")).unwrap();
    let crit = b.insert_alert(&alert(3, Severity::Critical, "w3")).unwrap();

    let all = b.alerts(&AlertFilter::default()).unwrap();
    assert_eq!(
        all.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![crit, warn, info]
    );
    assert_eq!(all[0].alert, alert(3, Severity::Critical, "w3"));

    let serious = b
        .alerts(&AlertFilter {
            min_severity: Some(Severity::Warning),
            ..AlertFilter::default()
        })
        .unwrap();
    assert_eq!(
        serious.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![crit, warn]
    );

    let ack = |s| AlertAck {
        at: at(s),
        by: "ops@example".into(),
        note: Some("looking into it".into()),
    };
    assert!(b.ack_alert(warn, &ack(10)).unwrap());
    assert!(
        !b.ack_alert(warn, &ack(11)).unwrap(),
        "already acknowledged"
    );
    assert!(!b.ack_alert(9999, &ack(11)).unwrap(), "no such alert");
    let open = b
        .alerts(&AlertFilter {
            open_only: true,
            ..AlertFilter::default()
        })
        .unwrap();
    assert_eq!(
        open.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![crit, info]
    );
    let acked = b
        .alerts(&AlertFilter::default())
        .unwrap()
        .into_iter()
        .find(|a| a.id == warn)
        .unwrap();
    assert_eq!(acked.acknowledged_at, Some(at(10)));
    assert_eq!(acked.acked_by.as_deref(), Some("ops@example"));
    assert_eq!(acked.ack_note.as_deref(), Some("looking into it"));
}

#[test]
fn alerts_resolve_by_kind_and_subject_once() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(dir.path().join("l.db")).unwrap();
    let b = ledger.backend();
    let w1 = b.insert_alert(&alert(1, Severity::Info, "w1")).unwrap();
    let w2 = b.insert_alert(&alert(2, Severity::Info, "w2")).unwrap();
    let again = b.insert_alert(&alert(3, Severity::Info, "w1")).unwrap();
    let mut about_hall = alert(4, Severity::Warning, "w1");
    about_hall.worker_id = None;
    about_hall.details = json!({"subject": "hall"});
    let hall = b.insert_alert(&about_hall).unwrap();

    let mut resolved = b.resolve_alerts("WORKER_UNHEALTHY", "w1", at(10)).unwrap();
    resolved.sort();
    assert_eq!(resolved, vec![w1, again]);
    assert!(
        b.resolve_alerts("WORKER_UNHEALTHY", "w1", at(11))
            .unwrap()
            .is_empty(),
        "once"
    );
    assert_eq!(
        b.resolve_alerts("WORKER_UNHEALTHY", "hall", at(12))
            .unwrap(),
        vec![hall]
    );
    let open: Vec<i64> = b
        .alerts(&AlertFilter {
            open_only: true,
            ..AlertFilter::default()
        })
        .unwrap()
        .iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(open, vec![w2]);
    let all = b.alerts(&AlertFilter::default()).unwrap();
    let first = all.iter().find(|a| a.id == w1).unwrap();
    assert_eq!(first.resolved_at, Some(at(10)));
    assert_eq!(first.acknowledged_at, None);
}

#[test]
fn hall_events_are_queried_by_worker_correlation_and_time() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l.db");
    let ledger = Ledger::open(&path).unwrap();
    let b = ledger.backend();
    for s in 0..10 {
        let worker = if s % 2 == 0 { "w-even" } else { "w-odd" };
        b.insert_event(&NewHallEvent {
            at: at(s * 60),
            kind: if s == 4 {
                "health_transition"
            } else {
                "heartbeat"
            }
            .into(),
            worker_id: Some(worker.into()),
            correlation_id: (s == 7).then(|| "corr-7".to_string()),
            details: json!({"n": s}),
        })
        .unwrap();
    }
    let window = b
        .events(&EventFilter {
            worker_id: Some("w-even".into()),
            since: Some(at(120)),
            until: at(480).into(),
            ..EventFilter::default()
        })
        .unwrap();
    assert_eq!(
        window
            .iter()
            .map(|e| e.event.details["n"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        vec![2, 4, 6]
    );
    let transitions = b
        .events(&EventFilter {
            kind: Some("health_transition".into()),
            ..EventFilter::default()
        })
        .unwrap();
    assert_eq!(transitions.len(), 1);
    let by_corr = b
        .events(&EventFilter {
            correlation_id: Some("corr-7".into()),
            ..EventFilter::default()
        })
        .unwrap();
    assert_eq!(by_corr.len(), 1);
    assert_eq!(by_corr[0].event.worker_id.as_deref(), Some("w-odd"));
    drop(ledger);

    // Readers see them too, and a read-only ledger refuses to write them.
    let ro = SqliteBackend::open(&path, OpenOptions::read_only()).unwrap();
    assert_eq!(ro.events(&EventFilter::default()).unwrap().len(), 10);
    let err = ro.insert_alert(&alert(0, Severity::Info, "w")).unwrap_err();
    assert!(matches!(err, ledger::LedgerError::OpenedReadOnly));
}

#[test]
fn last_heartbeats_keep_the_newest_per_worker_across_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l.db");
    let beat = |worker: &str, s: i64, reported: &str| ledger::LastHeartbeat {
        worker_id: worker.into(),
        at: at(s),
        reported: Some(reported.into()),
        latency_ms: Some(s as f64),
    };
    {
        let ledger = Ledger::open(&path).unwrap();
        let b = ledger.backend();
        assert!(b.last_heartbeats().unwrap().is_empty());
        b.save_heartbeats(&[beat("w.a", 10, "ok"), beat("w.b", 5, "degraded")])
            .unwrap();
        // A late batch holding an older heartbeat does not replace the newer one.
        b.save_heartbeats(&[beat("w.a", 20, "degraded"), beat("w.b", 1, "ok")])
            .unwrap();
    }
    let ledger = Ledger::open(&path).unwrap();
    assert_eq!(
        ledger.backend().last_heartbeats().unwrap(),
        vec![beat("w.a", 20, "degraded"), beat("w.b", 5, "degraded")]
    );
}
