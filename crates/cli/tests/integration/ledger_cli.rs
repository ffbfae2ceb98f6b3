//! `proctor decisions|trace|verify-log` through the real binary on real ledger files.

use std::path::{Path, PathBuf};

use crate::support::{json_of, on_db, proctor, proctor_process};
use assert_cmd::assert::Assert;
use predicates::prelude::*;
use serde_json::{json, Value};

/// A SPEC §1.3-shaped decision: every 4th denied, every 7th a dry run, 10 per correlation id.
fn decision(i: u64) -> String {
    let denied = i.is_multiple_of(4);
    let tenant = if i.is_multiple_of(2) {
        "acme"
    } else {
        "globex"
    };
    json!({
        "decision_id": format!("00000000-0000-4000-8000-{:012x}", i + 1),
        "timestamp": format!("2026-01-01T00:{:02}:{:02}.000000+00:00", i / 60, i % 60),
        "correlation_id": format!("corr-{}", i / 10),
        "tenant_id": tenant,
        "capability_id": "cap.doc.summarize",
        "matched_rule_id": if denied { "NO_MATCH" } else { "rr_1" },
        "env": "prod", "data_label": "PUBLIC", "tenant_risk": "low", "qos_class": "P1",
        "denied": denied,
        "deny_reason_if_denied": if denied { json!({"code": "DENY_NO_MATCHING_RULE", "message": "no rule matched"}) } else { Value::Null },
        "selected_worker_species_id": if denied { Value::Null } else { json!("wrk.doc.sum") },
        "candidate_workers_ranked": [], "required_controls_effective": [], "recommended_profiles_effective": [],
        "escalation_effective": {"policy_gate": false}, "preconditions_checked": {},
        "artifact_hash": null, "worker_attestation_checked": false, "worker_attestation_valid": null,
        "dry_run": i.is_multiple_of(7), "telemetry_envelopes": []
    })
    .to_string()
}

const N: u64 = 120;

/// The denied decisions of tenant acme, all on one page.
const DENIED_ACME_LIST: [&str; 7] = [
    "decisions",
    "list",
    "--denied",
    "--tenant",
    "acme",
    "--limit",
    "100",
];

struct Fixture {
    _dir: tempfile::TempDir,
    db: PathBuf,
    lines: Vec<String>,
}

fn imported() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let lines: Vec<String> = (0..N).map(decision).collect();
    let input = dir.path().join("decisions.jsonl");
    std::fs::write(&input, lines.join("\n") + "\n").unwrap();
    let db = dir.path().join("ledger.db");
    import(&db, &input)
        .success()
        .stdout(predicate::str::contains(format!(
            "recorded {N} decisions (seq 1..={N})"
        )));
    Fixture {
        _dir: dir,
        db,
        lines,
    }
}

/// An imported line as recorded: its bytes up to the closing brace, then the import mark.
fn as_imported(line: &str) -> &str {
    line.strip_suffix('}').unwrap()
}

fn verify_log(db: &Path) -> Assert {
    on_db(db, &["verify-log"])
}

/// `verify-log` must fail, naming record `seq` and the edited `column`.
fn assert_broken_at(db: &Path, seq: u64, column: &str) {
    verify_log(db)
        .code(1)
        .stderr(predicate::str::contains(format!("broken at record {seq}")))
        .stderr(predicate::str::contains(column));
}

/// The `verify-log --json` report of a ledger that fails it.
fn verify_log_report_of_a_failure(db: &Path) -> Value {
    json_of(on_db(db, &["verify-log", "--json"]).code(1).get_output())
}

fn import(db: &Path, input: &Path) -> Assert {
    proctor()
        .args(["decisions", "import", "--db"])
        .arg(db)
        .arg(input)
        .assert()
}

/// Runs `sql` on a ledger (or index) file, as someone with the file and SQLite could.
fn edit_ledger(db: &Path, sql: &str) {
    rusqlite::Connection::open(db)
        .unwrap()
        .execute_batch(sql)
        .unwrap();
}

/// The JSON of `ARGS --json` on the ledger, which must succeed.
fn run_json(db: &Path, args: &[&str]) -> Value {
    json_of(
        on_db(db, &[args, &["--json"]].concat())
            .success()
            .get_output(),
    )
}

