//! The fleet view (`proctor serve --fleet`) over a real PostgreSQL: the central schema
//! migrated and filled with decisions of three halls (`fleet::query::fixture`), served on
//! 127.0.0.1 and driven over HTTP. Its answers are checked against the OpenAPI document it
//! serves, which is the hall's.

mod common;

use chrono::Utc;
use fleet::query::fixture::{self, HALL_A, HALL_B, HALL_C, LINKED_DECISION, SPANNING};
use fleet::testing::TempPostgres;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::net::SocketAddr;
use tokio::sync::oneshot;

struct Fleet {
    pg: TempPostgres,
    _data: tempfile::TempDir,
    base: String,
    token: String,
    agent: ureq::Agent,
    stop: Option<oneshot::Sender<()>>,
    server: Option<std::thread::JoinHandle<()>>,
}

impl Fleet {
    fn start() -> Fleet {
        let pg = TempPostgres::start();
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let (mut client, connection) =
                tokio_postgres::connect(&pg.url(), tokio_postgres::NoTls)
                    .await
                    .unwrap();
            tokio::spawn(connection);
            fleet::schema::migrate(&mut client).await.unwrap();
            fixture::seed(&client, Utc::now()).await.unwrap();
        });
        let data = tempfile::tempdir().unwrap();
        let (config, _) = hall::Config::load_or_init(data.path()).unwrap();
        let token = config.read_token().unwrap();
        let view = hall::fleet_view::FleetView::new(&config, &pg.url()).unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let (bound, addr) = std::sync::mpsc::channel::<SocketAddr>();
        let server = std::thread::spawn(move || {
            runtime.block_on(async move {
                let listener = hall::server::bind("127.0.0.1:0".parse().unwrap())
                    .await
                    .unwrap();
                bound.send(listener.local_addr().unwrap()).unwrap();
                let until = async move {
                    let _ = stopped.await;
                };
                hall::fleet_view::serve(view, listener, until)
                    .await
                    .unwrap();
            })
        });
        let addr = addr.recv().unwrap();
        Fleet {
            pg,
            _data: data,
            base: format!("http://{addr}"),
            token,
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(std::time::Duration::from_secs(30)))
                .build()
                .new_agent(),
            stop: Some(stop),
            server: Some(server),
        }
    }

    fn request(&self, method: &str, path: &str, token: Option<&str>) -> (u16, Value) {
        let mut req = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        if method != "GET" {
            req = req.header("Content-Type", "application/json");
        }
        let body = if method == "GET" {
            vec![]
        } else {
            b"{}".to_vec()
        };
        let resp = self.agent.run(req.body(body).unwrap()).unwrap();
        let status = resp.status().as_u16();
        let is_json = resp
            .headers()
            .get("content-type")
            .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
        assert!(is_json, "{method} {path}: {status} without a JSON body");
        let text = resp.into_body().read_to_string().unwrap();
        (status, serde_json::from_str(&text).unwrap())
    }

    fn get(&self, path: &str) -> (u16, Value) {
        self.request("GET", path, Some(&self.token))
    }

    /// `GET path` answered 200 with a body that matches the document's schema for
    /// `template` (the path as documented).
    fn ok(&self, template: &str, path: &str) -> Value {
        let (status, body) = self.get(path);
        assert_eq!(status, 200, "{path}: {body}");
        let doc = self.get("/v1/openapi.json").1;
        let mut schema = doc["paths"][template]["get"]["responses"]["200"]["content"]
            ["application/json"]["schema"]
            .clone();
        schema["components"] = doc["components"].clone();
        let validator = jsonschema::draft202012::new(&schema).expect("a valid schema");
        let errors: Vec<String> = validator
            .iter_errors(&body)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{path}: {errors:?}\n{body:#}");
        body
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.join();
        }
    }
}

