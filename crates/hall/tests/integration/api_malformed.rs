//! Malformed input: always a JSON 4xx naming the problem, never a 5xx, never a crash. Ends with a
//! property test that throws generated bodies at every endpoint.

use crate::common;

use common::{route_input, Reply, TestHall};
use proptest::prelude::*;
use serde_json::{json, Value};

fn assert_client_error(r: &Reply, status: u16, code: &str, what: &str) {
    let shown: String = r.body.to_string().chars().take(300).collect();
    assert_eq!(r.status, status, "{what}: {shown}");
    assert!(
        r.content_type.starts_with("application/json"),
        "{what}: {}",
        r.content_type
    );
    assert_eq!(r.body["error"]["code"], code, "{what}: {shown}");
    assert!(
        !r.body["error"]["message"].as_str().unwrap_or("").is_empty(),
        "{what}"
    );
}

#[test]
fn malformed_route_bodies_get_precise_4xx() {
    let hall = TestHall::start();
    let json_ct = "application/json";
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        ("empty body", b"".to_vec(), 400, "BAD_JSON"),
        (
            "truncated",
            b"{\"capability_id\": ".to_vec(),
            400,
            "BAD_JSON",
        ),
        ("not json", b"hello".to_vec(), 400, "BAD_JSON"),
        ("trailing garbage", b"{} {}".to_vec(), 400, "BAD_JSON"),
        (
            "invalid utf-8",
            b"{\"capability_id\": \"\xff\xfe\"}".to_vec(),
            400,
            "BAD_JSON",
        ),
        (
            "deep nesting",
            format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)).into_bytes(),
            400,
            "BAD_JSON",
        ),
        ("array", b"[]".to_vec(), 400, "INVALID_ROUTE_INPUT"),
    ];
    for (what, body, status, code) in cases {
        assert_client_error(
            &hall.post_raw("/v1/route", json_ct, &body),
            status,
            code,
            what,
        );
    }

    let mut wrong_type = route_input("c");
    wrong_type["env"] = json!(5);
    let mut unknown_enum = route_input("c");
    unknown_enum["data_label"] = json!("SECRET");
    let mut bool_score = route_input("c");
    bool_score["blast_score"] = json!(true);
    let mut missing = route_input("c");
    missing.as_object_mut().unwrap().remove("tenant_id");
    let mut huge_id = route_input("c");
    huge_id["correlation_id"] = json!("x".repeat(100_000));
    let mut control_id = route_input("c");
    control_id["correlation_id"] = json!("c\u{0}1");
    for (what, body, field) in [
        ("wrong type", wrong_type, "env"),
        ("unknown enum", unknown_enum, "data_label"),
        ("bool blast_score", bool_score, "blast_score"),
        ("missing field", missing, "tenant_id"),
        ("huge id", huge_id, "correlation_id"),
        ("control character in an id", control_id, "correlation_id"),
    ] {
        let r = hall.post("/v1/route", &body);
        assert_client_error(&r, 400, "INVALID_ROUTE_INPUT", what);
        assert!(
            r.body["error"]["message"].as_str().unwrap().contains(field),
            "{what}: {:?}",
            r.body
        );
    }

    for _ in 0..5 {
        let (status, body) = hall.post_oversized("/v1/route", 10 * 1024 * 1024);
        assert_eq!(status, 413, "10 MB body: {body}");
        assert_eq!(body["error"]["code"], "BODY_TOO_LARGE");
    }
    assert_client_error(
        &hall.post_raw("/v1/route", "text/plain", b"{}"),
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        "text/plain",
    );

    // Nothing of the above was recorded.
    assert_eq!(hall.get("/v1/stats").body["decisions_total"], 0);
}

#[test]
fn the_longest_routable_correlation_id_can_be_traced_and_filtered() {
    let hall = TestHall::start();
    let id = "c".repeat(hall::MAX_INPUT_ID_LEN);
    let routed = hall.post("/v1/route", &route_input(&id));
    assert_eq!(routed.status, 200, "{:?}", routed.body);
    let trace = hall.get(&format!("/v1/traces/{id}"));
    assert_eq!(trace.status, 200, "{:?}", trace.body);
    assert_eq!(trace.body["decisions"].as_array().unwrap().len(), 1);
    let filtered = hall.get(&format!("/v1/decisions?correlation_id={id}"));
    assert_eq!(filtered.status, 200, "{:?}", filtered.body);
    assert_eq!(filtered.body["decisions"].as_array().unwrap().len(), 1);
}

