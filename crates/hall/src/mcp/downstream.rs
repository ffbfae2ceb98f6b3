//! One downstream MCP server, as the hall runs it: started on first use, initialized, its tool
//! list cached (and refreshed when it says the list changed), restarted with backoff when it
//! dies, stopped when its record goes. Every call is bounded: a per-call timeout, a cap on calls
//! in flight and on the result's size, each a clear error and never a hang.

use super::spec::{McpSpec, Transport};
use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientCapabilities, ClientConfig, Implementation, Tool,
};
use rmcp::service::{NotificationContext, RunningServiceCancellationToken};
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{ClientHandler, Peer, RoleClient, ServiceExt};
use serde::Serialize;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::{mpsc, Semaphore};

/// Lines of a server's stderr kept for the MCP screen.
const STDERR_LINES: usize = 40;
/// Starting (spawn + initialize + first tools/list) must finish within this.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// Restart backoff: 1 s, doubling, at most this.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// Per-server limits, from `[mcp]` in config.toml.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub call_timeout: Duration,
    pub max_concurrent_calls: usize,
    pub max_result_bytes: usize,
}

/// Where a server is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ServerState {
    /// Not started yet: it starts on first use.
    Idle,
    Starting,
    Ready,
    /// Could not start, or died; retried after a backoff.
    Failed,
    /// Its record was removed or changed; this instance is done.
    Stopped,
}

/// What the hall hears from its servers (health and live views follow it; SSE `mcp_server`).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum ServerEvent {
    State {
        worker_id: String,
        state: ServerState,
        error: Option<String>,
    },
    ToolsChanged {
        worker_id: String,
    },
}

/// How a forwarded call ended.
pub enum CallOutcome {
    /// The server answered (its result may itself be a tool error: `is_error`).
    Answered {
        result: Box<CallToolResult>,
        /// The size and SHA-256 (hex) of its JSON, as the server sent it.
        bytes: usize,
        sha256: String,
    },
    /// The server answered with a JSON-RPC error.
    ProtocolError(String),
    Timeout(Duration),
    /// The server could not be reached, started, or went away mid-call.
    Unavailable(String),
    /// Refused before forwarding: too many calls in flight.
    Busy(usize),
    /// The answer was larger than the limit and was not passed on.
    TooLarge {
        bytes: usize,
        limit: usize,
    },
}

struct Connection {
    peer: Peer<RoleClient>,
    cancel: RunningServiceCancellationToken,
    pid: Option<u32>,
}

#[derive(Default)]
struct Status {
    state: Option<ServerState>,
    error: Option<String>,
    pid: Option<u32>,
    started_at: Option<chrono::DateTime<chrono::Utc>>,
    restarts: u32,
    /// Not before this instant may a failed server be started again.
    retry_at: Option<Instant>,
    backoff: Duration,
}

/// Asked before a server is started; `Err` (why) keeps it from starting: the worker's signed
/// package check (docs/attest.md).
pub type StartCheck = Arc<dyn Fn(&str) -> Result<(), String> + Send + Sync>;

pub struct Downstream {
    pub worker_id: String,
    pub spec: McpSpec,
    start_check: Option<StartCheck>,
    limits: Limits,
    connection: tokio::sync::Mutex<Option<Connection>>,
    status: Mutex<Status>,
    tools: Mutex<Arc<Vec<Tool>>>,
    stderr: Arc<Mutex<VecDeque<String>>>,
    in_flight: Arc<Semaphore>,
    events: mpsc::UnboundedSender<ServerEvent>,
}

impl Downstream {
    pub fn new(
        worker_id: String,
        spec: McpSpec,
        limits: Limits,
        events: mpsc::UnboundedSender<ServerEvent>,
        start_check: Option<StartCheck>,
    ) -> Arc<Downstream> {
        Arc::new(Downstream {
            worker_id,
            spec,
            start_check,
            limits,
            connection: tokio::sync::Mutex::new(None),
            status: Mutex::new(Status::default()),
            tools: Mutex::new(Arc::new(Vec::new())),
            stderr: Arc::new(Mutex::new(VecDeque::new())),
            in_flight: Arc::new(Semaphore::new(limits.max_concurrent_calls)),
            events,
        })
    }

