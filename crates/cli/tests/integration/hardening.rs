//! Issue 16, part 3, through a real `proctor serve` on real files and modes: one hall per data
//! dir, permissions, a really full disk, imported decisions' provenance, retention's floor.

use crate::support::{
    json_of, listening_url, on_db, proctor, proctor_after, serve_at, token, Running, RULES,
};
use predicates::prelude::*;
use serde_json::{json, Value};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A running `proctor serve` on `data`, its stderr in `log`.
struct Server {
    child: Running,
    url: String,
    log: PathBuf,
    data: PathBuf,
}

/// How a `proctor serve` that was expected to fail ended.
struct Refused {
    code: Option<i32>,
    stderr: String,
}

impl Server {
    fn start(dir: &Path) -> Server {
        Self::try_start(dir, "127.0.0.1:0")
            .unwrap_or_else(|r| panic!("serve exited with {:?}: {}", r.code, r.stderr))
    }

    /// The server (its log beside the data dir), or how it ended when it exits before
    /// listening.
    fn try_start(dir: &Path, listen: &str) -> Result<Server, Refused> {
        Self::spawn(dir, listen, log_path(dir))
    }

    fn spawn(dir: &Path, listen: &str, log: PathBuf) -> Result<Server, Refused> {
        Self::spawn_with_umask(dir, listen, log, 0o022)
    }

    fn spawn_with_umask(
        dir: &Path,
        listen: &str,
        log: PathBuf,
        umask: u32,
    ) -> Result<Server, Refused> {
        let mut cmd = proctor_after(&format!("umask {umask:03o}"));
        serve_at(&mut cmd, dir, listen, &log).args(["--log-format", "json"]);
        let mut child = Running(cmd.spawn().unwrap());
        match listening_url(&mut child) {
            Ok(url) => Ok(Server {
                child,
                url,
                log,
                data: dir.to_path_buf(),
            }),
            Err(_) => {
                let status = child.wait().unwrap();
                Err(Refused {
                    code: status.code(),
                    stderr: std::fs::read_to_string(&log).unwrap(),
                })
            }
        }
    }

    fn stop(mut self) {
        self.child.signal("-TERM");
        let status = self.child.wait().unwrap();
        assert!(status.success(), "{status:?}: {}", self.stderr());
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap()
    }

    fn get(&self, path: &str) -> (u16, Value) {
        reply(
            agent()
                .get(format!("{}{path}", self.url))
                .header("Authorization", format!("Bearer {}", token(&self.data())))
                .call(),
        )
    }

    fn send(&self, method: &str, path: &str, body: Value) -> (u16, Value) {
        let request = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.url))
            .header("Authorization", format!("Bearer {}", token(&self.data())))
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .unwrap();
        reply(agent().run(request))
    }

    fn route(&self, cid: &str) -> (u16, Value) {
        self.send("POST", "/v1/route", route_input(cid))
    }

    fn data(&self) -> PathBuf {
        self.data.clone()
    }
}

/// Each start gets its own log beside the data dir.
fn log_path(dir: &Path) -> PathBuf {
    let parent = dir.parent().unwrap();
    (0..)
        .map(|n| parent.join(format!("serve-{n}.log")))
        .find(|p| !p.exists())
        .unwrap()
}

