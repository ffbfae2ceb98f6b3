//! Shipping throughput: one hall's ledger of 100,000 realistic decisions shipped into a local
//! PostgreSQL (fleet::testing::TempPostgres, as the tests run it) by the real shipper, from a
//! cold start (connect, migrate, register) until its backlog is empty, each round under a new
//! hall id so every row is a real insert. Alternated, round by round, with the ceiling:
//! PostgreSQL alone copying the same rows under another hall id with one `INSERT … SELECT`
//! (no client, no SQLite), once in one session and once split over two sessions at once.
//! Target: ≥ 20,000 records/s per hall (docs/fleet.md, BENCHMARKS.md).
//!
//! `cargo bench -p fleet --bench ship` (`ROUNDS=n`, default 5; `RECORDS=n`, default 100,000)

#[path = "../../ledger/tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use fleet::testing::TempPostgres;
use fleet::{HallIdentity, Shipper, ShipperConfig};

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let (rounds, records) = (env_or("ROUNDS", 5), env_or("RECORDS", 100_000));
    // PG_SETTINGS="name=value …": server settings to try (e.g. shared_buffers=1GB).
    let settings = std::env::var("PG_SETTINGS").unwrap_or_default();
    let pg = TempPostgres::start_with(&settings.split_whitespace().collect::<Vec<_>>());
    let dir = tempfile::tempdir().unwrap();
    let ledger_path = dir.path().join("ledger.sqlite");
    {
        let ledger = ledger::Ledger::open(&ledger_path).unwrap();
        let pending: Vec<_> = (0..records)
            .map(|i| ledger.submit(common::decision(i)).unwrap())
            .collect();
        for rx in pending {
            rx.blocking_recv().unwrap().unwrap();
        }
        ledger.close();
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let connect = || {
        let (client, connection) = runtime
            .block_on(tokio_postgres::connect(&pg.url(), tokio_postgres::NoTls))
            .unwrap();
        runtime.spawn(connection);
        client
    };
    let (client, other) = (connect(), connect());

    let (mut ours, mut ceiling, mut ceiling2) = (Vec::new(), Vec::new(), Vec::new());
    for round in 1..=rounds {
        let shipped = format!("bench-{round}");
        let took = ship(&pg, &ledger_path, &shipped, records);
        ours.push(records as f64 / took.as_secs_f64());
        let start = Instant::now();
        let copied = runtime
            .block_on(copy(
                &client,
                &shipped,
                &format!("alone-{round}"),
                0,
                records,
            ))
            .unwrap();
        assert_eq!(copied, records);
        ceiling.push(records as f64 / start.elapsed().as_secs_f64());
        // The same with two sessions at once, each copying half (as the shipper's two
        // connections do while a backlog drains).
        let (to, half) = (format!("alone2-{round}"), records / 2);
        let start = Instant::now();
        let (a, b) = runtime
            .block_on(async {
                tokio::try_join!(
                    copy(&client, &shipped, &to, 0, half),
                    copy(&other, &shipped, &to, half, records)
                )
            })
            .unwrap();
        assert_eq!(a + b, records);
        ceiling2.push(records as f64 / start.elapsed().as_secs_f64());
        let last = |v: &Vec<f64>| v[v.len() - 1];
        println!(
            "round {round}: shipper {:.0} records/s, PostgreSQL alone {:.0} rows/s (two sessions \
             {:.0} rows/s), ratio {:.2} (load {})",
            last(&ours),
            last(&ceiling),
            last(&ceiling2),
            last(&ours) / last(&ceiling),
            load()
        );
    }
    let (ours, ceiling, ceiling2) = (median(ours), median(ceiling), median(ceiling2));
    println!(
        "median of {rounds}: shipper {ours:.0} records/s, PostgreSQL alone {ceiling:.0} rows/s \
         (two sessions {ceiling2:.0} rows/s), ratio {:.2}",
        ours / ceiling
    );
}

/// PostgreSQL alone: `from`'s decisions with seq in (after, through] copied under hall `to`
/// by one `INSERT … SELECT` (no client, no SQLite).
async fn copy(
    client: &tokio_postgres::Client,
    from: &str,
    to: &str,
    after: u64,
    through: u64,
) -> Result<u64, tokio_postgres::Error> {
    client
        .execute(
            "INSERT INTO decisions (hall_id, seq, ts, decision_id, correlation_id, tenant_id, \
             capability_id, matched_rule_id, worker, env, data_label, qos_class, denied, \
             deny_code, deny_message, dry_run, artifact_hash, prev_hash, hash, body) \
             SELECT $2, seq, ts, decision_id, correlation_id, tenant_id, capability_id, \
             matched_rule_id, worker, env, data_label, qos_class, denied, deny_code, \
             deny_message, dry_run, artifact_hash, prev_hash, hash, body \
             FROM decisions WHERE hall_id = $1 AND seq > $3 AND seq <= $4",
            &[&from, &to, &(after as i64), &(through as i64)],
        )
        .await
}

/// The real shipper from a cold start until `records` shipped and the backlog is empty.
fn ship(pg: &TempPostgres, ledger_path: &std::path::Path, hall_id: &str, records: u64) -> Duration {
    let state = tempfile::tempdir().unwrap();
    let start = Instant::now();
    let shipper = Shipper::start(ShipperConfig {
        database_url: pg.url(),
        data_dir: state.path().to_path_buf(),
        ledger_path: ledger_path.to_path_buf(),
        checkpoint_files: Vec::new(),
        identity: HallIdentity {
            hall_id: hall_id.into(),
            public_key: "bench".into(),
            key_name: "bench".into(),
            verifier_key: "bench".into(),
            name: "bench".into(),
            version: "bench".into(),
        },
        batch: fleet::shipper::DEFAULT_BATCH,
        poll: Duration::from_millis(5),
        interval: Duration::from_millis(5),
    })
    .unwrap();
    loop {
        let s = shipper.status();
        if s.shipped >= records && s.backlog.total == 0 {
            break;
        }
        assert!(s.last_error.is_none(), "{s:?}");
        std::thread::sleep(Duration::from_millis(1));
    }
    let took = start.elapsed();
    shipper.stop();
    took
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The 1-minute load average, for the record.
fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}
