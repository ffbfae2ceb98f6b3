//! The real `proctor` binary: routing, rules and worker checks, conformance runs.

use crate::support::{proctor, Ran};
use assert_cmd::assert::Assert;
use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `proctor` run from the repository root, where the examples' relative paths lead.
fn at_root() -> Command {
    let mut cmd = proctor();
    cmd.current_dir(root());
    cmd
}

/// `proctor ARGS FILE` from the repository root, run.
fn at_root_on(args: &[&str], file: &Path) -> Assert {
    at_root().args(args).arg(file).assert()
}

/// `proctor route` with the example rules and registry.
fn route_examples() -> Command {
    let mut cmd = at_root();
    cmd.arg("route").args(EXAMPLES);
    cmd
}

/// The one decision of a run that must pass.
fn decided(cmd: &mut Command) -> Value {
    lines(&cmd.assert().success()).remove(0)
}

/// A file of `text` in a new temp dir (kept as long as the dir is).
fn temp_file(name: &str, text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(name);
    fs::write(&file, text).unwrap();
    (dir, file)
}

/// The stdout of a finished run, one JSON value per line.
fn lines(run: &Assert) -> Vec<Value> {
    String::from_utf8_lossy(&run.get_output().stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("every output line is JSON"))
        .collect()
}

const EXAMPLES: [&str; 4] = [
    "--rules",
    "examples/rules.json",
    "--registry",
    "examples/registry",
];

/// A web fetch of RESTRICTED data in prod: allowed only through an egress allowlist.
const FETCH_RESTRICTED_IN_PROD: [&str; 8] = [
    "--cap",
    "cap.web.fetch",
    "--env",
    "prod",
    "--data-label",
    "RESTRICTED",
    "--qos",
    "P3",
];

#[test]
fn quick_start_routes_the_example_input() {
    let d = &decided(route_examples().args(["--input", "examples/input.json"]));
    assert_eq!(d["denied"], false);
    assert_eq!(d["selected_worker_species_id"], "wrk.doc.summarizer");
    assert_eq!(d["matched_rule_id"], "rr_doc_summarize_dev");
    assert_eq!(d["artifact_hash"].as_str().unwrap().len(), 64);
}

#[test]
fn short_form_uses_defaults_and_generates_a_correlation_id() {
    let d = &decided(route_examples().args([
        "--cap",
        "cap.doc.summarize",
        "--env",
        "dev",
        "--data-label",
        "INTERNAL",
        "--tenant",
        "acme",
    ]));
    assert_eq!(d["tenant_id"], "acme");
    assert_eq!(d["qos_class"], "P2");
    assert_eq!(d["correlation_id"].as_str().unwrap().len(), 36);
    assert_eq!(d["denied"], false);
}

