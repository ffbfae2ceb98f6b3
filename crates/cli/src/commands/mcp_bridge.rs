//! `proctor mcp`: an MCP server on stdio that forwards to the hall owning the data dir, over the
//! hall's Streamable HTTP endpoint (`/mcp`, same bearer token). The flags become `Proctor-*`
//! request headers (the session's routing conditions), the session gets one correlation id
//! (`Proctor-Correlation-Id`, a fresh UUID per process), and `Proctor-Client` names the stdio
//! client (`name/version`), which marks the session as a bridge.
//!
//! `tools/list` and `tools/call` are passed through unchanged (results, errors and `_meta`
//! included); the hall's `notifications/tools/list_changed` and progress notifications are
//! relayed to the client. The hall is reached lazily: when none runs (no `hall.url`, connection
//! refused, token refused), the bridge still serves stdio, answers each request with an MCP error
//! saying what is wrong and what to do, says it once on stderr, and tries again on the next
//! request. Only MCP JSON-RPC goes to stdout. The bridge ends when stdin closes. Once the hall
//! session exists, `tools/call` takes a shorter path on it (`mcp_direct`).

use crate::commands::client::{locate, HallArgs};
use crate::commands::mcp::BridgeArgs;
use crate::commands::mcp_direct::{Capturing, Front, SessionPost};
use crate::exit::{CliError, CliResult};
use hall::mcp::session::{
    CLIENT_HEADER, CORRELATION_HEADER, DATA_LABEL_HEADER, ENV_HEADER, QOS_HEADER, TENANT_HEADER,
    TENANT_RISK_HEADER,
};
use http::{HeaderName, HeaderValue};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, ClientCapabilities, ClientConfig, ErrorCode,
    Implementation, InitializeRequestParams, InitializeResult, ListToolsResult,
    PaginatedRequestParams, ProgressNotificationParam, ServerConfig,
};
use rmcp::service::{NotificationContext, RequestContext, RunningService};
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::{ClientHandler, ErrorData, Peer, RoleClient, RoleServer, ServerHandler, ServiceExt};
use serde_json::json;
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

/// How long connecting to the hall (HTTP + MCP initialize) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a `tools/list` may take (a first listing starts the hall's downstream servers).
const LIST_TIMEOUT: Duration = Duration::from_secs(90);
/// How long closing the upstream session may take when stdin closed.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(3);

pub fn run(args: BridgeArgs) -> CliResult {
    init_logs();
    let data_dir = crate::commands::client::data_dir(&args.hall)?;
    if let Some(t) = &args.tenant {
        if t.trim().is_empty() {
            return Err(CliError::usage("--tenant must not be blank"));
        }
    }
    // One thread: a call crosses the bridge as a chain of small hand-offs (stdin, rmcp, the
    // HTTP client), each a cross-thread wake-up on a multi-threaded runtime; on one thread the
    // added latency is ~0.2 ms lower at p50 (BENCHMARKS.md, "MCP gateway").
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::runtime(format!("cannot start runtime: {e}")))?;
    runtime.block_on(async move {
        let shared = Arc::new(Shared {
            hall: args.hall.clone(),
            data_dir,
            conditions: conditions(&args),
            correlation_id: uuid::Uuid::new_v4().to_string(),
            client: Mutex::new(None),
            peer: OnceLock::new(),
            http: reqwest::Client::new(),
            upstream: tokio::sync::Mutex::new(None),
            session: Mutex::new(None),
            said: Mutex::new(None),
        });
        let bridge = Bridge {
            shared: shared.clone(),
        };
        // The client closing stdin (or stopping us) ends the hall session at once, so a call
        // waiting for approval is cancelled now, not after rmcp has drained its responses.
        let (eof_tx, eof_rx) = tokio::sync::oneshot::channel();
        let stdin = EofSignal {
            inner: super::mcp_stdio::stdin(),
            on_eof: Some(eof_tx),
        };
        let stdio = Front::new(
            rmcp::transport::async_rw::AsyncRwTransport::new_server(
                stdin,
                super::mcp_stdio::stdout(),
            ),
            shared.clone(),
        );
        let closer = shared.clone();
        tokio::spawn(async move {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            let terminated = async {
                match term.as_mut() {
                    Some(t) => t.recv().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = eof_rx => closer.close_upstream().await,
                _ = terminated => {
                    closer.close_upstream().await;
                    std::process::exit(0);
                }
            }
        });
        let running = bridge
            .serve(stdio)
            .await
            .map_err(|e| CliError::runtime(format!("MCP session on stdio failed: {e}")))?;
        let _ = running.waiting().await;
        shared.close_upstream().await;
        Ok::<(), CliError>(())
    })?;
    runtime.shutdown_timeout(Duration::from_millis(200));
    Ok(ExitCode::SUCCESS)
}

fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,rmcp=error"));
    // Clients keep this stream in a log file: plain text.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::io::stderr)
        .try_init();
}

/// The routing-condition headers of this session.
fn conditions(args: &BridgeArgs) -> Vec<(&'static str, String)> {
    let mut headers = Vec::new();
    if let Some(t) = &args.tenant {
        headers.push((TENANT_HEADER, t.clone()));
    }
    if let Some(v) = args.env {
        headers.push((ENV_HEADER, v.wire().as_str().to_string()));
    }
    if let Some(v) = args.data_label {
        headers.push((DATA_LABEL_HEADER, v.wire().as_str().to_string()));
    }
    if let Some(v) = args.tenant_risk {
        headers.push((TENANT_RISK_HEADER, v.wire().as_str().to_string()));
    }
    if let Some(v) = args.qos {
        headers.push((QOS_HEADER, v.wire().as_str().to_string()));
    }
    headers
}

pub(crate) struct Shared {
    hall: HallArgs,
    data_dir: PathBuf,
    conditions: Vec<(&'static str, String)>,
    correlation_id: String,
    /// The stdio client, `name/version`, once it initialized.
    client: Mutex<Option<String>>,
    /// The stdio client's side, to relay notifications to.
    peer: OnceLock<Peer<RoleServer>>,
    /// The HTTP client of the hall session (rmcp's, and `mcp_direct`'s POSTs on it).
    pub(crate) http: reqwest::Client,
    upstream: tokio::sync::Mutex<Option<RunningService<RoleClient, Upstream>>>,
    /// How the current hall session is addressed, for `mcp_direct`.
    session: Mutex<Option<Capturing>>,
    /// The last problem said on stderr (each one is said once).
    said: Mutex<Option<String>>,
}

impl Shared {
    /// The current hall session's POST, once it is established.
    pub(crate) fn session_post(&self) -> Option<SessionPost> {
        self.session
            .lock()
            .expect("session lock")
            .as_ref()?
            .session()
    }

    fn data_dir_text(&self) -> String {
        self.data_dir.display().to_string()
    }

    fn start_hint(&self) -> String {
        format!(
            "start `proctor serve --data-dir {}` or the Proctor desktop app",
            self.data_dir_text()
        )
    }

    /// Say a problem on stderr, once (until another one, or a connection, comes between).
    fn say(&self, message: &str) {
        let mut said = self.said.lock().expect("said lock");
        if said.as_deref() != Some(message) {
            eprintln!("proctor mcp: {message}");
            *said = Some(message.to_string());
        }
    }

    /// The hall's session, connecting first if there is none (or it closed).
    async fn upstream(self: &Arc<Self>) -> Result<Peer<RoleClient>, ErrorData> {
        let mut slot = self.upstream.lock().await;
        if let Some(up) = slot.as_ref() {
            if !up.is_transport_closed() {
                return Ok(up.peer().clone());
            }
            *slot = None;
        }
        match self.connect().await {
            Ok((running, capturing, base)) => {
                let peer = running.peer().clone();
                *slot = Some(running);
                *self.session.lock().expect("session lock") = Some(capturing);
                let had_problem = self.said.lock().expect("said lock").take().is_some();
                eprintln!(
                    "proctor mcp: connected to the Proctor hall at {base} (data dir {}), correlation id {}",
                    self.data_dir_text(),
                    self.correlation_id
                );
                if had_problem {
                    // The client may have listed tools while the hall was away.
                    if let Some(client) = self.peer.get() {
                        let _ = client.notify_tool_list_changed().await;
                    }
                }
                Ok(peer)
            }
            Err(message) => {
                self.say(&message);
                Err(hall_error(message, &self.data_dir_text()))
            }
        }
    }