#[test]
fn list_pages_through_everything_newest_first_with_cursors() {
    let f = imported();
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut args = vec!["decisions", "list", "--limit", "7"];
        if let Some(c) = &cursor {
            args.extend(["--cursor", c.as_str()]);
        }
        let page = run_json(&f.db, &args);
        seen.extend(
            page["records"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["seq"].as_i64().unwrap()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen, (1..=N as i64).rev().collect::<Vec<_>>());
}

#[test]
fn list_filters_and_prints_a_table_with_the_next_cursor() {
    let f = imported();
    let page = run_json(&f.db, &DENIED_ACME_LIST);
    let records = page["records"].as_array().unwrap();
    // Denied = i % 4 == 0, acme = i even: every 4th decision.
    assert_eq!(records.len(), 30);
    assert!(records
        .iter()
        .all(|r| r["decision"]["denied"] == true && r["decision"]["tenant_id"] == "acme"));

    proctor()
        .args([
            "decisions",
            "list",
            "--limit",
            "2",
            "--search",
            "DENY_NO_MATCHING_RULE",
            "--db",
        ])
        .arg(&f.db)
        .assert()
        .success()
        .stdout(
            predicate::str::contains("SEQ")
                .and(predicate::str::contains("next page: --cursor v1.")),
        )
        .stdout(predicate::str::contains("DENY_NO_MATCHING_RULE"));
}

#[test]
fn count_agrees_with_the_list_and_says_a_lower_bound_is_one() {
    let f = imported();
    let listed = run_json(&f.db, &DENIED_ACME_LIST)["records"]
        .as_array()
        .unwrap()
        .len();
    let counted = run_json(&f.db, &["decisions", "count", "-q", "tenant:acme denied"]);
    assert_eq!(counted, json!({"total": listed, "exact": true}));
    on_db(&f.db, &["decisions", "count"])
        .success()
        .stdout(format!("{N}\n"));
    // A spent budget: at most what matches, marked as a lower bound.
    let spent = run_json(
        &f.db,
        &["decisions", "count", "--allowed", "--budget-ms", "0"],
    );
    assert!(spent["total"].as_u64().unwrap() <= N, "{spent}");
    assert_eq!(spent["exact"], false);
}

#[test]
fn a_query_filters_like_the_flags_and_a_bad_one_exits_2_naming_the_token() {
    let f = imported();
    let flags = run_json(&f.db, &DENIED_ACME_LIST);
    let query = run_json(
        &f.db,
        &[
            "decisions",
            "list",
            "--query",
            "tenant:acme denied",
            "--limit",
            "100",
        ],
    );
    assert_eq!(query, flags);
    // The query adds to the flags.
    let both = run_json(
        &f.db,
        &[
            "decisions",
            "list",
            "--tenant",
            "acme",
            "-q",
            "denied",
            "--limit",
            "100",
        ],
    );
    assert_eq!(both, flags);
    for (query, token) in [
        ("tenant:acme envv:prod", "envv:prod"),
        ("allowed denied", "denied"),
    ] {
        on_db(&f.db, &["decisions", "list", "--query", query])
            .code(2)
            .stderr(predicate::str::contains(token));
    }
    proctor()
        .args([
            "decisions",
            "export",
            "--format",
            "jsonl",
            "--tenant",
            "acme",
        ])
        .args(["--query", "tenant:globex", "--db"])
        .arg(&f.db)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("contradicts"));
}

#[test]
fn show_returns_the_exact_recorded_json() {
    let f = imported();
    let out = run_json(
        &f.db,
        &["decisions", "show", "00000000-0000-4000-8000-000000000005"],
    );
    assert_eq!(out["seq"], 5);
    let raw = on_db(
        &f.db,
        &[
            "decisions",
            "show",
            "00000000-0000-4000-8000-000000000005",
            "--json",
        ],
    )
    .success();
    let text = String::from_utf8(raw.get_output().stdout.clone()).unwrap();
    assert!(
        text.contains(&format!(
            r#""decision":{},"imported":{{"source":"#,
            as_imported(&f.lines[4])
        )),
        "byte-exact JSON embedded, with its import mark: {text}"
    );

    on_db(&f.db, &["decisions", "show", "no-such-id"])
        .code(1)
        .stderr(predicate::str::contains(
            "no decision with id \"no-such-id\"",
        ));
}

