//! The MCP gateway end to end: a real hall on 127.0.0.1, a real stdio MCP server (the
//! `mcp_fixture` example, built on the official Rust SDK) as the downstream worker, and the
//! official Rust SDK's client on `/mcp`. (The Node SDK and `@modelcontextprotocol/server-everything`
//! drive the same paths in tests/mcp/, through `proctor mcp` too.)

use crate::common;

use common::{call, connect, fixture, wait_for, TestHall};
use rmcp::model::{CallToolResult, MetaObject, RequestMetaObject};
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};

const RULES: &str = r#"{"rules": [
  {"rule_id": "rr_tools", "match": {"capability_id": "cap.fx.tools"},
   "decision": {"candidate_workers_ranked": [{"worker_species_id": "wrk.fx.server"}]}},
  {"rule_id": "rr_gated", "match": {"capability_id": "cap.fx.gated"},
   "decision": {"candidate_workers_ranked": [{"worker_species_id": "wrk.fx.server"}],
                "escalation": {"policy_gate": true, "rationale": "a person looks first"}}}
]}"#;

/// A hall with the fixture enrolled as an MCP worker. `cap.fx.nomatch` has no rule (denied);
/// `cap.fx.gated` asks the policy gate, which always wants a person.
fn hall_with_fixture(extra_mcp_config: &str) -> (TestHall, PathBuf) {
    let log_dir = tempfile::tempdir().unwrap().keep();
    let call_log = log_dir.join("calls.jsonl");
    let record = json!({
        "worker_id": "org.fx.server", "worker_species_id": "wrk.fx.server",
        "capabilities": ["cap.fx.tools", "cap.fx.gated", "cap.fx.nomatch"], "risk_tier": "low",
        "mcp": {
            "command": fixture(), "env": {"MCP_FIXTURE_CALL_LOG": call_log},
            "tools": {"echo": "cap.fx.tools", "add": "cap.fx.tools", "sleep": "cap.fx.tools",
                      "crash": "cap.fx.tools", "flood": "cap.fx.tools", "fail": "cap.fx.tools",
                      "reject": "cap.fx.tools", "delete_everything": "cap.fx.gated"}
        }
    });
    let config = format!(
        "policy_gate_file = \"gate.json\"\n[mcp]\ntenant_id = \"fx\"\n{extra_mcp_config}\n"
    );
    let hall = TestHall::start_with(|dir: &Path| {
        std::fs::write(dir.join("rules.json"), RULES).unwrap();
        std::fs::write(
            dir.join("gate.json"),
            r#"{"rules": [], "default": ["REQUIRE_HUMAN", "gate.v1", "a person must approve"]}"#,
        )
        .unwrap();
        std::fs::write(dir.join("config.toml"), config).unwrap();
        std::fs::create_dir_all(dir.join("registry")).unwrap();
        std::fs::write(dir.join("registry/fx.json"), record.to_string()).unwrap();
    });
    (hall, call_log)
}

fn text(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect()
}

fn decision_id(result: &CallToolResult) -> String {
    result.meta.as_ref().expect("_meta")["proctor"]["decision_id"]
        .as_str()
        .expect("_meta.proctor.decision_id")
        .to_string()
}

fn calls_seen_by_server(log: &Path) -> Vec<Value> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// The linked records of one decision, from its detail.
/// The records linked to a decision, once there are `n` (by default a call's outcome is committed
/// just after its answer: `[mcp] record_outcome = "after_answer"`).
fn linked_of(hall: &TestHall, decision_id: &str, n: usize) -> Vec<Value> {
    wait_for("the decision's linked records", || {
        let reply = hall.get(&format!("/v1/decisions/{decision_id}"));
        assert_eq!(reply.status, 200, "{}", reply.body);
        let linked = reply.body["linked"].as_array().cloned().unwrap_or_default();
        (linked.len() >= n).then_some(linked)
    })
}