fn reply(r: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> (u16, Value) {
    let mut r = r.unwrap();
    let status = r.status().as_u16();
    let body = r.body_mut().read_json::<Value>().unwrap_or(Value::Null);
    (status, body)
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_idle_connections(0)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

fn route_input(cid: &str) -> Value {
    json!({"capability_id": "cap.doc.summarize", "env": "dev", "data_label": "PUBLIC", "tenant_risk": "low",
           "qos_class": "P2", "tenant_id": "agent.cli", "correlation_id": cid})
}

/// `<tmp>/data` with the rules file; the temp dir also holds the serve logs.
fn init_dir() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir(&data).unwrap();
    chmod(&data, 0o700);
    std::fs::write(data.join("rules.json"), RULES).unwrap();
    (tmp, data)
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Root can mount a tmpfs and own files as another user; elsewhere these tests skip, unless
/// `PROCTOR_NO_SKIPS` says a skip would hide a lost test.
fn skip(why: &str) {
    assert!(
        std::env::var_os("PROCTOR_NO_SKIPS").is_none(),
        "{why}, and PROCTOR_NO_SKIPS forbids skipping this test"
    );
    eprintln!("SKIPPED: {why} (needs root); set PROCTOR_NO_SKIPS=1 to fail instead");
}

#[test]
fn a_second_hall_on_a_data_dir_names_the_first_and_leaves_its_hall_url() {
    let (_tmp, dir) = init_dir();
    let first = Server::start(&dir);
    let url_file = dir.join("hall.url");
    let announced = std::fs::read_to_string(&url_file).unwrap();
    assert_eq!(announced.trim(), first.url);

    // On another port, and on the first one's own address (which must not end as "address in
    // use"): both refused, naming the first hall.
    let port_in_use = first.url.trim_start_matches("http://").to_string();
    for listen in ["127.0.0.1:0", port_in_use.as_str()] {
        let refused = Server::try_start(&dir, listen)
            .err()
            .expect("a second hall on the same data dir must not start");
        assert_eq!(refused.code, Some(4), "{}", refused.stderr);
        let pid = format!("pid {}", first.child.id());
        assert!(
            refused.stderr.contains("another hall is already running")
                && refused.stderr.contains(&pid)
                && refused.stderr.contains(&first.url),
            "{}",
            refused.stderr
        );
    }
    assert_eq!(std::fs::read_to_string(&url_file).unwrap(), announced);
    let (status, _) = first.get("/v1/workers");
    assert_eq!(status, 200, "the first hall still serves");

    first.stop();
    assert!(!url_file.exists(), "the owner removes hall.url on exit");
    let again = Server::start(&dir);
    again.stop();
}

#[test]
fn hall_url_rewritten_by_someone_else_is_not_removed() {
    let (_tmp, dir) = init_dir();
    let server = Server::start(&dir);
    // Once it serves (`serve` announces itself again as it starts).
    assert_eq!(server.get("/v1/workers").0, 200);
    std::fs::write(dir.join("hall.url"), "http://127.0.0.1:1\n").unwrap();
    server.stop();
    assert_eq!(
        std::fs::read_to_string(dir.join("hall.url")).unwrap(),
        "http://127.0.0.1:1\n"
    );
}

#[test]
fn a_data_dir_open_to_others_is_tightened_and_config_writes_keep_0600() {
    let (_tmp, dir) = init_dir();
    chmod(&dir, 0o755);
    let server = Server::start(&dir);
    assert_eq!(mode(&dir), 0o700);
    assert!(
        server
            .stderr()
            .contains("open to other users (mode 755); tightened it to 700"),
        "{}",
        server.stderr()
    );
    let config = dir.join("config.toml");
    assert_eq!(mode(&config), 0o600, "a new config.toml");

    let (_, settings) = server.get("/v1/settings");
    let mut thresholds = json!({"health": settings["health"], "alerts": settings["alerts"]});
    thresholds["health"]["stale_after_s"] = json!(45);
    let (status, body) = server.send("PUT", "/v1/settings/thresholds", thresholds);
    assert_eq!(status, 200, "{body}");
    assert!(std::fs::read_to_string(&config)
        .unwrap()
        .contains("stale_after_s = 45"));
    assert_eq!(mode(&config), 0o600, "the thresholds PUT kept the mode");
    server.stop();
}

#[test]
fn a_data_dir_of_another_user_open_to_others_is_refused() {
    let (_tmp, dir) = init_dir();
    chmod(&dir, 0o755);
    if std::os::unix::fs::chown(&dir, Some(65534), None).is_err() {
        return skip("cannot give the data dir to another user");
    }
    let refused = Server::try_start(&dir, "127.0.0.1:0")
        .err()
        .expect("another user's open data dir must be refused");
    assert_eq!(refused.code, Some(3), "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("belongs to another user (uid 65534)")
            && refused
                .stderr
                .contains(&format!("chmod 700 {}", dir.display())),
        "{}",
        refused.stderr
    );
    assert_eq!(mode(&dir), 0o755, "not someone else's to change");
}

#[test]
fn a_first_start_under_umask_0_creates_nothing_it_would_refuse() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let server = Server::spawn_with_umask(&dir, "127.0.0.1:0", log_path(&dir), 0)
        .unwrap_or_else(|r| panic!("{:?}: {}", r.code, r.stderr));
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join("registry")), 0o755);
    assert_eq!(mode(&dir.join("config.toml")), 0o600);
    server.stop();
}

