//! Real halls shipping to a real PostgreSQL (`[fleet]` in config.toml): two halls into one
//! store, both verified there (signed checkpoints included, opened with the hall's own note
//! code); PostgreSQL stopped while routes keep coming: every route is still answered and
//! recorded, `GET /v1/fleet` shows the outage and the backlog, and once PostgreSQL is back the
//! backlog drains with nothing lost or doubled.

mod common;

use std::time::{Duration, Instant};

use common::{place_worker, route_input, TestHall};
use fleet::testing::TempPostgres;
use fleet::verify::NoteVerifier;
use hall::anchor::{Checkpoint, HallPublicKey};
use serde_json::Value;

const DEADLINE: Duration = Duration::from_secs(60);

fn poll(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn shipping_hall(pg: &TempPostgres, hall_id: &str) -> TestHall {
    let config = format!(
        "[fleet]\ndatabase_url = \"{}\"\nhall_id = \"{hall_id}\"\n",
        pg.url()
    );
    TestHall::start_with(|dir| {
        place_worker(dir, "w.json", "w-1");
        std::fs::write(dir.join("config.toml"), config).unwrap();
    })
}

fn route(hall: &TestHall, n: usize, tag: &str) {
    for i in 0..n {
        let reply = hall.post("/v1/route", &route_input(&format!("{tag}-{i}")));
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        assert_eq!(reply.body["denied"], false, "{:?}", reply.body);
    }
}

struct HallNotes;

impl NoteVerifier for HallNotes {
    fn open(&self, note: &str, verifier_key: &str) -> Result<(i64, String), String> {
        let key = HallPublicKey::parse_verifier_key(verifier_key)?;
        let checkpoint = Checkpoint::open(note, &key).map_err(|e| e.to_string())?;
        Ok((checkpoint.size, checkpoint.hash))
    }
}

struct Central {
    runtime: tokio::runtime::Runtime,
    client: tokio_postgres::Client,
}

impl Central {
    fn connect(pg: &TempPostgres) -> Central {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let config = fleet::dsn::parse(&pg.url()).unwrap();
        let client = runtime.block_on(fleet::dsn::connect(&config)).unwrap();
        Central { runtime, client }
    }

    fn count(&self, sql: &str, hall_id: &str) -> i64 {
        self.runtime
            .block_on(self.client.query_one(sql, &[&hall_id]))
            .map(|r| r.get(0))
            .unwrap_or(-1)
    }

    fn decisions(&self, hall_id: &str) -> i64 {
        self.count("SELECT count(*) FROM decisions WHERE hall_id = $1", hall_id)
    }
}

#[test]
fn two_halls_ship_and_verify_with_their_signed_checkpoints() {
    let pg = TempPostgres::start();
    let (a, b) = (shipping_hall(&pg, "hall-a"), shipping_hall(&pg, "hall-b"));
    route(&a, 30, "a");
    route(&b, 20, "b");
    let central = Central::connect(&pg);
    poll("both halls' decisions and a signed checkpoint each", || {
        central.decisions("hall-a") == 30
            && central.decisions("hall-b") == 20
            && central.count(
                "SELECT count(*) FROM checkpoints WHERE hall_id = $1",
                "hall-a",
            ) > 0
            && central.count(
                "SELECT count(*) FROM checkpoints WHERE hall_id = $1",
                "hall-b",
            ) > 0
    });
    // Registered with the key `proctor hall key` prints.
    let key: Value = a.get("/v1/hall/key").body;
    let row = central
        .runtime
        .block_on(central.client.query_one(
            "SELECT public_key, verifier_key, name FROM halls WHERE hall_id = 'hall-a'",
            &[],
        ))
        .unwrap();
    assert_eq!(row.get::<_, String>(0), key["public_key"].as_str().unwrap());
    assert_eq!(
        row.get::<_, String>(1),
        key["verifier_key"].as_str().unwrap()
    );
    assert!(!row.get::<_, String>(2).is_empty());

    let report = central
        .runtime
        .block_on(fleet::verify::verify_all(&central.client, &HallNotes))
        .unwrap();
    assert!(report.ok(), "{report:?}");
    for hall in &report.halls {
        assert!(!hall.message.contains(" 0 signed checkpoints"), "{hall:?}");
    }

    // A signed checkpoint whose note was swapped for another hall's is named.
    central
        .runtime
        .block_on(central.client.execute(
            "UPDATE checkpoints SET note = (SELECT note FROM checkpoints WHERE hall_id = 'hall-b' LIMIT 1) \
             WHERE hall_id = 'hall-a'",
            &[],
        ))
        .unwrap();
    let report = central
        .runtime
        .block_on(fleet::verify::verify_all(&central.client, &HallNotes))
        .unwrap();
    let a_report = report.halls.iter().find(|h| h.hall_id == "hall-a").unwrap();
    assert!(
        !a_report.ok && a_report.message.contains("signed checkpoint"),
        "{a_report:?}"
    );
}

#[test]
fn routes_keep_answering_while_postgres_is_down_and_the_backlog_drains_after() {
    let pg = TempPostgres::start();
    let hall = shipping_hall(&pg, "outage-hall");
    route(&hall, 20, "before");
    let central = Central::connect(&pg);
    poll("the first decisions shipped", || {
        central.decisions("outage-hall") == 20
    });
    let status = hall.get("/v1/fleet").body;
    assert_eq!(status["configured"], true, "{status}");
    assert_eq!(status["hall_id"], "outage-hall");
    assert_eq!(status["connected"], true);
    assert!(!status["database"].as_str().unwrap().contains("password"));
    drop(central);

    pg.stop_server();
    let started = Instant::now();
    route(&hall, 200, "during");
    // Shipping is off the route path: 200 routes take what they take without PostgreSQL.
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    poll("the outage in GET /v1/fleet", || {
        let s = hall.get("/v1/fleet").body;
        s["connected"] == false
            && s["last_error"].is_string()
            && s["backlog"]["decisions"].as_i64() > Some(0)
    });

    pg.start_server();
    let central = Central::connect(&pg);
    poll("the backlog drained", || {
        central.decisions("outage-hall") == 220
            && hall.get("/v1/fleet").body["backlog"]["total"] == 0
    });
    assert_eq!(
        central.count(
            "SELECT count(DISTINCT seq) FROM decisions WHERE hall_id = $1",
            "outage-hall"
        ),
        220
    );
    let report = central
        .runtime
        .block_on(fleet::verify::verify_all(&central.client, &HallNotes))
        .unwrap();
    assert!(report.ok(), "{report:?}");
}

#[test]
fn without_fleet_the_status_says_not_configured() {
    let hall = TestHall::start();
    let status = hall.get("/v1/fleet");
    assert_eq!(status.status, 200);
    assert_eq!(status.body["configured"], false, "{:?}", status.body);
    assert!(status.body["hall_id"].is_null());
}