#[test]
fn malformed_ids_queries_and_bodies_elsewhere() {
    let hall = TestHall::start();
    let huge_id = format!("/v1/decisions/{}", "a".repeat(10_000));
    for (path, status, code, what) in [
        (huge_id.as_str(), 400, "INVALID_ID", "huge path id"),
        ("/v1/traces/%0Abad", 400, "INVALID_ID", "control char in id"),
        ("/v1/decisions/%FF%FE", 400, "INVALID_ID", "non-utf8 id"),
        ("/v1/decisions/nope", 404, "NOT_FOUND", "unknown decision"),
        ("/v1/alerts?limit=-1", 400, "INVALID_QUERY", "alerts limit"),
        ("/v1/stats?since=x", 400, "INVALID_QUERY", "stats since"),
        (
            "/v1/hall-events?kind=bogus",
            400,
            "INVALID_QUERY",
            "unknown hall event kind",
        ),
    ] {
        assert_client_error(&hall.get(path), status, code, what);
    }
    assert_client_error(
        &hall.post("/v1/alerts/abc/ack", &json!({})),
        400,
        "INVALID_ID",
        "alert id",
    );
    for q in [
        "limit=abc",
        "limit=0",
        "limit=100000",
        "denied=maybe",
        "cursor=garbage",
        "since=yesterday",
        "env=DEV",
        "colour=red",
    ] {
        assert_client_error(
            &hall.get(&format!("/v1/decisions?{q}")),
            400,
            "INVALID_QUERY",
            q,
        );
    }
    for path in [
        "/v1/workers?colour=red",
        "/v1/settings?x",
        "/v1/ledger/verify?full=1",
    ] {
        assert_client_error(&hall.get(path), 400, "INVALID_QUERY", path);
    }
    assert_client_error(
        &hall.post("/v1/workers/org.a.w/verify?deep=1", &json!({})),
        400,
        "INVALID_QUERY",
        "verify takes no query parameters",
    );
    assert_eq!(
        hall.get("/v1/hall-events?kind=rules_change").status,
        200,
        "a known kind filters"
    );

    std::fs::write(
        hall.data().join("registry/w.json"),
        common::worker_record("org.a.w").to_string(),
    )
    .unwrap();
    common::wait_for("worker file", || {
        (hall.get("/v1/workers").body["count"] == 1).then_some(())
    });
    let hb = "/v1/workers/org.a.w/heartbeat";
    for (body, what) in [
        (json!({"status": "sleepy"}), "unknown status"),
        (json!({"latency_ms": "fast"}), "latency type"),
        (json!({"latency_ms": -3}), "negative latency"),
        (json!({"extra": 1}), "unknown key"),
        (
            json!({"status": null}),
            "null status is a shape error, not a syntax error",
        ),
    ] {
        assert_client_error(&hall.post(hb, &body), 422, "INVALID_BODY", what);
    }
    for not_an_object in [json!([]), json!(["ok", 5]), json!("ok")] {
        assert_client_error(
            &hall.post(hb, &not_an_object),
            422,
            "INVALID_BODY",
            "a heartbeat body that is not an object",
        );
    }
    assert_client_error(
        &hall.put("/v1/settings/thresholds", &json!([])),
        422,
        "INVALID_BODY",
        "thresholds as an array",
    );
    assert_eq!(
        hall.post_raw(hb, "application/json", b"").status,
        200,
        "empty heartbeat body means ok"
    );

    assert_client_error(
        &hall.post("/v1/workers", &json!([1, 2])),
        400,
        "INVALID_RECORD",
        "array record",
    );
    let t = json!({"health": {"stale_after_s": 10, "offline_after_s": 5, "degraded_latency_ms": 1.0},
                   "alerts": {"deny_rate_threshold": 0.5, "deny_rate_window_s": 60, "deny_rate_min_decisions": 5}});
    let r = hall.put("/v1/settings/thresholds", &t);
    assert_client_error(&r, 422, "INVALID_BODY", "inverted thresholds");
    assert_client_error(
        &hall.post("/v1/attest/hash", &json!({"path": "relative/dir"})),
        400,
        "INVALID_PATH",
        "relative path",
    );
}

#[test]
fn a_stalled_request_times_out_with_a_json_408() {
    use std::io::Write;
    let hall = TestHall::start_with(|dir| {
        std::fs::write(dir.join("config.toml"), "request_timeout_s = 1\n").unwrap()
    });
    let mut stream = std::net::TcpStream::connect(hall.addr).unwrap();
    let head = format!(
        "POST /v1/route HTTP/1.1\r\nHost: {}\r\nAuthorization: {}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"",
        hall.addr,
        hall.bearer()
    );
    stream.write_all(head.as_bytes()).unwrap(); // ...and the rest of the body never comes
    let (status, body) = common::read_response(stream);
    assert_eq!(status, 408, "{body}");
    assert_eq!(body["error"]["code"], "TIMEOUT");
}

#[test]
fn a_declared_oversized_body_is_refused_without_waiting_for_it() {
    use std::io::Write;
    let hall = TestHall::start(); // request_timeout_s = 10: a 408 would take that long
    let mut stream = std::net::TcpStream::connect(hall.addr).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    let head = format!(
        "POST /v1/route HTTP/1.1\r\nHost: {}\r\nAuthorization: {}\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n",
        hall.addr,
        hall.bearer()
    );
    stream.write_all(head.as_bytes()).unwrap(); // and no body at all
    let (status, body) = common::read_response(stream);
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"]["code"], "BODY_TOO_LARGE");
}

