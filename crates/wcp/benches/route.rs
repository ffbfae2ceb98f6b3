//! Router speed on the shared scenario (benches/reference/scenario: 50 rules, 200 enrolled
//! workers, 1,000 mixed allowed/denied requests), single thread.
//!
//! `cargo bench -p wcp --bench route` runs the criterion groups, then a timing loop that
//! reports decisions/s with p50/p99 per decision. `WCP_BENCH_LOOP_ONLY=1` skips criterion
//! and prints only the loop's figures as one JSON line (used by benches/reference/run.sh).

use criterion::{black_box, BenchmarkId, Criterion, Throughput};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;
use wcp::{
    artifact_hash, parse_route_input, parse_route_input_owned, DeclarativeGate, Registry,
    RouteInput, Router, RuleSet,
};

fn scenario_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../benches/reference/scenario")
}

fn read(path: PathBuf) -> String {
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run benches/reference/gen_scenario.py)",
            path.display()
        )
    })
}

struct Scenario {
    router: Router,
    lines: Vec<String>,
    inputs: Vec<RouteInput>,
}

fn load() -> Scenario {
    let dir = scenario_dir();
    let rules: RuleSet = read(dir.join("rules.json")).parse().expect("valid rules");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir.join("registry"))
        .expect("registry dir")
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    let mut registry = Registry::new();
    for p in paths {
        let record: Value = serde_json::from_str(&read(p)).expect("record JSON");
        registry.enroll(&record).expect("valid record");
    }
    let gate: Value = serde_json::from_str(&read(dir.join("gate.json"))).unwrap();
    let registry = Arc::new(registry);
    let router = Router::new(Arc::new(rules), registry.clone())
        .with_policy_gate(Arc::new(DeclarativeGate::from_json(&gate).unwrap()))
        .with_privilege_policy(registry);
    let lines: Vec<String> = read(dir.join("requests.jsonl"))
        .lines()
        .map(str::to_owned)
        .collect();
    let inputs = lines
        .iter()
        .map(|l| parse_route_input(&serde_json::from_str(l).unwrap()).unwrap())
        .collect();
    Scenario {
        router,
        lines,
        inputs,
    }
}

/// Parse, decide and serialize one line, as `proctor route` does.
fn end_to_end(router: &Router, line: &str, out: &mut Vec<u8>) {
    let v: Value = serde_json::from_str(line).unwrap();
    let input = parse_route_input_owned(v).unwrap();
    serde_json::to_writer(&mut *out, &router.decide(&input)).unwrap();
    out.push(b'\n');
}

fn criterion_benches(c: &mut Criterion, s: &Scenario) {
    let mut g = c.benchmark_group("router");
    g.throughput(Throughput::Elements(s.inputs.len() as u64));
    g.bench_function(BenchmarkId::new("decide", "1000_mixed_requests"), |b| {
        b.iter(|| {
            for inp in &s.inputs {
                black_box(s.router.decide(black_box(inp)));
            }
        })
    });
    g.bench_function(
        BenchmarkId::new("parse_decide_serialize", "1000_lines"),
        |b| {
            let mut out = Vec::with_capacity(4 << 20);
            b.iter(|| {
                out.clear();
                for line in &s.lines {
                    end_to_end(&s.router, line, &mut out);
                }
            })
        },
    );
    g.finish();
    c.bench_function("artifact_hash", |b| {
        b.iter(|| artifact_hash(black_box(&s.inputs[0])))
    });
    let rules_text = read(scenario_dir().join("rules.json"));
    c.bench_function("rules_load_50_with_shadow_detection", |b| {
        b.iter(|| black_box(&rules_text).parse::<RuleSet>().unwrap())
    });
}

/// Times every decision individually: rate, p50 and p99.
fn timing_loop(s: &Scenario, decisions: usize) -> Value {
    for inp in &s.inputs {
        black_box(s.router.decide(inp));
    }
    let mut samples = Vec::with_capacity(decisions);
    let start = Instant::now();
    for i in 0..decisions {
        let t0 = Instant::now();
        black_box(s.router.decide(&s.inputs[i % s.inputs.len()]));
        samples.push(t0.elapsed().as_nanos() as u64);
    }
    let elapsed = start.elapsed().as_secs_f64();
    samples.sort_unstable();
    let pct = |p: f64| {
        samples[((samples.len() as f64 * p) as usize).min(samples.len() - 1)] as f64 / 1000.0
    };
    serde_json::json!({
        "decisions": decisions,
        "in_process_rate": decisions as f64 / elapsed,
        "p50_us": pct(0.50),
        "p99_us": pct(0.99),
    })
}

fn main() {
    let s = load();
    if std::env::var_os("WCP_BENCH_LOOP_ONLY").is_none() {
        let mut c = Criterion::default().configure_from_args();
        criterion_benches(&mut c, &s);
        c.final_summary();
    }
    let figures = timing_loop(&s, 300_000);
    println!("{figures}");
}
