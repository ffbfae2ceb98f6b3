//! The hall running inside the desktop app: opened from its data dir, serving its HTTP API on
//! loopback (so agents on this machine can route through the app), and answering the webview's
//! `hall_call` command by dispatching the named operation into the very same API router
//! in-process, with no socket. One code path for both faces means the desktop's operations are the
//! HTTP API, 1:1, including validation and error bodies.

use crate::error::{CommandError, StartError};
use axum::body::Body;
use axum::http::{header, Method, Request};
use hall::api::{auth::Tickets, AppState, Limits};
use hall::{Config, Hall};
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
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

/// Operations of the hall's endpoint table the webview may not call, and why. Every other
/// operation is callable: the webview holds no less than a client with the API token on loopback.
pub const NOT_FROM_WEBVIEW: &[(&str, &str)] = &[
    (
        "stream_events",
        "it is a stream that never ends; the app pushes the same events as `hall:event`",
    ),
    (
        "issue_event_ticket",
        "a ticket only opens the event stream, which the app replaces with `hall:event`",
    ),
];

/// Where an operation of the endpoint table goes in the router.
struct Route {
    method: Method,
    path: &'static str,
}

pub struct EmbeddedHall {
    pub hall: Hall,
    /// Where the HTTP API listens.
    pub addr: SocketAddr,
    router: axum::Router,
    /// The endpoint table by operation name (what `hall_call` is given).
    routes: HashMap<&'static str, Route>,
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
    /// Load (or create) the config, open the hall (it takes the data dir's lock first, so a
    /// second hall on this dir is told which one runs there, not that its address is in use),
    /// bind the API address and start serving.
    pub async fn start(options: StartOptions) -> Result<EmbeddedHall, StartError> {
        let (mut config, created) = Config::load_or_init(&options.data_dir)
            .map_err(|e| StartError::Config(e.to_string()))?;
        for path in &created.paths {
            tracing::info!(path = %path.display(), "created");
        }
        for note in &created.notes {
            tracing::warn!("{note}");
        }
        if let Some(listen) = options.listen {
            config.file.listen = listen;
        }
        let token = config
            .read_token()
            .map_err(|e| StartError::Config(e.to_string()))?;
        let limits = Limits {
            body_bytes: config.file.body_limit_bytes,
            timeout: Duration::from_secs(config.file.request_timeout_s),
        };
        let listen = config.file.listen;
        crate::sqlite_heap::bound();
        let hall = Hall::open(config)
            .await
            .map_err(|e| StartError::Open(e.to_string()))?;
        let listener = match hall::server::bind(listen).await {
            Ok(listener) => listener,
            Err(e) => {
                hall.close().await;
                return Err(StartError::Bind {
                    addr: listen.to_string(),
                    reason: e.to_string(),
                });
            }
        };
        let addr = listener
            .local_addr()
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
        let routes = hall::api::endpoints()
            .into_iter()
            .map(|e| {
                let route = Route {
                    method: e.method,
                    path: e.path,
                };
                (e.name, route)
            })
            .collect();

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
            routes,
            token,
            stop: std::sync::Mutex::new(Some(stop_tx)),
            server: std::sync::Mutex::new(Some(server)),
        })
    }

    /// Dispatch one API operation, by its name in the hall's endpoint table, in-process. `params`
    /// fill the `{name}` segments of its path (percent-encoded); `query` values become the query
    /// string; `body` is sent as JSON.
    pub async fn call(
        &self,
        operation: &str,
        params: &BTreeMap<String, String>,
        query: Option<&Map<String, Value>>,
        body: Option<&Value>,
    ) -> Result<Value, CommandError> {
        let Some(route) = self.routes.get(operation) else {
            return Err(CommandError::new(
                404,
                "UNKNOWN_OPERATION",
                format!("the hall has no operation named {operation:?}"),
            ));
        };
        if let Some((_, why)) = NOT_FROM_WEBVIEW.iter().find(|(name, _)| *name == operation) {
            return Err(CommandError::new(
                403,
                "OPERATION_REFUSED",
                format!("{operation} is not available in the desktop app: {why}"),
            ));
        }
        let uri = build_uri(route.path, params, query)?;
        let mut request = Request::builder()
            .method(route.method.clone())
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {}", self.token))
            .header(header::ACCEPT, "application/json")
            // Who acts here is the OS user (an alert acknowledged in the app names them).
            .extension(hall::alerts::DesktopUser::current());
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
        // Every answer is JSON but a text one (`get_metrics`), which becomes a JSON string.
        let text = response
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"text/plain"));
        let bytes = axum::body::to_bytes(response.into_body(), MAX_RESPONSE_BYTES)
            .await
            .map_err(|e| CommandError::internal(format!("reading the hall's answer: {e}")))?;
        let value: Value = if bytes.is_empty() {
            Value::Null
        } else if text {
            Value::String(String::from_utf8_lossy(&bytes).into_owned())
        } else {
            serde_json::from_slice(&bytes)
                .map_err(|e| CommandError::internal(format!("the hall answered non-JSON: {e}")))?
        };
        if status.is_success() {
            return Ok(value);
        }
        // The API's error body, or the reference alias's own `{"error": text, "code"?}`.
        let code = value
            .pointer("/error/code")
            .or_else(|| value.get("code"))
            .and_then(Value::as_str)
            .map_or_else(|| format!("HTTP_{}", status.as_u16()), str::to_string);
        let message = value
            .pointer("/error/message")
            .or_else(|| value.get("error"))
            .and_then(Value::as_str)
            .unwrap_or("the hall refused the request");
        Err(CommandError::new(status.as_u16(), &code, message))
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