#[test]
fn a_world_writable_rules_file_or_registry_dir_stops_the_start() {
    let (_tmp, dir) = init_dir();
    let registry = dir.join("registry");
    std::fs::create_dir(&registry).unwrap();
    for (path, mode) in [(dir.join("rules.json"), 0o666), (registry.clone(), 0o777)] {
        let before = self::mode(&path);
        chmod(&path, mode);
        let refused = Server::try_start(&dir, "127.0.0.1:0")
            .err()
            .unwrap_or_else(|| panic!("{} is world-writable", path.display()));
        assert_ne!(refused.code, Some(0));
        assert!(
            refused
                .stderr
                .contains(&format!("{} is writable by every user", path.display()))
                && refused
                    .stderr
                    .contains(&format!("run `chmod o-w {}`", path.display())),
            "{}",
            refused.stderr
        );
        chmod(&path, before);
    }
    Server::start(&dir).stop();
}

/// A SPEC-shaped decision made a year before now.
fn old_decision(id: &str) -> Value {
    json!({
        "decision_id": id, "timestamp": "2025-06-01T12:00:00.000000+00:00",
        "correlation_id": "corr-import", "tenant_id": "acme", "capability_id": "cap.doc.summarize",
        "matched_rule_id": "rr_doc", "env": "prod", "data_label": "PUBLIC", "tenant_risk": "low",
        "qos_class": "P1", "denied": false, "deny_reason_if_denied": null,
        "selected_worker_species_id": "wrk.doc.summarizer", "candidate_workers_ranked": [],
        "required_controls_effective": [], "recommended_profiles_effective": [],
        "escalation_effective": {"policy_gate": false}, "preconditions_checked": {},
        "artifact_hash": null, "worker_attestation_checked": false,
        "worker_attestation_valid": null, "dry_run": false, "telemetry_envelopes": []
    })
}

