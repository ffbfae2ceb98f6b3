//! The MCP server clients talk to: one [`McpSession`] per client session (Streamable HTTP at
//! `/mcp`; `proctor mcp` bridges stdio clients to it). It offers the mapped tools of every MCP
//! worker and hands each `tools/call` to [`super::call::call_tool`].
//!
//! A session's routing conditions are `[mcp]` in config.toml, overridden per request by the
//! `Proctor-*` headers (`proctor mcp` sends its flags as these), and its correlation id is its
//! own unless the `Proctor-Correlation-Id` header or a call's `_meta.correlation_id` says
//! otherwise.

use super::call::{call_tool, Caller, Conditions};
use crate::hall::Hall;
use axum::http::request::Parts;
use chrono::{DateTime, Utc};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, Implementation, InitializeRequestParams,
    InitializeResult, ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig,
};
use rmcp::service::{NotificationContext, RequestContext};
use rmcp::{ErrorData, Peer, RoleServer, ServerHandler};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;

/// Request headers that set a session's routing conditions (docs/mcp.md).
pub const TENANT_HEADER: &str = "proctor-tenant";
pub const ENV_HEADER: &str = "proctor-env";
pub const DATA_LABEL_HEADER: &str = "proctor-data-label";
pub const TENANT_RISK_HEADER: &str = "proctor-tenant-risk";
pub const QOS_HEADER: &str = "proctor-qos";
pub const CORRELATION_HEADER: &str = "proctor-correlation-id";
/// Set by `proctor mcp`: the stdio client it serves (name/version), and that it is a bridge.
pub const CLIENT_HEADER: &str = "proctor-client";

/// A connected client, as the MCP screen lists it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct SessionView {
    pub session_id: String,
    pub correlation_id: String,
    /// `http` (a client on `/mcp`) or `stdio` (through `proctor mcp`).
    pub transport: String,
    pub client: Option<String>,
    pub conditions: Conditions,
    pub started_at: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub calls: u64,
}

/// A session as listed, and its client (to tell it the tool list changed).
type Live = HashMap<String, (SessionView, Option<Peer<RoleServer>>)>;

/// An rmcp session (its `Mcp-Session-Id`) as [`super::direct`] answers its calls: the
/// [`McpSession`] behind it and what its client negotiated.
#[derive(Debug, Clone)]
pub struct Transport {
    pub session_id: String,
    pub client: Option<String>,
    pub protocol_version: String,
    /// Cancelled when the session ends (the client closed it, the hall stops).
    pub ended: CancellationToken,
    /// The calls answered directly and still running, by JSON-RPC request id (its JSON text),
    /// so a client's `notifications/cancelled` reaches them.
    pub running: Arc<Mutex<HashMap<String, CancellationToken>>>,
}

#[derive(Default)]
struct Registry {
    live: Live,
    /// By `Mcp-Session-Id`, once a request through rmcp has shown it.
    transports: HashMap<String, Transport>,
}

/// Live sessions, and how to tell their clients that the tool list changed.
#[derive(Default)]
pub struct Sessions {
    registry: Mutex<Registry>,
}

impl Sessions {
    fn registry(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.registry.lock().expect("sessions lock")
    }

    /// Sessions seen within the last hour, most recent first. A session whose client went away
    /// without closing it (a stdio bridge killed, a stateless HTTP client) leaves the list then.
    pub fn list(&self) -> Vec<SessionView> {
        let cutoff = Utc::now() - chrono::Duration::hours(1);
        let mut registry = self.registry();
        registry
            .live
            .retain(|_, (view, _)| view.last_seen >= cutoff);
        let mut views: Vec<SessionView> = registry.live.values().map(|(v, _)| v.clone()).collect();
        views.sort_by_key(|v| std::cmp::Reverse(v.last_seen));
        views
    }

    pub fn count_call(&self, session_id: &str) {
        if let Some((view, _)) = self.registry().live.get_mut(session_id) {
            view.calls += 1;
            view.last_seen = Utc::now();
        }
    }

    /// The session behind an `Mcp-Session-Id`, if a request through rmcp has shown it.
    pub fn transport(&self, id: &str) -> Option<Transport> {
        self.registry().transports.get(id).cloned()
    }

    fn seen(&self, view: SessionView, peer: Option<Peer<RoleServer>>) {
        let mut registry = self.registry();
        let entry = registry
            .live
            .entry(view.session_id.clone())
            .or_insert((view.clone(), None));
        entry.0.client = view.client.or(entry.0.client.take());
        entry.0.conditions = view.conditions;
        entry.0.correlation_id = view.correlation_id;
        entry.0.last_seen = view.last_seen;
        if peer.is_some() {
            entry.1 = peer;
        }
    }

