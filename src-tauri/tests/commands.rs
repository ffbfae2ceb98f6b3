//! The `hall_call` command through Tauri's IPC (mock runtime, the app's real config and
//! capabilities), against a real embedded hall on a temp data dir: every operation of the hall's
//! endpoint table dispatches by its name, answers equal the HTTP API's, errors carry the hall's
//! error body, and a window the capabilities do not cover is refused.

use proctor_desktop::{builder, EmbeddedHall, StartOptions, NOT_FROM_WEBVIEW};
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

/// `hall_call` with `operation` and the other arguments in `args` (`params`, `query`, `body`).
fn call(
    window: &WebviewWindow<MockRuntime>,
    operation: &str,
    mut args: Value,
) -> Result<Value, Value> {
    args["operation"] = json!(operation);
    invoke(window, "hall_call", args)
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

    let stats = call(&window, "get_stats", json!({})).unwrap();
    assert_eq!(stats["decisions_total"], 0);

    let routed = call(&window, "route", json!({"body": route_input("tenant.ipc")})).unwrap();
    let id = routed["decision_id"].as_str().unwrap().to_string();
    assert!(
        routed["evidence_receipt"]["ledger_seq"].as_u64().unwrap() >= 1,
        "{routed}"
    );

    let record = call(
        &window,
        "get_decision",
        json!({"params": {"decision_id": id}}),
    )
    .unwrap();
    assert_eq!(record["decision"]["tenant_id"], "tenant.ipc");

    let page = call(
        &window,
        "list_decisions",
        json!({"query": {"tenant_id": "tenant.ipc", "limit": 10}}),
    )
    .unwrap();
    assert_eq!(page["decisions"].as_array().unwrap().len(), 1);
    let none = call(
        &window,
        "list_decisions",
        json!({"query": {"tenant_id": "nobody"}}),
    )
    .unwrap();
    assert_eq!(none["decisions"].as_array().unwrap().len(), 0);

    let trace = call(
        &window,
        "get_trace",
        json!({"params": {"correlation_id": "corr-ipc"}}),
    )
    .unwrap();
    assert_eq!(trace["decisions"].as_array().unwrap().len(), 1);
}

#[test]
fn errors_carry_the_status_and_the_halls_error_body() {
    let dir = tempfile::tempdir().unwrap();
    let (_app, window) = app(dir.path());

    let missing = call(
        &window,
        "get_decision",
        json!({"params": {"decision_id": "no-such-decision"}}),
    )
    .unwrap_err();
    assert_eq!(missing["status"], 404, "{missing}");
    assert_eq!(missing["error"]["code"], "NOT_FOUND");

    let bad_query = call(
        &window,
        "list_decisions",
        json!({"query": {"denied": "maybe"}}),
    )
    .unwrap_err();
    assert_eq!(bad_query["error"]["code"], "INVALID_QUERY", "{bad_query}");

    let bad_input = call(
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
    let refused = call(&other, "get_stats", json!({})).unwrap_err();
    assert!(refused.to_string().contains("not allowed"), "{refused}");
}

/// Operations of the table that a hall answers only with a refusal, because another face of
/// Proctor serves them (the fleet view, `proctor serve --fleet`), and that refusal's code.
const SERVED_ELSEWHERE: &[(&str, &str)] = &[("list_fleet_halls", "FLEET_VIEW_ONLY")];

#[test]
fn every_operation_of_the_endpoint_table_dispatches_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let (_app, window) = app(dir.path());
    for e in hall::api::endpoints() {
        // Sample path ids and an empty JSON body: enough to reach the handler, which may then
        // refuse the input (4xx) but must have been routed.
        let params: serde_json::Map<String, Value> = e
            .path
            .split('/')
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            .map(|name| (name.to_string(), json!("1")))
            .collect();
        let mut args = json!({"params": params});
        if e.method != "GET" {
            args["body"] = json!({});
        }
        let answer = call(&window, e.name, args);
        if let Some((_, why)) = NOT_FROM_WEBVIEW.iter().find(|(name, _)| *name == e.name) {
            let refused = answer.unwrap_err();
            assert_eq!(refused["status"], 403, "{}: {refused}", e.name);
            assert_eq!(refused["error"]["code"], "OPERATION_REFUSED");
            assert!(refused["error"]["message"].as_str().unwrap().contains(why));
            continue;
        }
        // Served by another face: a hall's own answer is the documented refusal.
        if let Some((_, code)) = SERVED_ELSEWHERE.iter().find(|(name, _)| *name == e.name) {
            let refused = answer.unwrap_err();
            assert_eq!(refused["status"], 404, "{}: {refused}", e.name);
            assert_eq!(refused["error"]["code"], *code, "{}: {refused}", e.name);
            continue;
        }
        // Reads without ids succeed; the rest may refuse the sample input, but from the handler.
        if e.method == "GET" && params.is_empty() {
            assert!(answer.is_ok(), "{}: {answer:?}", e.name);
            continue;
        }
        let Err(error) = answer else { continue };
        let status = error["status"].as_u64().unwrap();
        let message = error["error"]["message"].as_str().unwrap_or("");
        assert!(
            (400..500).contains(&status)
                && ![401, 405].contains(&status)
                && !message.contains("no route"),
            "{} ({} {}) did not reach its handler: {error}",
            e.name,
            e.method,
            e.path
        );
    }
}

