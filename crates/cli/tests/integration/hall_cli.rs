//! `proctor serve` as a real process: the client commands against it, graceful shutdown, and a
//! SIGKILL under load after which every acknowledged decision is in the ledger.

use crate::support::{init_dir, json_of, proctor_after, token, Hall, Ran};
use assert_cmd::Command;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A hall under `ulimit -f` (SIGXFSZ ignored): once the ledger file would grow past
/// `max_file_kib`, writes fail like on a full disk.
fn start_limited(dir: &Path, max_file_kib: u64) -> Hall {
    let limit = format!("ulimit -f {max_file_kib}; trap '' XFSZ");
    Hall::start_as(proctor_after(&limit), dir)
}

/// A data dir whose registry already holds one worker for the rules' species.
fn init_dir_with_worker() -> tempfile::TempDir {
    let dir = init_dir();
    std::fs::create_dir_all(dir.path().join("registry")).unwrap();
    std::fs::write(
        dir.path().join("registry/w.json"),
        json!({"worker_id": "org.acme.w", "worker_species_id": "wrk.doc.summarizer",
        "capabilities": ["cap.doc.summarize"]})
        .to_string(),
    )
    .unwrap();
    dir
}

/// `proctor` for the hall of `dir`, named by the environment as a user's shell would.
fn proctor(dir: &Path) -> Command {
    let mut cmd = crate::support::proctor();
    cmd.env("PROCTOR_DATA_DIR", dir);
    cmd
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_idle_connections(0)
        .build()
        .into()
}

/// `POST /v1/route` with the given correlation id.
fn post_route(
    agent: &ureq::Agent,
    url: &str,
    token: &str,
    cid: &str,
) -> Result<ureq::http::Response<ureq::Body>, ureq::Error> {
    agent
        .post(format!("{url}/v1/route"))
        .header("Authorization", format!("Bearer {token}"))
        .send_json(route_input(cid))
}

/// The decision answered by a successful route.
fn route_ok(url: &str, token: &str, cid: &str) -> Value {
    post_route(&agent(), url, token, cid)
        .unwrap()
        .body_mut()
        .read_json::<Value>()
        .unwrap()
}

fn route_input(cid: &str) -> Value {
    json!({"capability_id": "cap.doc.summarize", "env": "dev", "data_label": "PUBLIC", "tenant_risk": "low",
           "qos_class": "P2", "tenant_id": "agent.cli", "correlation_id": cid})
}

