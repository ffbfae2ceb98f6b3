//! The OpenAPI document matches the implementation: it lists exactly the routes the server
//! answers, and real responses of every operation (successes, error bodies and the event
//! stream's payloads) validate against the response schemas it publishes.

mod common;

use common::{
    call, connect_with, fixture, route_input, setup_keys, wait_for, worker_record, TestHall,
};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::Mutex;

#[test]
fn openapi_document_matches_the_router() {
    let hall = TestHall::start();
    let doc = hall.get("/v1/openapi.json");
    assert_eq!(doc.status, 200);
    assert_eq!(doc.body["openapi"], "3.1.0");

    let documented = operations(&doc.body);
    let routed: BTreeSet<(String, String)> = hall::api::endpoints()
        .iter()
        .map(|e| (e.method.to_string(), e.path.to_string()))
        .collect();
    assert_eq!(documented, routed);

    // Each operation's id is its name in the endpoint table (what the UI's generated operation
    // table and the desktop's `hall_call` command use).
    let ids: BTreeSet<(String, String, String)> = documented
        .iter()
        .map(|(method, path)| {
            let id = &doc.body["paths"][path][method.to_lowercase()]["operationId"];
            (
                id.as_str().unwrap().to_string(),
                method.clone(),
                path.clone(),
            )
        })
        .collect();
    let named: BTreeSet<(String, String, String)> = hall::api::endpoints()
        .iter()
        .map(|e| (e.name.to_string(), e.method.to_string(), e.path.to_string()))
        .collect();
    assert_eq!(ids, named);

    // Every documented operation is really served: never the "no route" 404 or a 405.
    for (method, path) in &documented {
        let concrete = path.replace(['{', '}'], "");
        let body: Option<&[u8]> = (method != "GET").then_some(b"{}");
        let r = hall.request(method, &concrete, Some(&hall.bearer()), body);
        assert_ne!(r.status, 405, "{method} {path}");
        let msg = r.body["error"]["message"].as_str().unwrap_or("");
        assert!(
            !(r.status == 404 && msg.contains("no route")),
            "{method} {path} is not routed"
        );
        assert!(r.status < 500, "{method} {path}: {}", r.status);
    }

    // And what is not documented is not served.
    let delete = hall.request("DELETE", "/v1/route", Some(&hall.bearer()), None);
    assert_eq!(delete.status, 405);
    assert_eq!(delete.body["error"]["code"], "METHOD_NOT_ALLOWED");
    let unknown = hall.get("/v1/not-a-route");
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.body["error"]["code"], "NOT_FOUND");
}

