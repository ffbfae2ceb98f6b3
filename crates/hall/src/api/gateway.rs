//! The MCP gateway's HTTP faces: the Streamable HTTP endpoint at `/mcp` (behind the same bearer
//! token as `/v1`), and the operations behind the MCP and Approvals screens.

use super::error::ApiError;
use super::extract::{Id, JsonBody, Q};
use super::AppState;
use crate::mcp::direct::Direct;
use crate::mcp::onboarding::ImportRequest;
use crate::mcp::session::McpSession;
use crate::mcp::view::{ApprovalVerdict, ApprovalsQuery, CallsQuery};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use serde_json::{json, Value};
use std::sync::Arc;

type ApiResult<T> = Result<T, ApiError>;

/// The MCP endpoint: one [`McpSession`] per client session. Sessions end with the hall. With it,
/// what the direct path for `tools/call` ([`crate::mcp::direct`]) needs to stand in front of it.
pub fn mcp_service(
    state: &AppState,
) -> (
    StreamableHttpService<McpSession, LocalSessionManager>,
    Direct,
) {
    let config = StreamableHttpServerConfig::default()
        // The server checks Host (and Origin) on every route, this one included, against the
        // address each connection came to (`api::guard`); rmcp's own list knows only names.
        .disable_allowed_hosts()
        // Clients of older protocol versions keep one session per connection (its correlation id).
        .with_legacy_session_mode(true)
        .with_json_response(true)
        // No priming event before each answer: it only serves resuming a stream, which needs an
        // event store this hall does not keep (a lost answer is in the ledger, not replayed).
        .with_sse_retry(None);
    let cancel = config.cancellation_token.clone();
    let mut shutdown = state.shutdown.clone();
    tokio::spawn(async move {
        let _ = shutdown.wait_for(|stop| *stop).await;
        cancel.cancel();
    });
    let sessions = Arc::new(LocalSessionManager::default());
    let direct = Direct {
        hall: state.hall.clone(),
        sessions: Arc::clone(&sessions),
    };
    let hall = state.hall.clone();
    let service =
        StreamableHttpService::new(move || Ok(McpSession::new(hall.clone())), sessions, config);
    (service, direct)
}

/// rmcp answers a body that is not a JSON-RPC message with a bare 415; a JSON-RPC client expects
/// a JSON-RPC error: -32700 (not JSON) or -32600 (JSON, not a JSON-RPC message), with a 400.
pub async fn jsonrpc_errors(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let resp = next.run(req).await;
    if resp.status() != StatusCode::UNSUPPORTED_MEDIA_TYPE {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes);
    let Some(detail) = text.strip_prefix("fail to deserialize request body") else {
        return Response::from_parts(parts, axum::body::Body::from(bytes));
    };
    let (code, kind) = if detail.contains("unrecognized JSON-RPC message") {
        (-32600, "Invalid Request: not a JSON-RPC message")
    } else {
        (-32700, "Parse error: the body is not JSON")
    };
    let error = json!({"jsonrpc": "2.0", "id": null,
        "error": {"code": code, "message": format!("{kind} ({})", detail.trim())}});
    (StatusCode::BAD_REQUEST, Json(error)).into_response()
}

pub async fn overview(State(s): State<AppState>) -> Json<Value> {
    Json(serde_json::to_value(s.hall.mcp_overview()).expect("overview serializes"))
}

pub async fn calls(State(s): State<AppState>, Q(q): Q<CallsQuery>) -> ApiResult<Json<Value>> {
    let calls = s.hall.mcp_calls(q).await?;
    Ok(Json(json!({"count": calls.len(), "calls": calls})))
}

pub async fn approvals(State(s): State<AppState>, Q(q): Q<ApprovalsQuery>) -> Json<Value> {
    Json(serde_json::to_value(s.hall.approvals(q)).expect("approvals serialize"))
}

pub async fn decide(
    State(s): State<AppState>,
    Id(id): Id,
    JsonBody(body): JsonBody<ApprovalVerdict>,
) -> ApiResult<Json<Value>> {
    let approval = s.hall.approval_verdict(&id, body, "api").await?;
    Ok(Json(
        serde_json::to_value(approval).expect("approval serializes"),
    ))
}

pub async fn import_plan(State(s): State<AppState>) -> ApiResult<Json<Value>> {
    let plan = s.hall.import_plan().await?;
    Ok(Json(serde_json::to_value(plan).expect("plan serializes")))
}

pub async fn import_apply(
    State(s): State<AppState>,
    JsonBody(body): JsonBody<ImportRequest>,
) -> ApiResult<Json<Value>> {
    let result = s.hall.import_apply(body).await?;
    Ok(Json(
        serde_json::to_value(result).expect("import result serializes"),
    ))
}