#[test]
fn only_mapped_tools_are_offered_and_an_allowed_call_is_answered_and_recorded() {
    let (hall, log) = hall_with_fixture("");
    runtime().block_on(async {
        let client = connect(&hall).await;
        let mut names: Vec<String> = client
            .list_all_tools()
            .await
            .unwrap()
            .into_iter()
            .map(|t| t.name.to_string())
            .collect();
        names.sort();
        // `delete_everything` is mapped (to the gated capability); the fixture's unmapped tools
        // would not be listed at all: every fixture tool is mapped here but none other exists.
        assert_eq!(
            names,
            [
                "add",
                "crash",
                "delete_everything",
                "echo",
                "fail",
                "flood",
                "reject",
                "sleep"
            ]
        );

        let result = client
            .call_tool(call("echo", json!({"text": "héllo"})))
            .await
            .unwrap();
        assert_ne!(result.is_error, Some(true), "{}", text(&result));
        assert_eq!(text(&result), "héllo");
        let id = decision_id(&result);
        let receipt = &result.meta.as_ref().unwrap()["proctor"]["evidence_receipt"];
        assert!(receipt["ledger_seq"].as_i64().unwrap() >= 1);

        // The decision is recorded (allowed) with the tenant from [mcp], and the call's outcome is
        // linked to it.
        let decision = hall.get(&format!("/v1/decisions/{id}"));
        assert_eq!(decision.body["decision"]["denied"], false);
        assert_eq!(decision.body["decision"]["tenant_id"], "fx");
        assert_eq!(decision.body["decision"]["capability_id"], "cap.fx.tools");
        let linked = linked_of(&hall, &id, 1);
        assert_eq!(linked.len(), 1, "{linked:?}");
        assert_eq!(linked[0]["kind"], "mcp_call");
        assert_eq!(linked[0]["server"], "org.fx.server");
        assert_eq!(linked[0]["tool"], "echo");
        assert_eq!(linked[0]["body"]["outcome"], "ok");
        assert_eq!(linked[0]["body"]["arguments"], json!({"text": "héllo"}));
        assert!(linked[0]["body"]["latency_ms"].as_f64().unwrap() > 0.0);
        assert_eq!(calls_seen_by_server(&log).len(), 1);

        // The audit trail filters by server and tool.
        let trail = hall.get("/v1/mcp/calls?server=org.fx.server&tool=echo");
        assert_eq!(trail.status, 200, "{}", trail.body);
        assert_eq!(trail.body["count"], 1);
        assert_eq!(hall.get("/v1/mcp/calls?tool=add").body["count"], 0);

        // The ledger chain covers it all.
        let verify = hall.get("/v1/ledger/verify");
        assert_eq!(verify.body["ok"], true, "{}", verify.body);
        client.cancel().await.unwrap();
    });
}

#[test]
fn with_record_outcome_before_answer_the_outcome_is_durable_when_the_answer_arrives() {
    let (hall, _) = hall_with_fixture("record_outcome = \"before_answer\"");
    runtime().block_on(async {
        let client = connect(&hall).await;
        for i in 0..5 {
            let result = client
                .call_tool(call("echo", json!({"text": format!("call {i}")})))
                .await
                .unwrap();
            let id = decision_id(&result);
            // No waiting: the answer itself came after the outcome's commit.
            let reply = hall.get(&format!("/v1/decisions/{id}"));
            let linked = reply.body["linked"].as_array().cloned().unwrap_or_default();
            assert_eq!(linked.len(), 1, "call {i}: {}", reply.body);
            assert_eq!(linked[0]["body"]["outcome"], "ok");
        }
        client.cancel().await.unwrap();
    });
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("config.toml"),
        "[mcp]\nrecord_outcome = \"sometimes\"\n",
    )
    .unwrap();
    let bad = hall::Config::load_or_init(dir.path())
        .unwrap_err()
        .to_string();
    assert!(
        bad.contains("record_outcome") || bad.contains("sometimes"),
        "{bad}"
    );
}