#[test]
fn an_unknown_operation_or_a_misnamed_parameter_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let (_app, window) = app(dir.path());

    let unknown = call(&window, "delete_everything", json!({})).unwrap_err();
    assert_eq!(unknown["status"], 404, "{unknown}");
    assert_eq!(unknown["error"]["code"], "UNKNOWN_OPERATION");
    assert!(unknown["error"]["message"]
        .as_str()
        .unwrap()
        .contains("delete_everything"));

    // The OpenAPI-style id of an operation is not its name.
    let old_style = call(&window, "get_decisions", json!({})).unwrap_err();
    assert_eq!(old_style["error"]["code"], "UNKNOWN_OPERATION");

    let missing = call(&window, "get_decision", json!({})).unwrap_err();
    assert_eq!(missing["status"], 400, "{missing}");
    assert_eq!(missing["error"]["code"], "INVALID_ID");
    let misspelt = call(
        &window,
        "get_decision",
        json!({"params": {"decision_id": "d", "decision": "d"}}),
    )
    .unwrap_err();
    assert_eq!(misspelt["error"]["code"], "INVALID_ID", "{misspelt}");

    // A handler's own error shape (the reference alias) still reaches the webview as a code.
    let reference = call(&window, "reference_enroll", json!({"body": {}})).unwrap_err();
    assert_eq!(reference["status"], 400, "{reference}");
    assert_eq!(reference["error"]["code"], "HTTP_400");
    assert_ne!(
        reference["error"]["message"],
        "the hall refused the request"
    );
}

#[test]
fn a_second_app_on_the_same_data_dir_names_the_hall_that_runs_there() {
    let dir = tempfile::tempdir().unwrap();
    let options = |listen: &str| StartOptions {
        data_dir: dir.path().to_path_buf(),
        listen: Some(listen.parse().unwrap()),
    };
    let first = tauri::async_runtime::block_on(EmbeddedHall::start(options("127.0.0.1:0")))
        .expect("the first hall starts");
    // Even on the first one's very address, the data dir's lock speaks first.
    let taken = first.addr.to_string();
    let err = tauri::async_runtime::block_on(EmbeddedHall::start(options(&taken)))
        .err()
        .expect("a second hall on the same data dir is refused")
        .to_string();
    assert!(
        err.contains("another hall is already running on data dir"),
        "{err}"
    );
    assert!(!err.contains("cannot listen"), "{err}");
    tauri::async_runtime::block_on(first.shutdown());
}