/// The request URI: the path template with each `{name}` segment filled from `params` (each
/// one required, none left over: a misspelt name is refused, not ignored), then the query.
fn build_uri(
    template: &str,
    params: &BTreeMap<String, String>,
    query: Option<&Map<String, Value>>,
) -> Result<String, CommandError> {
    let invalid = |message: String| CommandError::new(400, "INVALID_ID", message);
    let mut filled = 0;
    let mut segments = Vec::new();
    for segment in template.split('/') {
        match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(name) => {
                let value = params.get(name).ok_or_else(|| {
                    invalid(format!("missing path parameter {name} ({template})"))
                })?;
                segments.push(utf8_percent_encode(value, NON_ALPHANUMERIC).to_string());
                filled += 1;
            }
            None => segments.push(segment.to_string()),
        }
    }
    if filled != params.len() {
        let unknown: Vec<&str> = params
            .keys()
            .map(String::as_str)
            .filter(|name| !template.contains(&format!("{{{name}}}")))
            .collect();
        return Err(invalid(format!(
            "{template} has no path parameter {}",
            unknown.join(", ")
        )));
    }
    let path = segments.join("/");
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

    fn params(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn uri_encodes_path_params_and_skips_empty_query_values() {
        let q = json!({"tenant_id": "a b", "denied": true, "limit": 5, "env": "", "cursor": null});
        let uri = build_uri("/v1/decisions", &params(&[]), q.as_object()).unwrap();
        assert_eq!(uri, "/v1/decisions?tenant_id=a+b&denied=true&limit=5");
        let uri = build_uri(
            "/v1/traces/{correlation_id}",
            &params(&[("correlation_id", "../x?y")]),
            None,
        )
        .unwrap();
        assert_eq!(uri, "/v1/traces/%2E%2E%2Fx%3Fy");
    }

    #[test]
    fn uri_refuses_nested_query_values_and_missing_or_unknown_params() {
        let q = json!({"tenant_id": {"nested": 1}});
        let nested = build_uri("/v1/decisions", &params(&[]), q.as_object()).unwrap_err();
        assert_eq!(nested.error.code, "INVALID_QUERY");
        let missing = build_uri("/v1/decisions/{decision_id}", &params(&[]), None).unwrap_err();
        assert_eq!(
            (missing.status, missing.error.code.as_str()),
            (400, "INVALID_ID")
        );
        assert!(missing.error.message.contains("decision_id"), "{missing}");
        let unknown = build_uri(
            "/v1/decisions/{decision_id}",
            &params(&[("decision_id", "d"), ("decision", "d")]),
            None,
        )
        .unwrap_err();
        assert_eq!(unknown.status, 400);
        assert!(
            unknown
                .error
                .message
                .ends_with("no path parameter decision"),
            "{unknown}"
        );
    }

    #[test]
    fn operations_kept_from_the_webview_exist() {
        let names: Vec<&str> = hall::api::endpoints().iter().map(|e| e.name).collect();
        for (name, _) in NOT_FROM_WEBVIEW {
            assert!(
                names.contains(name),
                "{name} is not an operation of the hall"
            );
        }
    }
}