    fn shown(&self, transport_id: &str, transport: Transport) {
        self.registry()
            .transports
            .insert(transport_id.to_string(), transport);
    }

    /// A session ended: it leaves the list, and its transport id the direct path.
    fn forget(&self, session_id: &str, transport_id: Option<&str>) {
        let mut registry = self.registry();
        registry.live.remove(session_id);
        if let Some(id) = transport_id {
            registry.transports.remove(id);
        }
    }

    /// Tell every connected client to list tools again.
    pub async fn notify_tools_changed(&self) {
        let peers: Vec<Peer<RoleServer>> = self
            .registry()
            .live
            .values()
            .filter_map(|(_, p)| p.clone())
            .collect();
        for peer in peers {
            let _ = peer.notify_tool_list_changed().await;
        }
    }
}

pub struct McpSession {
    hall: Hall,
    session_id: String,
    started_at: DateTime<Utc>,
    /// Its `Mcp-Session-Id`, once a request has shown it.
    transport_id: std::sync::OnceLock<String>,
    /// Cancelled when this session ends: the calls answered for it directly end too.
    ended: CancellationToken,
}

/// The `Mcp-Session-Id` request header.
pub const TRANSPORT_HEADER: &str = "mcp-session-id";

impl McpSession {
    pub fn new(hall: Hall) -> McpSession {
        McpSession {
            hall,
            session_id: uuid::Uuid::new_v4().to_string(),
            started_at: Utc::now(),
            transport_id: std::sync::OnceLock::new(),
            ended: CancellationToken::new(),
        }
    }

    fn caller(
        &self,
        parts: Option<&Parts>,
        client: Option<String>,
        cancelled: CancellationToken,
    ) -> Result<Caller, ErrorData> {
        caller(
            &self.hall,
            &self.session_id,
            parts.map(|p| &p.headers),
            client,
            cancelled,
        )
    }

    /// Note the session's `Mcp-Session-Id` the first time a request shows it, so that
    /// [`super::direct`] can answer its next calls.
    fn show_transport(&self, parts: Option<&Parts>, peer: &Peer<RoleServer>) {
        if self.transport_id.get().is_some() {
            return;
        }
        let Some(id) = parts
            .and_then(|p| p.headers.get(TRANSPORT_HEADER))
            .and_then(|v| v.to_str().ok())
        else {
            return;
        };
        let Some(info) = peer.peer_info() else { return };
        if self.transport_id.set(id.to_string()).is_ok() {
            self.hall.mcp().sessions.shown(
                id,
                Transport {
                    session_id: self.session_id.clone(),
                    client: client_name(peer),
                    protocol_version: info.protocol_version.to_string(),
                    ended: self.ended.clone(),
                    running: Arc::default(),
                },
            );
        }
    }
}

/// Who calls, from the request's headers over the hall's `[mcp]` settings: for `session_id`
/// (an [`McpSession`]'s), from a client named `client`.
pub fn caller(
    hall: &Hall,
    session_id: &str,
    headers: Option<&axum::http::HeaderMap>,
    client: Option<String>,
    cancelled: CancellationToken,
) -> Result<Caller, ErrorData> {
    let settings = hall.mcp().settings();
    let header =
        |name: &str| -> Option<String> { headers?.get(name)?.to_str().ok().map(str::to_string) };
    let defaults = settings.conditions();
    let conditions = Conditions {
        tenant_id: header(TENANT_HEADER)
            .filter(|t| !t.trim().is_empty())
            .unwrap_or(defaults.tenant_id),
        env: condition(header(ENV_HEADER), ENV_HEADER, defaults.env)?,
        data_label: condition(
            header(DATA_LABEL_HEADER),
            DATA_LABEL_HEADER,
            defaults.data_label,
        )?,
        tenant_risk: condition(
            header(TENANT_RISK_HEADER),
            TENANT_RISK_HEADER,
            defaults.tenant_risk,
        )?,
        qos_class: condition(header(QOS_HEADER), QOS_HEADER, defaults.qos_class)?,
    };
    let correlation_id = header(CORRELATION_HEADER)
        .filter(|c| !c.trim().is_empty())
        .unwrap_or_else(|| session_id.to_string());
    // A bridge names the stdio client it serves; the session id follows the correlation id so
    // one stdio session is one session here too, whatever the HTTP protocol version.
    let bridged = header(CLIENT_HEADER);
    Ok(Caller {
        session_id: if bridged.is_some() {
            correlation_id.clone()
        } else {
            session_id.to_string()
        },
        correlation_id,
        client: bridged.or(client),
        conditions,
        cancelled,
    })
}

