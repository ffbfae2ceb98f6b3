//! OTLP export (`[otel] endpoint`, docs/observability.md): an OTLP/HTTP receiver in the test
//! (axum on 127.0.0.1, protobuf bodies decoded with `opentelemetry-proto`), a real hall sending to
//! it, decisions made over HTTP and through the MCP gateway; then the log records and spans it
//! received, attribute by attribute. And a collector that is not there changes nothing.

use crate::common;
use crate::metrics::{mcp_hall, two_mcp_calls};

use common::{route_input, wait_for, TestHall};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, KeyValue};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::trace::v1::{span, status, Span};
use prost::Message;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_SPAN_ID: &str = "00f067aa0ba902b7";

/// What the receiver was sent.
#[derive(Default)]
struct Received {
    logs: Vec<(BTreeMap<String, String>, LogRecord)>,
    spans: Vec<(BTreeMap<String, String>, Span)>,
    content_types: Vec<String>,
}

/// An OTLP/HTTP receiver on 127.0.0.1; lives as long as the returned runtime.
fn receiver() -> (tokio::runtime::Runtime, String, Arc<Mutex<Received>>) {
    use axum::body::Bytes;
    use axum::http::HeaderMap;
    use axum::routing::post;
    let rt = tokio::runtime::Runtime::new().unwrap();
    let got = Arc::new(Mutex::new(Received::default()));
    let content_type = |h: &HeaderMap| h["content-type"].to_str().unwrap().to_string();
    let logs = {
        let got = got.clone();
        move |headers: HeaderMap, body: Bytes| async move {
            let request = ExportLogsServiceRequest::decode(body).expect("OTLP logs protobuf");
            let mut got = got.lock().unwrap();
            got.content_types.push(content_type(&headers));
            for resource_logs in request.resource_logs {
                let resource = attributes(&resource_logs.resource.unwrap_or_default().attributes);
                for scope in resource_logs.scope_logs {
                    assert_eq!(scope.scope.unwrap_or_default().name, "proctor");
                    got.logs
                        .extend(scope.log_records.into_iter().map(|r| (resource.clone(), r)));
                }
            }
            "" // An empty ExportLogsServiceResponse: everything accepted.
        }
    };
    let traces = {
        let got = got.clone();
        move |headers: HeaderMap, body: Bytes| async move {
            let request = ExportTraceServiceRequest::decode(body).expect("OTLP traces protobuf");
            let mut got = got.lock().unwrap();
            got.content_types.push(content_type(&headers));
            for resource_spans in request.resource_spans {
                let resource = attributes(&resource_spans.resource.unwrap_or_default().attributes);
                for scope in resource_spans.scope_spans {
                    got.spans
                        .extend(scope.spans.into_iter().map(|s| (resource.clone(), s)));
                }
            }
            ""
        }
    };
    let app = axum::Router::new()
        .route("/v1/logs", post(logs))
        .route("/v1/traces", post(traces));
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    rt.spawn(async move { axum::serve(listener, app).await.unwrap() });
    (rt, url, got)
}

/// OTLP attributes as text (ints and bools too), for comparing.
fn attributes(kvs: &[KeyValue]) -> BTreeMap<String, String> {
    kvs.iter()
        .map(|kv| {
            let value = match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                Some(any_value::Value::StringValue(s)) => s.clone(),
                Some(any_value::Value::IntValue(i)) => i.to_string(),
                Some(any_value::Value::BoolValue(b)) => b.to_string(),
                other => panic!("{}: unexpected value {other:?}", kv.key),
            };
            (kv.key.clone(), value)
        })
        .collect()
}