#[test]
fn imported_decisions_carry_a_chained_mark_shown_by_the_cli_and_the_api() {
    let (tmp, dir) = init_dir();
    let id = "00000000-0000-4000-8000-00000000beef";
    let line = old_decision(id).to_string();
    let input = tmp.path().join("made-up.jsonl");
    std::fs::write(&input, format!("{line}\n")).unwrap();
    let db = dir.join("ledger/decisions.sqlite");
    std::fs::create_dir_all(db.parent().unwrap()).unwrap();
    proctor()
        .args(["decisions", "import", "--db"])
        .arg(&db)
        .arg(&input)
        .assert()
        .success()
        .stdout(predicate::str::contains("marked as imported"));

    let source = input.canonicalize().unwrap().display().to_string();
    let shown = on_db(&db, &["decisions", "show", id]).success();
    let shown = String::from_utf8(shown.get_output().stdout.clone()).unwrap();
    assert!(
        shown.contains(&format!("IMPORTED from {source} by ")),
        "{shown}"
    );

    // The hall's API shows the mark in the decision detail.
    let server = Server::start(&dir);
    let (status, detail) = server.get(&format!("/v1/decisions/{id}"));
    assert_eq!(status, 200, "{detail}");
    let mark = &detail["decision"]["imported"];
    assert_eq!(mark["source"], source.as_str(), "{detail}");
    assert!(
        mark["importer"].as_str().unwrap().contains("(uid "),
        "{mark}"
    );
    let at = chrono::DateTime::parse_from_rfc3339(mark["imported_at"].as_str().unwrap()).unwrap();
    assert!(
        (chrono::Utc::now() - at.to_utc()).num_seconds() < 300,
        "{mark}"
    );
    // A decision the hall made has none.
    let (status, routed) = server.route("made-here");
    assert_eq!(status, 200, "{routed}");
    let (_, made) = server.get(&format!(
        "/v1/decisions/{}",
        routed["decision_id"].as_str().unwrap()
    ));
    assert!(made["decision"].get("imported").is_none(), "{made}");
    server.stop();

    // Stripping the mark, by putting in its place the same decision stored without one (so the
    // body decodes and every column matches), breaks the chain at that record.
    let plain = tmp.path().join("plain.sqlite");
    let ledger = ledger::Ledger::open(&plain).unwrap();
    ledger.append_blocking(line).unwrap();
    ledger.close();
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute("ATTACH DATABASE ?1 AS plain", [plain.to_str().unwrap()])
        .unwrap();
    let changed = conn
        .execute(
            "UPDATE main.decisions SET body = (SELECT body FROM plain.decisions WHERE seq = 1) WHERE seq = 1",
            [],
        )
        .unwrap();
    assert_eq!(changed, 1);
    drop(conn);
    let stripped = json_of(
        on_db(&db, &["decisions", "show", id, "--json"])
            .success()
            .get_output(),
    );
    assert!(stripped["decision"].get("imported").is_none(), "{stripped}");
    on_db(&db, &["verify-log"])
        .code(1)
        .stderr(predicate::str::contains("broken at record 1"));
}

#[test]
fn pruning_below_a_day_needs_force() {
    let (tmp, _dir) = init_dir();
    let db = tmp.path().join("ledger.sqlite");
    let ledger = ledger::Ledger::open(&db).unwrap();
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let mut fresh = old_decision("00000000-0000-4000-8000-0000000000aa");
    fresh["timestamp"] = json!(now);
    ledger.append_blocking(fresh.to_string()).unwrap();
    ledger.close();

    let prune = |extra: &[&str]| {
        on_db(
            &db,
            &[&["decisions", "prune", "--older-than-days", "0"], extra].concat(),
        )
    };
    prune(&[])
        .code(2)
        .stderr(predicate::str::contains(
            "would remove decisions acknowledged moments ago; the floor is 1 day",
        ))
        .stderr(predicate::str::contains("--force"));
    on_db(
        &db,
        &["decisions", "show", "00000000-0000-4000-8000-0000000000aa"],
    )
    .success();
    prune(&["--force"])
        .success()
        .stdout(predicate::str::contains("pruned 1 decisions"));
}

/// A small tmpfs this test mounted (root on Linux), unmounted on drop.
struct Tmpfs(tempfile::TempDir);

impl Tmpfs {
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().unwrap();
        let mounted = std::process::Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        mounted.then_some(Tmpfs(dir))
    }

    fn path(&self) -> &Path {
        self.0.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg(self.0.path())
            .status();
    }
}

/// Write `path` until the filesystem is full.
fn fill(path: &Path) {
    use std::io::Write;
    let mut f = std::fs::File::create(path).unwrap();
    let block = vec![0u8; 64 * 1024];
    while f.write_all(&block).is_ok() {}
    let _ = f.sync_all();
}

/// What `log` got after its first `from` bytes.
fn since(log: &Path, from: u64) -> String {
    std::fs::read_to_string(log).unwrap()[from as usize..].to_string()
}