fn halls_of(records: &Value) -> BTreeSet<String> {
    records
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["hall_id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_uis_reads_answer_across_halls_behind_the_token() {
    let f = Fleet::start();

    // The UI learns the mode before signing in.
    let (status, health) = f.request("GET", "/health", None);
    assert_eq!((status, health["mode"].as_str()), (200, Some("fleet")));
    assert!(health["token_file"]
        .as_str()
        .unwrap()
        .ends_with("api-token"));
    for path in [
        "/v1/decisions",
        "/v1/fleet/halls",
        "/v1/stats",
        "/v1/nothing",
    ] {
        let (status, body) = f.request("GET", path, None);
        assert_eq!(status, 401, "{path}: {body}");
        assert_eq!(body["error"]["code"], "UNAUTHORIZED");
        assert_eq!(f.request("GET", path, Some("wrong")).0, 401);
    }

    // Decisions: both halls, newest first, each record with its hall.
    let page = f.ok("/v1/decisions", "/v1/decisions?limit=25");
    let records = page["decisions"].as_array().unwrap();
    assert_eq!(records.len(), 25);
    assert_eq!(
        halls_of(&page["decisions"]),
        BTreeSet::from([HALL_A.into(), HALL_B.into()])
    );
    assert_eq!(records[0]["decision"]["decision_id"], "dec-hall-a-30");
    let next = page["next_cursor"].as_str().unwrap();
    let rest = f.ok(
        "/v1/decisions",
        &format!("/v1/decisions?limit=25&cursor={next}"),
    );
    assert_eq!(rest["decisions"].as_array().unwrap().len(), 25);
    assert!(rest["next_cursor"].is_null());

    // The hall filter, alone and with the explorer's own filters.
    let b = f.ok(
        "/v1/decisions",
        &format!("/v1/decisions?hall_id={HALL_B}&limit=100"),
    );
    assert_eq!(b["decisions"].as_array().unwrap().len(), 20);
    assert_eq!(halls_of(&b["decisions"]), BTreeSet::from([HALL_B.into()]));
    let b_denied = f.ok(
        "/v1/decisions",
        &format!(
            "/v1/decisions?hall_id={HALL_B}&denied=true&env=dev&deny_code=DENY_NO_MATCHING_RULE"
        ),
    );
    let seqs: Vec<i64> = b_denied["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, [20, 16, 12, 8, 4]);
    let y = f.ok(
        "/v1/decisions",
        "/v1/decisions?tenant_id=tenant-y&q=cap.doc",
    );
    assert_eq!(
        y["decisions"].as_array().unwrap().len(),
        12,
        "A's even seqs, not every 10th"
    );
    let c = f.ok("/v1/decisions", &format!("/v1/decisions?hall_id={HALL_C}"));
    assert_eq!(c["decisions"], json!([]));

    // Bad input is a 400 naming the problem, never a 500.
    for (query, names) in [
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("cursor=v1.000000000000002a", "cursor"),
        ("hall=x", "hall"),
        ("env=moon", "env"),
        ("hall_id=%01", "control"),
        ("since=yesterday", "since"),
    ] {
        let (status, body) = f.get(&format!("/v1/decisions?{query}"));
        assert_eq!(status, 400, "{query}: {body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(names), "{query}: {message}");
    }

    // One decision with what followed it, in its own hall.
    let detail = f.ok(
        "/v1/decisions/{decision_id}",
        &format!("/v1/decisions/{LINKED_DECISION}"),
    );
    assert_eq!(
        (detail["hall_id"].as_str(), detail["seq"].as_i64()),
        (Some(HALL_B), Some(11))
    );
    assert_eq!(detail["linked"][0]["kind"], "mcp_call");
    assert_eq!(detail["linked"][0]["hall_id"], HALL_B);
    assert_eq!(detail["linked"][0]["decision_hash"], detail["hash"]);
    let (status, body) = f.get("/v1/decisions/dec-nobody");
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("NOT_FOUND"))
    );

    // A trace whose correlation id spans two machines.
    let trace = f.ok(
        "/v1/traces/{correlation_id}",
        &format!("/v1/traces/{SPANNING}"),
    );
    let steps: Vec<(String, i64)> = trace["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["hall_id"].as_str().unwrap().into(),
                d["seq"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            (HALL_A.to_string(), 10),
            (HALL_B.into(), 10),
            (HALL_B.into(), 11)
        ]
    );
    assert_eq!(trace["linked"].as_array().unwrap().len(), 1);
    assert_eq!(trace["health_transitions"][0]["hall_id"], HALL_B);

    // Charts and totals.
    let stats = f.ok("/v1/stats", "/v1/stats?bucket_s=86400");
    assert_eq!(
        (stats["decisions_total"].as_u64(), stats["denied"].as_u64()),
        (Some(50), Some(11))
    );
    assert_eq!(stats["alerts_open"], 1);
    assert_eq!(f.get("/v1/stats?bucket_s=0").0, 400);

    // The halls, with health from their last contact and their backlog.
    let halls = f.ok("/v1/fleet/halls", "/v1/fleet/halls");
    let rows: Vec<(String, String, i64)> = halls["halls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["hall_id"].as_str().unwrap().into(),
                h["health"].as_str().unwrap().into(),
                h["backlog"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (HALL_B.to_string(), "silent".to_string(), 42),
            (HALL_A.into(), "live".into(), 0),
            (HALL_C.into(), "never".into(), 0),
        ]
    );
    assert_eq!(halls["halls"][1]["head_seq"], 30);
    assert!(halls["halls"][2]["last_contact"].is_null());
    assert_eq!(f.get("/v1/fleet/halls?x=1").0, 400, "no query parameters");
}

#[test]
fn writes_and_a_halls_own_operations_are_refused_as_not_in_the_fleet_view() {
    let f = Fleet::start();
    for (method, path, status, code) in [
        ("POST", "/v1/route", 405, "FLEET_VIEW_READ_ONLY"),
        ("POST", "/v1/workers", 405, "FLEET_VIEW_READ_ONLY"),
        (
            "PUT",
            "/v1/settings/thresholds",
            405,
            "FLEET_VIEW_READ_ONLY",
        ),
        ("POST", "/v1/alerts/1/ack", 405, "FLEET_VIEW_READ_ONLY"),
        ("POST", "/v1/decisions", 405, "FLEET_VIEW_READ_ONLY"),
        ("DELETE", "/v1/fleet/halls", 405, "FLEET_VIEW_READ_ONLY"),
        ("GET", "/v1/workers", 404, "NOT_IN_FLEET_VIEW"),
        ("GET", "/v1/settings", 404, "NOT_IN_FLEET_VIEW"),
        ("GET", "/v1/events", 404, "NOT_IN_FLEET_VIEW"),
        ("GET", "/v1/ledger/verify", 404, "NOT_IN_FLEET_VIEW"),
        ("POST", "/mcp", 405, "FLEET_VIEW_READ_ONLY"),
        ("GET", "/v1/not-a-route", 404, "NOT_FOUND"),
    ] {
        let (got, body) = f.request(method, path, Some(&f.token));
        assert_eq!(got, status, "{method} {path}: {body}");
        assert_eq!(body["error"]["code"], code, "{method} {path}");
        if code != "NOT_FOUND" {
            let message = body["error"]["message"].as_str().unwrap();
            assert!(
                message.contains("not available in the fleet view (read-only)"),
                "{message}"
            );
        }
    }
    // Still behind the token: a refusal says nothing to a stranger.
    assert_eq!(f.request("POST", "/v1/route", None).0, 401);

    // And a hall is no fleet view: it refuses the hall filter and the halls list.
    let hall = common::TestHall::start();
    let r = hall.get("/v1/decisions?hall_id=hall-a");
    assert_eq!(r.status, 400);
    assert!(r.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("fleet view"));
    let r = hall.get("/v1/fleet/halls");
    assert_eq!(
        (r.status, r.body["error"]["code"].as_str()),
        (404, Some("FLEET_VIEW_ONLY"))
    );
    assert!(hall.get_noauth("/health").body.get("mode").is_none());
}

#[test]
fn postgres_down_is_a_503_saying_so_and_the_view_recovers_when_it_is_back() {
    let f = Fleet::start();
    assert_eq!(f.get("/v1/decisions?limit=1").0, 200);
    f.pg.stop_server();
    for path in [
        "/v1/decisions",
        "/v1/decisions/dec-hall-a-1",
        "/v1/traces/corr-span",
        "/v1/stats",
        "/v1/fleet/halls",
    ] {
        let (status, body) = f.get(path);
        assert_eq!(status, 503, "{path}: {body}");
        assert_eq!(body["error"]["code"], "CENTRAL_UNAVAILABLE");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("central store is unavailable"),
            "{message}"
        );
        assert!(
            !message.contains("postgresql://"),
            "no connection string: {message}"
        );
    }
    // The view itself is up, and says what it is.
    assert_eq!(f.request("GET", "/health", None).0, 200);
    f.pg.start_server();
    let (status, body) = f.get("/v1/decisions?limit=2");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["decisions"].as_array().unwrap().len(), 2);
}

#[test]
fn a_malformed_database_url_is_refused_before_serving() {
    let data = tempfile::tempdir().unwrap();
    let (config, _) = hall::Config::load_or_init(data.path()).unwrap();
    for bad in [
        "",
        "postgresql://u:secret@h:notaport/db",
        "not a url at all",
    ] {
        let err = match hall::fleet_view::FleetView::new(&config, bad) {
            Ok(_) => panic!("{bad:?} was accepted"),
            Err(e) => e.to_string(),
        };
        assert!(err.contains("--database-url"), "{err}");
        assert!(!err.contains("secret"), "{err}");
    }
}
