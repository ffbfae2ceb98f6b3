//! The hall running inside the desktop app: opened from its data dir, serving its HTTP API on
//! loopback (so agents on this machine can route through the app), and answering the webview's
//! commands by dispatching them into the very same API router in-process, with no socket. One code
//! path for both faces means the desktop commands are the HTTP API, 1:1, including validation
//! and error bodies.

use crate::error::{CommandError, StartError};
use axum::body::Body;
use axum::http::{header, Method, Request};
use hall::api::{auth::Tickets, AppState, Limits};
use hall::{Config, Hall};
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use serde_json::{Map, Value};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{oneshot, watch};
use tower::ServiceExt;

/// Overrides the data dir (default: the same per-user dir as `proctor serve`).
pub const DATA_DIR_ENV: &str = "PROCTOR_DATA_DIR";
/// Overrides the loopback address from config.toml (`127.0.0.1:0` picks a free port).
pub const LISTEN_ENV: &str = "PROCTOR_LISTEN";

/// Largest response body a command returns to the webview.
const MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

pub struct EmbeddedHall {
    pub hall: Hall,
    /// Where the HTTP API listens.
    pub addr: SocketAddr,
    router: axum::Router,
    token: String,
    stop: std::sync::Mutex<Option<oneshot::Sender<()>>>,
    server: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

/// Where the embedded hall keeps its data and listens.
#[derive(Debug, Clone)]
pub struct StartOptions {
    pub data_dir: PathBuf,
    /// Overrides `listen` from the hall's config.toml.
    pub listen: Option<SocketAddr>,
}

impl StartOptions {
    /// From `PROCTOR_DATA_DIR` / `PROCTOR_LISTEN`, defaulting to the per-user data dir.
    pub fn from_env() -> Result<StartOptions, StartError> {
        let data_dir = match std::env::var_os(DATA_DIR_ENV) {
            Some(dir) => PathBuf::from(dir),
            None => {
                hall::config::default_data_dir().map_err(|e| StartError::DataDir(e.to_string()))?
            }
        };
        let listen = match std::env::var(LISTEN_ENV).ok().filter(|s| !s.is_empty()) {
            Some(text) => Some(
                text.parse()
                    .map_err(|e| StartError::Config(format!("{LISTEN_ENV}={text}: {e}")))?,
            ),
            None => None,
        };
        Ok(StartOptions { data_dir, listen })
    }
}

impl EmbeddedHall {
    /// Load (or create) the config, bind the API address first (so a second hall on the same
    /// data dir fails before touching the ledger), open the hall and start serving.
    pub async fn start(options: StartOptions) -> Result<EmbeddedHall, StartError> {
        let (mut config, created) = Config::load_or_init(&options.data_dir)
            .map_err(|e| StartError::Config(e.to_string()))?;
        for path in &created.paths {
            tracing::info!(path = %path.display(), "created");
        }
        if let Some(listen) = options.listen {
            config.file.listen = listen;
        }
        let listener =
            hall::server::bind(config.file.listen)
                .await
                .map_err(|e| StartError::Bind {
                    addr: config.file.listen.to_string(),
                    reason: e.to_string(),
                })?;
        let addr = listener
            .local_addr()
            .map_err(|e| StartError::Open(e.to_string()))?;
        let token = config
            .read_token()
            .map_err(|e| StartError::Config(e.to_string()))?;
        let limits = Limits {
            body_bytes: config.file.body_limit_bytes,
            timeout: Duration::from_secs(config.file.request_timeout_s),
        };
        crate::sqlite_heap::bound();
        let hall = Hall::open(config)
            .await
            .map_err(|e| StartError::Open(e.to_string()))?;

        // The in-process router never serves the UI (the webview has it) nor long-lived streams.
        let (_never_stop, shutdown) = watch::channel(false);
        let state = AppState {
            hall: hall.clone(),
            token: token.clone().into(),
            tickets: Arc::new(Tickets::default()),
            shutdown,
        };
        let router = hall::api::router(state, &limits, None);

        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let served = hall.clone();
        let server = tokio::spawn(async move {
            let until_stopped = async {
                let _ = stop_rx.await;
            };
            if let Err(e) = hall::server::serve(served, listener, until_stopped).await {
                tracing::error!(error = %e, "the hall's HTTP API stopped");
            }
        });
        tracing::info!(%addr, "embedded hall listening");
        Ok(EmbeddedHall {
            hall,
            addr,
            router,
            token,
            stop: std::sync::Mutex::new(Some(stop_tx)),
            server: std::sync::Mutex::new(Some(server)),
        })
    }