#[test]
fn export_jsonl_is_byte_exact_and_csv_has_every_row() {
    let f = imported();
    let out = on_db(&f.db, &["decisions", "export", "--format", "jsonl"]).success();
    let exported: Vec<String> = String::from_utf8(out.get_output().stdout.clone())
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(exported.len(), f.lines.len());
    for (exported, line) in exported.iter().zip(f.lines.iter().rev()) {
        assert!(exported.starts_with(as_imported(line)), "{exported}");
    }

    let csv_path = f.db.with_file_name("out.csv");
    proctor()
        .args(["decisions", "export", "--format", "csv", "--denied", "-o"])
        .arg(&csv_path)
        .arg("--db")
        .arg(&f.db)
        .assert()
        .success()
        .stderr(predicate::str::contains("exported 30 decisions"));
    #[cfg(unix)]
    {
        // Written through a temp file, yet with the permissions a plain create gives.
        use std::os::unix::fs::PermissionsExt;
        let reference = f.db.with_file_name("reference");
        std::fs::File::create(&reference).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&csv_path), mode(&reference));
    }
    let csv = std::fs::read_to_string(&csv_path).unwrap();
    let mut rows = csv.lines();
    assert!(rows
        .next()
        .unwrap()
        .starts_with("seq,hash,timestamp,decision_id,"));
    assert_eq!(rows.count(), 30);
}

fn export_to(db: &Path, output: &Path) -> Assert {
    proctor()
        .args(["decisions", "export", "--format", "csv", "--db"])
        .arg(db)
        .arg("-o")
        .arg(output)
        .assert()
}

#[test]
fn export_refuses_to_overwrite_the_ledger_files() {
    let f = imported();
    let before = std::fs::read(&f.db).unwrap();
    let dir = f.db.parent().unwrap();
    // A hard link and a `..` detour name the ledger too; the WAL need not exist yet.
    let link = dir.join("hardlink.db");
    std::fs::hard_link(&f.db, &link).unwrap();
    std::fs::create_dir(dir.join("sub")).unwrap();
    let outputs = [
        f.db.clone(),
        link,
        dir.join("sub/../ledger.db"),
        dir.join("ledger.db-wal"),
        dir.join("ledger.db-shm"),
    ];
    for output in &outputs {
        export_to(&f.db, output)
            .code(2)
            .stderr(predicate::str::contains("refusing to export to"))
            .stderr(predicate::str::contains("ledger's own file"));
    }
    assert_eq!(std::fs::read(&f.db).unwrap(), before);
    verify_log(&f.db).success();
}

#[test]
fn a_failed_export_leaves_the_previous_output_and_no_partial_file() {
    let f = imported();
    let dir = f.db.parent().unwrap().to_path_buf();
    let out = dir.join("out.csv");
    std::fs::write(&out, "the previous good export\n").unwrap();
    // Damage the oldest record: the export (newest first) fails after writing the others.
    edit_ledger(&f.db, "UPDATE decisions SET body = x'00' WHERE seq = 1");
    export_to(&f.db, &out).code(4);
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "the previous good export\n"
    );
    let fresh = dir.join("fresh.csv");
    export_to(&f.db, &fresh).failure();
    assert!(!fresh.exists(), "no partial export");
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(names.is_empty(), "temp files left behind: {names:?}");
}

#[test]
fn human_output_escapes_control_characters_and_json_keeps_them() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger.db");
    let id = "evil-\u{1b}]0;pwned\u{7}-\u{9b}31m";
    let mut record: Value = serde_json::from_str(&decision(0)).unwrap();
    record["decision_id"] = json!(id);
    record["tenant_id"] = json!("t\u{1b}[2J");
    record["deny_reason_if_denied"]["code"] = json!("DENY\u{7f}X");
    let input = dir.path().join("in.jsonl");
    std::fs::write(&input, format!("{record}\n")).unwrap();
    import(&db, &input).success();

    let human = |args: &[&str]| {
        let out = on_db(&db, args).success();
        String::from_utf8(out.get_output().stdout.clone()).unwrap()
    };
    for out in [
        human(&["decisions", "list"]),
        human(&["decisions", "show", id]),
        human(&["trace", "corr-0"]),
    ] {
        assert!(
            !out.chars().any(|c| c.is_control() && c != '\n'),
            "raw control character in {out:?}"
        );
        assert!(out.contains(r"evil-\u{1b}]0;pwned\u{7}-\u{9b}31m"), "{out}");
    }
    assert!(human(&["decisions", "list"]).contains(r"t\u{1b}[2J"));
    assert!(human(&["decisions", "show", id]).contains(r"DENIED DENY\u{7f}X"));

    // JSON output is exact.
    let listed = run_json(&db, &["decisions", "list"]);
    assert_eq!(listed["records"][0]["decision"]["decision_id"], id);
    let shown = run_json(&db, &["decisions", "show", id]);
    assert_eq!(shown["decision"]["tenant_id"], "t\u{1b}[2J");
}

