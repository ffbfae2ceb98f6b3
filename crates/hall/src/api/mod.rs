//! The loopback HTTP API (docs/API.md). One table, [`endpoints`], is the single list of
//! operations: it builds the router and the OpenAPI document (each operation's `name` is its
//! `operationId`), the UI's operation table is generated from that document
//! (`ui/src/lib/ops.gen.ts`), and the desktop's one Tauri command dispatches by the same name.
//! Adding an operation takes its handler (`routes.rs`), its line here, and, when it answers a
//! typed body, its response schema in `openapi.rs` (keyed by the same name).

mod anchor;
pub mod auth;
mod deadline;
pub mod error;
pub mod extract;
mod gateway;
pub mod guard;
pub mod openapi;
pub(crate) mod routes;
mod sse;
pub(crate) mod ui;

use crate::hall::Hall;
use auth::Tickets;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post, put, MethodRouter};
use axum::Router;
use error::ApiError;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

pub const CSP: &str =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'";

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub hall: Hall,
    pub token: Arc<str>,
    pub tickets: Arc<Tickets>,
    /// Flips to `true` on shutdown so long-lived streams end and graceful shutdown can finish.
    pub shutdown: watch::Receiver<bool>,
}

/// One API operation: its name, its documentation and its handler.
pub struct Endpoint {
    /// The operation's one name, snake_case and unique: the OpenAPI `operationId`, the key of the
    /// UI's generated operation table and what the desktop's `hall_call` command is given.
    pub name: &'static str,
    pub method: Method,
    pub path: &'static str,
    pub summary: &'static str,
    /// Component schema of the JSON body, if it takes one.
    pub body: Option<&'static str>,
    pub auth: bool,
    pub handler: MethodRouter<AppState>,
}

fn ep(
    name: &'static str,
    method: Method,
    path: &'static str,
    summary: &'static str,
    body: Option<&'static str>,
    handler: MethodRouter<AppState>,
) -> Endpoint {
    Endpoint {
        name,
        method,
        path,
        summary,
        body,
        auth: !PUBLIC_PATHS.contains(&path),
        handler,
    }
}

/// Operations without the bearer token: liveness, and trading a sign-in link's code for it.
const PUBLIC_PATHS: &[&str] = &["/health", crate::sign_in::SESSION_PATH];

