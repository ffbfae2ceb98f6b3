//! `tools/call` on a known session, answered without rmcp's session worker.
//!
//! Clients of the protocol versions before 2026-07-28 (every SDK in use) keep a session, and
//! rmcp serves each of their requests through that session's worker: a channel to the worker,
//! another to the service loop, a task per request, and the answer back as a Server-Sent Events
//! stream. For the one request a gateway serves at volume, `tools/call`, this module answers the
//! POST itself, as plain JSON (which the Streamable HTTP transport allows for any request), with
//! the same [`call_tool`] and the same caller the session would have used. Anything else (other
//! methods, batches, notifications, a session rmcp has not shown to [`super::session`] yet or no
//! longer holds, a protocol version header that differs from the session's) goes to rmcp
//! untouched, which keeps every protocol check and error where it was.
//!
//! A call answered here ends its wait (for a person) as a session's call would: when the client
//! drops the connection, sends `notifications/cancelled` for it, or ends the session, and when
//! the hall stops (which ends the sessions).

use super::call::call_tool;
use super::session::{self, TRANSPORT_HEADER};
use crate::api::error::ApiError;
use crate::hall::Hall;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::session::SessionManager;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;

/// What the direct path needs: the hall, and rmcp's sessions (a call for a session rmcp has
/// closed goes to rmcp, which answers 404).
#[derive(Clone)]
pub struct Direct {
    pub hall: Hall,
    pub sessions: Arc<LocalSessionManager>,
}

/// A JSON-RPC message as far as this module reads it. Unknown members send it to rmcp.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Message {
    jsonrpc: String,
    #[serde(default)]
    id: Option<Value>,
    method: String,
    #[serde(default)]
    params: Option<Value>,
}

/// A middleware in front of rmcp's Streamable HTTP service.
pub async fn tools_call(State(direct): State<Direct>, request: Request, next: Next) -> Response {
    let Some((id, transport)) = shown(&direct, request.method(), request.headers()) else {
        return next.run(request).await;
    };
    if !direct
        .sessions
        .has_session(&id.into())
        .await
        .unwrap_or(false)
    {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    // Its length was declared, and the body limit refused it already if too large; a body
    // that stops arriving fails here and its read deadline (api::deadline) answers 408.
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => bytes,
        Err(e) => {
            let why = format!("cannot read the request body: {e}");
            return ApiError::new(StatusCode::BAD_REQUEST, "BAD_REQUEST", why).into_response();
        }
    };
    let message = serde_json::from_slice::<Message>(&bytes)
        .ok()
        .filter(|m| m.jsonrpc == "2.0");
    let call = match message {
        Some(Message {
            id: Some(id),
            method,
            params: Some(params),
            ..
        }) if method == "tools/call" && (id.is_string() || id.is_i64() || id.is_u64()) => {
            serde_json::from_value::<CallToolRequestParams>(params)
                .ok()
                .map(|params| (id, params))
        }
        Some(Message {
            id: None,
            method,
            params: Some(params),
            ..
        }) if method == "notifications/cancelled" => {
            cancel(&transport, &params);
            None
        }
        _ => None,
    };
    let Some((request_id, params)) = call else {
        return next
            .run(Request::from_parts(parts, Body::from(bytes)))
            .await;
    };
    let key = request_id.to_string();
    // Ends the call when the client goes away (this future is dropped), cancels it, or ends
    // its session (which the hall's stop does too).
    let cancelled = transport.ended.child_token();
    let _running = Running::start(&transport, key, cancelled.clone());
    let answer = answer(&direct.hall, &transport, &parts.headers, params, cancelled).await;
    let message = match answer {
        Ok(result) => json!({"jsonrpc": "2.0", "id": request_id, "result": result}),
        Err(e) => json!({"jsonrpc": "2.0", "id": request_id,
            "error": {"code": e.code.0, "message": e.message, "data": e.data}}),
    };
    let mut response = Bytes::from(message.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// A client's `notifications/cancelled` for a call answered here. It goes on to rmcp too,
/// which ignores a request it does not know.
fn cancel(transport: &session::Transport, params: &Value) {
    if let Some(id) = params.get("requestId") {
        let running = transport.running.lock().expect("running calls lock");
        if let Some(token) = running.get(&id.to_string()) {
            token.cancel();
        }
    }
}

/// A call in its session's `running` table while it runs; cancelled if it is dropped early.
struct Running {
    running: Arc<Mutex<HashMap<String, CancellationToken>>>,
    key: String,
    token: CancellationToken,
}

impl Running {
    fn start(transport: &session::Transport, key: String, token: CancellationToken) -> Running {
        let running = Arc::clone(&transport.running);
        running
            .lock()
            .expect("running calls lock")
            .insert(key.clone(), token.clone());
        Running {
            running,
            key,
            token,
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // A call that finished has nothing left to cancel; one dropped mid-way (its client
        // left) ends its wait for a person.
        self.token.cancel();
        self.running
            .lock()
            .expect("running calls lock")
            .remove(&self.key);
    }
}

/// The session this request may be answered for here, if it is a plain JSON POST on a session
/// [`super::session`] has been shown, at the protocol version that session negotiated (the
/// caller then checks that rmcp still holds it).
fn shown(
    direct: &Direct,
    method: &Method,
    headers: &HeaderMap,
) -> Option<(String, session::Transport)> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if method != Method::POST
        // A body of declared length: the body limit has judged it before it reaches here.
        || !headers.contains_key(header::CONTENT_LENGTH)
        || !text(header::CONTENT_TYPE.as_str())?.starts_with("application/json")
        || !accepts_json(headers)
        // SEP-2243's standard headers are checked against the body by rmcp.
        || headers.contains_key("mcp-method")
        || headers.contains_key("mcp-name")
    {
        return None;
    }
    let id = text(TRANSPORT_HEADER)?;
    let transport = direct.hall.mcp().sessions.transport(id)?;
    (text("mcp-protocol-version")? == transport.protocol_version)
        .then(|| (id.to_string(), transport))
}

fn accepts_json(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| {
            let essence = t.split(';').next().unwrap_or("").trim();
            essence.eq_ignore_ascii_case("application/json") || essence == "*/*"
        })
}

async fn answer(
    hall: &Hall,
    transport: &session::Transport,
    headers: &HeaderMap,
    params: CallToolRequestParams,
    cancelled: CancellationToken,
) -> Result<CallToolResult, rmcp::ErrorData> {
    let caller = session::caller(
        hall,
        &transport.session_id,
        Some(headers),
        transport.client.clone(),
        cancelled,
    )?;
    let bridged = headers.contains_key(session::CLIENT_HEADER);
    session::remember(hall, &caller, chrono::Utc::now(), bridged);
    call_tool(hall, &caller, params).await
}