#[test]
fn a_closed_stdout_is_no_failure_but_a_broken_chain_still_is() {
    let f = imported();
    let closed = |args: &[&str]| {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader); // `| head -0`: every write fails with EPIPE
        proctor_process()
            .args(args)
            .arg("--db")
            .arg(&f.db)
            .stdout(writer)
            .output()
            .unwrap()
    };
    for args in [
        &["decisions", "list"][..],
        &["decisions", "export", "--format", "jsonl"],
        &["trace", "corr-1"],
        &["verify-log", "--json"],
    ] {
        let out = closed(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&out.stderr), "", "{args:?}");
    }
    edit_ledger(&f.db, "UPDATE decisions SET tenant_id = 'x' WHERE seq = 3");
    let out = closed(&["verify-log", "--json"]);
    assert_eq!(out.status.code(), Some(1), "the verdict is kept");
    assert!(String::from_utf8_lossy(&out.stderr).contains("broken at record 3"));
}

#[test]
fn trace_lists_one_correlation_in_order() {
    let f = imported();
    let out = run_json(&f.db, &["trace", "corr-3"]);
    let seqs: Vec<i64> = out["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, (31..=40).collect::<Vec<_>>());
    on_db(&f.db, &["trace", "corr-999"]).code(1);
}

#[test]
fn verify_log_passes_then_names_the_first_tampered_record() {
    let f = imported();
    verify_log(&f.db)
        .success()
        .stdout(predicate::str::contains(format!(
            "ledger intact: {N} records verified"
        )));

    edit_ledger(
        &f.db,
        "UPDATE decisions SET tenant_id = 'mallory' WHERE seq IN (42, 77)",
    );
    assert_broken_at(&f.db, 42, "tenant_id");

    edit_ledger(&f.db, "DELETE FROM decisions WHERE seq = 9");
    let report = verify_log_report_of_a_failure(&f.db);
    assert_eq!(report["finding"]["seq"], 9);
    assert_eq!(report["finding"]["problem"]["kind"], "deleted");
}

#[test]
fn verify_log_counts_linked_records_and_fails_on_a_broken_linked_chain() {
    let f = imported();
    // Linked records (MCP call outcomes) as the hall appends them, through the library.
    let ledger = ledger::Ledger::open(&f.db).unwrap();
    for i in 0..3u64 {
        ledger
            .append_linked_blocking(ledger::NewLinkedRecord {
                at: chrono::Utc::now(),
                kind: "mcp_call".into(),
                decision_id: format!("00000000-0000-4000-8000-{:012x}", i + 1),
                correlation_id: format!("corr-{}", i / 10),
                server: Some("wrk.fs".into()),
                tool: Some("read_file".into()),
                body: json!({"outcome": "ok", "latency_ms": i}),
            })
            .unwrap();
    }
    ledger.close();
    verify_log(&f.db)
        .success()
        .stdout(predicate::str::contains(format!(
            "ledger intact: {N} records verified"
        )))
        .stdout(predicate::str::contains(
            "linked records intact: 3 verified (seq 1..=3)",
        ));
    let report = run_json(&f.db, &["verify-log"]);
    assert_eq!(report["linked_records"], 3);
    assert_eq!(report["finding"], Value::Null);

    edit_ledger(
        &f.db,
        "UPDATE linked_records SET json = replace(json, '\"ok\"', '\"tool_error\"') WHERE seq = 2",
    );
    verify_log(&f.db).code(1).stderr(predicate::str::contains(
        "ledger linked-record chain broken at linked record 2: linked record 2 was edited",
    ));
    let report = verify_log_report_of_a_failure(&f.db);
    assert_eq!(report["finding"]["chain"], "linked");
    assert_eq!(report["finding"]["seq"], 2);
    assert_eq!(report["finding"]["problem"]["kind"], "edited");
}

#[test]
fn verify_log_names_an_edited_deny_message() {
    // `decisions export --format csv` prints this column, so an edit must not pass verify.
    let f = imported();
    edit_ledger(
        &f.db,
        "UPDATE decisions SET deny_message = 'approved by admin' WHERE seq IN (5, 9)",
    );
    assert_broken_at(&f.db, 5, "deny_message");
}

#[test]
fn verify_log_json_answers_on_stdout_when_the_ledger_cannot_be_opened() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_ledger = dir.path().join("notes.txt");
    std::fs::write(&not_a_ledger, "x".repeat(4096)).unwrap();
    for (db, code, exit) in [
        (dir.path().join("missing.db"), "LEDGER_NOT_FOUND", 3),
        (not_a_ledger, "LEDGER_NOT_A_LEDGER", 3),
    ] {
        let out = on_db(&db, &["verify-log", "--json"]).code(exit);
        let answer: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
        assert_eq!(answer["error"]["code"], code, "{}", db.display());
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(
            String::from_utf8_lossy(&out.get_output().stderr).contains(message),
            "the same message on stderr"
        );
    }
}

