//! Ledger benches: durable group-commit appends from 8 producers vs one transaction per
//! decision; durable linked-record appends from 16 concurrent async callers; history page,
//! free-text search and verify on a 1,000,000-record ledger.
//!
//! `cargo bench -p ledger --bench ledger`. The 1M-record file is generated once into
//! `$PROCTOR_BENCH_DIR` (default /tmp/proctor-ledger-bench) and reused; its size is printed.

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ledger::{
    CountRequest, DecisionFields, Filter, Ledger, LedgerBackend, NewLinkedRecord, NewRecord,
    OpenOptions, PageRequest, SqliteBackend, SummaryRequest,
};

const PRODUCERS: u64 = 8;
const PER_PRODUCER: u64 = 5_000;
const BIG: u64 = 1_000_000;

fn bench_dir() -> PathBuf {
    let dir = std::env::var_os("PROCTOR_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("proctor-ledger-bench"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn fresh(name: &str) -> PathBuf {
    let path = bench_dir().join(name);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    path
}

fn appends(c: &mut Criterion) {
    let mut group = c.benchmark_group("append");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));

    group_commit(&mut group, "group_commit_8_producers", false);
    // The same, timed until the free-text index (maintained after commit) has caught up too.
    group_commit(&mut group, "group_commit_8_producers_and_indexed", true);

    const NAIVE: u64 = 200;
    let naive = SqliteBackend::open(fresh("naive.db"), OpenOptions::default()).unwrap();
    let mut next = 10_000_000u64;
    group.throughput(Throughput::Elements(NAIVE));
    group.bench_function(
        BenchmarkId::new("one_transaction_per_decision", NAIVE),
        |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let records: Vec<NewRecord> = (0..NAIVE)
                        .map(|_| {
                            next += 1;
                            NewRecord::from_json(common::decision(next)).unwrap()
                        })
                        .collect();
                    let start = Instant::now();
                    for r in records {
                        naive
                            .append_batch(std::slice::from_ref(&r))
                            .unwrap()
                            .pop()
                            .unwrap()
                            .unwrap();
                    }
                    total += start.elapsed();
                }
                total
            })
        },
    );
    group.finish();
}

fn group_commit(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    indexed: bool,
) {
    let ledger = Arc::new(Ledger::open(fresh(&format!("{name}.db"))).unwrap());
    let cpu_per_decision = std::sync::Mutex::new((Duration::ZERO, 0u64));
    let mut next = 0u64;
    group.throughput(Throughput::Elements(PRODUCERS * PER_PRODUCER));
    group.bench_function(BenchmarkId::new(name, PER_PRODUCER * PRODUCERS), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                // What the hall hands the ledger is made before the clock starts: each
                // decision's JSON and its columns, which the hall takes from the typed decision
                // it just made (`hall::record`, `NewRecord::from_parts`).
                let work: Vec<Vec<(DecisionFields, String)>> = (0..PRODUCERS)
                    .map(|_| {
                        (0..PER_PRODUCER)
                            .map(|_| {
                                next += 1;
                                let json = common::decision(next);
                                (DecisionFields::from_json(&json).unwrap(), json)
                            })
                            .collect()
                    })
                    .collect();
                let start = Instant::now();
                let cpu_start = common::cpu_time("/proc/self/stat");
                let threads: Vec<_> = work
                    .into_iter()
                    .map(|batch| {
                        let ledger = Arc::clone(&ledger);
                        std::thread::spawn(move || {
                            // Each producer keeps many decisions in flight, as concurrent
                            // route calls do, and waits for every receipt.
                            let pending: Vec<_> = batch
                                .into_iter()
                                .map(|(fields, json)| {
                                    let record = NewRecord::from_parts(fields, json).unwrap();
                                    ledger.submit_record(record).unwrap()
                                })
                                .collect();
                            for p in pending {
                                p.blocking_recv().unwrap().unwrap();
                            }
                        })
                    })
                    .collect();
                for t in threads {
                    t.join().unwrap();
                }
                while indexed && ledger.unindexed() > 0 {
                    std::thread::sleep(Duration::from_micros(200));
                }
                total += start.elapsed();
                let mut acc = cpu_per_decision.lock().unwrap();
                acc.0 += common::cpu_time("/proc/self/stat") - cpu_start;
                acc.1 += PRODUCERS * PER_PRODUCER;
            }
            total
        })
    });
    let (cpu, n) = *cpu_per_decision.lock().unwrap();
    eprintln!(
        "{name}: {:.1} µs of CPU (all threads: check, compress, write{}) per decision over {n} decisions",
        cpu.as_secs_f64() * 1e6 / n as f64,
        if indexed { ", free-text index" } else { "" }
    );
}

