//! Shipping ledgers to a real PostgreSQL (fleet::testing::TempPostgres) and verifying them
//! there: two halls, an outage mid-load, a stale cursor after a restart, a batch shipped
//! twice, a foreign chain under a taken hall id, and central rows edited or deleted; alerts
//! that change after they shipped (acknowledged, resolved), also across a restart, and alert
//! batches shipped twice or late.

mod support;

use std::time::Duration;

use fleet::testing::TempPostgres;
use fleet::verify::{FleetReport, HallReport};
use support::{wait_until, Central, TestHall, DEADLINE};

fn shipped_all(central: &Central, hall: &TestHall) -> bool {
    central.decisions_of(&hall.hall_id).0 == hall.head()
}

/// A hall of decisions `from..from + n`, shipped whole by a shipper stopped afterwards.
fn hall_shipped(
    pg: &TempPostgres,
    central: &Central,
    hall_id: &str,
    from: u64,
    n: u64,
) -> TestHall {
    let hall = TestHall::new(hall_id);
    hall.append(from, n);
    let shipper = hall.shipper(&pg.url());
    wait_until("shipped", DEADLINE, || shipped_all(central, &hall));
    shipper.stop();
    hall
}

/// Wait until the shipper's last error says `needle`.
fn wait_for_error(shipper: &fleet::Shipper, what: &str, needle: &str) {
    wait_until(what, DEADLINE, || {
        shipper
            .status()
            .last_error
            .is_some_and(|e| e.contains(needle))
    });
}

fn verdict(report: &FleetReport, hall_id: &str) -> HallReport {
    report
        .halls
        .iter()
        .find(|h| h.hall_id == hall_id)
        .unwrap_or_else(|| panic!("no verdict for {hall_id}: {report:?}"))
        .clone()
}

#[test]
fn two_halls_ship_to_one_store_and_both_chains_verify() {
    let pg = TempPostgres::start();
    let (a, b) = (TestHall::new("hall-a"), TestHall::new("hall-b"));
    a.append(0, 3_000);
    b.append(10_000, 1_200);
    let (ship_a, ship_b) = (a.shipper(&pg.url()), b.shipper(&pg.url()));
    let central = Central::connect(&pg.url());
    wait_until("both halls shipped", DEADLINE, || {
        shipped_all(&central, &a) && shipped_all(&central, &b)
    });
    wait_until("the backlog reported empty", DEADLINE, || {
        ship_a.status().backlog.total == 0 && ship_b.status().backlog.total == 0
    });
    let status = ship_a.status();
    assert!(status.connected && status.last_contact.is_some() && status.last_error.is_none());
    assert_eq!(status.hall_id.as_deref(), Some("hall-a"));
    assert!(status.shipped >= 3_000, "{status:?}");
    assert_eq!(central.count("SELECT count(*) FROM halls"), 2);
    // Every month of the decisions got its partition.
    assert!(
        central.count("SELECT count(*) FROM pg_inherits WHERE inhparent = 'decisions'::regclass")
            >= 1
    );

    let report = central.verify();
    assert!(report.ok(), "{report:?}");
    for (id, n) in [("hall-a", 3_000), ("hall-b", 1_200)] {
        let hall = verdict(&report, id);
        assert_eq!((hall.records, hall.head_seq), (n, n));
    }
}

#[test]
fn postgres_stopped_mid_load_and_started_again_loses_and_doubles_nothing() {
    let pg = TempPostgres::start();
    let hall = TestHall::new("outage");
    let shipper = hall.shipper(&pg.url());
    hall.append(0, 2_000);
    let central = Central::connect(&pg.url());
    wait_until("the first records shipped", DEADLINE, || {
        central.decisions_of("outage").0 > 0
    });
    drop(central);

    pg.stop_server();
    // The load goes on: the ledger (the outbox) takes it all while the store is away.
    hall.append(2_000, 4_000);
    wait_until("the shipper noticing the outage", DEADLINE, || {
        let s = shipper.status();
        !s.connected && s.last_error.is_some()
    });
    let during = shipper.status();
    assert!(during.backlog.decisions > 0, "{during:?}");
    assert!(!during.last_error.unwrap().contains("password"));

    pg.start_server();
    hall.append(6_000, 1_000);
    let central = Central::connect(&pg.url());
    wait_until("the backlog drained", DEADLINE, || {
        shipped_all(&central, &hall) && shipper.status().backlog.total == 0
    });
    let (rows, distinct) = central.decisions_of("outage");
    assert_eq!((rows, distinct), (7_000, 7_000));
    assert!(shipper.status().connected);
    assert!(central.verify().ok());
}