#[test]
fn serve_enroll_heartbeat_workers_and_exit_codes() {
    let dir = init_dir();
    let server = Hall::start(dir.path());
    let record = dir.path().join("worker.json");
    std::fs::write(
        &record,
        json!({"worker_id": "org.acme.sum.i-1", "worker_species_id": "wrk.doc.summarizer",
        "capabilities": ["cap.doc.summarize"]})
        .to_string(),
    )
    .unwrap();

    let enrolled = json_of(&proctor(dir.path()).arg("enroll").arg(&record).passes());
    assert_eq!(enrolled["enrolled"], true);

    proctor(dir.path())
        .args([
            "heartbeat",
            "org.acme.sum.i-1",
            "--status",
            "degraded",
            "--latency-ms",
            "7",
        ])
        .assert()
        .success();
    let listed = json_of(&proctor(dir.path()).args(["workers", "list"]).passes());
    assert_eq!(listed["count"], 1);
    assert_eq!(listed["workers"][0]["health"]["state"], "degraded");

    // Exit codes: bad input file 3, rejected record 3, unknown worker 3, wrong token 2, no hall 4.
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{nope").unwrap();
    proctor(dir.path()).arg("enroll").arg(&bad).assert().code(3);
    std::fs::write(&bad, r#"{"worker_id": "x.a.b"}"#).unwrap();
    proctor(dir.path())
        .arg("enroll")
        .arg(&bad)
        .assert()
        .code(3)
        .stderr(predicates::str::contains("INVALID_RECORD"));
    proctor(dir.path())
        .args(["heartbeat", "org.nobody"])
        .assert()
        .code(3);
    let wrong = dir.path().join("wrong-token");
    std::fs::write(&wrong, "f".repeat(64)).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&wrong, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let refused = proctor(dir.path())
        .args(["workers", "list", "--token-file"])
        .arg(&wrong)
        .assert()
        .code(2);
    // The token given was read and refused: name it, do not suggest the flag that gave it.
    let err = String::from_utf8_lossy(&refused.get_output().stderr).to_string();
    assert!(err.contains("wrong-token (--token-file)"), "{err}");
    assert!(!err.contains("pass --token-file"), "{err}");
    let unread = proctor(dir.path())
        .args(["workers", "list", "--token-file"])
        .arg(dir.path().join("no-such-token"))
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&unread.get_output().stderr).to_string();
    assert!(err.contains("no-such-token"), "{err}");
    assert!(err.contains("--token-file"), "{err}");
    assert!(!err.contains("pass --token-file"), "{err}");
    // Without --token-file, a data dir without a hall points at --data-dir and --token-file.
    let elsewhere = tempfile::tempdir().unwrap();
    let err = proctor(elsewhere.path())
        .args(["workers", "list"])
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8_lossy(&err).to_string();
    assert!(err.contains("PROCTOR_DATA_DIR"), "{err}");
    assert!(err.contains("pass --token-file"), "{err}");
    proctor(dir.path())
        .args(["workers", "list", "--url", "http://127.0.0.1:9"])
        .assert()
        .code(4);

    // The route answered over HTTP is the one recorded.
    let r = route_ok(&server.url, &token(dir.path()), "cli-1");
    assert_eq!(r["denied"], false);

    // SIGTERM: graceful shutdown, exit 0, the ledger is flushed and closed.
    server.stop();
    let log = std::fs::read_to_string(dir.path().join("serve.log")).unwrap();
    assert!(log.contains("ledger flushed"), "{log}");
}

#[test]
fn sigkill_under_load_loses_no_acknowledged_decision() {
    let dir = init_dir_with_worker();
    let mut server = Hall::start(dir.path());
    let token = token(dir.path());
    let acked: Arc<Mutex<Vec<(String, i64, String)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..8)
        .map(|t| {
            let (url, token, acked, stop) = (
                server.url.clone(),
                token.clone(),
                acked.clone(),
                stop.clone(),
            );
            std::thread::spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .build()
                    .into();
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let resp = post_route(&agent, &url, &token, &format!("crash-{t}-{n}"));
                    // Connection errors after the kill are expected; only 200s count.
                    let Ok(mut resp) = resp else { continue };
                    if resp.status() != 200 {
                        continue;
                    }
                    let Ok(d) = resp.body_mut().read_json::<Value>() else {
                        continue;
                    };
                    let r = &d["evidence_receipt"];
                    acked.lock().unwrap().push((
                        r["decision_id"].as_str().unwrap().to_string(),
                        r["ledger_seq"].as_i64().unwrap(),
                        r["ledger_hash"].as_str().unwrap().to_string(),
                    ));
                }
            })
        })
        .collect();
    // Let load build up, then kill without warning.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while acked.lock().unwrap().len() < 300 {
        assert!(
            std::time::Instant::now() < deadline,
            "300 acknowledged decisions did not arrive within 60 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    server.child.kill().unwrap(); // SIGKILL
    server.child.wait().unwrap();
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 300);

    let ledger_path: PathBuf = dir.path().join("ledger/decisions.sqlite");
    let ledger = ledger::Ledger::open(&ledger_path).unwrap();
    let report = ledger.backend().verify(&mut |_| {}).unwrap();
    assert!(report.is_intact(), "{report:?}");
    for (id, seq, hash) in &acked {
        let stored = ledger
            .backend()
            .get(id)
            .unwrap()
            .unwrap_or_else(|| panic!("acknowledged decision {id} lost"));
        assert_eq!((&stored.seq, &stored.hash), (seq, hash));
    }
    let last = report.last_seq;
    drop(ledger);

    // The hall restarts on the crashed data and continues the chain.
    let server = Hall::start(dir.path());
    let d = route_ok(&server.url, &token, "after-crash");
    assert_eq!(d["evidence_receipt"]["ledger_seq"], last + 1);
}

#[test]
fn a_ledger_that_cannot_write_fails_closed() {
    let dir = init_dir_with_worker();
    // Room for a fresh ledger and its index file (64 KiB pages: ~1 MiB with its WAL), not for
    // many decisions.
    let server = start_limited(dir.path(), 2048);
    let token = token(dir.path());
    let (mut ok, mut refused) = (0, 0);
    for i in 0..20_000 {
        let mut resp = post_route(&agent(), &server.url, &token, &format!("full-{i}")).unwrap();
        let body: Value = resp.body_mut().read_json().unwrap();
        match resp.status().as_u16() {
            200 => ok += 1,
            503 => {
                assert_eq!(body["error"]["code"], "DENY_LEDGER_UNAVAILABLE", "{body}");
                assert!(
                    body.get("decision_id").is_none(),
                    "no unrecorded decision is returned"
                );
                refused += 1;
                if refused == 3 {
                    break;
                }
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert!(ok > 0 && refused == 3, "ok={ok} refused={refused}");
    drop(server);

    // Every decision that was answered 200 is there, and nothing else.
    let ledger = ledger::Ledger::open(dir.path().join("ledger/decisions.sqlite")).unwrap();
    let report = ledger.backend().verify(&mut |_| {}).unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.records_checked, ok);
}