const LINKED_CALLERS: u64 = 16;
const LINKED_PER_CALLER: u64 = 250;

/// What an MCP gateway records after each forwarded call: 16 async tasks (as concurrent tool
/// calls would be), each appending its records one after another and awaiting each, on a
/// multi-threaded runtime. Every append is durable when it resolves; group commit batches
/// whatever is queued meanwhile into one transaction and one WAL flush.
fn linked_appends(c: &mut Criterion) {
    let mut group = c.benchmark_group("linked");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    let ledger = Arc::new(Ledger::open(fresh("linked.db")).unwrap());
    let decisions: Vec<String> = (0..1000u64)
        .map(|i| {
            let json = common::decision(20_000_000 + i);
            let id = DecisionFields::from_json(&json).unwrap().decision_id;
            ledger.append_blocking(json).unwrap();
            id
        })
        .collect();
    let decisions = Arc::new(decisions);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut next = 0u64;
    group.throughput(Throughput::Elements(LINKED_CALLERS * LINKED_PER_CALLER));
    group.bench_function(
        BenchmarkId::new(
            "append_16_async_callers",
            LINKED_CALLERS * LINKED_PER_CALLER,
        ),
        |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let first = next;
                    next += LINKED_CALLERS * LINKED_PER_CALLER;
                    let start = Instant::now();
                    runtime.block_on(async {
                        let tasks: Vec<_> = (0..LINKED_CALLERS)
                            .map(|caller| {
                                let ledger = Arc::clone(&ledger);
                                let decisions = Arc::clone(&decisions);
                                tokio::spawn(async move {
                                    for j in 0..LINKED_PER_CALLER {
                                        let n = first + caller * LINKED_PER_CALLER + j;
                                        let record = mcp_call(&decisions, n);
                                        ledger.append_linked(record).await.unwrap();
                                    }
                                })
                            })
                            .collect();
                        for t in tasks {
                            t.await.unwrap();
                        }
                    });
                    total += start.elapsed();
                }
                total
            })
        },
    );
    group.finish();
}

fn mcp_call(decisions: &[String], n: u64) -> NewLinkedRecord {
    NewLinkedRecord {
        at: chrono::Utc::now(),
        kind: "mcp_call".into(),
        decision_id: decisions[(n % decisions.len() as u64) as usize].clone(),
        correlation_id: format!("corr-{n:08x}"),
        server: Some(format!("wrk.mcp.s{}", n % 4)),
        tool: Some(format!("tool_{}", n % 12)),
        body: serde_json::json!({
            "outcome": "ok",
            "latency_ms": n % 900,
            "result_bytes": (n * 37) % 65_536,
            "arguments_sha256": format!("{:016x}{:016x}{:016x}{:016x}",
                common::mix(n, 1), common::mix(n, 2), common::mix(n, 3), common::mix(n, 4)),
        }),
    }
}

/// The shared 1M-record ledger, generated on first use.
fn big_ledger_path() -> PathBuf {
    bench_dir().join("ledger-1m.db")
}