#[test]
fn a_restarted_shipper_with_a_stale_cursor_resumes_from_the_store_without_doubles() {
    let pg = TempPostgres::start();
    let central = Central::connect(&pg.url());
    let hall = hall_shipped(&pg, &central, "restart", 0, 1_500);
    // As if the hall died between PostgreSQL's commit and the cursor's save, many times over.
    fleet::cursor::CursorFile::of(hall.data_dir())
        .save(&fleet::cursor::Cursor::default())
        .unwrap();
    hall.append(1_500, 500);
    let shipper = hall.shipper(&pg.url());
    wait_until("the rest shipped", DEADLINE, || {
        shipped_all(&central, &hall)
    });
    assert_eq!(central.decisions_of("restart"), (2_000, 2_000));
    // The saved cursor caught up with the store (it does not ship everything again).
    wait_until("the cursor saved", DEADLINE, || {
        hall.saved_cursor().decisions == 2_000
    });
    drop(shipper);
    assert!(central.verify().ok());
}

/// Insert `batch` in one transaction, as a shipper's round does.
fn ship_by_hand(central: &mut Central, hall_id: &str, batch: &fleet::ship::Batch) {
    let Central { runtime, client } = central;
    runtime.block_on(async {
        let tx = client.transaction().await.unwrap();
        let mut months = fleet::ship::Months::default();
        fleet::ship::insert(&tx, hall_id, batch, &mut months)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    });
}

#[test]
fn the_same_batch_shipped_twice_adds_nothing() {
    let pg = TempPostgres::start();
    let central = Central::connect(&pg.url());
    // Register (and migrate) through a shipper, then ship by hand.
    let hall = hall_shipped(&pg, &central, "twice", 0, 700);
    central.execute("DELETE FROM decisions");

    let reader =
        ledger::SqliteBackend::open(hall.ledger_path(), ledger::OpenOptions::read_only()).unwrap();
    let batch = fleet::ship::Batch {
        decisions: reader.outbox_decisions(0, 10_000).unwrap(),
        ..Default::default()
    };
    assert_eq!(batch.decisions.len(), 700);
    let mut central = central;
    for _ in 0..2 {
        ship_by_hand(&mut central, "twice", &batch);
    }
    assert_eq!(central.decisions_of("twice"), (700, 700));
    assert!(central.verify().ok());
}

#[test]
fn another_chain_under_a_taken_hall_id_is_refused_and_ships_nothing() {
    let pg = TempPostgres::start();
    let central = Central::connect(&pg.url());
    hall_shipped(&pg, &central, "same-id", 0, 100);

    let impostor = TestHall::new("same-id");
    impostor.append(5_000, 100);
    let shipper = impostor.shipper(&pg.url());
    wait_for_error(&shipper, "the refusal", "different ledger");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(central.decisions_of("same-id"), (100, 100));
    assert!(central.verify().ok());
}