#[test]
fn a_denied_call_is_refused_with_its_code_and_never_reaches_the_server() {
    let (hall, log) = hall_with_fixture("");
    // Make `add` map to a capability without a rule: denied, fail closed.
    let record_path = hall.data().join("registry/fx.json");
    let mut record: Value =
        serde_json::from_str(&std::fs::read_to_string(&record_path).unwrap()).unwrap();
    record["mcp"]["tools"]["add"] = json!("cap.fx.nomatch");
    let reply = hall.post("/v1/workers", &record);
    assert_eq!(reply.status, 200, "{}", reply.body);
    runtime().block_on(async {
        let client = connect(&hall).await;
        let result = client
            .call_tool(call("add", json!({"a": 1, "b": 2})))
            .await
            .unwrap();
        assert_eq!(result.is_error, Some(true));
        let t = text(&result);
        assert!(t.starts_with("DENY_NO_MATCHING_RULE: "), "{t}");
        let id = decision_id(&result);
        assert!(t.contains(&id), "{t}");
        assert!(
            calls_seen_by_server(&log).is_empty(),
            "the server saw a denied call"
        );
        let linked = linked_of(&hall, &id, 1);
        assert_eq!(linked[0]["body"]["outcome"], "denied");

        // An unknown tool is a protocol error naming it, and no decision.
        let err = client
            .call_tool(call("no_such_tool", json!({})))
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("unknown tool: no_such_tool"),
            "{err}"
        );
        client.cancel().await.unwrap();
    });
}