#[test]
fn decisions_become_log_records_and_mcp_calls_spans_continuing_the_callers_trace() {
    let (_rt, url, got) = receiver();
    let hall = mcp_hall(&format!("[otel]\nendpoint = \"{url}/\"\n"));
    assert_eq!(
        hall.post("/v1/workers", &common::worker_record("org.o.1"))
            .status,
        201
    );
    let allowed = hall.post("/v1/route", &route_input("otel-1")).body;
    assert_eq!(allowed["denied"], false, "{allowed}");
    let mut unknown = route_input("otel-2");
    unknown["capability_id"] = json!("cap.not.routed");
    let denied = hall.post("/v1/route", &unknown).body;
    assert_eq!(denied["denied"], true);
    let mut meta = rmcp::model::MetaObject::new();
    meta.set_traceparent(format!("00-{TRACE_ID}-{PARENT_SPAN_ID}-01"));
    let [echo_id, add_id] = two_mcp_calls(&hall, Some(meta));

    // The batch processors export about once a second.
    wait_for("4 decisions and 2 spans at the receiver", || {
        let got = got.lock().unwrap();
        (got.logs.len() >= 4 && got.spans.len() >= 2).then_some(())
    });
    let got = got.lock().unwrap();
    assert!(
        got.content_types
            .iter()
            .all(|c| c == "application/x-protobuf"),
        "{:?}",
        got.content_types
    );
    assert_eq!(got.logs.len(), 4);
    assert_eq!(got.spans.len(), 2);

    // Decisions: one log record each, found by decision id.
    let log_of = |id: &str| {
        let found: Vec<_> = got
            .logs
            .iter()
            .filter(|(_, r)| attributes(&r.attributes)["proctor.decision_id"] == id)
            .collect();
        assert_eq!(found.len(), 1, "{id}");
        let (resource, record) = found[0];
        assert_eq!(resource["service.name"], "proctor");
        assert!(
            resource["service.instance.id"].starts_with("proctor-hall/"),
            "{resource:?}"
        );
        assert_eq!(record.event_name, "proctor.decision");
        assert!(
            record.time_unix_nano > 0 && record.observed_time_unix_nano >= record.time_unix_nano
        );
        (record.clone(), attributes(&record.attributes))
    };
    let (record, a) = log_of(allowed["decision_id"].as_str().unwrap());
    assert_eq!(
        (record.severity_number, record.severity_text.as_str()),
        (9, "INFO")
    );
    assert_eq!(a["proctor.outcome"], "allowed");
    assert_eq!(a["proctor.capability_id"], "cap.doc.summarize");
    assert_eq!(a["proctor.tenant_id"], "agent.test");
    assert_eq!(a["proctor.env"], "dev");
    assert_eq!(a["proctor.correlation_id"], "otel-1");
    assert_eq!(a["proctor.worker_species_id"], "wrk.doc.summarizer");
    assert_eq!(
        a["proctor.ledger.seq"],
        allowed["evidence_receipt"]["ledger_seq"].to_string()
    );
    assert_eq!(
        a["proctor.ledger.hash"],
        allowed["evidence_receipt"]["ledger_hash"].as_str().unwrap()
    );
    assert_eq!(a["proctor.dry_run"], "false");
    assert!(!a.contains_key("proctor.deny_code"));
    let (record, a) = log_of(denied["decision_id"].as_str().unwrap());
    assert_eq!(
        (record.severity_number, record.severity_text.as_str()),
        (13, "WARN")
    );
    assert_eq!(a["proctor.outcome"], "denied");
    assert_eq!(a["proctor.deny_code"], "DENY_NO_MATCHING_RULE");
    assert_eq!(a["proctor.capability_id"], "cap.not.routed");
    let body = record.body.unwrap().value.unwrap();
    assert_eq!(
        body,
        any_value::Value::StringValue(
            "denied cap.not.routed for agent.test: DENY_NO_MATCHING_RULE".into()
        )
    );
    let (_, a) = log_of(&echo_id);
    assert_eq!(
        (
            a["proctor.capability_id"].as_str(),
            a["proctor.tenant_id"].as_str()
        ),
        ("cap.fx.tools", "fx")
    );
    let (_, a) = log_of(&add_id);
    assert_eq!(a["proctor.deny_code"], "DENY_NO_MATCHING_RULE");

    // MCP calls: spans named `tools/call <tool>`.
    let span_of = |tool: &str| {
        let found: Vec<_> = got
            .spans
            .iter()
            .filter(|(_, s)| s.name == format!("tools/call {tool}"))
            .collect();
        assert_eq!(found.len(), 1, "{tool}: {:?}", got.spans);
        let (resource, span) = found[0];
        assert_eq!(resource["service.name"], "proctor");
        assert_eq!(span.kind, span::SpanKind::Server as i32);
        assert!(span.end_time_unix_nano > span.start_time_unix_nano);
        (span.clone(), attributes(&span.attributes))
    };
    let (echo, a) = span_of("echo");
    // The caller's traceparent: same trace, its span is the parent.
    assert_eq!(hex(&echo.trace_id), TRACE_ID);
    assert_eq!(hex(&echo.parent_span_id), PARENT_SPAN_ID);
    assert_ne!(hex(&echo.span_id), PARENT_SPAN_ID);
    assert_eq!(a["mcp.method.name"], "tools/call");
    assert_eq!(a["gen_ai.tool.name"], "echo");
    assert_eq!(a["gen_ai.operation.name"], "execute_tool");
    assert_eq!(a["proctor.mcp.server"], "org.fx.server");
    assert_eq!(a["proctor.mcp.outcome"], "ok");
    assert_eq!(a["proctor.decision_id"], echo_id);
    assert!(!a["mcp.session.id"].is_empty());
    assert!(!a.contains_key("error.type"));
    assert_ne!(
        echo.status.unwrap_or_default().code,
        status::StatusCode::Error as i32
    );
    let (add, a) = span_of("add");
    // No traceparent: a trace of its own.
    assert_ne!(hex(&add.trace_id), TRACE_ID);
    assert_eq!(add.trace_id.len(), 16);
    assert!(add.parent_span_id.is_empty());
    assert_eq!(a["proctor.mcp.outcome"], "denied");
    assert_eq!(a["error.type"], "denied");
    assert_eq!(a["proctor.decision_id"], add_id);
    assert_eq!(add.status.unwrap().code, status::StatusCode::Error as i32);
}