#[test]
fn short_form_bad_value_is_a_usage_error() {
    route_examples()
        .args(["--cap", "cap.doc.summarize", "--env", "production"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("env").and(predicate::str::contains("production")));
}

#[test]
fn jsonl_with_a_bad_line_keeps_order_and_goes_on() {
    let good = fs::read_to_string(root().join("examples/input.json")).unwrap();
    let good: Value = serde_json::from_str(&good).unwrap();
    let mut prod = good.clone();
    prod["env"] = "prod".into();
    let mut invalid = good.clone();
    invalid["qos_class"] = "P9".into();
    let (_dir, file) = temp_file(
        "in.jsonl",
        &format!("{good}\n{{not json\n\n{invalid}\n{prod}\n"),
    );
    let out = route_examples().arg("--input").arg(&file).assert().code(3);
    let got = lines(&out);
    assert_eq!(got.len(), 4, "one output line per non-blank input line");
    assert_eq!(got[0]["denied"], false);
    assert_eq!(got[1]["error"]["code"], "invalid_json");
    assert_eq!(got[1]["error"]["line"], 2);
    assert_eq!(
        got[2]["error"]["invalid_fields"],
        serde_json::json!(["qos_class"])
    );
    assert_eq!(got[3]["matched_rule_id"], "rr_doc_summarize_prod");
    assert!(String::from_utf8_lossy(&out.get_output().stderr)
        .contains("2 input line(s) could not be parsed"));
}

#[test]
fn stdin_and_multiline_documents() {
    let pretty = fs::read_to_string(root().join("examples/input.json")).unwrap();
    let out = route_examples()
        .args(["--input", "-"])
        .write_stdin(pretty)
        .assert()
        .success();
    assert_eq!(lines(&out).len(), 1);
    let input: Value =
        serde_json::from_str(&fs::read_to_string(root().join("examples/input.json")).unwrap())
            .unwrap();
    let array =
        serde_json::to_string_pretty(&serde_json::json!([input, {"env": "dev"}, input])).unwrap();
    let out = route_examples()
        .args(["--input", "-"])
        .write_stdin(array)
        .assert()
        .code(3);
    let got = lines(&out);
    assert_eq!(
        got.len(),
        3,
        "a pretty-printed array gives one line per element"
    );
    assert_eq!(got[1]["error"]["code"], "invalid_input");
    assert_eq!(got[2]["denied"], false);
}

#[test]
fn bad_rules_file_is_bad_input_naming_the_problem() {
    let (_dir, rules) = temp_file(
        "rules.json",
        r#"{"rules": [{"rule_id": "ok"}, {"rule_id": "bad", "match": {"env": {"in": "prod"}}}]}"#,
    );
    at_root()
        .arg("route")
        .arg("--rules")
        .arg(&rules)
        .args(["--input", "examples/input.json"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("rule #1 (\"bad\"): match.env.in"));
    at_root_on(&["rules", "check"], &rules)
        .code(3)
        .stderr(predicate::str::contains("match.env.in"));
    fs::write(&rules, "{").unwrap();
    at_root_on(&["rules", "check"], &rules)
        .code(3)
        .stderr(predicate::str::contains("not valid JSON"));
    at_root()
        .args([
            "route",
            "--rules",
            "/nonexistent/rules.json",
            "--input",
            "-",
        ])
        .assert()
        .code(3);
    route_examples()
        .args(["--input", "."])
        .assert()
        .code(3)
        .stderr(predicate::str::contains(".: is a directory"));
}

#[test]
fn rules_check_reports_shadowed_rules_with_both_ids() {
    at_root()
        .args(["rules", "check", "examples/rules.json"])
        .assert()
        .success()
        .stdout(predicate::str::contains("4 rule(s), valid"));
    let (_dir, rules) = temp_file(
        "rules.json",
        r#"{"rules": [{"rule_id": "catch_all", "match": {}}, {"rule_id": "specific", "match": {"capability_id": "cap.x"}}]}"#,
    );
    at_root_on(&["rules", "check"], &rules)
        .code(1)
        .stdout(predicate::str::contains(
            "rule \"specific\" is shadowed by rule \"catch_all\"",
        ))
        .stderr(predicate::str::contains("DENY_SHADOW_RULES_DETECTED"));
}

#[test]
fn workers_check_scores_records() {
    at_root()
        .args(["workers", "check", "examples/registry"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "org.acme.doc-summarizer (wrk.doc.summarizer): WCP-Full",
        ))
        .stdout(predicate::str::contains(
            "missing for WCP-Standard: ctrl.pol.default_deny",
        ));
    at_root()
        .args(["workers", "check", "examples/registry", "--require", "full"])
        .assert()
        .code(1);
    let out = at_root()
        .args(["workers", "check", "examples/registry", "--json"])
        .assert()
        .success();
    assert_eq!(lines(&out)[1]["achieved_level"], "WCP-Basic");
    at_root()
        .args(["workers", "check", "/nonexistent"])
        .assert()
        .code(3);
}

#[test]
fn conformance_run_passes_every_public_vector() {
    at_root()
        .args(["conformance", "run", "tests/vectors/route.jsonl"])
        .assert()
        .success()
        .stdout(predicate::str::ends_with("300 passed, 0 failed\n"));
}

#[test]
fn conformance_run_reports_mismatches() {
    let first = fs::read_to_string(root().join("tests/vectors/route.jsonl"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    let mut v: Value = serde_json::from_str(&first).unwrap();
    v["expected"]["matched_rule_id"] = "something_else".into();
    let (_dir, file) = temp_file("s.jsonl", &format!("{first}\n{v}\n"));
    at_root_on(&["conformance", "run"], &file)
        .code(1)
        .stdout(predicate::str::contains(
            "FAIL public-20261125-00000: matched_rule_id: expected \"something_else\"",
        ))
        .stdout(predicate::str::ends_with("1 passed, 1 failed\n"));
}

#[test]
fn conformance_run_of_an_empty_file_is_an_error_not_a_pass() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [("empty.jsonl", ""), ("blank.jsonl", "\n  \n")] {
        let file = dir.path().join(name);
        fs::write(&file, text).unwrap();
        at_root_on(&["conformance", "run"], &file)
            .code(3)
            .stderr(predicate::str::contains(format!(
                "{name}: no scenarios to run"
            )));
    }
}

#[test]
fn conformance_decide_answers_every_line() {
    let vectors = fs::read_to_string(root().join("tests/vectors/route.jsonl")).unwrap();
    let some: Vec<&str> = vectors.lines().take(40).collect();
    let mut input = format!("{}\nnot a scenario\n", some.join("\n")).into_bytes();
    input.extend_from_slice(b"\xff\n");
    let out = at_root()
        .args(["conformance", "decide"])
        .write_stdin(input)
        .assert()
        .success();
    let got = lines(&out);
    assert_eq!(
        got.len(),
        42,
        "one answer per line, even for a line that is not UTF-8"
    );
    assert_eq!(got[40]["scenario_valid"], false);
    assert_eq!(got[41]["scenario_valid"], false);
    for (line, answer) in some.iter().zip(&got) {
        let scenario: Value = serde_json::from_str(line).unwrap();
        let expected = &scenario["expected"];
        if expected["input_valid"] == false {
            assert_eq!(answer["input_valid"], false);
            assert_eq!(answer["invalid_fields"], expected["invalid_fields"]);
        } else {
            assert_eq!(answer["denied"], expected["denied"], "{}", scenario["id"]);
            assert_eq!(answer["matched_rule_id"], expected["matched_rule_id"]);
            assert_eq!(answer["artifact_hash"], expected["artifact_hash"]);
            assert_eq!(answer["decision_id"].as_str().unwrap().len(), 36);
        }
    }
}

#[test]
fn egress_allowlist_and_hall_config_flags() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.json");
    fs::write(
        &rules,
        r#"{"rules": [{"rule_id": "fetch", "match": {"capability_id": "cap.web.fetch"}, "decision": {
            "candidate_workers_ranked": [{"worker_species_id": "wrk.web.fetcher"}],
            "required_controls_suggested": ["ctrl.privilege_envelopes_required"]}}]}"#,
    )
    .unwrap();
    let request = |extra: &[&str]| {
        decided(
            at_root()
                .arg("route")
                .arg("--rules")
                .arg(&rules)
                .args(["--registry", "examples/registry"])
                .args(FETCH_RESTRICTED_IN_PROD)
                .args(extra),
        )
    };
    let d = request(&[]);
    assert_eq!(
        d["deny_reason_if_denied"]["code"],
        "DENY_PRIVILEGE_ENVELOPE_VIOLATED"
    );
    assert_eq!(
        d["deny_reason_if_denied"]["reason"],
        "egress_denied_no_allowlist_configured"
    );
    let d = request(&["--egress-allowlist", "prod=api.example.com"]);
    assert_eq!(d["denied"], false, "{d}");

    let hall = dir.path().join("hall.json");
    fs::write(
        &hall,
        r#"{"require_signatory": true, "allowed_tenants": ["acme"]}"#,
    )
    .unwrap();
    let d = request(&["--hall-config", hall.to_str().unwrap()]);
    assert_eq!(
        d["deny_reason_if_denied"]["code"], "DENY_UNKNOWN_TENANT",
        "the default tenant is not a signatory"
    );
    fs::write(&hall, r#"{"require_signatry": true}"#).unwrap();
    at_root()
        .arg("route")
        .arg("--rules")
        .arg(&rules)
        .args(["--cap", "cap.web.fetch", "--hall-config"])
        .arg(&hall)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("unknown key \"require_signatry\""));
    at_root()
        .arg("route")
        .arg("--rules")
        .arg(&rules)
        .args([
            "--cap",
            "cap.web.fetch",
            "--egress-allowlist",
            "production=x",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown env"));
}

#[test]
fn attestation_uses_live_hashes_of_source_files() {
    let dir = tempfile::tempdir().unwrap();
    let reg = dir.path().join("registry");
    fs::create_dir(&reg).unwrap();
    fs::write(
        reg.join("worker.py"),
        "def run(doc):\n    return doc[:100]\n",
    )
    .unwrap();
    fs::write(
        reg.join("w.json"),
        r#"{"worker_id": "org.acme.sum", "worker_species_id": "wrk.doc.summarizer", "capabilities": ["cap.doc.summarize"],
            "currently_implements": ["ctrl.obs.audit-log-append-only"],
            "attestation": {"code_hash": "HASH", "source_file": "worker.py"}}"#
            .replace("HASH", "c2d709aca910e2125e2ce85d92d393a209b4f4885dcc558e01292b8ac6fdd34d"),
    )
    .unwrap();
    let hall = dir.path().join("hall.json");
    fs::write(&hall, r#"{"require_worker_attestation": true}"#).unwrap();
    let route = || {
        decided(
            at_root()
                .args(["route", "--rules", "examples/rules.json", "--registry"])
                .arg(&reg)
                .arg("--hall-config")
                .arg(&hall)
                .args(["--input", "examples/input.json"]),
        )
    };
    let d = route();
    assert_eq!(d["denied"], false, "{d}");
    assert_eq!(d["worker_attestation_checked"], true);
    assert_eq!(d["worker_attestation_valid"], true);
    fs::write(reg.join("worker.py"), "def run(doc):\n    steal(doc)\n").unwrap();
    let d = route();
    assert_eq!(d["deny_reason_if_denied"]["code"], "DENY_WORKER_TAMPERED");
    assert_eq!(d["worker_attestation_valid"], false);
}

#[test]
fn example_hall_config_and_policy_gate() {
    let route = |tenant: &str, label: &str, risk: &str| {
        decided(
            route_examples()
                .args([
                    "--hall-config",
                    "examples/hall-config.json",
                    "--policy-gate",
                    "examples/policy-gate.json",
                ])
                .args([
                    "--cap",
                    "cap.doc.summarize",
                    "--env",
                    "prod",
                    "--data-label",
                    label,
                    "--tenant",
                    tenant,
                    "--tenant-risk",
                    risk,
                ]),
        )
    };
    let d = route("acme", "INTERNAL", "low");
    assert_eq!(d["denied"], false, "{d}");
    assert_eq!(
        d["telemetry_envelopes"][0]["event_id"],
        "evt.gov.blast_scored"
    );
    let gated = d["telemetry_envelopes"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(gated["reason"], "policy_gate_allow");
    assert_eq!(gated["policy_version"], "policy.acme.v1");
    assert_eq!(
        route("evil", "INTERNAL", "low")["deny_reason_if_denied"]["code"],
        "DENY_UNKNOWN_TENANT"
    );
    let d = route("acme", "INTERNAL", "high");
    assert_eq!(d["deny_reason_if_denied"]["code"], "DENY_POLICY_GATE");
    assert_eq!(d["deny_reason_if_denied"]["reason"], "high_risk_tenant");
    // RESTRICTED in prod is outside the prod rule (PUBLIC/INTERNAL): the review catch-all takes it.
    let d = route("acme", "RESTRICTED", "low");
    assert_eq!(d["matched_rule_id"], "rr_catch_all_review");
    assert_eq!(d["selected_worker_species_id"], "wrk.review.queue");
}

#[test]
fn invalid_utf8_line_is_one_bad_line() {
    let good = fs::read_to_string(root().join("examples/input.json")).unwrap();
    let good: Value = serde_json::from_str(&good).unwrap();
    let mut bytes = format!("{good}\n").into_bytes();
    bytes.extend_from_slice(b"{\"capability_id\": \"\xff\xfe\"}\n");
    bytes.extend_from_slice(format!("{good}\r\n").as_bytes());
    let out = route_examples()
        .args(["--input", "-"])
        .write_stdin(bytes)
        .assert()
        .code(3);
    let got = lines(&out);
    assert_eq!(got.len(), 3);
    assert_eq!(got[1]["error"]["code"], "invalid_json");
    assert_eq!(got[2]["denied"], false, "CRLF line endings are fine");
}

/// Without `--rules`, `proctor route` decides as the hall of `--data-dir` / `PROCTOR_DATA_DIR`
/// does: that hall's rules file, registry directory and routing settings from its
/// config.toml. Explicit flags still win.
#[test]
fn without_rules_the_data_dirs_hall_decides() {
    let dir = tempfile::tempdir().unwrap();
    let hall = dir.path();
    fs::create_dir_all(hall.join("policy")).unwrap();
    fs::create_dir_all(hall.join("workers")).unwrap();
    fs::write(
        hall.join("policy/rules.json"),
        r#"{"rules": [{"rule_id": "hall.fetch", "match": {"capability_id": "cap.web.fetch"}, "decision": {
            "candidate_workers_ranked": [{"worker_species_id": "wrk.web.fetcher"}],
            "required_controls_suggested": ["ctrl.privilege_envelopes_required"]}}]}"#,
    )
    .unwrap();
    fs::copy(
        root().join("examples/registry/web-fetcher.json"),
        hall.join("workers/web-fetcher.json"),
    )
    .unwrap();
    // The hall's settings: where its files are, and an egress allowlist for prod.
    fs::write(
        hall.join("config.toml"),
        "rules_file = \"policy/rules.json\"\nregistry_dir = \"workers\"\n\n\
         [egress_allowlist]\nprod = [\"api.example.com\"]\n",
    )
    .unwrap();
    // The hall of --data-dir decides, with `extra` flags over its settings.
    let by_hall = |extra: &[&str]| {
        decided(
            at_root()
                .arg("route")
                .arg("--data-dir")
                .arg(hall)
                .args(FETCH_RESTRICTED_IN_PROD)
                .args(extra),
        )
    };
    let d = by_hall(&[]);
    assert_eq!(d["matched_rule_id"], "hall.fetch", "{d}");
    assert_eq!(
        d["denied"], false,
        "the hall's egress allowlist applies: {d}"
    );
    assert_eq!(d["selected_worker_species_id"], "wrk.web.fetcher");
    let by_env = decided(
        at_root()
            .arg("route")
            .env("PROCTOR_DATA_DIR", hall)
            .args(FETCH_RESTRICTED_IN_PROD),
    );
    assert_eq!(by_env["matched_rule_id"], "hall.fetch");
    // An explicit --egress-allowlist replaces the hall's for that env.
    assert_eq!(
        by_hall(&["--egress-allowlist", "prod=other.example.com"])["deny_reason_if_denied"]["code"],
        "DENY_PRIVILEGE_ENVELOPE_VIOLATED"
    );
    // --rules wins, and then only the files given count (no --registry: no workers).
    let d = by_hall(&["--rules", "examples/rules.json"]);
    assert_ne!(d["matched_rule_id"], "hall.fetch", "{d}");
    // --registry wins over the hall's registry.
    let empty = tempfile::tempdir().unwrap();
    let d = by_hall(&["--registry", empty.path().to_str().unwrap()]);
    assert_eq!(d["matched_rule_id"], "hall.fetch");
    assert_eq!(d["denied"], true, "{d}");
}