/// Every operation of the API.
pub fn endpoints() -> Vec<Endpoint> {
    use routes::*;
    vec![
        ep(
            "health",
            Method::GET,
            "/health",
            "Liveness (no auth; the reference hall's shape)",
            None,
            get(health),
        ),
        ep(
            "get_metrics",
            Method::GET,
            "/metrics",
            "Prometheus metrics in the text exposition format (bearer auth: docs/observability.md)",
            None,
            get(metrics),
        ),
        ep(
            "route",
            Method::POST,
            "/v1/route",
            "Route a RouteInput; the decision is recorded before it is returned",
            Some("RouteInput"),
            post(route),
        ),
        ep(
            "enroll_worker",
            Method::POST,
            "/v1/workers",
            "Enroll (or replace) a worker registry record",
            Some("WorkerRecord"),
            post(enroll),
        ),
        ep(
            "reference_enroll",
            Method::POST,
            "/enroll",
            "Reference-compatible alias of enrollment (the reference hall's shapes; bearer auth)",
            Some("WorkerRecord"),
            post(reference_enroll),
        ),
        ep(
            "list_workers",
            Method::GET,
            "/v1/workers",
            "List enrolled workers with their health",
            None,
            get(workers),
        ),
        ep(
            "report_heartbeat",
            Method::POST,
            "/v1/workers/{worker_id}/heartbeat",
            "Report a worker heartbeat",
            Some("Heartbeat"),
            post(heartbeat),
        ),
        ep(
            "verify_worker",
            Method::POST,
            "/v1/workers/{worker_id}/verify",
            "Attestation verdict for an enrolled worker's package",
            Some("VerifyRequest"),
            post(verify_worker),
        ),
        ep(
            "list_decisions",
            Method::GET,
            "/v1/decisions",
            "Decision history, newest first, keyset-paginated",
            None,
            get(decisions),
        ),
        ep(
            "decisions_summary",
            Method::GET,
            "/v1/decisions/summary",
            "How many decisions match a filter, per time bucket and per facet value",
            None,
            get(decisions_summary),
        ),
        ep(
            "decisions_count",
            Method::GET,
            "/v1/decisions/count",
            "How many decisions match a filter, exact within a time budget",
            None,
            get(decisions_count),
        ),
        ep(
            "get_decision",
            Method::GET,
            "/v1/decisions/{decision_id}",
            "One recorded decision",
            None,
            get(decision),
        ),
        ep(
            "get_trace",
            Method::GET,
            "/v1/traces/{correlation_id}",
            "Every decision under one correlation id",
            None,
            get(trace),
        ),
        ep(
            "get_stats",
            Method::GET,
            "/v1/stats",
            "Decision counters and worker health summary",
            None,
            get(stats),
        ),
        ep(
            "list_issues",
            Method::GET,
            "/v1/issues",
            "Denials in a time window grouped by deny code, capability and worker, with a trend",
            None,
            get(issues),
        ),
        ep(
            "verify_ledger",
            Method::GET,
            "/v1/ledger/verify",
            "Check the ledger's hash chain",
            None,
            get(ledger_verify),
        ),
        ep(
            "list_hall_events",
            Method::GET,
            "/v1/hall-events",
            "What the hall saw: enrollments, health transitions, reloads",
            None,
            get(hall_events),
        ),
        ep(
            "list_alerts",
            Method::GET,
            "/v1/alerts",
            "Alerts, newest first",
            None,
            get(alerts),
        ),
        ep(
            "ack_alert",
            Method::POST,
            "/v1/alerts/{id}/ack",
            "Acknowledge an alert, with an optional note and who acknowledges",
            Some("AckRequest"),
            post(ack_alert),
        ),
        ep(
            "issue_event_ticket",
            Method::POST,
            "/v1/events/ticket",
            "A single-use ticket for opening the event stream",
            None,
            post(ticket),
        ),
        ep(
            "create_session",
            Method::POST,
            crate::sign_in::SESSION_PATH,
            "Trade a sign-in link's single-use code for the API token (no auth)",
            Some("SessionRequest"),
            post(crate::sign_in::exchange),
        ),
        ep(
            "stream_events",
            Method::GET,
            "/v1/events",
            "Live events (Server-Sent Events)",
            None,
            get(sse::events),
        ),
        ep(
            "attest_hash",
            Method::POST,
            "/v1/attest/hash",
            "Canonical package hash of a directory",
            Some("PathRequest"),
            post(attest_hash),
        ),
        ep(
            "attest_verify",
            Method::POST,
            "/v1/attest/verify",
            "Verify a package against its manifest and signature",
            Some("AttestVerifyRequest"),
            post(attest_verify),
        ),
        ep(
            "attest_sign",
            Method::POST,
            "/v1/attest/sign",
            "Sign a package with the worker namespace's key",
            Some("AttestSignRequest"),
            post(attest_sign),
        ),
        ep(
            "get_settings",
            Method::GET,
            "/v1/settings",
            "Effective settings (never the token)",
            None,
            get(settings),
        ),
        ep(
            "get_hall_key",
            Method::GET,
            "/v1/hall/key",
            "The public key that signs this hall's receipts and ledger checkpoints",
            None,
            get(anchor::hall_key),
        ),
        ep(
            "get_fleet",
            Method::GET,
            "/v1/fleet",
            "This hall's shipping to the fleet's central store: hall id, connection, backlog per stream, last contact and error (docs/fleet.md)",
            None,
            get(fleet_status),
        ),
        ep(
            "put_thresholds",
            Method::PUT,
            "/v1/settings/thresholds",
            "Change and persist health/alert thresholds",
            Some("Thresholds"),
            put(put_thresholds),
        ),
        ep(
            "get_openapi",
            Method::GET,
            "/v1/openapi.json",
            "This API's OpenAPI document",
            None,
            get(openapi),
        ),
        ep(
            "get_mcp",
            Method::GET,
            "/v1/mcp",
            "The MCP gateway: servers with their state and tools, client sessions, settings",
            None,
            get(gateway::overview),
        ),
        ep(
            "list_mcp_calls",
            Method::GET,
            "/v1/mcp/calls",
            "The MCP audit trail: call outcomes (or approval endings), newest first",
            None,
            get(gateway::calls),
        ),
        ep(
            "plan_mcp_import",
            Method::GET,
            "/v1/mcp/import",
            "The MCP servers this user's clients run, planned as workers of this hall (writes nothing)",
            None,
            get(gateway::import_plan),
        ),
        ep(
            "apply_mcp_import",
            Method::POST,
            "/v1/mcp/import",
            "Put the chosen client entries behind this hall: records, rules, client files rewritten (backed up)",
            Some("ImportRequest"),
            post(gateway::import_apply),
        ),
        ep(
            "list_approvals",
            Method::GET,
            "/v1/approvals",
            "Calls held for a person (pending first)",
            None,
            get(gateway::approvals),
        ),
        ep(
            "list_fleet_halls",
            Method::GET,
            "/v1/fleet/halls",
            "The halls shipping to the central store, with health, backlog and last contact (the fleet view only: `proctor serve --fleet`; a hall answers 404)",
            None,
            get(fleet_halls),
        ),
        ep(
            "decide_approval",
            Method::POST,
            "/v1/approvals/{id}",
            "Approve or deny a held call; the verdict is recorded before the call goes on",
            Some("ApprovalVerdict"),
            post(gateway::decide),
        ),
    ]
}