    async fn connect(
        self: &Arc<Self>,
    ) -> Result<(RunningService<RoleClient, Upstream>, Capturing, String), String> {
        // A running hall announces itself in `hall.url`; without it (and without --url) none
        // has run here.
        if self.hall.url.is_none() && !self.data_dir.join(hall::config::URL_FILE).is_file() {
            return Err(format!(
                "no Proctor hall is running for data dir {}: {}",
                self.data_dir_text(),
                self.start_hint()
            ));
        }
        let located = locate(&self.hall).map_err(|e| {
            format!(
                "cannot use the Proctor hall of data dir {}: {}",
                self.data_dir_text(),
                e.message
            )
        })?;
        let base = located.base.clone();
        let mut headers = HashMap::new();
        let mut add = |name: &str, value: &str| -> Result<(), String> {
            let n = HeaderName::try_from(name).map_err(|e| format!("header {name}: {e}"))?;
            let v = HeaderValue::try_from(value)
                .map_err(|_| format!("{name}: {value:?} cannot be sent as an HTTP header value"))?;
            headers.insert(n, v);
            Ok(())
        };
        for (name, value) in &self.conditions {
            add(name, value)?;
        }
        add(CORRELATION_HEADER, &self.correlation_id)?;
        let client = self.client.lock().expect("client lock").clone();
        add(CLIENT_HEADER, client.as_deref().unwrap_or("unknown/0"))?;
        let config = StreamableHttpClientTransportConfig::with_uri(format!("{base}/mcp"))
            .auth_header(located.token)
            .custom_headers(headers);
        let capturing = Capturing::new(self.http.clone());
        let transport = StreamableHttpClientTransport::with_client(capturing.clone(), config);
        let handler = Upstream {
            shared: Arc::downgrade(self),
        };
        match tokio::time::timeout(CONNECT_TIMEOUT, handler.serve(transport)).await {
            Ok(Ok(running)) => Ok((running, capturing, base)),
            Ok(Err(e)) => Err(self.explain(&base, &format!("{e}"), &format!("{e:?}"))),
            Err(_) => Err(format!(
                "the Proctor hall at {base} (data dir {}) did not answer within {} s: is it overloaded or stuck? restart it",
                self.data_dir_text(),
                CONNECT_TIMEOUT.as_secs()
            )),
        }
    }

    /// A connection failure in words: what is wrong and what to do.
    fn explain(&self, base: &str, display: &str, debug: &str) -> String {
        let text = format!("{display} {debug}").to_ascii_lowercase();
        let dir = self.data_dir_text();
        if text.contains("connection refused")
            || text.contains("connecterror")
            || text.contains("tcp connect")
            || text.contains("error trying to connect")
        {
            format!(
                "no Proctor hall is running for data dir {dir} (nothing answers at {base}): {}",
                self.start_hint()
            )
        } else if text.contains("401")
            || text.contains("unauthorized")
            || text.contains("auth required")
            || text.contains("authorization required")
        {
            format!(
                "the Proctor hall at {base} refused the token of data dir {dir} (401): is it that data dir's hall? restart it, or pass --url / --token-file"
            )
        } else if text.contains("404") || text.contains("not found") {
            format!(
                "the Proctor hall at {base} (data dir {dir}) has no MCP endpoint (/mcp): update Proctor"
            )
        } else {
            format!("cannot reach the Proctor hall at {base} (data dir {dir}): {display}")
        }
    }

    /// End the hall session (stdin closed, or we were asked to stop).
    /// The session is ended by its own DELETE, which ends a call still waiting on it (for a
    /// person) at once; the slot's lock is held until then, so a second closer (stdin's end and
    /// the service's end both close) returns only once the session is over.
    async fn close_upstream(&self) {
        let mut slot = self.upstream.lock().await;
        let session = self.session.lock().expect("session lock").take();
        if let Some(post) = session.and_then(|c| c.session()) {
            let _ = tokio::time::timeout(CLOSE_TIMEOUT, post.end(&self.http)).await;
        }
        if let Some(up) = slot.take() {
            let _ = tokio::time::timeout(CLOSE_TIMEOUT, up.cancel()).await;
        }
    }

    /// The upstream went away mid-request: forget it (the next request reconnects).
    pub(crate) async fn lost(
        self: &Arc<Self>,
        error: &(dyn std::fmt::Display + Sync),
    ) -> ErrorData {
        *self.session.lock().expect("session lock") = None;
        let up = self.upstream.lock().await.take();
        if let Some(up) = up {
            let _ = tokio::time::timeout(CLOSE_TIMEOUT, up.cancel()).await;
        }
        let message = format!(
            "lost the connection to the Proctor hall of data dir {} ({error}): is it still running? {}; the next request reconnects",
            self.data_dir_text(),
            self.start_hint()
        );
        self.say(&message);
        hall_error(message, &self.data_dir_text())
    }

