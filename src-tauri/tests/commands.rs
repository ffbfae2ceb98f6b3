//! The Tauri commands through Tauri's IPC (mock runtime, the app's real config and capabilities),
//! against a real embedded hall on a temp data dir: answers equal the HTTP API's, errors carry the
//! hall's error body, and a window the capabilities do not cover is refused.

use proctor_desktop::{builder, EmbeddedHall, StartOptions};
use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, mock_builder, MockRuntime, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::{Manager, WebviewWindow, WebviewWindowBuilder};

fn app(data_dir: &std::path::Path) -> (tauri::App<MockRuntime>, WebviewWindow<MockRuntime>) {
    let options = StartOptions {
        data_dir: data_dir.to_path_buf(),
        listen: Some("127.0.0.1:0".parse().unwrap()),
    };
    let hall = tauri::async_runtime::block_on(EmbeddedHall::start(options)).expect("hall starts");
    let app = builder(mock_builder())
        .build(tauri::generate_context!())
        .expect("app builds");
    app.manage(hall);
    let window = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .expect("window");
    (app, window)
}

fn invoke(window: &WebviewWindow<MockRuntime>, cmd: &str, args: Value) -> Result<Value, Value> {
    get_ipc_response(
        window,
        InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|body| body.deserialize::<Value>().expect("JSON answer"))
}

fn route_input(tenant: &str) -> Value {
    json!({"capability_id": "cap.doc.summarize", "env": "dev", "data_label": "PUBLIC", "tenant_risk": "low",
           "qos_class": "P2", "tenant_id": tenant, "correlation_id": "corr-ipc"})
}

#[test]
fn commands_answer_like_the_http_api() {
    let dir = tempfile::tempdir().unwrap();
    let (_app, window) = app(dir.path());

    let stats = invoke(&window, "get_stats", json!({})).unwrap();
    assert_eq!(stats["decisions_total"], 0);

    let routed = invoke(&window, "route", json!({"body": route_input("tenant.ipc")})).unwrap();
    let id = routed["decision_id"].as_str().unwrap().to_string();
    assert!(
        routed["evidence_receipt"]["ledger_seq"].as_u64().unwrap() >= 1,
        "{routed}"
    );

    let record = invoke(&window, "get_decision", json!({"decision_id": id})).unwrap();
    assert_eq!(record["decision"]["tenant_id"], "tenant.ipc");

    let page = invoke(
        &window,
        "list_decisions",
        json!({"query": {"tenant_id": "tenant.ipc", "limit": 10}}),
    )
    .unwrap();
    assert_eq!(page["decisions"].as_array().unwrap().len(), 1);
    let none = invoke(
        &window,
        "list_decisions",
        json!({"query": {"tenant_id": "nobody"}}),
    )
    .unwrap();
    assert_eq!(none["decisions"].as_array().unwrap().len(), 0);

    let trace = invoke(&window, "get_trace", json!({"correlation_id": "corr-ipc"})).unwrap();
    assert_eq!(trace["decisions"].as_array().unwrap().len(), 1);
}

#[test]
fn errors_carry_the_status_and_the_halls_error_body() {
    let dir = tempfile::tempdir().unwrap();
    let (_app, window) = app(dir.path());

    let missing = invoke(
        &window,
        "get_decision",
        json!({"decision_id": "no-such-decision"}),
    )
    .unwrap_err();
    assert_eq!(missing["status"], 404, "{missing}");
    assert_eq!(missing["error"]["code"], "NOT_FOUND");

    let bad_query = invoke(
        &window,
        "list_decisions",
        json!({"query": {"denied": "maybe"}}),
    )
    .unwrap_err();
    assert_eq!(bad_query["error"]["code"], "INVALID_QUERY", "{bad_query}");

    let bad_input = invoke(
        &window,
        "route",
        json!({"body": {"capability_id": "cap.x"}}),
    )
    .unwrap_err();
    assert_eq!(bad_input["status"], 400, "{bad_input}");
}

#[test]
fn a_window_without_a_capability_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _main) = app(dir.path());
    let other = WebviewWindowBuilder::new(&app, "other", Default::default())
        .build()
        .unwrap();
    let refused = invoke(&other, "get_stats", json!({})).unwrap_err();
    assert!(refused.to_string().contains("not allowed"), "{refused}");
}