/// Limits applied by [`router`].
#[derive(Debug, Clone)]
pub struct Limits {
    pub body_bytes: usize,
    pub timeout: Duration,
}

/// The whole HTTP surface: `/health`, `/v1/...` (authenticated), and the UI at `/`.
pub fn router(state: AppState, limits: &Limits, ui_dir: Option<&std::path::Path>) -> Router {
    let mut public = Router::new();
    let mut private = Router::new();
    let file = &state.hall.config().file;
    let hashing_limit = Duration::from_secs(file.attest_timeout_s);
    let subscribers = sse::Subscribers::new(file.sse_max_subscribers);
    for e in endpoints() {
        // Whole-ledger verification and package hashing take as long as the data is big; the
        // event stream answers at once and then stays open. Everything else must be quick.
        let mut handler = if is_long_running(e.path) {
            // Still, their bodies must arrive as fast as any other's.
            e.handler.layer(middleware::from_fn_with_state(
                limits.timeout,
                deadline::body,
            ))
        } else {
            e.handler.layer(TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                limits.timeout,
            ))
        };
        if hashes_packages(e.path) {
            handler = handler.layer(middleware::from_fn_with_state(
                hashing_limit,
                deadline::hashing,
            ));
        }
        if e.path == auth::EVENTS_PATH {
            handler = handler.layer(axum::Extension(subscribers.clone()));
        }
        if e.auth && !openapi::takes_query(e.name) {
            handler = handler.layer(middleware::from_fn(no_query));
        }
        if e.auth {
            private = private.route(e.path, handler);
        } else {
            public = public.route(e.path, handler);
        }
    }
    // The MCP endpoint: its own protocol (JSON-RPC over POST, SSE over GET), behind the same
    // token; a call may wait for a person, so no request timeout.
    let (service, direct) = gateway::mcp_service(&state);
    let mcp = tower::ServiceBuilder::new()
        .layer(middleware::from_fn_with_state(
            limits.timeout,
            deadline::body,
        ))
        .layer(middleware::from_fn_with_state(
            direct,
            crate::mcp::direct::tools_call,
        ))
        .layer(middleware::from_fn(gateway::jsonrpc_errors))
        .map_response(IntoResponse::into_response)
        .service(service);
    private = private.nest_service("/mcp", mcp);
    // Unknown `/v1/...` paths are a JSON 404 (after auth), never the UI's index.html.
    let private = private
        .route(
            "/v1/{*rest}",
            any(|| async { ApiError::not_found("no route for this path under /v1") }),
        )
        .route_layer(middleware::from_fn_with_state(
            auth::Credentials::of(&state),
            auth::require_auth,
        ));
    let app = Router::new()
        .merge(public)
        .merge(private)
        .merge(ui::router(ui_dir))
        .with_state(state);
    outer_layers(app, limits)
}