#[test]
fn an_edited_or_deleted_central_row_is_named_by_hall_and_seq() {
    let pg = TempPostgres::start();
    let central = Central::connect(&pg.url());
    hall_shipped(&pg, &central, "good", 0, 50);
    hall_shipped(&pg, &central, "tampered", 100, 50);

    // The body: its hash no longer matches.
    central.execute(
        "UPDATE decisions SET body = replace(body, '\"dry_run\"', '\"dry_run\" ') \
         WHERE hall_id = 'tampered' AND seq = 7",
    );
    let report = central.verify();
    assert!(!report.ok());
    assert!(verdict(&report, "good").ok);
    let broken = verdict(&report, "tampered");
    assert_eq!(broken.first_bad_seq, Some(7), "{broken:?}");
    assert!(broken.message.contains("record 7 was edited"), "{broken:?}");
    central.execute(
        "UPDATE decisions SET body = replace(body, '\"dry_run\" ', '\"dry_run\"') \
         WHERE hall_id = 'tampered' AND seq = 7",
    );
    assert!(central.verify().ok());

    // A filter column: the hash still matches, the column lies.
    central.execute(
        "UPDATE decisions SET tenant_id = 'someone-else' WHERE hall_id = 'tampered' AND seq = 12",
    );
    let broken = verdict(&central.verify(), "tampered");
    assert_eq!(broken.first_bad_seq, Some(12), "{broken:?}");
    assert!(broken.message.contains("column"), "{broken:?}");
    central.execute("DELETE FROM decisions WHERE hall_id = 'tampered'");
    assert_eq!(central.decisions_of("tampered").0, 0);

    // A deleted record in the middle of the good hall's chain.
    central.execute("DELETE FROM decisions WHERE hall_id = 'good' AND seq = 20");
    let broken = verdict(&central.verify(), "good");
    assert_eq!(broken.first_bad_seq, Some(20), "{broken:?}");
    assert!(
        broken.message.contains("record 20 is missing"),
        "{broken:?}"
    );
}

/// A central alert as one line: acknowledged by, note, acknowledged?, resolved?, change_seq.
fn central_alert(central: &Central, hall_id: &str, id: i64) -> String {
    central.text(&format!(
        "SELECT concat_ws('|', coalesce(acked_by, '-'), coalesce(ack_note, '-'), \
         acknowledged_at IS NOT NULL, resolved_at IS NOT NULL, change_seq) \
         FROM alerts WHERE hall_id = '{hall_id}' AND id = {id}"
    ))
}

#[test]
fn alerts_acknowledged_or_resolved_after_they_shipped_change_centrally() {
    let pg = TempPostgres::start();
    let central = Central::connect(&pg.url());
    let hall = TestHall::new("alerting");
    hall.append(0, 20);
    let (offline, flapping) = (hall.alert("w1"), hall.alert("w2"));
    let shipper = hall.shipper(&pg.url());
    wait_until("both alerts shipped open", DEADLINE, || {
        central_alert(&central, "alerting", offline) == "-|-|f|f|1"
            && central_alert(&central, "alerting", flapping) == "-|-|f|f|2"
    });

    hall.ack(offline, "ops@example", "known: rack 4 is down");
    let resolved = hall
        .backend()
        .resolve_alerts("WORKER_OFFLINE", "w2", chrono::Utc::now())
        .unwrap();
    assert_eq!(resolved, vec![flapping]);
    wait_until(
        "the acknowledgement and the resolution shipped",
        DEADLINE,
        || {
            central_alert(&central, "alerting", offline)
                == "ops@example|known: rack 4 is down|t|f|3"
                && central_alert(&central, "alerting", flapping) == "-|-|f|t|4"
        },
    );
    wait_until("the backlog reported empty", DEADLINE, || {
        shipper.status().backlog.total == 0
    });
    // Updated in place: still one row per alert, and the fleet view counts neither as open.
    assert_eq!(
        central.count("SELECT count(*) FROM alerts WHERE hall_id = 'alerting'"),
        2
    );
    let view = fleet::query::Reader::new(&pg.url()).unwrap();
    let stats = central
        .runtime
        .block_on(view.stats(None, None, None, 60, 5))
        .unwrap();
    assert_eq!(stats.alerts_open, 0);
    assert!(central.verify().ok());
}

#[test]
fn an_alert_acknowledged_while_the_shipper_was_down_ships_after_the_hall_restarts() {
    let pg = TempPostgres::start();
    let central = Central::connect(&pg.url());
    let mut hall = TestHall::new("restarted");
    let id = hall.alert("w1");
    let shipper = hall.shipper(&pg.url());
    wait_until("the alert shipped", DEADLINE, || {
        central_alert(&central, "restarted", id) == "-|-|f|f|1"
    });
    shipper.stop();
    // Acknowledged, then the hall stops before anything ships, and starts again.
    hall.ack(id, "ops", "seen");
    hall.restart();
    assert_eq!(central_alert(&central, "restarted", id), "-|-|f|f|1");
    let _shipper = hall.shipper(&pg.url());
    wait_until("the acknowledgement shipped", DEADLINE, || {
        central_alert(&central, "restarted", id) == "ops|seen|t|f|2"
    });
    // The cursor is saved just after the commit.
    wait_until("the cursor saved", DEADLINE, || {
        hall.saved_cursor().alerts == 2
    });
}