    pub fn state(&self) -> ServerState {
        self.status().state.unwrap_or(ServerState::Idle)
    }

    fn status(&self) -> std::sync::MutexGuard<'_, Status> {
        self.status.lock().expect("status lock")
    }

    /// The tools the server listed last (all of them, mapped or not).
    pub fn tools(&self) -> Arc<Vec<Tool>> {
        self.tools.lock().expect("tools lock").clone()
    }

    pub fn view(&self) -> ServerStatusView {
        let s = self.status();
        ServerStatusView {
            state: s.state.unwrap_or(ServerState::Idle),
            error: s.error.clone(),
            pid: s.pid,
            started_at: s.started_at,
            restarts: s.restarts,
            stderr_tail: self
                .stderr
                .lock()
                .expect("stderr lock")
                .iter()
                .cloned()
                .collect(),
            in_flight: self.limits.max_concurrent_calls - self.in_flight.available_permits(),
        }
    }

    fn set_state(&self, state: ServerState, error: Option<String>) {
        {
            let mut s = self.status();
            if s.state == Some(ServerState::Stopped) {
                return; // a stopped server stays stopped, whatever its tasks still report
            }
            s.state = Some(state);
            s.error = error.clone();
        }
        let _ = self.events.send(ServerEvent::State {
            worker_id: self.worker_id.clone(),
            state,
            error,
        });
    }

    /// A live connection, starting the server if needed. A server that failed is not retried
    /// before its backoff has passed: callers get its last error at once.
    pub async fn ensure(self: &Arc<Self>) -> Result<Peer<RoleClient>, String> {
        let mut conn = self.connection.lock().await;
        if let Some(c) = conn.as_ref() {
            if !c.peer.is_transport_closed() {
                return Ok(c.peer.clone());
            }
            *conn = None;
        }
        {
            let s = self.status();
            if s.state == Some(ServerState::Stopped) {
                return Err(
                    "this MCP server was stopped (its record changed or was removed)".into(),
                );
            }
            if let Some(retry_at) = s.retry_at.filter(|t| *t > Instant::now()) {
                let wait = retry_at - Instant::now();
                return Err(format!(
                    "{} (next start attempt in {} s)",
                    s.error.as_deref().unwrap_or("the server failed"),
                    wait.as_secs() + 1
                ));
            }
        }
        self.set_state(ServerState::Starting, None);
        match tokio::time::timeout(START_TIMEOUT, self.start()).await {
            Ok(Ok(started)) => {
                let peer = started.peer.clone();
                {
                    let mut s = self.status();
                    s.pid = started.pid;
                    s.started_at = Some(chrono::Utc::now());
                    s.backoff = Duration::ZERO;
                    s.retry_at = None;
                }
                *conn = Some(started);
                self.set_state(ServerState::Ready, None);
                Ok(peer)
            }
            Ok(Err(e)) => Err(self.failed(e)),
            Err(_) => Err(self.failed(format!(
                "did not finish starting (initialize and tools/list) within {} s",
                START_TIMEOUT.as_secs()
            ))),
        }
    }

    /// Record a failure and arm the backoff; returns the message.
    fn failed(&self, error: String) -> String {
        {
            let mut s = self.status();
            s.backoff = (s.backoff * 2).clamp(Duration::from_secs(1), MAX_BACKOFF);
            s.retry_at = Some(Instant::now() + s.backoff);
            s.pid = None;
        }
        tracing::warn!(worker_id = %self.worker_id, error = %error, "MCP server failed");
        self.set_state(ServerState::Failed, Some(error.clone()));
        error
    }

    async fn start(self: &Arc<Self>) -> Result<Connection, String> {
        // The one place a server starts: a worker whose package fails its check never runs.
        if let Some(check) = self.start_check.clone() {
            let id = self.worker_id.clone();
            tokio::task::spawn_blocking(move || check(&id))
                .await
                .map_err(|e| format!("the package check failed to run: {e}"))??;
        }
        let handler = EventsHandler {
            downstream: Arc::downgrade(self),
        };
        let (running, pid) = match &self.spec.transport {
            Transport::Stdio {
                command,
                args,
                env,
                cwd,
            } => {
                let mut cmd = tokio::process::Command::new(command);
                cmd.args(args).kill_on_drop(true);
                for (name, value) in env {
                    cmd.env(name, value.resolve(&format!("mcp.env.{name}"))?);
                }
                if let Some(dir) = cwd {
                    cmd.current_dir(dir);
                }
                let (child, stderr) = TokioChildProcess::builder(cmd)
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .map_err(|e| format!("cannot start {command:?}: {e}"))?;
                let pid = child.id();
                if let Some(stderr) = stderr {
                    self.keep_stderr(stderr);
                }
                let running = handler
                    .serve(child)
                    .await
                    .map_err(|e| self.with_stderr(format!("initialize failed: {e}")))?;
                (running, pid)
            }
            Transport::Http { url, headers } => {
                let mut custom = HashMap::new();
                for (name, value) in headers {
                    let v = value.resolve(&format!("mcp.headers.{name}"))?;
                    let name = axum::http::HeaderName::try_from(name.as_str())
                        .map_err(|_| format!("mcp.headers.{name}: not a header name"))?;
                    let value = axum::http::HeaderValue::try_from(v)
                        .map_err(|_| format!("mcp.headers.{name}: not a valid header value"))?;
                    custom.insert(name, value);
                }
                let config = StreamableHttpClientTransportConfig::with_uri(url.as_str())
                    .custom_headers(custom);
                crate::tls::install_crypto_provider();
                let transport = StreamableHttpClientTransport::from_config(config);
                let running = handler
                    .serve(transport)
                    .await
                    .map_err(|e| format!("initialize failed at {url}: {e}"))?;
                (running, None)
            }
        };
        let peer = running.peer().clone();
        let tools = peer
            .list_all_tools()
            .await
            .map_err(|e| self.with_stderr(format!("tools/list failed: {e}")))?;
        *self.tools.lock().expect("tools lock") = Arc::new(tools);
        let _ = self.events.send(ServerEvent::ToolsChanged {
            worker_id: self.worker_id.clone(),
        });
        let cancel = running.cancellation_token();
        // Watch for the end of the connection: a dead server is failed (and offline) at once,
        // and started again after its backoff.
        let me = Arc::downgrade(self);
        tokio::spawn(async move {
            let reason = running.waiting().await;
            let Some(ds) = me.upgrade() else { return };
            if ds.state() == ServerState::Stopped {
                return;
            }
            ds.status().restarts += 1;
            let message = ds.with_stderr(format!("the server went away ({reason:?})"));
            ds.failed(message);
            ds.schedule_restart();
        });
        Ok(Connection { peer, cancel, pid })
    }

    /// Start again once the backoff has passed (a dead server comes back without waiting for
    /// the next call).
    fn schedule_restart(self: &Arc<Self>) {
        let wait = self.status().backoff;
        let me = Arc::downgrade(self);
        tokio::spawn(async move {
            tokio::time::sleep(wait).await;
            if let Some(ds) = me.upgrade() {
                if ds.state() == ServerState::Failed {
                    let _ = ds.ensure().await;
                }
            }
        });
    }

    fn keep_stderr(&self, stderr: tokio::process::ChildStderr) {
        let tail = self.stderr.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let mut tail = tail.lock().expect("stderr lock");
                if tail.len() == STDERR_LINES {
                    tail.pop_front();
                }
                tail.push_back(line.chars().take(1000).collect());
            }
        });
    }

    /// An error message with the last stderr line, which usually says why a server died.
    fn with_stderr(&self, message: String) -> String {
        match self.stderr.lock().expect("stderr lock").back() {
            Some(line) if !line.trim().is_empty() => format!("{message}; last stderr line: {line}"),
            _ => message,
        }
    }

    async fn refresh_tools(&self, peer: &Peer<RoleClient>) {
        match peer.list_all_tools().await {
            Ok(tools) => {
                *self.tools.lock().expect("tools lock") = Arc::new(tools);
                let _ = self.events.send(ServerEvent::ToolsChanged {
                    worker_id: self.worker_id.clone(),
                });
            }
            Err(e) => {
                tracing::warn!(worker_id = %self.worker_id, error = %e, "tools/list refresh failed")
            }
        }
    }

    /// Forward one call, within the limits.
    pub async fn call(self: &Arc<Self>, params: CallToolRequestParams) -> CallOutcome {
        let Ok(_permit) = self.in_flight.clone().try_acquire_owned() else {
            return CallOutcome::Busy(self.limits.max_concurrent_calls);
        };
        let peer = match self.ensure().await {
            Ok(peer) => peer,
            Err(e) => return CallOutcome::Unavailable(e),
        };
        let timeout = self.limits.call_timeout;
        let answer = match tokio::time::timeout(timeout, peer.call_tool(params)).await {
            Err(_) => return CallOutcome::Timeout(timeout),
            Ok(answer) => answer,
        };
        match answer {
            Ok(result) => {
                let json = serde_json::to_vec(&result).unwrap_or_default();
                if json.len() > self.limits.max_result_bytes {
                    CallOutcome::TooLarge {
                        bytes: json.len(),
                        limit: self.limits.max_result_bytes,
                    }
                } else {
                    CallOutcome::Answered {
                        result: Box::new(result),
                        bytes: json.len(),
                        sha256: super::call::sha256_hex(&json),
                    }
                }
            }
            Err(rmcp::ServiceError::McpError(e)) => {
                CallOutcome::ProtocolError(format!("{} ({})", e.message, e.code.0))
            }
            Err(
                e @ (rmcp::ServiceError::TransportClosed | rmcp::ServiceError::TransportSend(_)),
            ) => CallOutcome::Unavailable(
                self.with_stderr(format!("the server went away mid-call: {e}")),
            ),
            Err(e) => CallOutcome::ProtocolError(e.to_string()),
        }
    }

    /// Stop for good (record removed or changed): the process is ended.
    pub async fn stop(&self) {
        self.set_state(ServerState::Stopped, None);
        self.status().state = Some(ServerState::Stopped);
        if let Some(conn) = self.connection.lock().await.take() {
            conn.cancel.cancel();
        }
        let _ = self.events.send(ServerEvent::State {
            worker_id: self.worker_id.clone(),
            state: ServerState::Stopped,
            error: None,
        });
    }
}

/// A server's state as the API shows it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ServerStatusView {
    pub state: ServerState,
    /// Why it failed last.
    pub error: Option<String>,
    pub pid: Option<u32>,
    pub started_at: Option<chrono::DateTime<chrono::Utc>>,
    pub restarts: u32,
    /// Its last stderr lines (stdio servers).
    pub stderr_tail: Vec<String>,
    pub in_flight: usize,
}

/// The hall's side of a downstream connection: it listens for `tools/list_changed`.
struct EventsHandler {
    downstream: Weak<Downstream>,
}

impl ClientHandler for EventsHandler {
    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(
            ClientCapabilities::default(),
            Implementation::new("proctor-hall", env!("CARGO_PKG_VERSION")),
        )
    }

    async fn on_tool_list_changed(&self, context: NotificationContext<RoleClient>) {
        if let Some(ds) = self.downstream.upgrade() {
            ds.refresh_tools(&context.peer).await;
        }
    }
}