fn big_ledger() -> SqliteBackend {
    let path = big_ledger_path();
    let ready = bench_dir().join("ledger-1m.ready");
    if !ready.exists() {
        let path = fresh("ledger-1m.db");
        let backend = SqliteBackend::open(&path, OpenOptions::default()).unwrap();
        let start = Instant::now();
        for chunk in 0..BIG / 10_000 {
            let batch: Vec<NewRecord> = (chunk * 10_000..(chunk + 1) * 10_000)
                .map(|i| NewRecord::from_json(common::decision(i)).unwrap())
                .collect();
            backend.append_batch(&batch).unwrap();
        }
        // The free-text index follows commits; finish it before readers open the file.
        while backend.catch_up(100_000).unwrap() > 0 {}
        eprintln!("generated {BIG} decisions in {:?}", start.elapsed());
        drop(backend);
        std::fs::write(&ready, b"").unwrap();
    }
    // A file generated by an earlier build is upgraded in place and its index file built (a
    // read-only open can do neither).
    let writer = SqliteBackend::open(&path, OpenOptions::default()).unwrap();
    let start = Instant::now();
    if writer.lag() > 0 {
        while writer.catch_up(100_000).unwrap() > 0 {}
        eprintln!("indexed {BIG} decisions in {:?}", start.elapsed());
    }
    drop(writer);
    let backend = SqliteBackend::open(&path, OpenOptions::read_only()).unwrap();
    let size: u64 = ["", "-wal"]
        .iter()
        .filter_map(|s| std::fs::metadata(format!("{}{s}", path.display())).ok())
        .map(|m| m.len())
        .sum();
    eprintln!(
        "ledger file with {BIG} decisions: {size} bytes ({:.1} MiB)",
        size as f64 / 1048576.0
    );
    backend
}