/// Note a call's session as seen (the MCP screen's list).
pub fn remember(hall: &Hall, caller: &Caller, started_at: DateTime<Utc>, bridged: bool) {
    remember_with(hall, caller, started_at, None, bridged)
}

fn remember_with(
    hall: &Hall,
    caller: &Caller,
    started_at: DateTime<Utc>,
    peer: Option<Peer<RoleServer>>,
    bridged: bool,
) {
    let now = Utc::now();
    hall.mcp().sessions.seen(
        SessionView {
            session_id: caller.session_id.clone(),
            correlation_id: caller.correlation_id.clone(),
            transport: if bridged { "stdio" } else { "http" }.into(),
            client: caller.client.clone(),
            conditions: caller.conditions.clone(),
            started_at,
            last_seen: now,
            calls: 0,
        },
        peer,
    );
}

impl McpSession {
    fn remember(&self, caller: &Caller, peer: Option<Peer<RoleServer>>, bridged: bool) {
        remember_with(&self.hall, caller, self.started_at, peer, bridged);
    }
}

/// A condition header's value in its wire spelling (`prod`, `RESTRICTED`, …); absent: `default`.
fn condition<T: serde::de::DeserializeOwned>(
    value: Option<String>,
    name: &str,
    default: T,
) -> Result<T, ErrorData> {
    let Some(v) = value else { return Ok(default) };
    serde_json::from_value(serde_json::Value::String(v))
        .map_err(|e| ErrorData::invalid_params(format!("{name}: {e}"), None))
}

/// What this server says of itself: the gateway here, and `proctor mcp` in front of it.
pub fn server_info() -> ServerConfig {
    let mut info = ServerConfig::new(
        ServerCapabilities::builder()
            .enable_tools()
            .enable_tool_list_changed()
            .build(),
    );
    info.server_info = Implementation::new("proctor", env!("CARGO_PKG_VERSION"));
    info.instructions = Some("Proctor governs these tools: every call is a WCP decision, recorded in a hash-chained ledger; a refused call's text starts with its deny code.".into());
    info
}

fn client_name(peer: &Peer<RoleServer>) -> Option<String> {
    peer.peer_info()
        .map(|info| format!("{}/{}", info.client_info.name, info.client_info.version))
}

fn parts(context: &RequestContext<RoleServer>) -> Option<&Parts> {
    context.extensions.get::<Parts>()
}

impl ServerHandler for McpSession {
    fn get_info(&self) -> ServerConfig {
        server_info()
    }

    async fn initialize(
        &self,
        request: InitializeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<InitializeResult, ErrorData> {
        context.peer.set_peer_info(request.clone());
        let client = Some(format!(
            "{}/{}",
            request.client_info.name, request.client_info.version
        ));
        let caller = self.caller(parts(&context), client, context.ct.clone())?;
        let bridged = parts(&context).is_some_and(|p| p.headers.contains_key(CLIENT_HEADER));
        self.remember(&caller, Some(context.peer.clone()), bridged);
        self.negotiate_initialize(&request)
    }

    /// The handshake's end shows the session, so that its calls are answered directly from the
    /// first one.
    async fn on_initialized(&self, context: NotificationContext<RoleServer>) {
        self.show_transport(context.extensions.get::<Parts>(), &context.peer);
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        self.show_transport(parts(&context), &context.peer);
        let gateway = self.hall.mcp();
        gateway.start_idle().await;
        let tools = gateway
            .catalog()
            .offered
            .into_iter()
            .map(|(name, offered)| {
                let mut tool = offered.tool;
                tool.name = name.into();
                tool
            })
            .collect();
        Ok(ListToolsResult::with_all_items(tools))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let caller = self.caller(
            parts(&context),
            client_name(&context.peer),
            context.ct.clone(),
        )?;
        let bridged = parts(&context).is_some_and(|p| p.headers.contains_key(CLIENT_HEADER));
        self.remember(&caller, None, bridged);
        self.show_transport(parts(&context), &context.peer);
        let mut request = request;
        // The SDK hands a request's `_meta` over in the context, not in the params.
        if request.meta.is_none() {
            request.meta = Some(context.meta.clone());
        }
        call_tool(&self.hall, &caller, request)
            .await
            .map(Into::into)
    }
}

impl Drop for McpSession {
    fn drop(&mut self) {
        self.ended.cancel();
        self.hall.mcp().sessions.forget(
            &self.session_id,
            self.transport_id.get().map(String::as_str),
        );
    }
}