#[test]
fn the_mcp_endpoint_requires_the_token() {
    let (hall, _) = hall_with_fixture("");
    let reply = hall.request(
        "POST",
        "/mcp",
        None,
        Some(br#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#),
    );
    assert_eq!(reply.status, 401, "{}", reply.body);
}

#[test]
fn a_call_that_needs_a_person_waits_for_approval_then_runs() {
    let (hall, log) = hall_with_fixture("");
    let rt = runtime();
    let client = rt.block_on(connect(&hall));
    let peer = client.peer().clone();
    let waiting = rt.spawn(async move {
        peer.call_tool(call("delete_everything", json!({"really": true})))
            .await
    });
    let approval = wait_for("a pending approval", || {
        let list = hall.get("/v1/approvals");
        list.body["approvals"].as_array()?.first().cloned()
    });
    assert_eq!(approval["tool"], "delete_everything");
    assert_eq!(approval["deny_code"], "DENY_REQUIRES_HUMAN_APPROVAL");
    assert_eq!(approval["worker_id"], "org.fx.server");
    assert_eq!(approval["state"], "pending");
    assert!(
        calls_seen_by_server(&log).is_empty(),
        "forwarded before approval"
    );
    let id = approval["id"].as_str().unwrap();
    let reply = hall.post(
        &format!("/v1/approvals/{id}"),
        &json!({"verdict": "approve", "note": "looks fine", "by": "alice"}),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["state"], "approved");
    let result = rt.block_on(waiting).unwrap().unwrap();
    assert_ne!(result.is_error, Some(true), "{}", text(&result));
    assert_eq!(text(&result), "everything deleted");
    assert_eq!(calls_seen_by_server(&log).len(), 1);
    // A second verdict is refused.
    let again = hall.post(&format!("/v1/approvals/{id}"), &json!({"verdict": "deny"}));
    assert_eq!(again.status, 409, "{}", again.body);
    // The decision stays the reference's (denied), with the verdict and the call linked to it.
    let decision_id = approval["decision_id"].as_str().unwrap();
    let detail = hall.get(&format!("/v1/decisions/{decision_id}"));
    assert_eq!(detail.body["decision"]["denied"], true);
    let linked = linked_of(&hall, decision_id, 2);
    let kinds: Vec<&str> = linked.iter().map(|l| l["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["approval", "mcp_call"]);
    assert_eq!(linked[0]["body"]["verdict"]["by"], "alice");
    assert_eq!(linked[0]["body"]["verdict"]["note"], "looks fine");
    assert_eq!(linked[1]["body"]["outcome"], "ok");
    assert_eq!(linked[1]["body"]["dispatch_decision"]["denied"], false);
    rt.block_on(client.cancel()).unwrap();
}

#[test]
fn a_denied_or_unanswered_approval_refuses_the_call_with_its_code() {
    let (hall, log) = hall_with_fixture("approval_timeout_s = 2");
    let rt = runtime();
    let client = rt.block_on(connect(&hall));
    // Denied by a person.
    let peer = client.peer().clone();
    let waiting =
        rt.spawn(async move { peer.call_tool(call("delete_everything", json!({}))).await });
    let id = wait_for("a pending approval", || {
        hall.get("/v1/approvals").body["approvals"][0]["id"]
            .as_str()
            .map(str::to_string)
    });
    let reply = hall.post(
        &format!("/v1/approvals/{id}"),
        &json!({"verdict": "deny", "note": "no"}),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let result = rt.block_on(waiting).unwrap().unwrap();
    assert_eq!(result.is_error, Some(true));
    assert!(
        text(&result).starts_with("DENY_REQUIRES_HUMAN_APPROVAL: denied by api: no"),
        "{}",
        text(&result)
    );
    // Nobody answers: refused after approval_timeout_s.
    let result = rt
        .block_on(client.call_tool(call("delete_everything", json!({}))))
        .unwrap();
    assert_eq!(result.is_error, Some(true));
    assert!(
        text(&result).contains("no verdict within 2 s"),
        "{}",
        text(&result)
    );
    let all = hall.get("/v1/approvals?state=all");
    let states: Vec<&str> = all.body["approvals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["expired", "denied"]);
    assert!(calls_seen_by_server(&log).is_empty());
    rt.block_on(client.cancel()).unwrap();
}

#[test]
fn a_client_that_leaves_while_waiting_cancels_its_approval() {
    let (hall, _) = hall_with_fixture("");
    let rt = runtime();
    let client = rt.block_on(connect(&hall));
    let peer = client.peer().clone();
    let waiting =
        rt.spawn(async move { peer.call_tool(call("delete_everything", json!({}))).await });
    let decision_id = wait_for("a pending approval", || {
        hall.get("/v1/approvals").body["approvals"][0]["decision_id"]
            .as_str()
            .map(str::to_string)
    });
    waiting.abort();
    rt.block_on(client.cancel()).unwrap();
    let ended = wait_for("the approval to end", || {
        let all = hall.get("/v1/approvals?state=all");
        let a = all.body["approvals"][0].clone();
        // Not an empty list (`null`): the approval, once it is no longer pending.
        (a.is_object() && a["state"] != "pending").then_some(a)
    });
    assert_eq!(ended["state"], "cancelled", "{ended}");
    // The decision is still in the ledger, with the cancellation linked to it.
    let linked = linked_of(&hall, &decision_id, 1);
    assert_eq!(linked[0]["kind"], "approval");
    assert_eq!(linked[0]["body"]["state"], "cancelled");
}

#[test]
fn faults_downstream_are_tool_errors_and_the_hall_keeps_going() {
    let (hall, _) = hall_with_fixture("call_timeout_s = 1\nmax_result_bytes = 100000");
    let rt = runtime();
    let client = rt.block_on(connect(&hall));
    let expect_error = |name: &str, args: Value, code: &str| {
        let result = rt.block_on(client.call_tool(call(name, args))).unwrap();
        assert_eq!(result.is_error, Some(true), "{name}: {}", text(&result));
        assert!(text(&result).starts_with(code), "{name}: {}", text(&result));
        decision_id(&result)
    };
    expect_error("sleep", json!({"ms": 5000}), "PROCTOR_TIMEOUT: ");
    expect_error("flood", json!({"n": 200000}), "PROCTOR_RESULT_TOO_LARGE: ");
    expect_error("reject", json!({}), "PROCTOR_DOWNSTREAM_ERROR: ");
    // A tool error from the tool itself passes through unchanged.
    let result = rt
        .block_on(client.call_tool(call("fail", json!({}))))
        .unwrap();
    assert_eq!(result.is_error, Some(true));
    assert_eq!(text(&result), "it failed");
    // A crash mid-call: the call fails clearly, the decision and its outcome are recorded.
    let id = expect_error("crash", json!({}), "PROCTOR_SERVER_UNAVAILABLE: ");
    let linked = linked_of(&hall, &id, 1);
    assert_eq!(linked[0]["body"]["outcome"], "unavailable");
    // The server is failed (its worker offline), then comes back by itself.
    let server = wait_for("the server to come back", || {
        let overview = hall.get("/v1/mcp");
        let s = overview.body["servers"][0].clone();
        (s["status"]["state"] == "ready" && s["status"]["restarts"].as_u64() >= Some(1))
            .then_some(s)
    });
    assert!(
        server["status"]["stderr_tail"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l == "fixture: crashing on purpose"),
        "{server}"
    );
    let result = rt
        .block_on(client.call_tool(call("add", json!({"a": 2, "b": 3}))))
        .unwrap();
    assert_eq!(text(&result), "5");
    rt.block_on(client.cancel()).unwrap();
}

#[test]
fn a_server_that_answers_garbage_is_failed_with_its_stderr_and_calls_get_a_clear_error() {
    let dir_holder = tempfile::tempdir().unwrap();
    let script = dir_holder.path().join("garbage.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\necho 'this is not json'\necho 'garbage server: bad' >&2\nsleep 30\n",
    )
    .unwrap();
    let record = json!({
        "worker_id": "org.fx.garbage", "worker_species_id": "wrk.fx.server",
        "capabilities": ["cap.fx.tools"],
        "mcp": {"command": "sh", "args": [script], "tools": {"*": "cap.fx.tools"}}
    });
    let hall = TestHall::start_with(|dir: &Path| {
        std::fs::write(dir.join("rules.json"), RULES).unwrap();
        std::fs::create_dir_all(dir.join("registry")).unwrap();
        std::fs::write(dir.join("registry/g.json"), record.to_string()).unwrap();
    });
    let rt = runtime();
    let client = rt.block_on(connect(&hall));
    // No tools can be listed from it, so none are offered.
    let tools = rt.block_on(client.list_all_tools()).unwrap();
    assert!(tools.is_empty(), "{tools:?}");
    let overview = hall.get("/v1/mcp");
    let server = &overview.body["servers"][0];
    assert_eq!(server["status"]["state"], "failed", "{server}");
    // The hall is fine.
    assert_eq!(hall.get("/health").status, 200);
    rt.block_on(client.cancel()).unwrap();
    drop(dir_holder);
}

#[test]
fn every_call_of_a_session_is_under_its_correlation_id_unless_meta_says_otherwise() {
    let (hall, _) = hall_with_fixture("");
    let rt = runtime();
    let client = rt.block_on(connect(&hall));
    let a = decision_id(
        &rt.block_on(client.call_tool(call("echo", json!({"text": "1"}))))
            .unwrap(),
    );
    let b = decision_id(
        &rt.block_on(client.call_tool(call("echo", json!({"text": "2"}))))
            .unwrap(),
    );
    let correlation = |id: &str| {
        hall.get(&format!("/v1/decisions/{id}")).body["decision"]["correlation_id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(correlation(&a), correlation(&b));
    let mut params = call("echo", json!({"text": "3"}));
    let mut meta = Map::new();
    meta.insert("correlation_id".into(), json!("incident-42"));
    params.meta = Some(RequestMetaObject(MetaObject(meta)));
    let c = decision_id(&rt.block_on(client.call_tool(params)).unwrap());
    assert_eq!(correlation(&c), "incident-42");
    let trace = hall.get(&format!("/v1/traces/{}", correlation(&a)));
    assert_eq!(trace.body["decisions"].as_array().unwrap().len(), 2);
    assert_eq!(trace.body["linked"].as_array().unwrap().len(), 2);
    rt.block_on(client.cancel()).unwrap();
}

/// One raw POST to `/mcp` (a lean client, as `benches/mcp` uses): status, content type, the
/// `Mcp-Session-Id` it set, and the JSON-RPC message answered (from JSON or an SSE event).
fn mcp_post(
    hall: &TestHall,
    session: Option<(&str, &str)>,
    body: Value,
) -> (u16, String, Option<String>, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(std::time::Duration::from_secs(30)))
        .build()
        .into();
    let mut req = agent
        .post(hall.url("/mcp"))
        .header("Authorization", hall.bearer())
        .header("Accept", "application/json, text/event-stream");
    if let Some((id, version)) = session {
        req = req
            .header("Mcp-Session-Id", id)
            .header("Mcp-Protocol-Version", version);
    }
    let mut resp = req.send_json(&body).expect("the hall answers");
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let (content_type, session) = (
        header("content-type").unwrap_or_default(),
        header("mcp-session-id"),
    );
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    let message = text
        .lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .map(str::trim)
        .chain(std::iter::once(text.trim()))
        .find_map(|d| {
            serde_json::from_str::<Value>(d)
                .ok()
                .filter(|m| m.get("jsonrpc").is_some())
        })
        .unwrap_or(Value::Null);
    (resp.status().as_u16(), content_type, session, message)
}

/// A session opened by a lean client (`initialize`, `notifications/initialized`): its id and
/// protocol version.
fn lean_session(hall: &TestHall) -> (String, String) {
    let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "lean", "version": "1.0.0"}}});
    let (status, _, session, answer) = mcp_post(hall, None, init);
    assert_eq!(status, 200, "{answer}");
    let session = session.expect("a session id");
    let version = answer["result"]["protocolVersion"]
        .as_str()
        .unwrap()
        .to_string();
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let (status, ..) = mcp_post(hall, Some((&session, &version)), initialized);
    assert_eq!(status, 202);
    (session, version)
}

#[test]
fn a_sessions_calls_are_answered_directly_as_json_and_everything_else_goes_through_rmcp() {
    let (hall, _) = hall_with_fixture("");
    let (session, version) = lean_session(&hall);
    let on = Some((session.as_str(), version.as_str()));
    let echo = |id: u64| {
        json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": {"name": "echo", "arguments": {"text": format!("hi {id}")}}})
    };
    // The handshake's end shows the session to the direct path; rmcp handles that notification
    // after answering its POST, so a call right behind it may still go through rmcp (an event
    // stream), which shows the session too...
    let (status, content_type, _, first) = mcp_post(&hall, on, echo(1));
    assert_eq!(status, 200, "{first}");
    assert!(
        content_type.starts_with("text/event-stream") || content_type == "application/json",
        "{content_type}"
    );
    assert_eq!(first["result"]["content"][0]["text"], "hi 1", "{first}");
    // ...and from then on calls are answered directly, as JSON, with the same governance.
    let (status, content_type, _, second) = mcp_post(&hall, on, echo(2));
    assert_eq!(status, 200, "{second}");
    assert_eq!(content_type, "application/json");
    assert_eq!(second["id"], 2);
    assert_eq!(second["result"]["content"][0]["text"], "hi 2", "{second}");
    let ids: Vec<String> = [&first, &second]
        .iter()
        .map(|m| {
            m["result"]["_meta"]["proctor"]["decision_id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let correlation: Vec<Value> = ids
        .iter()
        .map(|id| hall.get(&format!("/v1/decisions/{id}")).body["correlation_id"].clone())
        .collect();
    assert_eq!(
        correlation[0], correlation[1],
        "one session, one correlation id"
    );
    assert_eq!(linked_of(&hall, &ids[1], 1)[0]["body"]["outcome"], "ok");
    // An unknown tool is the same JSON-RPC error on this path.
    let unknown = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
        "params": {"name": "nope", "arguments": {}}});
    let (_, content_type, _, error) = mcp_post(&hall, on, unknown);
    assert_eq!(content_type, "application/json");
    assert_eq!(error["error"]["code"], -32602, "{error}");
    assert!(error["error"]["message"]
        .as_str()
        .unwrap()
        .contains("unknown tool: nope"));
    // Other methods, and a protocol version the session did not negotiate, stay with rmcp.
    let list = json!({"jsonrpc": "2.0", "id": 4, "method": "tools/list"});
    let (_, content_type, _, tools) = mcp_post(&hall, on, list);
    assert!(
        content_type.starts_with("text/event-stream"),
        "{content_type}"
    );
    assert!(tools["result"]["tools"]
        .as_array()
        .is_some_and(|t| !t.is_empty()));
    // A closed session is rmcp's 404, not a call.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let closed = agent
        .delete(hall.url("/mcp"))
        .header("Authorization", hall.bearer())
        .header("Mcp-Session-Id", &session)
        .header("Mcp-Protocol-Version", &version)
        .call()
        .expect("the hall answers");
    assert!(
        closed.status().is_success(),
        "DELETE /mcp: {}",
        closed.status()
    );
    let (status, ..) = mcp_post(&hall, on, echo(5));
    assert_eq!(status, 404);
}

/// A `tools/call` of `delete_everything` (it needs a person) sent on its own connection, left
/// waiting: the stream, to read its answer or to drop (the client leaving).
fn held_call(hall: &TestHall, session: &str, version: &str, id: u64) -> std::net::TcpStream {
    use std::io::Write;
    let body = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": {"name": "delete_everything", "arguments": {}}})
    .to_string();
    let host = hall.url("").trim_start_matches("http://").to_string();
    let mut stream = std::net::TcpStream::connect(&host).unwrap();
    write!(
        stream,
        "POST /mcp HTTP/1.1\r\nHost: {host}\r\nAuthorization: {}\r\n\
         Accept: application/json, text/event-stream\r\nContent-Type: application/json\r\n\
         Mcp-Session-Id: {session}\r\nMcp-Protocol-Version: {version}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        hall.bearer(),
        body.len()
    )
    .unwrap();
    stream
}

#[test]
fn a_call_answered_directly_ends_its_wait_when_the_client_leaves_or_cancels() {
    let (hall, log) = hall_with_fixture("");
    let (session, version) = lean_session(&hall);
    let on = Some((session.as_str(), version.as_str()));
    let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"});
    mcp_post(&hall, on, list); // shows the session: its calls are answered directly from now
    let pending = |n: usize| {
        wait_for("pending approvals", || {
            let all = hall.get("/v1/approvals?state=all").body["approvals"].clone();
            let list = all.as_array().cloned().unwrap_or_default();
            (list.len() == n && list[0]["state"] == "pending").then_some(list)
        })
    };
    let ended = |n: usize| {
        wait_for("the approval to end", || {
            let all = hall.get("/v1/approvals?state=all").body["approvals"].clone();
            let list = all.as_array().cloned().unwrap_or_default();
            (list.len() == n && list.iter().all(|a| a["state"] != "pending")).then_some(list)
        })
    };
    // The client leaves: its connection closes while the call waits.
    let stream = held_call(&hall, &session, &version, 2);
    pending(1);
    drop(stream);
    assert_eq!(ended(1)[0]["state"], "cancelled");
    // The client cancels: `notifications/cancelled` for the request, and it is answered.
    let mut stream = held_call(&hall, &session, &version, 3);
    pending(2);
    let cancel = json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
        "params": {"requestId": 3, "reason": "the user gave up"}});
    let (status, ..) = mcp_post(&hall, on, cancel);
    assert_eq!(status, 202);
    let mut answer = String::new();
    std::io::Read::read_to_string(&mut stream, &mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.contains("the client cancelled the call while it waited for a person"),
        "{answer}"
    );
    assert!(ended(2).iter().all(|a| a["state"] == "cancelled"));
    assert!(calls_seen_by_server(&log).is_empty(), "never forwarded");
}