#[test]
fn every_operation_documents_its_success_and_error_bodies() {
    let doc = hall::api::openapi::document();
    for (method, path) in operations(&doc) {
        let responses = &doc["paths"][&path][method.to_lowercase()]["responses"];
        let successes: Vec<_> = responses
            .as_object()
            .unwrap()
            .iter()
            .filter(|(status, _)| status.starts_with('2'))
            .collect();
        assert!(
            !successes.is_empty(),
            "{method} {path}: no success response"
        );
        for (status, r) in successes {
            let content = r["content"].as_object().unwrap();
            assert!(
                content.values().all(|c| c.get("schema").is_some()),
                "{method} {path} {status}: a body without a schema"
            );
        }
        assert_eq!(
            responses["4XX"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/Error",
            "{method} {path}"
        );
    }
    // Every `$ref` points at a component that exists.
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    for r in refs {
        let name = r.strip_prefix("#/components/schemas/").expect(&r);
        assert!(
            doc["components"]["schemas"].get(name).is_some(),
            "dangling {r}"
        );
    }
}

#[test]
fn documented_query_parameters_are_exactly_the_accepted_ones() {
    let hall = TestHall::start();
    let doc = c_doc(&hall);
    hall.post("/v1/workers", &worker_record("org.acme.q.i-1"));
    for _ in 0..2 {
        hall.post("/v1/route", &route_input("q-1"));
    }
    // The one parameter no made-up value satisfies: an opaque cursor from a previous page.
    let cursor = hall.get("/v1/decisions?limit=1").body["next_cursor"].clone();
    let mut checked = 0;
    for (method, path) in operations(&doc) {
        if method != "GET" || path.contains('{') || path == "/v1/events" {
            continue;
        }
        let params = doc["paths"][&path]["get"]["parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for p in params.iter().filter(|p| p["in"] == "query") {
            let name = p["name"].as_str().unwrap();
            let value = match name {
                "cursor" => cursor.as_str().expect("a second page").to_string(),
                _ => sample_value(&p["schema"]),
            };
            let r = hall.get(&format!("{path}?{name}={value}"));
            assert_eq!(r.status, 200, "GET {path}?{name}={value}: {:?}", r.body);
            checked += 1;
        }
        let r = hall.get(&format!("{path}?undocumented=1"));
        assert!(
            r.status == 400 || params.is_empty(),
            "GET {path} accepts an undocumented parameter"
        );
        if r.status == 400 {
            assert_eq!(r.body["error"]["code"], "INVALID_QUERY", "GET {path}");
        }
    }
    assert!(checked >= 20, "only {checked} query parameters documented");
}

/// A value a parameter of this schema accepts.
fn sample_value(schema: &Value) -> String {
    if let Some(first) = schema["enum"].get(0) {
        return first.as_str().unwrap().to_string();
    }
    match (schema["type"].as_str(), schema["format"].as_str()) {
        (Some("boolean"), _) => "true".into(),
        (Some("integer"), _) => "1".into(),
        (Some("string"), Some("date-time")) => "2026-01-01T00:00:00Z".into(),
        (Some("string"), _) => "x".into(),
        other => panic!("no sample for {other:?} ({schema})"),
    }
}

#[test]
fn the_ui_copy_of_the_document_is_current() {
    // The UI's TypeScript wire types and operation table are generated from this copy
    // (ui/src/lib/wire.gen.ts, ui/src/lib/ops.gen.ts; a vitest fails while those are stale).
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/lib/openapi.json");
    let copy: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert!(
        copy == hall::api::openapi::document(),
        "ui/src/lib/openapi.json is stale: run `npm --prefix ui run sync:api`"
    );
}

/// Validates replies against the document and remembers which operations were covered.
struct Checker {
    doc: Value,
    covered: Mutex<BTreeSet<(String, String)>>,
}

impl Checker {
    fn new(doc: Value) -> Self {
        Self {
            doc,
            covered: Mutex::new(BTreeSet::new()),
        }
    }

    /// The schema documented for `method path` answering `status` (exact, then `4XX`/`5XX`).
    fn response_schema(&self, method: &str, path: &str, status: u16, media: &str) -> Value {
        let responses = &self.doc["paths"][path][method.to_lowercase()]["responses"];
        let range = format!("{}XX", status / 100);
        let response = [status.to_string(), range]
            .into_iter()
            .find_map(|key| responses.get(&key).cloned())
            .unwrap_or_else(|| panic!("{method} {path}: status {status} is not documented"));
        response["content"][media]["schema"].clone()
    }

    fn errors(&self, schema: &Value, instance: &Value) -> Vec<String> {
        // The component schemas travel with the `$ref`, so `#/components/...` resolves.
        let mut root = schema.clone();
        root["components"] = self.doc["components"].clone();
        let validator = jsonschema::draft202012::new(&root).expect("a valid schema");
        validator
            .iter_errors(instance)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect()
    }

    fn assert_valid(&self, what: &str, schema: &Value, instance: &Value) {
        let errors = self.errors(schema, instance);
        assert!(
            errors.is_empty(),
            "{what} does not match the document:\n  {}\nbody: {instance:#}",
            errors.join("\n  ")
        );
    }

    /// Checks one real reply of `method path` (the documented template).
    fn check(&self, method: &str, path: &str, reply: &common::Reply) -> Value {
        assert!(
            reply.content_type.starts_with("application/json"),
            "{method} {path}: {} {}",
            reply.status,
            reply.content_type
        );
        let schema = self.response_schema(method, path, reply.status, "application/json");
        self.assert_valid(
            &format!("{method} {path} -> {}", reply.status),
            &schema,
            &reply.body,
        );
        if reply.status < 300 {
            let mut covered = self.covered.lock().unwrap();
            covered.insert((method.to_string(), path.to_string()));
        }
        reply.body.clone()
    }

    fn component(&self, name: &str) -> Value {
        json!({"$ref": format!("#/components/schemas/{name}")})
    }
}

#[test]
fn real_responses_of_every_operation_match_the_document() {
    let _keys = setup_keys();
    let hall = TestHall::start();
    let c = Checker::new(c_doc(&hall));
    let mut events = hall.events();

    c.check("GET", "/health", &hall.get_noauth("/health"));
    c.check("GET", "/v1/openapi.json", &hall.get("/v1/openapi.json"));

    // Workers: enroll (new, replaced), the reference alias, heartbeat, list.
    let w = "org.acme.sum.i-1";
    let created = hall.post("/v1/workers", &worker_record(w));
    assert_eq!(created.status, 201);
    c.check("POST", "/v1/workers", &created);
    let replaced = hall.post("/v1/workers", &worker_record(w));
    assert_eq!(replaced.status, 200);
    c.check("POST", "/v1/workers", &replaced);
    let mut reference = worker_record("org.acme.ref.i-1");
    reference["artifact_hash"] = json!(hall::enroll_hash::enrollment_hash(&reference));
    for expected in [201, 200] {
        let r = hall.post("/enroll", &reference);
        assert_eq!(r.status, expected, "{:?}", r.body);
        c.check("POST", "/enroll", &r);
    }
    let unhashed = hall.post("/enroll", &worker_record("org.acme.ref.i-2"));
    assert_eq!(unhashed.status, 400);
    c.check("POST", "/enroll", &unhashed);
    let mut tampered = reference.clone();
    tampered["risk_tier"] = json!("high");
    let refused = hall.post("/enroll", &tampered);
    assert_eq!(refused.body["code"], "DENY_WORKER_TAMPERED");
    c.check("POST", "/enroll", &refused);
    let hb = hall.post(
        &format!("/v1/workers/{w}/heartbeat"),
        &json!({"status": "ok", "latency_ms": 3.5}),
    );
    assert_eq!(hb.status, 200, "{:?}", hb.body);
    c.check("POST", "/v1/workers/{worker_id}/heartbeat", &hb);
    let workers = c.check("GET", "/v1/workers", &hall.get("/v1/workers"));
    assert!(workers["workers"][0]["health"].is_object());

    // Routing: an allowed and a denied decision, then the history views.
    let allowed = c.check(
        "POST",
        "/v1/route",
        &hall.post("/v1/route", &route_input("oa-1")),
    );
    assert_eq!(allowed["denied"], false);
    let mut unknown = route_input("oa-1");
    unknown["capability_id"] = json!("cap.not.routed");
    let denied = c.check("POST", "/v1/route", &hall.post("/v1/route", &unknown));
    assert_eq!(denied["denied"], true);
    let page = c.check("GET", "/v1/decisions", &hall.get("/v1/decisions?limit=1"));
    assert!(page["next_cursor"].is_string());
    let summary = c.check(
        "GET",
        "/v1/decisions/summary",
        &hall.get("/v1/decisions/summary?q=denied"),
    );
    assert!(summary["total"].as_u64().unwrap() >= 1, "{summary}");
    let count = c.check(
        "GET",
        "/v1/decisions/count",
        &hall.get("/v1/decisions/count?q=denied"),
    );
    assert_eq!(count["total"], summary["total"], "{count}");
    let id = allowed["decision_id"].as_str().unwrap();
    c.check(
        "GET",
        "/v1/decisions/{decision_id}",
        &hall.get(&format!("/v1/decisions/{id}")),
    );
    let trace = wait_for("the heartbeat's health transition in the trace", || {
        let t = hall.get("/v1/traces/oa-1");
        (!t.body["health_transitions"].as_array()?.is_empty()).then_some(t)
    });
    c.check("GET", "/v1/traces/{correlation_id}", &trace);
    assert_eq!(trace.body["decisions"].as_array().unwrap().len(), 2);
    c.check("GET", "/v1/stats", &hall.get("/v1/stats"));
    c.check("GET", "/v1/hall-events", &hall.get("/v1/hall-events"));
    c.check("GET", "/v1/issues", &hall.get("/v1/issues"));
    let verified = c.check("GET", "/v1/ledger/verify", &hall.get("/v1/ledger/verify"));
    assert_eq!(verified["ok"], true);
    // The one text answer, Prometheus' exposition format (its numbers: integration/metrics.rs).
    let metrics = hall.get("/metrics");
    assert_eq!(metrics.status, 200);
    let media = &c.doc["paths"]["/metrics"]["get"]["responses"]["200"]["content"];
    assert!(
        media.get(&metrics.content_type).is_some(),
        "{} not in {media}",
        metrics.content_type
    );
    let text = metrics.body.as_str().unwrap_or_default();
    assert!(text.contains("\nproctor_decisions_total{"), "{text}");
    c.covered
        .lock()
        .unwrap()
        .insert(("GET".into(), "/metrics".into()));

    // Attestation by hand, then per worker with a tampered package (raises an alert).
    let pkg = tempfile::tempdir().unwrap();
    std::fs::write(pkg.path().join("main.py"), "print('summarize')\n").unwrap();
    let dir = pkg.path().to_str().unwrap();
    c.check(
        "POST",
        "/v1/attest/hash",
        &hall.post("/v1/attest/hash", &json!({"path": dir})),
    );
    let ids = json!({"path": dir, "worker_id": w, "worker_species_id": "wrk.doc.summarizer"});
    let unsigned = c.check(
        "POST",
        "/v1/attest/verify",
        &hall.post("/v1/attest/verify", &ids),
    );
    assert_eq!(unsigned["verdict"], "unsigned");
    let mut sign = ids.clone();
    sign["worker_version"] = json!("1.0.0");
    c.check(
        "POST",
        "/v1/attest/sign",
        &hall.post("/v1/attest/sign", &sign),
    );
    let valid = c.check(
        "POST",
        "/v1/attest/verify",
        &hall.post("/v1/attest/verify", &ids),
    );
    assert_eq!(valid["verdict"], "valid");
    std::fs::write(pkg.path().join("main.py"), "print('backdoor')\n").unwrap();
    let verdict = c.check(
        "POST",
        "/v1/workers/{worker_id}/verify",
        &hall.post(
            &format!("/v1/workers/{w}/verify"),
            &json!({"package_dir": dir}),
        ),
    );
    assert_eq!(verdict["verdict"], "tampered");

    // Alerts: the tamper alert, listed and acknowledged.
    let alerts = wait_for("the tamper alert", || {
        let r = hall.get("/v1/alerts");
        (r.body["count"].as_u64()? > 0).then_some(r)
    });
    c.check("GET", "/v1/alerts", &alerts);
    let alert_id = alerts.body["alerts"][0]["id"].as_i64().unwrap();
    c.check(
        "POST",
        "/v1/alerts/{id}/ack",
        &hall.post(&format!("/v1/alerts/{alert_id}/ack"), &json!({})),
    );

    // Settings and the event ticket.
    c.check("GET", "/v1/settings", &hall.get("/v1/settings"));
    c.check("GET", "/v1/hall/key", &hall.get("/v1/hall/key"));
    c.check("GET", "/v1/fleet", &hall.get("/v1/fleet"));
    let thresholds = json!({
        "health": {"stale_after_s": 30, "offline_after_s": 120, "degraded_latency_ms": 800.0},
        "alerts": {"deny_rate_threshold": 0.5, "deny_rate_window_s": 60, "deny_rate_min_decisions": 20}});
    let put = hall.request(
        "PUT",
        "/v1/settings/thresholds",
        Some(&hall.bearer()),
        Some(thresholds.to_string().as_bytes()),
    );
    c.check("PUT", "/v1/settings/thresholds", &put);
    c.check(
        "POST",
        "/v1/events/ticket",
        &hall.post("/v1/events/ticket", &json!({})),
    );

    // The event stream: every kind of payload seen so far matches `StreamEvent`.
    let stream = c.component("StreamEvent");
    let mut kinds = BTreeSet::new();
    while kinds.len() < 4 {
        let (event, data) = events.next_event().expect("event stream ended");
        c.assert_valid(
            &format!("SSE {event}"),
            &stream,
            &json!({"event": event, "data": data}),
        );
        kinds.insert(event);
    }
    assert_eq!(
        kinds,
        BTreeSet::from(["alert", "decision", "health", "registry"].map(String::from))
    );
    c.covered
        .lock()
        .unwrap()
        .insert(("GET".into(), "/v1/events".into()));

    // The MCP gateway: a worker with a stdio server, an allowed call, a call held for a person
    // (the blast gate: prod, RESTRICTED, P0, egress) and approved.
    let mcp_worker = json!({"worker_id": "org.acme.mcp", "worker_species_id": "wrk.doc.summarizer",
        "capabilities": ["cap.doc.summarize"],
        "mcp": {"command": fixture(), "tools": {"echo": "cap.doc.summarize"}}});
    assert_eq!(hall.post("/v1/workers", &mcp_worker).status, 201);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let headers = [
        ("proctor-env", "prod"),
        ("proctor-data-label", "RESTRICTED"),
        ("proctor-qos", "P0"),
    ];
    let client = rt.block_on(connect_with(&hall, &headers));
    let peer = client.peer().clone();
    let held = rt.spawn(async move {
        peer.call_tool(call("echo", json!({"text": "hi", "egress": true})))
            .await
    });
    let pending = wait_for("a held call", || {
        let r = hall.get("/v1/approvals");
        (r.body["count"].as_u64()? > 0).then_some(r)
    });
    c.check("GET", "/v1/approvals", &pending);
    let approval_id = pending.body["approvals"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    c.check(
        "POST",
        "/v1/approvals/{id}",
        &hall.post(
            &format!("/v1/approvals/{approval_id}"),
            &json!({"verdict": "approve"}),
        ),
    );
    let result = rt.block_on(held).unwrap().unwrap();
    assert_ne!(result.is_error, Some(true), "{result:?}");
    c.check("GET", "/v1/mcp", &hall.get("/v1/mcp"));
    // The call's outcome is recorded after its answer left (`record_outcome` = "after_answer"):
    // poll for it.
    let calls = wait_for("the call's outcome", || {
        let r = hall.get("/v1/mcp/calls");
        (r.body["count"] == 1).then_some(r)
    });
    c.check("GET", "/v1/mcp/calls", &calls);
    let held_decision = pending.body["approvals"][0]["decision_id"]
        .as_str()
        .unwrap();
    let detail = c.check(
        "GET",
        "/v1/decisions/{decision_id}",
        &hall.get(&format!("/v1/decisions/{held_decision}")),
    );
    assert_eq!(detail["linked"].as_array().unwrap().len(), 2);
    rt.block_on(client.cancel()).unwrap();
    // Onboarding: a Cursor configuration in this user's home, planned and imported.
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join(".cursor")).unwrap();
    let cursor = home.path().join(".cursor/mcp.json");
    std::fs::write(
        &cursor,
        json!({"mcpServers": {"files": {"command": "mcp-files", "args": ["/srv"]}}}).to_string(),
    )
    .unwrap();
    std::env::set_var("HOME", home.path());
    std::env::set_var("XDG_CONFIG_HOME", home.path().join(".config"));
    let plan = c.check("GET", "/v1/mcp/import", &hall.get("/v1/mcp/import"));
    assert_eq!(plan["files"][0]["servers"][0]["name"], "files", "{plan}");
    let imported = c.check(
        "POST",
        "/v1/mcp/import",
        &hall.post(
            "/v1/mcp/import",
            &json!({"servers": [{"path": cursor, "name": "files"}]}),
        ),
    );
    assert_eq!(
        imported["applied"]["files_rewritten"][0],
        json!(cursor),
        "{imported}"
    );
    let rewritten: Value =
        serde_json::from_str(&std::fs::read_to_string(&cursor).unwrap()).unwrap();
    assert_eq!(rewritten["mcpServers"]["proctor"]["args"][0], "mcp");
    let mut mcp_kinds = BTreeSet::new();
    while mcp_kinds.len() < 3 {
        let (event, data) = events.next_event().expect("event stream ended");
        c.assert_valid(
            &format!("SSE {event}"),
            &stream,
            &json!({"event": event, "data": data}),
        );
        if ["mcp_call", "approval", "mcp_server"].contains(&event.as_str()) {
            mcp_kinds.insert(event);
        }
    }

    // Error bodies of every kind the API produces, through the routes that produce them.
    let errors = [
        (
            "GET",
            "/v1/workers",
            hall.request("GET", "/v1/workers", None, None),
        ),
        ("GET", "/v1/decisions", hall.get("/v1/decisions?limit=9999")),
        (
            "GET",
            "/v1/decisions/{decision_id}",
            hall.get("/v1/decisions/nope"),
        ),
        (
            "POST",
            "/v1/route",
            hall.post_raw("/v1/route", "application/json", b"{not json"),
        ),
        (
            "POST",
            "/v1/route",
            hall.post("/v1/route", &json!({"env": "moon"})),
        ),
        (
            "POST",
            "/v1/workers/{worker_id}/heartbeat",
            hall.post(
                &format!("/v1/workers/{w}/heartbeat"),
                &json!({"status": "asleep"}),
            ),
        ),
        (
            "POST",
            "/v1/alerts/{id}/ack",
            hall.post("/v1/alerts/abc/ack", &json!({})),
        ),
        (
            "POST",
            "/v1/attest/hash",
            hall.post_raw("/v1/attest/hash", "text/plain", b"{}"),
        ),
        (
            "POST",
            "/v1/session",
            hall.request(
                "POST",
                "/v1/session",
                None,
                Some(br#"{"code": "not-issued"}"#),
            ),
        ),
    ];
    let mut statuses = BTreeSet::new();
    for (method, path, reply) in &errors {
        assert!(reply.status >= 400, "{method} {path}: {}", reply.status);
        c.check(method, path, reply);
        statuses.insert(reply.status);
    }
    assert_eq!(statuses, BTreeSet::from([400, 401, 404, 415, 422]));

    // Every operation of the document was checked against a real success (`list_fleet_halls`
    // succeeds in the fleet view only: tests/fleet_view.rs checks its answers against this
    // document).
    let mut covered = c.covered.lock().unwrap().clone();
    covered.insert(("GET".into(), "/v1/fleet/halls".into()));
    // A session is granted only for a code `proctor serve` printed: integration/sign_in.rs
    // checks that answer (`{"token"}`, the `Session` schema).
    covered.insert(("POST".into(), "/v1/session".into()));
    assert_eq!(covered, operations(&c.doc));
}

#[test]
fn the_check_fails_on_a_drifted_body() {
    let hall = TestHall::start();
    let c = Checker::new(c_doc(&hall));
    hall.post("/v1/workers", &worker_record("org.acme.d.i-1"));
    let routed = hall.post("/v1/route", &route_input("drift-1")).body;
    let schema = c.response_schema("POST", "/v1/route", 200, "application/json");
    assert!(c.errors(&schema, &routed).is_empty());

    let mut extra = routed.clone();
    extra["evidence_receipt"]["undocumented"] = json!(1);
    assert!(!c.errors(&schema, &extra).is_empty(), "an extra field");
    let mut missing = routed.clone();
    missing
        .as_object_mut()
        .unwrap()
        .remove("telemetry_envelopes");
    assert!(!c.errors(&schema, &missing).is_empty(), "a missing field");
    let mut mistyped = routed.clone();
    mistyped["env"] = json!("moon");
    assert!(
        !c.errors(&schema, &mistyped).is_empty(),
        "an unknown enum value"
    );
    let mut record = hall.get("/v1/decisions?limit=1").body["decisions"][0].clone();
    record["seq"] = json!("1");
    let schema = c.component("LedgerRecord");
    assert!(!c.errors(&schema, &record).is_empty(), "a mistyped field");
}

/// The document as served (not as built in-process: the wire is what clients see).
fn c_doc(hall: &TestHall) -> Value {
    let doc = hall.get("/v1/openapi.json");
    assert_eq!(doc.status, 200);
    doc.body
}

fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .map(move |m| (m.to_uppercase(), path.clone()))
        })
        .collect()
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                match (k.as_str(), child) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => collect_refs(child, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect_refs(i, out)),
        _ => {}
    }
}