fn queries(c: &mut Criterion) {
    let backend = big_ledger();
    let mut group = c.benchmark_group("history_1m");
    let mut i = 0usize;
    let mut next = || {
        i += 1;
        i
    };
    group.bench_function("page50_capability_and_env_second_page", |b| {
        b.iter(|| {
            let f = Filter {
                capability_id: Some(common::CAPS[next() % 10].into()),
                env: Some("prod".into()),
                ..Filter::default()
            };
            let first = backend.page(&PageRequest::first(f.clone(), 50)).unwrap();
            let second = PageRequest {
                filter: f,
                limit: 50,
                cursor: first.next_cursor,
            };
            assert_eq!(backend.page(&second).unwrap().records.len(), 50);
        })
    });
    group.bench_function("fts_deny_code_and_tenant_page50", |b| {
        b.iter(|| {
            let text = format!("DENY_REQUIRES_HUMAN {}", common::TENANTS[next() % 20]);
            let f = Filter {
                text: Some(text),
                ..Filter::default()
            };
            assert_eq!(
                backend
                    .page(&PageRequest::first(f, 50))
                    .unwrap()
                    .records
                    .len(),
                50
            );
        })
    });
    group.bench_function("fts_decision_id", |b| {
        b.iter(|| {
            let i = (next() as u64 * 7919) % BIG;
            let id = uuid::Uuid::from_u64_pair(common::mix(i, 11), common::mix(i, 12)).to_string();
            let f = Filter {
                text: Some(id),
                ..Filter::default()
            };
            assert_eq!(
                backend
                    .page(&PageRequest::first(f, 50))
                    .unwrap()
                    .records
                    .len(),
                1
            );
        })
    });
    lookups(&mut group, &backend);
    // The explorer's summary (count, buckets, facets) of the newest 10,000 matches (the hall's
    // bound): the whole ledger (its total counted on the time index), one tenant (a posting
    // index drives it) and env + denied (no index: a scan until 10,000 match).
    let summary = |filter: Filter| {
        let request = SummaryRequest {
            filter,
            bucket_seconds: None,
            top: 10,
            scan: 10_000,
        };
        backend.summary(&request).unwrap()
    };
    // Last in the group: fewer samples for these slower reads.
    group.sample_size(20);
    group.bench_function("summary_all", |b| {
        b.iter(|| assert!(summary(Filter::default()).total_exact))
    });
    group.bench_function("summary_tenant", |b| {
        b.iter(|| {
            summary(Filter {
                tenant_id: Some(common::TENANTS[next() % 20].into()),
                ..Filter::default()
            })
        })
    });
    group.bench_function("summary_env_denied", |b| {
        b.iter(|| {
            summary(Filter {
                env: Some("prod".into()),
                denied: Some(true),
                ..Filter::default()
            })
        })
    });
    // The exact count the explorer asks for after a summary's "10,000+", on the same three
    // filters, with a budget none of them may reach here (the hall's is 1.5 s).
    let count = |filter: Filter| {
        let request = CountRequest {
            filter,
            budget: Duration::from_secs(60),
        };
        let count = backend.count(&request).unwrap();
        assert!(count.exact);
        count.total
    };
    group.bench_function("count_all", |b| {
        b.iter(|| assert!(count(Filter::default()) >= BIG))
    });
    group.bench_function("count_tenant", |b| {
        b.iter(|| {
            count(Filter {
                tenant_id: Some(common::TENANTS[next() % 20].into()),
                ..Filter::default()
            })
        })
    });
    group.bench_function("count_env_denied", |b| {
        b.iter(|| {
            count(Filter {
                env: Some("prod".into()),
                denied: Some(true),
                ..Filter::default()
            })
        })
    });
    group.finish();

    // The same lookups while the newest 4,096 records (one derived-index step) wait to be
    // indexed, as under sustained load: they are found by the tail scan.
    let writer = SqliteBackend::open(big_ledger_path(), OpenOptions::default()).unwrap();
    let newest = writer
        .page(&PageRequest::first(Filter::default(), 1))
        .unwrap();
    let next_i = newest.records[0].seq as u64; // record i has seq i + 1
    let tail: Vec<NewRecord> = (next_i..next_i + 4096)
        .map(|i| NewRecord::from_json(common::decision(i)).unwrap())
        .collect();
    writer.append_batch(&tail).unwrap();
    assert_eq!(writer.lag(), 4096);
    let mut group = c.benchmark_group("history_1m_4096_unindexed");
    lookups(&mut group, &writer);
    group.finish();
    while writer.catch_up(100_000).unwrap() > 0 {}

    let mut group = c.benchmark_group("verify_1m");
    group.sample_size(10).throughput(Throughput::Elements(BIG));
    group.bench_function("verify", |b| {
        b.iter(|| assert!(backend.verify(&mut |_| {}).unwrap().is_intact()))
    });
    group.finish();
}

/// A filtered page, a decision by id and a trace by correlation id, spread over the ledger.
fn lookups(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    backend: &SqliteBackend,
) {
    let mut n = 0u64;
    group.bench_function("page50_tenant_and_denied", |b| {
        b.iter(|| {
            n += 1;
            let f = Filter {
                tenant_id: Some(common::TENANTS[n as usize % 20].into()),
                denied: Some(true),
                ..Filter::default()
            };
            let page = backend.page(&PageRequest::first(f, 50)).unwrap();
            assert_eq!(page.records.len(), 50);
        })
    });
    group.bench_function("get_by_id", |b| {
        b.iter(|| {
            n += 1;
            let i = (n * 7919) % BIG;
            let id = uuid::Uuid::from_u64_pair(common::mix(i, 11), common::mix(i, 12)).to_string();
            assert!(backend.get(&id).unwrap().is_some());
        })
    });
    group.bench_function("trace_correlation", |b| {
        b.iter(|| {
            n += 1;
            let i = (n * 7919) % (BIG - 3); // not the last, short group
            let trace = backend.trace(&format!("corr-{:08x}", i / 3)).unwrap();
            assert_eq!(trace.len(), 3);
        })
    });
}

criterion_group!(benches, appends, linked_appends, queries);
criterion_main!(benches);