#[test]
fn a_client_trickling_its_request_head_is_disconnected() {
    use std::io::{Read, Write};
    let hall = TestHall::start_with(|dir| {
        std::fs::write(dir.join("config.toml"), "request_timeout_s = 1\n").unwrap()
    });
    let mut stream = std::net::TcpStream::connect(hall.addr).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    // Slowloris: a head that is never finished, one header every half second.
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let started = std::time::Instant::now();
    let mut buf = [0u8; 256];
    for i in 0.. {
        std::thread::sleep(std::time::Duration::from_millis(500));
        if stream
            .write_all(format!("X-Slow-{i}: y\r\n").as_bytes())
            .is_err()
        {
            break; // the hall hung up
        }
        stream.set_nonblocking(true).unwrap();
        let read = stream.read(&mut buf);
        stream.set_nonblocking(false).unwrap();
        match read {
            Ok(_) => break, // closed (0) or an error answer before closing
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(_) => break,
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(15),
            "a trickled request head kept its connection open"
        );
    }
    // The hall still serves everyone else.
    assert_eq!(hall.get_noauth("/health").status, 200);
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        ".{0,40}".prop_map(Value::String),
        prop_oneof![
            Just("dev"),
            Just("prod"),
            Just("PUBLIC"),
            Just("P0"),
            Just("low"),
            Just("cap.doc.summarize")
        ]
        .prop_map(|s| json!(s)),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("capability_id".to_string()),
                    Just("env".to_string()),
                    Just("data_label".to_string()),
                    Just("tenant_risk".to_string()),
                    Just("qos_class".to_string()),
                    Just("tenant_id".to_string()),
                    Just("correlation_id".to_string()),
                    Just("blast_score".to_string()),
                    Just("dry_run".to_string()),
                    Just("request".to_string()),
                    Just("worker_id".to_string()),
                    Just("status".to_string()),
                    Just("latency_ms".to_string()),
                    Just("path".to_string()),
                    "[a-z_]{1,12}",
                ],
                inner,
                0..8,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A valid RouteInput with one field replaced by an arbitrary value.
fn mutated_route_input() -> impl Strategy<Value = Value> {
    let fields = [
        "capability_id",
        "env",
        "data_label",
        "tenant_risk",
        "qos_class",
        "tenant_id",
        "correlation_id",
        "request",
        "blast_score",
        "dry_run",
        "blast_radius",
        "privilege_context",
        "tenant_credential",
    ];
    (prop::sample::select(fields.to_vec()), arb_json()).prop_map(|(field, v)| {
        let mut input = route_input("fuzz");
        input[field] = v;
        input
    })
}

#[test]
fn generated_requests_never_get_a_5xx() {
    let hall = TestHall::start();
    let endpoints: Vec<(String, String)> = hall::api::endpoints()
        .iter()
        // The event stream never ends; hashing takes a real directory (a generated "/" would
        // hash the whole disk).
        .filter(|e| e.path != "/v1/events" && !e.path.starts_with("/v1/attest/"))
        .map(|e| (e.method.to_string(), e.path.replace(['{', '}'], "")))
        .collect();
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 300,
        ..ProptestConfig::default()
    });
    let strategy = (
        prop::sample::select(endpoints),
        prop_oneof![arb_json(), mutated_route_input()],
    );
    runner
        .run(&strategy, |((method, path), body)| {
            let bytes = body.to_string();
            let r = hall.request(&method, &path, Some(&hall.bearer()), Some(bytes.as_bytes()));
            prop_assert!(
                r.status < 500,
                "{method} {path} {bytes} -> {} {:?}",
                r.status,
                r.body
            );
            if r.status >= 400 {
                // The reference alias answers in the reference's `{"error": text}` shape.
                let coded = r.body["error"]["code"].is_string();
                let reference_shape = path == "/enroll" && r.body["error"].is_string();
                prop_assert!(coded || reference_shape, "{method} {path}: {:?}", r.body);
            }
            Ok(())
        })
        .unwrap();
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 300,
        ..ProptestConfig::default()
    });
    runner
        .run(&mutated_route_input(), |input| {
            let r = hall.post("/v1/route", &input);
            prop_assert!(
                r.status == 200 || r.status == 400,
                "{input} -> {} {:?}",
                r.status,
                r.body
            );
            if r.status == 200 {
                prop_assert!(r.body["evidence_receipt"]["ledger_seq"].as_i64().unwrap() > 0);
            }
            Ok(())
        })
        .unwrap();
    let verify = hall.get("/v1/ledger/verify");
    assert_eq!(verify.body["ok"], true, "{:?}", verify.body);
}