/// What wraps every answer of the hall and of the fleet view (`crate::fleet_view`): body
/// limits, JSON error bodies, the CSP.
pub(crate) fn outer_layers(app: Router, limits: &Limits) -> Router {
    app.layer(DefaultBodyLimit::max(limits.body_bytes))
        // Refuses a declared Content-Length over the limit at once, before waiting for a body
        // that may never come (the extractors' limit only counts bytes as they arrive).
        .layer(RequestBodyLimitLayer::new(limits.body_bytes))
        .layer(middleware::from_fn(json_errors))
        .layer(SetResponseHeaderLayer::overriding(
            CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
}

/// For operations without query parameters: a misspelt filter or option must not be silently
/// ignored.
pub(crate) async fn no_query(req: Request, next: Next) -> Response {
    if req.uri().query().is_some_and(|q| !q.is_empty()) {
        return ApiError::invalid_query("this operation takes no query parameters").into_response();
    }
    next.run(req).await
}

/// Routes that hash a package directory on request (`attest_timeout_s`).
fn hashes_packages(path: &str) -> bool {
    path.starts_with("/v1/attest/")
        || (path.starts_with("/v1/workers/") && path.ends_with("/verify"))
}

/// Routes exempt from the request timeout (docs/API.md).
pub fn is_long_running(path: &str) -> bool {
    path == "/v1/ledger/verify"
        || path == "/v1/events"
        || path.starts_with("/v1/attest/")
        || path.ends_with("/verify")
}

/// Turn any bare error response produced below the handlers (axum's method router, path
/// rejections, tower-http's limits and timeouts) into the JSON error body.
async fn json_errors(req: Request, next: Next) -> Response {
    let resp = next.run(req).await;
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let is_json = resp
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if is_json {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
    let mut message = String::from_utf8_lossy(&text).trim().to_string();
    if message.is_empty() {
        message = status.canonical_reason().unwrap_or("error").to_string();
    }
    let mut fixed =
        ApiError::new(status, ApiError::code_for_status(status), message).into_response();
    // Keep headers such as `Allow` on 405.
    for (name, value) in parts.headers.iter() {
        if name != CONTENT_TYPE && name != axum::http::header::CONTENT_LENGTH {
            fixed.headers_mut().insert(name.clone(), value.clone());
        }
    }
    fixed
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn operation_names_are_unique_snake_case() {
        let all = endpoints();
        let mut seen = BTreeSet::new();
        for e in &all {
            let snake = e.name.starts_with(|c: char| c.is_ascii_lowercase())
                && e.name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                && !e.name.contains("__")
                && !e.name.ends_with('_');
            assert!(
                snake,
                "{:?} ({} {}) is not snake_case",
                e.name, e.method, e.path
            );
            assert!(seen.insert(e.name), "two operations are named {:?}", e.name);
        }
        // And no two operations share a route.
        let routes: BTreeSet<_> = all.iter().map(|e| (e.method.as_str(), e.path)).collect();
        assert_eq!(routes.len(), all.len());
    }
}