    /// Dispatch one API operation in-process. `path` is a template whose `{name}` segments are
    /// filled (percent-encoded) from `params`; `query` values become the query string.
    pub async fn call(
        &self,
        method: Method,
        template: &str,
        params: &[(&str, &str)],
        query: Option<&Map<String, Value>>,
        body: Option<&Value>,
    ) -> Result<Value, CommandError> {
        let uri = build_uri(template, params, query)?;
        let mut request = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {}", self.token))
            .header(header::ACCEPT, "application/json");
        let body = match body {
            Some(value) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Body::from(
                    serde_json::to_vec(value).map_err(|e| CommandError::internal(e.to_string()))?,
                )
            }
            None => Body::empty(),
        };
        let request = request
            .body(body)
            .map_err(|e| CommandError::new(400, "INVALID_ID", e.to_string()))?;
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .map_err(|e| CommandError::internal(e.to_string()))?;
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), MAX_RESPONSE_BYTES)
            .await
            .map_err(|e| CommandError::internal(format!("reading the hall's answer: {e}")))?;
        let value: Value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .map_err(|e| CommandError::internal(format!("the hall answered non-JSON: {e}")))?
        };
        if status.is_success() {
            return Ok(value);
        }
        let code = value
            .pointer("/error/code")
            .and_then(Value::as_str)
            .unwrap_or("INTERNAL");
        let message = value
            .pointer("/error/message")
            .and_then(Value::as_str)
            .unwrap_or("the hall refused the request");
        Err(CommandError::new(status.as_u16(), code, message))
    }

    /// Stop the HTTP API (draining it) and close the hall, flushing the ledger. Idempotent.
    pub async fn shutdown(&self) {
        if let Some(stop) = self.stop.lock().expect("stop lock").take() {
            let _ = stop.send(());
        }
        let server = self.server.lock().expect("server lock").take();
        if let Some(server) = server {
            let _ = tokio::time::timeout(Duration::from_secs(10), server).await;
        }
    }
}

fn build_uri(
    template: &str,
    params: &[(&str, &str)],
    query: Option<&Map<String, Value>>,
) -> Result<String, CommandError> {
    let mut path = template.to_string();
    for (name, value) in params {
        let encoded = utf8_percent_encode(value, NON_ALPHANUMERIC).to_string();
        path = path.replace(&format!("{{{name}}}"), &encoded);
    }
    if path.contains('{') {
        return Err(CommandError::internal(format!(
            "missing path parameter in {template}"
        )));
    }
    let Some(query) = query else { return Ok(path) };
    let mut serializer = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in query {
        let text = match value {
            Value::Null => continue,
            Value::String(s) if s.is_empty() => continue,
            Value::String(s) => s.clone(),
            Value::Bool(_) | Value::Number(_) => value.to_string(),
            _ => {
                return Err(CommandError::new(
                    400,
                    "INVALID_QUERY",
                    format!("query parameter {key} must be a string, number or boolean"),
                ))
            }
        };
        serializer.append_pair(key, &text);
    }
    let qs = serializer.finish();
    Ok(if qs.is_empty() {
        path
    } else {
        format!("{path}?{qs}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn uri_encodes_path_params_and_skips_empty_query_values() {
        let q = json!({"tenant_id": "a b", "denied": true, "limit": 5, "env": "", "cursor": null});
        let uri = build_uri("/v1/decisions", &[], q.as_object()).unwrap();
        assert_eq!(uri, "/v1/decisions?tenant_id=a+b&denied=true&limit=5");
        let uri = build_uri(
            "/v1/traces/{correlation_id}",
            &[("correlation_id", "../x?y")],
            None,
        )
        .unwrap();
        assert_eq!(uri, "/v1/traces/%2E%2E%2Fx%3Fy");
    }

    #[test]
    fn uri_refuses_nested_query_values_and_missing_params() {
        let q = json!({"tenant_id": {"nested": 1}});
        assert_eq!(
            build_uri("/v1/decisions", &[], q.as_object())
                .unwrap_err()
                .error
                .code,
            "INVALID_QUERY"
        );
        assert_eq!(
            build_uri("/v1/decisions/{decision_id}", &[], None)
                .unwrap_err()
                .status,
            500
        );
    }
}
