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

/// How the scenario's workers are checked at route time.
#[derive(Clone, Copy, PartialEq)]
enum Check {
    /// The records name no package (the scenario as it is).
    None,
    /// Every record names a signed package (two small files) and its `code_hash`; only the
    /// reference's hash comparison runs (`require_worker_attestation`, signed check off).
    HashFloor,
    /// Same packages, signed by a trusted `org.bench` key: the signed-package check runs
    /// (docs/attest.md), the hash floor does not.
    Signed,
}

/// A data dir holding the scenario, its workers checked as `check` says.
fn data_dir(check: Check) -> tempfile::TempDir {
    let scenario = scenario();
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(scenario.join("rules.json"), dir.path().join("rules.json")).unwrap();
    std::fs::copy(scenario.join("gate.json"), dir.path().join("gate.json")).unwrap();
    std::fs::create_dir(dir.path().join("registry")).unwrap();
    let mut config = "policy_gate_file = \"gate.json\"\n".to_string();
    let key = (check != Check::None).then(|| {
        let key = attest::KeyStore::new(&dir.path().join("keys"))
            .create(&attest::Namespace::parse("org.bench").unwrap())
            .unwrap();
        let mut trust = attest::TrustStore::default();
        trust.trust(key.public()).unwrap();
        trust.save(&dir.path().join("trust.json")).unwrap();
        config.push_str(match check {
            Check::HashFloor => {
                "[hall_config]\nrequire_worker_attestation = true\n[attestation]\nenforce_signed = false\n"
            }
            _ => "[attestation]\ntrust_file = \"trust.json\"\n",
        });
        key
    });
    for f in std::fs::read_dir(scenario.join("registry")).unwrap() {
        let f = f.unwrap();
        let mut record: Value =
            serde_json::from_str(&std::fs::read_to_string(f.path()).unwrap()).unwrap();
        if let Some(key) = &key {
            let worker_id = record["worker_id"].as_str().unwrap().to_owned();
            let pkg = dir.path().join("packages").join(&worker_id);
            std::fs::create_dir_all(pkg.join("lib")).unwrap();
            std::fs::write(
                pkg.join("main.py"),
                format!("# {worker_id}\nprint('work')\n"),
            )
            .unwrap();
            std::fs::write(pkg.join("lib/util.py"), "X = 1\n").unwrap();
            let request = attest::SignRequest {
                worker_id: &worker_id,
                worker_species_id: record["worker_species_id"].as_str().unwrap(),
                worker_version: "1.0.0",
                build_source: attest::BuildSource::Ci,
                hmac_secret: None,
                hash: attest::HashOptions::default(),
                progress: None,
                now: chrono::Utc::now(),
            };
            let signed = attest::sign_package(&pkg, key, &request).unwrap();
            record["attestation"] =
                serde_json::json!({"package_dir": pkg, "code_hash": signed.package_hash});
        }
        std::fs::write(
            dir.path().join("registry").join(f.file_name()),
            record.to_string(),
        )
        .unwrap();
    }
    std::fs::write(dir.path().join("config.toml"), config).unwrap();
    dir
}

fn bench(c: &mut Criterion) {
    let requests: Vec<Value> = std::fs::read_to_string(scenario().join("requests.jsonl"))
        .expect("run benches/reference/gen_scenario.py first")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("hall");
    group.throughput(Throughput::Elements((CALLERS * PER_CALLER) as u64));
    group.sample_size(20);
    for (name, check) in [
        ("route_durable_64_callers", Check::None),
        ("route_durable_64_callers_hash_floor", Check::HashFloor),
        ("route_durable_64_callers_signed_packages", Check::Signed),
    ] {
        let dir = data_dir(check);
        let (config, _) = hall::Config::load_or_init(dir.path()).unwrap();
        let hall = rt.block_on(hall::Hall::open(config)).unwrap();
        // The checked cases must measure what they say: their allowed decisions were checked.
        let checked = rt.block_on(async {
            let mut checked = 0;
            for input in requests.iter().take(200) {
                let routed = hall.route(input.clone()).await.unwrap();
                let d: Value = serde_json::from_str(&routed.decision_json).unwrap();
                checked += usize::from(d["worker_attestation_checked"] == true);
            }
            checked
        });
        assert_eq!(
            checked > 0,
            check != Check::None,
            "{name}: {checked} of 200 decisions checked"
        );
        group.bench_function(name, |b| {
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
        rt.block_on(hall.close());
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