/// A data dir with no hall in it: a usage error that says what to pass.
#[test]
fn without_rules_and_without_a_hall_it_says_what_to_pass() {
    let empty = tempfile::tempdir().unwrap();
    at_root()
        .arg("route")
        .arg("--data-dir")
        .arg(empty.path())
        .args(["--cap", "cap.doc.summarize"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--rules FILE"))
        .stderr(predicate::str::contains("--data-dir"));
    assert!(
        fs::read_dir(empty.path()).unwrap().next().is_none(),
        "nothing is created in a data dir without a hall"
    );
}

/// The output with what is fresh per decision blanked: every `"decision_id":"…"` and
/// `"timestamp":"…"` value.
fn masked(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut rest = bytes;
    'scan: while !rest.is_empty() {
        for key in [&b"\"decision_id\":\""[..], b"\"timestamp\":\""] {
            if rest.starts_with(key) {
                out.extend_from_slice(key);
                let value = rest[key.len()..].iter().position(|&b| b == b'"').unwrap();
                rest = &rest[key.len() + value..];
                continue 'scan;
            }
        }
        out.push(rest[0]);
        rest = &rest[1..];
    }
    out
}

/// A JSONL input of many reads is decided on worker threads batch by batch; the output is
/// the one thread's, byte for byte and in order (ids and timestamps aside), error objects
/// with their line numbers included, from a file and from stdin alike.
#[test]
fn jsonl_on_threads_prints_what_one_thread_prints() {
    let scenario = root().join("benches/reference/scenario");
    let requests = fs::read_to_string(scenario.join("requests.jsonl")).unwrap();
    let mut text = String::new();
    for (i, line) in requests.lines().cycle().take(3_000).enumerate() {
        text.push_str(line);
        text.push('\n');
        match i % 700 {
            3 => text.push_str("{not json\n"),
            5 => text.push_str("\n  \n"),
            9 => text.push_str("{\"env\": \"dev\"}\r\n"),
            _ => {}
        }
    }
    text.push_str(requests.lines().next().unwrap()); // the last line without its newline
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("in.jsonl");
    fs::write(&file, &text).unwrap();
    let gate = scenario.join("gate.json");
    let run = |threads: &str, stdin: bool| {
        let mut cmd = at_root();
        cmd.arg("route")
            .arg("--rules")
            .arg(scenario.join("rules.json"))
            .arg("--registry")
            .arg(scenario.join("registry"))
            .arg("--policy-gate")
            .arg(&gate)
            .args(["--threads", threads, "--input"]);
        if stdin {
            cmd.arg("-").write_stdin(text.clone());
        } else {
            cmd.arg(&file);
        }
        let out = cmd.exits(3);
        (masked(&out.stdout), out.stderr)
    };
    let (one, one_stderr) = run("1", false);
    let got: Vec<Value> = String::from_utf8_lossy(&one)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(got.len(), 3_000 + 2 * 5 + 1);
    let errors: Vec<&Value> = got.iter().filter_map(|l| l.get("error")).collect();
    assert_eq!(errors.len(), 10);
    assert_eq!(errors[0]["line"], 5);
    assert_eq!(errors[1]["line"], 14);
    for (threads, stdin) in [("3", false), ("2", true), ("1", true)] {
        let (many, stderr) = run(threads, stdin);
        assert!(many == one, "--threads {threads}, stdin {stdin}");
        assert_eq!(stderr, one_stderr);
    }
}
