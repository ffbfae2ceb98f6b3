//! Shipping throughput: one hall's ledger of 100,000 realistic decisions shipped into a local
//! PostgreSQL (fleet::testing::TempPostgres, as the tests run it) by the real shipper, from a
//! cold start (connect, migrate, register) until its backlog is empty. Each sample ships the
//! whole ledger under a new hall id, so every row is a real insert. Target: ≥ 20,000 records/s
//! per hall (docs/fleet.md, BENCHMARKS.md).
//!
//! `cargo bench -p fleet --bench ship`

#[path = "../../ledger/tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use fleet::testing::TempPostgres;
use fleet::{HallIdentity, Shipper, ShipperConfig};

const RECORDS: u64 = 100_000;

fn ship(c: &mut Criterion) {
    let pg = TempPostgres::start();
    let dir = tempfile::tempdir().unwrap();
    let ledger_path = dir.path().join("ledger.sqlite");
    {
        let ledger = ledger::Ledger::open(&ledger_path).unwrap();
        let pending: Vec<_> = (0..RECORDS)
            .map(|i| ledger.submit(common::decision(i)).unwrap())
            .collect();
        for rx in pending {
            rx.blocking_recv().unwrap().unwrap();
        }
        ledger.close();
    }
    let mut group = c.benchmark_group("ship");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(60))
        .throughput(Throughput::Elements(RECORDS));
    let mut run = 0;
    group.bench_function("records_into_local_postgres", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                run += 1;
                let state = tempfile::tempdir().unwrap();
                let hall_id = format!("bench-{run}");
                let start = Instant::now();
                let shipper = Shipper::start(ShipperConfig {
                    database_url: pg.url(),
                    data_dir: state.path().to_path_buf(),
                    ledger_path: ledger_path.clone(),
                    checkpoint_files: Vec::new(),
                    identity: HallIdentity {
                        hall_id: hall_id.clone(),
                        public_key: "bench".into(),
                        key_name: "bench".into(),
                        verifier_key: "bench".into(),
                        name: "bench".into(),
                        version: "bench".into(),
                    },
                    batch: fleet::shipper::DEFAULT_BATCH,
                    poll: Duration::from_millis(5),
                })
                .unwrap();
                loop {
                    let s = shipper.status();
                    if s.shipped >= RECORDS && s.backlog.total == 0 {
                        break;
                    }
                    assert!(s.last_error.is_none(), "{s:?}");
                    std::thread::sleep(Duration::from_millis(1));
                }
                total += start.elapsed();
                shipper.stop();
            }
            total
        })
    });
    group.finish();
}

criterion_group!(benches, ship);
criterion_main!(benches);
