//! `proctor serve` shipping to a real PostgreSQL and `proctor fleet verify` over it: a hall
//! killed with SIGKILL in the middle of a load resumes shipping after its restart with nothing
//! lost or doubled; `--json` has the documented shape; a central row edited is named by hall
//! and seq with exit 1; a bad URL is exit 3 without echoing the password.

mod support;

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fleet::testing::TempPostgres;
use serde_json::{json, Value};
use support::{init_dir, proctor, Hall};

const DEADLINE: Duration = Duration::from_secs(90);

fn poll(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A hall that can die without notice.
fn sigkill(mut hall: Hall) {
    hall.child.signal("-KILL");
    let _ = hall.child.wait();
}

/// One route; false once the hall is gone.
fn route(agent: &ureq::Agent, url: &str, token: &str, cid: &str) -> bool {
    let input = json!({"capability_id": "cap.doc.summarize", "env": "dev",
        "data_label": "PUBLIC", "tenant_risk": "low", "qos_class": "P2",
        "tenant_id": "agent.fleet", "correlation_id": cid});
    agent
        .post(format!("{url}/v1/route"))
        .header("Authorization", format!("Bearer {token}"))
        .send_json(input)
        .is_ok_and(|r| r.status() == 200)
}

fn hall_dir(pg: &TempPostgres, hall_id: &str) -> tempfile::TempDir {
    let dir = init_dir();
    std::fs::write(
        dir.path().join("config.toml"),
        format!(
            "[fleet]\ndatabase_url = \"{}\"\nhall_id = \"{hall_id}\"\n",
            pg.url()
        ),
    )
    .unwrap();
    dir
}

/// The hall's ledger head (records it holds), read from its file.
fn local_head(dir: &Path) -> i64 {
    let conn = rusqlite::Connection::open_with_flags(
        dir.join("ledger/decisions.sqlite"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    conn.query_row("SELECT head_seq FROM chain_state", [], |r| r.get(0))
        .unwrap()
}

/// `psql` on the central store as its superuser.
fn psql_on(pg: &TempPostgres) -> std::process::Command {
    let mut cmd = std::process::Command::new("psql");
    cmd.args([
        "-h",
        "127.0.0.1",
        "-p",
        &pg.port().to_string(),
        "-U",
        "postgres",
    ]);
    cmd
}

fn central(pg: &TempPostgres, sql: &str) -> i64 {
    let out = psql_on(pg).args(["-At", "-c", sql]).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(-1)
}

fn psql(pg: &TempPostgres, sql: &str) {
    let out = psql_on(pg)
        .args(["-v", "ON_ERROR_STOP=1", "-c", sql])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn fleet_verify(pg: &TempPostgres, json: bool) -> (i32, String, String) {
    fleet_verify_at(&pg.url(), json)
}

/// `fleet verify` of the central store at `url`: exit code, stdout, stderr.
fn fleet_verify_at(url: &str, json: bool) -> (i32, String, String) {
    let mut cmd = proctor();
    cmd.args(["fleet", "verify", "--database-url", url]);
    if json {
        cmd.arg("--json");
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_hall_killed_while_shipping_resumes_without_loss_or_doubles_and_verify_names_an_edit() {
    let pg = TempPostgres::start();
    let (dir_a, dir_b) = (hall_dir(&pg, "killed"), hall_dir(&pg, "steady"));
    let steady = Hall::start(dir_b.path());
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into();
    for i in 0..25 {
        assert!(route(
            &agent,
            &steady.url,
            &steady.token,
            &format!("steady-{i}")
        ));
    }

    // Four clients route into hall "killed" until it dies.
    let server = Hall::start(dir_a.path());
    let acknowledged = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..4)
        .map(|t| {
            let (url, token) = (server.url.clone(), server.token.clone());
            let (acked, stop, agent) = (acknowledged.clone(), stop.clone(), agent.clone());
            std::thread::spawn(move || {
                for i in 0..100_000 {
                    if stop.load(Ordering::Relaxed)
                        || !route(&agent, &url, &token, &format!("k-{t}-{i}"))
                    {
                        return;
                    }
                    acked.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    poll("some decisions shipped mid-load", || {
        central(
            &pg,
            "SELECT count(*) FROM decisions WHERE hall_id = 'killed'",
        ) >= 200
    });
    sigkill(server);
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    let acked = acknowledged.load(Ordering::Relaxed) as i64;
    let head = local_head(dir_a.path());
    assert!(
        head >= acked,
        "the ledger lost acknowledged records: {head} < {acked}"
    );

    let restarted = Hall::start(dir_a.path());
    poll("the rest shipped after the restart", || {
        central(
            &pg,
            "SELECT count(*) FROM decisions WHERE hall_id = 'killed'",
        ) == head
    });
    assert_eq!(
        central(
            &pg,
            "SELECT count(DISTINCT seq) FROM decisions WHERE hall_id = 'killed'"
        ),
        head
    );
    poll("the steady hall shipped", || {
        central(
            &pg,
            "SELECT count(*) FROM decisions WHERE hall_id = 'steady'",
        ) == 25
    });

    let (code, out, err) = fleet_verify(&pg, false);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("killed") && out.contains("steady"), "{out}");
    let (code, out, _) = fleet_verify(&pg, true);
    assert_eq!(code, 0);
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        report.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["halls"]
    );
    let halls = report["halls"].as_array().unwrap();
    assert_eq!(halls.len(), 2);
    for hall in halls {
        let mut keys: Vec<_> = hall.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "first_bad_seq",
                "hall_id",
                "head_seq",
                "message",
                "ok",
                "records"
            ]
        );
        assert_eq!(hall["ok"], true);
        assert!(hall["first_bad_seq"].is_null());
    }
    let killed = halls.iter().find(|h| h["hall_id"] == "killed").unwrap();
    assert_eq!(killed["records"], head);
    assert_eq!(killed["head_seq"], head);
    drop(restarted);
    drop(steady);

    psql(
        &pg,
        "UPDATE decisions SET body = replace(body, 'agent.fleet', 'agent.fleeT') \
         WHERE hall_id = 'steady' AND seq = 9",
    );
    let (code, out, err) = fleet_verify(&pg, true);
    assert_eq!(code, 1, "{out}{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    let bad = report["halls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["hall_id"] == "steady")
        .unwrap();
    assert_eq!(
        (bad["ok"].clone(), bad["first_bad_seq"].clone()),
        (json!(false), json!(9)),
        "{bad}"
    );
    assert!(err.contains("hall steady at seq 9"), "{err}");
}

#[test]
fn a_bad_database_url_is_exit_3_and_never_echoes_the_password() {
    // A malformed URL: exit 3; an unreachable server: exit 4, named without its password.
    for (url, code, named) in [
        ("postgresql://u:s3cret@host:notaport/db", 3, "database_url"),
        (
            "postgresql://u:s3cret@127.0.0.1:1/db",
            4,
            "postgresql://u@127.0.0.1:1/db",
        ),
    ] {
        let (exit, _, err) = fleet_verify_at(url, false);
        assert_eq!(exit, code, "{url}: {err}");
        assert!(err.contains(named) && !err.contains("s3cret"), "{err}");
    }
}