/// The log lines (JSON) about refused appends: the hall's `unwritable` module's, or a
/// per-request error.
fn unwritable_lines(logged: &str) -> Vec<Value> {
    logged
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["target"] == "hall::unwritable" || l["fields"]["message"] == "request failed")
        .collect()
}

#[test]
fn a_full_disk_logs_once_per_interval_and_raises_an_alert_until_writes_succeed() {
    let Some(fs) = Tmpfs::mount("8m") else {
        return skip("cannot mount a tmpfs here");
    };
    let dir = fs.path().join("data");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("rules.json"), RULES).unwrap();
    // The log outside the full filesystem: the server's stderr is what is measured.
    let logs = tempfile::tempdir().unwrap();
    let log = logs.path().join("serve.log");
    let server = Server::spawn(&dir, "127.0.0.1:0", log.clone())
        .unwrap_or_else(|r| panic!("{:?}: {}", r.code, r.stderr));
    let get_alerts = || server.get("/v1/alerts").1;
    let (status, body) = server.route("before");
    assert_eq!(status, 200, "{body}");

    let ballast = dir.join("ballast");
    fill(&ballast);
    let log_before = std::fs::metadata(&log).unwrap().len();
    let mut refused = 0;
    let mut i = 0;
    while refused < 200 {
        i += 1;
        assert!(i < 100_000, "the ledger never filled up");
        let (status, body) = server.route(&format!("full-{i}"));
        match status {
            200 => continue, // still room in pages SQLite had already
            503 => {
                assert_eq!(body["error"]["code"], "DENY_LEDGER_UNAVAILABLE", "{body}");
                refused += 1;
            }
            other => panic!("{other}: {body}"),
        }
    }
    // The hall's own lines about it: one. (Other parts may log a line a second or so each,
    // e.g. retried checkpoint writes: not one per request.)
    let logged = since(&log, log_before);
    let ours = unwritable_lines(&logged);
    eprintln!(
        "{refused} refused requests: {} bytes of log in all, {} of them about refused appends",
        logged.len(),
        ours.len()
    );
    assert_eq!(ours.len(), 1, "{logged}");
    assert!(
        ours[0]["fields"]["message"]
            .as_str()
            .unwrap()
            .starts_with("the ledger cannot write"),
        "{logged}"
    );
    assert!(logged.len() < 16 * 1024, "{} bytes: {logged}", logged.len());

    let alerts = get_alerts();
    let first = &alerts["alerts"][0];
    assert_eq!(first["kind"], "ledger_unwritable", "{alerts}");
    assert_eq!(first["severity"], "critical");
    assert_eq!(first["acked"], false);
    assert!(first["message"]
        .as_str()
        .unwrap()
        .contains("every decision is denied"));
    let (status, body) = server.send("POST", "/v1/alerts/0/ack", json!({}));
    assert_eq!(status, 409, "{body}");

    // One interval later, the next failure logs one line with the count of the quiet ones.
    std::thread::sleep(Duration::from_secs(10) + Duration::from_millis(200));
    assert_eq!(server.route("one-more").0, 503);
    let logged = since(&log, log_before);
    let ours = unwritable_lines(&logged);
    assert_eq!(ours.len(), 2, "{ours:?}");
    let not_logged = ours[1]["fields"]["not_logged"].as_u64().unwrap();
    assert!(not_logged >= 199, "{}", ours[1]);

    // Room again: the next append succeeds and the alert is gone at once; the log says so
    // when its interval ends.
    std::fs::remove_file(&ballast).unwrap();
    let (status, body) = server.route("after");
    assert_eq!(status, 200, "{body}");
    let alerts = get_alerts();
    assert!(
        alerts["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["kind"] != "ledger_unwritable"),
        "{alerts}"
    );
    let deadline = Instant::now() + Duration::from_secs(15);
    while !since(&log, log_before).contains("the ledger writes again") {
        assert!(Instant::now() < deadline, "{}", since(&log, log_before));
        std::thread::sleep(Duration::from_millis(200));
    }
    server.stop();
}