/// A ledger command run against a data dir where no hall recorded anything (the hall runs with
/// another one, usually) says where it looked and how to point it at the right hall.
#[test]
fn a_missing_ledger_says_which_data_dir_was_looked_in_and_how_to_pass_another() {
    let home = tempfile::tempdir().unwrap();
    let default_dir = home.path().join("proctor");
    for args in [&["verify-log"][..], &["decisions", "list"], &["trace", "c"]] {
        let out = proctor()
            .args(args)
            .env_remove("PROCTOR_DATA_DIR")
            .env("XDG_DATA_HOME", home.path())
            .assert()
            .code(3);
        let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
        assert!(err.contains("no ledger database found"), "{args:?}: {err}");
        assert!(
            err.contains(&format!("default data dir {}", default_dir.display())),
            "{args:?}: names the default: {err}"
        );
        assert!(
            err.contains("pass --data-dir DIR or set PROCTOR_DATA_DIR"),
            "{args:?}: {err}"
        );
    }
    let other = tempfile::tempdir().unwrap();
    let out = proctor()
        .args(["verify-log", "--data-dir"])
        .arg(other.path())
        .assert()
        .code(3);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        err.contains(&format!("data dir {}", other.path().display())),
        "{err}"
    );
    assert!(err.contains("PROCTOR_DATA_DIR"), "{err}");
    // An explicit --db names the file only.
    verify_log(&other.path().join("missing.db"))
        .code(3)
        .stderr(predicate::str::contains("check --db"));
}

#[test]
fn a_directory_is_named_as_no_ledger() {
    let dir = tempfile::tempdir().unwrap();
    verify_log(dir.path())
        .code(3)
        .stderr(predicate::str::contains(
            "not a Proctor ledger (it is a directory",
        ));
}

#[test]
fn a_bad_import_line_records_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("bad.jsonl");
    std::fs::write(&input, format!("{}\n{{\"decision_id\": 1}}\n", decision(1))).unwrap();
    let db = dir.path().join("ledger.db");
    import(&db, &input).code(3).stderr(predicate::str::contains(
        "bad.jsonl:2: invalid decision record",
    ));
    assert!(
        !db.exists(),
        "nothing was recorded, not even an empty ledger"
    );
}

#[test]
fn an_import_with_a_duplicate_decision_records_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger.db");
    let import = |name: &str, ids: &[u64]| {
        let input = dir.path().join(name);
        let lines: Vec<String> = ids.iter().map(|&i| decision(i)).collect();
        std::fs::write(&input, lines.join("\n") + "\n").unwrap();
        import(&db, &input)
    };
    import("first.jsonl", &[0, 1, 2, 3]).success();
    // Already in the ledger (line 3), and repeated within the file (line 4).
    import("again.jsonl", &[10, 11, 2, 12])
        .code(3)
        .stderr(predicate::str::contains(
        "again.jsonl:3: decision 00000000-0000-4000-8000-000000000003 is already in the ledger \
             (nothing was recorded)",
    ));
    import("twice.jsonl", &[20, 21, 22, 21])
        .code(3)
        .stderr(predicate::str::contains(
            "twice.jsonl:4: decision 00000000-0000-4000-8000-000000000016 repeats line 2",
        ));
    verify_log(&db).success().stdout(predicate::str::contains(
        "ledger intact: 4 records verified",
    ));
}