#[test]
fn an_alert_batch_shipped_twice_or_late_never_takes_an_alert_back() {
    let pg = TempPostgres::start();
    let central = Central::connect(&pg.url());
    // Register (and migrate) through a shipper, then ship by hand.
    let hall = hall_shipped(&pg, &central, "late", 0, 10);
    let id = hall.alert("w1");
    let reader =
        ledger::SqliteBackend::open(hall.ledger_path(), ledger::OpenOptions::read_only()).unwrap();
    let batch_of = |reader: &ledger::SqliteBackend| fleet::ship::Batch {
        alerts: reader.outbox_alerts(0, 100).unwrap(),
        ..Default::default()
    };
    let open = batch_of(&reader);
    hall.ack(id, "ops", "mine");
    let acked = batch_of(&reader);
    assert_eq!(
        (open.alerts[0].change_seq, acked.alerts[0].change_seq),
        (1, 2)
    );

    let mut central = central;
    ship_by_hand(&mut central, "late", &acked);
    let row_version =
        |c: &Central| c.text(&format!("SELECT xmin::text FROM alerts WHERE id = {id}"));
    let version = row_version(&central);
    assert_eq!(central_alert(&central, "late", id), "ops|mine|t|f|2");
    // The same batch again, and the older one arriving late: neither writes the row.
    ship_by_hand(&mut central, "late", &acked);
    ship_by_hand(&mut central, "late", &open);
    assert_eq!(central_alert(&central, "late", id), "ops|mine|t|f|2");
    assert_eq!(row_version(&central), version);
    assert_eq!(central.count("SELECT count(*) FROM alerts"), 1);
}

/// A round big enough to split over two connections (`fleet::round`) whose second half cannot
/// be written (a conflicting row held by another open transaction) fails whole: its first half,
/// though written, is not committed, so the store keeps a prefix and nothing ships out of order.
/// Once the other transaction ends, everything ships, once.
#[test]
fn a_split_round_whose_second_half_is_held_up_commits_neither_half() {
    let pg = TempPostgres::start();
    let central = Central::connect(&pg.url());
    let hall = hall_shipped(&pg, &central, "split", 0, 10);
    // The next round: seqs 11..=2010 (the test batch is 2,000), split at 1,010 | 1,011.
    hall.append(10, 3_000);
    let reader =
        ledger::SqliteBackend::open(hall.ledger_path(), ledger::OpenOptions::read_only()).unwrap();
    let held = &reader.outbox_decisions(1_499, 1).unwrap()[0];
    assert_eq!(held.seq, 1_500);
    let blocker = Central::connect(&pg.url());
    blocker.execute("BEGIN");
    blocker.execute(&format!(
        "INSERT INTO decisions (hall_id, seq, ts, decision_id, correlation_id, tenant_id, \
         capability_id, matched_rule_id, env, data_label, qos_class, denied, dry_run, \
         prev_hash, hash, body) VALUES ('split', 1500, \
         timestamptz 'epoch' + interval '{} microseconds', 'x', 'x', 'x', 'x', 'x', 'x', 'x', \
         'x', false, false, '', '', '')",
        held.fields.ts_micros
    ));

    let shipper = hall.shipper(&pg.url());
    wait_for_error(
        &shipper,
        "the second half timing out on its lock",
        "lock timeout",
    );
    assert_eq!(central.decisions_of("split"), (10, 10));

    blocker.execute("ROLLBACK");
    wait_until("everything shipped", DEADLINE, || {
        shipped_all(&central, &hall)
    });
    assert_eq!(central.decisions_of("split"), (3_010, 3_010));
    assert!(central.verify().ok());
}