    /// An upstream answer: MCP errors pass through unchanged, a lost connection is said.
    async fn answer<T>(
        self: &Arc<Self>,
        result: Result<T, rmcp::ServiceError>,
    ) -> Result<T, ErrorData> {
        match result {
            Ok(v) => Ok(v),
            Err(rmcp::ServiceError::McpError(e)) => Err(e),
            // The hall refused the request's size (413): the request's fault, not a lost hall.
            Err(e) if e.to_string().contains("413") => Err(too_large()),
            Err(e) => Err(self.lost(&e).await),
        }
    }
}

/// The hall refused the request's size (413).
pub(crate) fn too_large() -> ErrorData {
    ErrorData::invalid_request(
        "the request is larger than the hall accepts (body_limit_bytes in its config.toml, 1 MiB by default)",
        None,
    )
}

/// The MCP error a request gets while the hall cannot be reached.
fn hall_error(message: String, data_dir: &str) -> ErrorData {
    ErrorData::new(
        ErrorCode::INTERNAL_ERROR,
        message,
        Some(json!({"proctor": "hall_unavailable", "data_dir": data_dir})),
    )
}

/// The server the stdio client talks to.
struct Bridge {
    shared: Arc<Shared>,
}

impl ServerHandler for Bridge {
    fn get_info(&self) -> ServerConfig {
        hall::mcp::session::server_info()
    }

    async fn initialize(
        &self,
        request: InitializeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<InitializeResult, ErrorData> {
        context.peer.set_peer_info(request.clone());
        *self.shared.client.lock().expect("client lock") = Some(format!(
            "{}/{}",
            request.client_info.name, request.client_info.version
        ));
        let _ = self.shared.peer.set(context.peer.clone());
        // Reach the hall now, so a problem is said on stderr before the first request.
        let shared = self.shared.clone();
        tokio::spawn(async move {
            let _ = shared.upstream().await;
        });
        self.negotiate_initialize(&request)
    }

    async fn list_tools(
        &self,
        request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let peer = self.shared.upstream().await?;
        match tokio::time::timeout(LIST_TIMEOUT, peer.list_tools(request)).await {
            Ok(result) => self.shared.answer(result).await,
            Err(_) => Err(ErrorData::internal_error(
                format!(
                    "the Proctor hall of data dir {} did not list its tools within {} s",
                    self.shared.data_dir_text(),
                    LIST_TIMEOUT.as_secs()
                ),
                None,
            )),
        }
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let peer = self.shared.upstream().await?;
        // No timeout here: the hall bounds each call itself (a call held for approval waits
        // up to approval_timeout_s). A cancel from the client drops this, which cancels
        // the upstream request too.
        let result = peer.call_tool_once(request).await;
        self.shared.answer(result).await
    }
}

/// The bridge's side of the hall session: it relays the hall's notifications to the client.
struct Upstream {
    shared: Weak<Shared>,
}

impl Upstream {
    fn client(&self) -> Option<Peer<RoleServer>> {
        self.shared.upgrade()?.peer.get().cloned()
    }
}

impl ClientHandler for Upstream {
    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(
            ClientCapabilities::default(),
            Implementation::new("proctor-mcp", env!("CARGO_PKG_VERSION")),
        )
    }

    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        if let Some(client) = self.client() {
            let _ = client.notify_tool_list_changed().await;
        }
    }

    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        if let Some(client) = self.client() {
            let _ = client.notify_progress(params).await;
        }
    }
}

/// One `tools/list` over `/mcp` (which starts the hall's idle servers), for `proctor mcp tools`.
pub fn list_once(endpoint: &str, token: &str) -> Result<usize, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let config = StreamableHttpClientTransportConfig::with_uri(endpoint).auth_header(token);
        let transport = StreamableHttpClientTransport::from_config(config);
        let handler = ClientConfig::new(
            ClientCapabilities::default(),
            Implementation::new("proctor-cli", env!("CARGO_PKG_VERSION")),
        );
        let running = tokio::time::timeout(CONNECT_TIMEOUT, handler.serve(transport))
            .await
            .map_err(|_| format!("{endpoint} did not answer initialize"))?
            .map_err(|e| e.to_string())?;
        let listed = tokio::time::timeout(LIST_TIMEOUT, running.peer().list_all_tools()).await;
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, running.cancel()).await;
        listed
            .map_err(|_| "tools/list timed out".to_string())?
            .map(|t| t.len())
            .map_err(|e| e.to_string())
    })
}

/// Standard input that says when it reaches its end.
struct EofSignal<R> {
    inner: R,
    on_eof: Option<tokio::sync::oneshot::Sender<()>>,
}

impl<R: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for EofSignal<R> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = std::pin::Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, std::task::Poll::Ready(Ok(()))) && buf.filled().len() == before {
            if let Some(tx) = self.on_eof.take() {
                let _ = tx.send(());
            }
        }
        polled
    }
}