#[test]
fn the_db_comes_from_the_environment_and_missing_files_are_bad_input() {
    let f = imported();
    proctor()
        .args(["decisions", "list", "--limit", "1"])
        .env("PROCTOR_DB", &f.db)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "00000000-0000-4000-8000-000000000078",
        ));
    let missing = f.db.with_file_name("missing.db");
    verify_log(&missing)
        .code(3)
        .stderr(predicate::str::contains("no ledger database found"));
    assert!(!missing.exists());
    on_db(&f.db, &["decisions", "list", "--cursor", "garbage"])
        .code(2)
        .stderr(predicate::str::contains("invalid cursor"));
    let not_a_db = f.db.with_file_name("notes.txt");
    std::fs::write(&not_a_db, "hello ".repeat(500)).unwrap();
    on_db(&not_a_db, &["decisions", "list"])
        .code(3)
        .stderr(predicate::str::contains("not a Proctor ledger"));
}

#[test]
fn prune_keeps_the_chain_verifiable() {
    let f = imported();
    // Every fixture decision is from 2026-01-01, older than the cutoff of "now".
    on_db(&f.db, &["decisions", "prune", "--older-than-days", "1"])
        .success()
        .stdout(predicate::str::contains(format!(
            "pruned {N} decisions (through seq {N})"
        )));
    verify_log(&f.db)
        .success()
        .stdout(predicate::str::contains(format!(
            "records 1..={N} were pruned"
        )));
    let page = run_json(&f.db, &["decisions", "list"]);
    assert_eq!(page["records"].as_array().unwrap().len(), 0);
}

#[test]
fn prune_with_an_age_past_the_calendar_is_a_usage_error_not_a_panic() {
    let f = imported();
    let prune = |days: &str| on_db(&f.db, &["decisions", "prune", "--older-than-days", days]);
    prune(&u32::MAX.to_string())
        .code(2)
        .stderr(predicate::str::contains(
            "--older-than-days 4294967295 reaches before the earliest date",
        ))
        .stderr(predicate::str::contains("panicked").not());
    prune("36500")
        .success()
        .stdout(predicate::str::contains("nothing to prune"));
    verify_log(&f.db)
        .success()
        .stdout(predicate::str::contains(format!(
            "ledger intact: {N} records verified"
        )));
}

#[test]
fn verify_log_deep_finds_a_damaged_index() {
    let f = imported();
    on_db(&f.db, &["verify-log", "--deep"]).success();
    // Tenant filters would now return records of another tenant.
    edit_ledger(
        &ledger::index_path(&f.db),
        "UPDATE by_tenant SET value = 'tenant-x' \
         WHERE first_seq = (SELECT min(first_seq) FROM by_tenant)",
    );
    // The chain itself is intact; only the deep check sees the index damage.
    verify_log(&f.db).success();
    on_db(&f.db, &["verify-log", "--deep"])
        .code(1)
        .stderr(predicate::str::contains("damaged"))
        .stderr(predicate::str::contains("by_tenant"))
        .stderr(predicate::str::contains("rebuilds it"));
}

/// Without --db, the ledger commands read the ledger of a hall's data dir (as `proctor serve`
/// writes it), honouring a `ledger_path` set in its config.toml.
#[test]
fn without_db_the_ledger_of_the_hall_data_dir_is_used() {
    let fx = imported();
    let hall = tempfile::tempdir().unwrap();
    std::fs::write(
        hall.path().join("config.toml"),
        format!("ledger_path = {:?}\n", fx.db.display().to_string()),
    )
    .unwrap();
    let listed = |extra: &[&std::ffi::OsStr], data_dir_env: Option<&Path>| {
        let mut cmd = proctor();
        cmd.args(["decisions", "list", "--json", "--limit", "1"])
            .args(extra)
            .env_remove("PROCTOR_DATA_DIR");
        if let Some(dir) = data_dir_env {
            cmd.env("PROCTOR_DATA_DIR", dir);
        }
        let out = cmd.assert().success().get_output().stdout.clone();
        String::from_utf8(out).unwrap()
    };
    let by_flag = listed(&["--data-dir".as_ref(), hall.path().as_os_str()], None);
    let by_env = listed(&[], Some(hall.path()));
    assert!(
        by_flag.contains("00000000-0000-4000-8000-000000000078"),
        "{by_flag}"
    );
    assert_eq!(by_flag, by_env);

    // A data dir without a config: the default place, and a missing ledger is a clear error.
    let empty = tempfile::tempdir().unwrap();
    proctor()
        .args(["verify-log", "--data-dir"])
        .arg(empty.path())
        .assert()
        .code(3)
        .stderr(predicate::str::contains("decisions.sqlite"));
    assert!(
        !empty.path().join("config.toml").exists(),
        "a read never initialises a hall"
    );
}
