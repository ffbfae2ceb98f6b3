//! Router speed on the shared scenario (benches/reference/scenario: 50 rules, 200 enrolled
//! workers, 1,000 mixed allowed/denied requests), single thread.
//!
//! `cargo bench -p wcp --bench route` runs the criterion groups, then a timing loop that
//! reports decisions/s with p50/p99 per decision. `WCP_BENCH_LOOP_ONLY=1` skips criterion
//! and prints only the loop's figures as one JSON line (used by benches/reference/run.sh).
//! `WCP_BENCH_PHASES=40000` prints instead where `proctor route`'s time goes per line: the
//! general parse (`Value`, then RouteInput) against the canonical fast path, the decision and
//! its artifact hash, serde_json's serialization against `wcp::wire`'s, and the drop.

use criterion::{black_box, BenchmarkId, Criterion, Throughput};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;
// The CLI's allocator, so that the phases cost what they cost in `proctor route`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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

/// Parse, decide and serialize one line, as `proctor route` does (the `wcp::wire` fast paths,
/// the general parser for a line that is not canonical).
fn end_to_end(router: &Router, line: &str, out: &mut Vec<u8>) {
    let input = wcp::wire::parse_canonical_route_input(line.as_bytes())
        .unwrap_or_else(|| parse_route_input_owned(serde_json::from_str(line).unwrap()).unwrap());
    wcp::wire::write_decision(out, &router.decide(&input));
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

/// Where the end-to-end time goes, phase by phase, over `n` lines (the scenario cycled), in
/// batches of 64 lines: each phase runs over the whole batch before the next starts, so no
/// timer sits inside a phase and a batch stays in cache, as one line does in `proctor route`.
/// `WCP_BENCH_PHASES=N` prints one JSON line of ns per line and phase (with the CLI's allocator).
fn phases(s: &Scenario, n: usize) -> Value {
    const BATCH: usize = 64;
    let names = [
        "json_value",
        "route_input",
        "parse_canonical_wire",
        "decide",
        "of_which_artifact_hash",
        "serialize_serde_json",
        "serialize_wire",
        "drop",
    ];
    let mut total = [0u128; 8];
    let mut out = Vec::with_capacity(BATCH * 4096);
    let mut bytes = 0;
    let mut i = 0;
    while i < n {
        let lines: Vec<&str> = (i..(i + BATCH).min(n))
            .map(|j| s.lines[j % s.lines.len()].as_str())
            .collect();
        i += lines.len();
        let mut lap = {
            let mut t = Instant::now();
            move |slot: &mut u128| {
                let now = Instant::now();
                *slot += (now - t).as_nanos();
                t = now;
            }
        };
        let values: Vec<Value> = lines
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        lap(&mut total[0]);
        let inputs: Vec<RouteInput> = values
            .into_iter()
            .map(|v| parse_route_input_owned(v).unwrap())
            .collect();
        lap(&mut total[1]);
        let canonical: Vec<RouteInput> = lines
            .iter()
            .map(|l| wcp::wire::parse_canonical_route_input(l.as_bytes()).unwrap())
            .collect();
        lap(&mut total[2]);
        let decisions: Vec<_> = inputs.iter().map(|i| s.router.decide(i)).collect();
        lap(&mut total[3]);
        for inp in &inputs {
            black_box(artifact_hash(black_box(inp)));
        }
        lap(&mut total[4]);
        out.clear();
        for d in &decisions {
            serde_json::to_writer(&mut out, d).unwrap();
            out.push(b'\n');
        }
        lap(&mut total[5]);
        let serde_len = out.len();
        out.clear();
        for d in &decisions {
            wcp::wire::write_decision(&mut out, d);
            out.push(b'\n');
        }
        lap(&mut total[6]);
        assert_eq!(out.len(), serde_len);

        bytes += serde_len;
        drop(decisions);
        drop(inputs);
        lap(&mut total[7]);
        assert!(black_box(canonical).len() == lines.len());
    }
    let mut ns = serde_json::Map::new();
    for (name, t) in names.iter().zip(total) {
        let per_line = t as f64 / n as f64;
        ns.insert(
            (*name).into(),
            Value::from((per_line * 10.0).round() / 10.0),
        );
    }
    ns.insert("bytes_per_line".into(), Value::from(bytes / n));
    Value::Object(ns)
}

fn main() {
    let s = load();
    if let Some(n) = std::env::var("WCP_BENCH_PHASES")
        .ok()
        .and_then(|n| n.parse().ok())
    {
        println!("{}", phases(&s, n));
        return;
    }
    if std::env::var_os("WCP_BENCH_LOOP_ONLY").is_none() {
        let mut c = Criterion::default().configure_from_args();
        criterion_benches(&mut c, &s);
        c.final_summary();
    }
    let figures = timing_loop(&s, 300_000);
    println!("{figures}");
}
