//! `Hall::route` in-process (no HTTP): parse, decide, durable group-committed append, events.
//! 64 concurrent callers, like 64 HTTP connections; the scenario of benches/reference.
//!
//! `cargo bench -p hall --bench route`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use serde_json::Value;
use std::path::Path;

const CALLERS: usize = 64;
const PER_CALLER: usize = 32;

fn scenario() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../benches/reference/scenario")
}

fn bench(c: &mut Criterion) {
    let scenario = scenario();
    let requests: Vec<Value> = std::fs::read_to_string(scenario.join("requests.jsonl"))
        .expect("run benches/reference/gen_scenario.py first")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(scenario.join("rules.json"), dir.path().join("rules.json")).unwrap();
    std::fs::copy(scenario.join("gate.json"), dir.path().join("gate.json")).unwrap();
    std::fs::create_dir(dir.path().join("registry")).unwrap();
    for f in std::fs::read_dir(scenario.join("registry")).unwrap() {
        let f = f.unwrap();
        std::fs::copy(f.path(), dir.path().join("registry").join(f.file_name())).unwrap();
    }
    std::fs::write(
        dir.path().join("config.toml"),
        "policy_gate_file = \"gate.json\"\n",
    )
    .unwrap();
    let (config, _) = hall::Config::load_or_init(dir.path()).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let hall = rt.block_on(hall::Hall::open(config)).unwrap();

    let mut group = c.benchmark_group("hall");
    group.throughput(Throughput::Elements((CALLERS * PER_CALLER) as u64));
    group.sample_size(20);
    group.bench_function("route_durable_64_callers", |b| {
        b.iter(|| {
            rt.block_on(async {
                let tasks: Vec<_> = (0..CALLERS)
                    .map(|t| {
                        let hall = hall.clone();
                        let inputs: Vec<Value> = (0..PER_CALLER)
                            .map(|i| requests[(t * PER_CALLER + i) % requests.len()].clone())
                            .collect();
                        tokio::spawn(async move {
                            for input in inputs {
                                hall.route(input).await.unwrap();
                            }
                        })
                    })
                    .collect();
                for t in tasks {
                    t.await.unwrap();
                }
            })
        })
    });
    group.finish();
    rt.block_on(hall.close());
}

criterion_group!(benches, bench);
criterion_main!(benches);
