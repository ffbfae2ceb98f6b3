//! The fleet view (`proctor serve --fleet --database-url URL`, docs/fleet.md "Fleet view"): the
//! hall's web UI over the central PostgreSQL that halls ship to, read-only. It answers the
//! read-only subset of the hall's own operations with the same paths and JSON shapes (each
//! record with the `hall_id` that recorded it), plus `GET /v1/fleet/halls`; every other
//! operation of the hall's endpoint table is a JSON 404 (reads) or 405 (writes) saying it is
//! not available here. There is no hall behind it: no ledger, no lock, no `hall.url`.
//!
//! It is the hall's HTTP surface with another state: the same endpoint table, bearer-token
//! auth (the token of its `--data-dir`), Host/Origin guard, accept loop, embedded UI, error
//! bodies and CSP.

mod routes;

use crate::api::auth::{self, Credentials, Tickets};
use crate::api::{self, error::ApiError, Limits};
use crate::config::Config;
use crate::error::HallError;
use axum::http::{Method, StatusCode};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tower_http::timeout::TimeoutLayer;

/// What the handlers reach.
#[derive(Clone)]
pub struct FleetState {
    reader: Arc<fleet::query::Reader>,
    token_file: Arc<PathBuf>,
    started: Instant,
}

/// A fleet view ready to serve: the central store's reader and the settings of its data dir.
pub struct FleetView {
    state: FleetState,
    credentials: Credentials,
    limits: Limits,
    ui_dir: Option<PathBuf>,
}

impl FleetView {
    /// Checks `database_url` (connecting waits for the first request: a view started while
    /// PostgreSQL is away answers 503 until it is back) and reads the token of `config`'s data
    /// dir.
    pub fn new(config: &Config, database_url: &str) -> Result<Self, HallError> {
        let reader = fleet::query::Reader::new(database_url)
            .map_err(|e| HallError::Config(format!("--database-url: {e}")))?;
        Ok(Self {
            state: FleetState {
                reader: Arc::new(reader),
                token_file: Arc::new(config.token_file.clone()),
                started: Instant::now(),
            },
            credentials: Credentials {
                token: config.read_token()?.into(),
                // No event stream here: no ticket is ever issued, so none is ever redeemed.
                tickets: Arc::new(Tickets::default()),
            },
            limits: Limits {
                body_bytes: config.file.body_limit_bytes,
                timeout: Duration::from_secs(config.file.request_timeout_s),
            },
            ui_dir: config.ui_dir.clone(),
        })
    }

    /// The central store it reads, without the password (for logs and the console).
    pub fn store(&self) -> String {
        self.state.reader.describe()
    }

    /// The whole HTTP surface (what [`serve`] runs behind the Host/Origin guard).
    pub fn router(&self) -> Router {
        let mut public = Router::new();
        let mut private = Router::new();
        let mut paths: Vec<&'static str> = Vec::new();
        let endpoints = api::endpoints();
        for e in &endpoints {
            if paths.contains(&e.path) {
                continue;
            }
            paths.push(e.path);
            let handler = match routes::read_only(e.name) {
                // Other methods on a path it reads: the view's refusal, not axum's bare 405.
                Some(read) => read.fallback(not_here),
                None => any(not_here),
            }
            .layer(TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                self.limits.timeout,
            ));
            let takes_query = endpoints
                .iter()
                .any(|o| o.path == e.path && api::openapi::takes_query(o.name));
            let handler = if takes_query {
                handler
            } else {
                handler.layer(middleware::from_fn(api::no_query))
            };
            if e.auth {
                private = private.route(e.path, handler);
            } else {
                public = public.route(e.path, handler);
            }
        }
        let private = private
            .route("/mcp", any(not_here))
            .route(
                "/v1/{*rest}",
                any(|| async { ApiError::not_found("no route for this path under /v1") }),
            )
            .route_layer(middleware::from_fn_with_state(
                self.credentials.clone(),
                auth::require_auth,
            ));
        let app = Router::new()
            .merge(public)
            .merge(private)
            .merge(api::ui::router(self.ui_dir.as_deref()))
            .with_state(self.state.clone());
        api::outer_layers(app, &self.limits)
    }
}

/// Serve `view` on `listener` until `shutdown` resolves (in-flight requests drained).
pub async fn serve(
    view: FleetView,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), HallError> {
    let app = view.router();
    let addr = listener
        .local_addr()
        .map_err(|e| HallError::Config(e.to_string()))?;
    tracing::info!(%addr, "fleet view listening");
    crate::server::accept_until(listener, addr, app, view.limits.timeout, shutdown).await;
    Ok(())
}

/// A hall operation the fleet view does not answer.
fn unavailable(method: &Method, path: &str) -> Response {
    let (status, code) = if method == Method::GET || method == Method::HEAD {
        (StatusCode::NOT_FOUND, "NOT_IN_FLEET_VIEW")
    } else {
        (StatusCode::METHOD_NOT_ALLOWED, "FLEET_VIEW_READ_ONLY")
    };
    ApiError::new(
        status,
        code,
        format!(
            "{method} {path} is not available in the fleet view (read-only): it answers decisions, \
             traces, stats and the halls; ask the hall itself for the rest"
        ),
    )
    .into_response()
}

async fn not_here(method: Method, uri: axum::http::Uri) -> Response {
    unavailable(&method, uri.path())
}