#[test]
fn closing_the_hall_exports_what_was_decided() {
    let (_rt, url, got) = receiver();
    let mut hall = TestHall::start_with(|dir| {
        let config = format!("[otel]\nendpoint = \"{url}\"\n");
        std::fs::write(dir.join("config.toml"), config).unwrap();
    });
    let routed = hall.post("/v1/route", &route_input("closing")).body;
    // Stopped at once, before the batch processor's next export (1 s): the hall's close drains
    // the event bus and flushes the batch, so the decision arrives all the same.
    hall.stop();
    let got = got.lock().unwrap();
    let ids: Vec<String> = got
        .logs
        .iter()
        .map(|(_, r)| attributes(&r.attributes)["proctor.decision_id"].clone())
        .collect();
    assert_eq!(ids, [routed["decision_id"].as_str().unwrap()]);
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn an_unreachable_collector_changes_nothing_for_routes() {
    // A port nobody listens on (bound, then let go).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut hall = TestHall::start_with(|dir| {
        std::fs::write(
            dir.join("config.toml"),
            format!("[otel]\nendpoint = \"http://127.0.0.1:{port}\"\n"),
        )
        .unwrap();
    });
    assert_eq!(
        hall.post("/v1/workers", &common::worker_record("org.o.2"))
            .status,
        201
    );
    let started = std::time::Instant::now();
    for i in 0..20 {
        let r = hall.post("/v1/route", &route_input(&format!("gone-{i}")));
        assert_eq!(
            (r.status, &r.body["denied"]),
            (200, &json!(false)),
            "{}",
            r.body
        );
    }
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    // Let the exporter fail at least once, then stop: the hall closes (and its ledger verifies).
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert_eq!(hall.get("/v1/ledger/verify").body["ok"], true);
    hall.stop();
}

#[test]
fn a_bad_endpoint_stops_the_start_naming_the_key() {
    for bad in ["collector:4318", "ftp://collector", "http://c/?x=1"] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.toml"),
            format!("[otel]\nendpoint = \"{bad}\"\n"),
        )
        .unwrap();
        let err = hall::Config::load_or_init(dir.path())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("config.toml") && err.contains("otel.endpoint") && err.contains(bad),
            "{err}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("config.toml"),
        "[otel]\nendpoit = \"http://c:4318\"\n",
    )
    .unwrap();
    let err = hall::Config::load_or_init(dir.path())
        .unwrap_err()
        .to_string();
    assert!(err.contains("endpoit"), "{err}");
}
