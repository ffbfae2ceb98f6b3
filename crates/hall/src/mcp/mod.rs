//! The MCP gateway (docs/mcp.md): agents' `tools/call`s pass through the hall, each one a WCP
//! decision, recorded, and forwarded to the worker's own MCP server only when allowed or approved
//! by a person.
//!
//! - [`spec`]: the `mcp` block of a worker record (transport, tool → capability map).
//! - [`downstream`]: one downstream server, run and supervised by the hall.
//! - [`approvals`]: calls held for a person.
//! - [`call`]: one `tools/call`, from route to ledger.
//! - [`session`]: the MCP server clients talk to (Streamable HTTP at `/mcp`; `proctor mcp` bridges
//!   stdio to it).

pub mod approvals;
pub mod call;
pub mod direct;
pub mod downstream;
pub mod import;
pub mod onboarding;
pub mod session;
pub mod spec;
pub mod view;

pub use approvals::{Approval, ApprovalState, Approvals, NotTaken, Verdict};
pub use downstream::{Limits, ServerEvent, ServerState, ServerStatusView};
pub use spec::{McpSpec, RecordArguments, RecordOutcome};

use crate::config::McpConfig;
use downstream::Downstream;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

/// A tool as clients see it: the downstream tool, offered under its mapped capability.
#[derive(Clone)]
pub struct OfferedTool {
    pub capability_id: String,
    pub worker_id: String,
    pub tool: rmcp::model::Tool,
}

/// The downstream servers and what they offer, kept in step with the registry.
pub struct Gateway {
    settings: McpConfig,
    servers: Mutex<Arc<BTreeMap<String, Arc<Downstream>>>>,
    pub approvals: Approvals,
    pub sessions: session::Sessions,
    events: mpsc::UnboundedSender<ServerEvent>,
    /// Set once by the hall before the first sync: checks a worker's package before its server starts.
    start_check: std::sync::OnceLock<downstream::StartCheck>,
}

impl Gateway {
    pub fn new(settings: McpConfig) -> (Gateway, mpsc::UnboundedReceiver<ServerEvent>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let gateway = Gateway {
            settings,
            servers: Mutex::new(Arc::new(BTreeMap::new())),
            approvals: Approvals::default(),
            sessions: session::Sessions::default(),
            events: tx,
            start_check: std::sync::OnceLock::new(),
        };
        (gateway, rx)
    }

    /// Servers created from now on ask `check` before they start.
    pub(crate) fn set_start_check(&self, check: downstream::StartCheck) {
        let _ = self.start_check.set(check);
    }

    pub fn settings(&self) -> &McpConfig {
        &self.settings
    }

    fn limits(&self) -> Limits {
        Limits {
            call_timeout: Duration::from_secs(self.settings.call_timeout_s),
            max_concurrent_calls: self.settings.max_concurrent_calls,
            max_result_bytes: self.settings.max_result_bytes,
        }
    }

    pub(crate) fn servers(&self) -> Arc<BTreeMap<String, Arc<Downstream>>> {
        self.servers.lock().expect("servers lock").clone()
    }

    /// Bring the servers in line with the registry's records: new MCP workers are added (idle:
    /// they start on first use), changed ones restarted fresh, removed ones stopped.
    pub async fn sync<'a>(
        &self,
        workers: impl IntoIterator<Item = (&'a str, &'a serde_json::Value)>,
    ) {
        let mut wanted = BTreeMap::new();
        for (worker_id, record) in workers {
            let Some(obj) = record.as_object() else {
                continue;
            };
            // Records were validated when read; a block that fails now offers nothing.
            if let Ok(Some(spec)) = McpSpec::from_record(obj) {
                wanted.insert(worker_id.to_string(), spec);
            }
        }
        let (next, stopped) = {
            let mut guard = self.servers.lock().expect("servers lock");
            let mut next = BTreeMap::new();
            let mut stopped = Vec::new();
            for (id, server) in guard.iter() {
                match wanted.get(id) {
                    Some(spec) if *spec == server.spec => {
                        next.insert(id.clone(), server.clone());
                    }
                    _ => stopped.push(server.clone()),
                }
            }
            for (id, spec) in wanted {
                if let std::collections::btree_map::Entry::Vacant(slot) = next.entry(id) {
                    let id = slot.key().clone();
                    slot.insert(Downstream::new(
                        id,
                        spec,
                        self.limits(),
                        self.events.clone(),
                        self.start_check.get().cloned(),
                    ));
                }
            }
            *guard = Arc::new(next);
            (guard.clone(), stopped)
        };
        for server in stopped {
            tracing::info!(worker_id = %server.worker_id, "MCP server stopped (record changed or removed)");
            server.stop().await;
        }
        drop(next);
    }

    /// Start every server that has not started yet (a client listing tools is their first use).
    pub async fn start_idle(&self) {
        let idle: Vec<_> = self
            .servers()
            .values()
            .filter(|s| s.state() == ServerState::Idle)
            .cloned()
            .collect();
        futures_util::future::join_all(idle.iter().map(|s| s.ensure())).await;
    }

    /// What clients are offered: every mapped tool of every server, in worker-id order. A name
    /// two servers offer is offered once, by the first (the other is listed as shadowed).
    pub fn catalog(&self) -> Catalog {
        let mut offered: BTreeMap<String, OfferedTool> = BTreeMap::new();
        let mut shadowed = Vec::new();
        for server in self.servers().values() {
            for tool in server.tools().iter() {
                let Some(cap) = server.spec.capability_of(&tool.name) else {
                    continue;
                };
                if let Some(first) = offered.get(tool.name.as_ref()) {
                    shadowed.push(Shadowed {
                        tool: tool.name.to_string(),
                        worker_id: server.worker_id.clone(),
                        offered_by: first.worker_id.clone(),
                    });
                    continue;
                }
                offered.insert(
                    tool.name.to_string(),
                    OfferedTool {
                        capability_id: cap.to_string(),
                        worker_id: server.worker_id.clone(),
                        tool: tool.clone(),
                    },
                );
            }
        }
        Catalog { offered, shadowed }
    }

    /// The offered tool of this name: [`Gateway::catalog`]'s entry, without building the catalog
    /// (this runs on every call).
    pub fn find(&self, name: &str) -> Option<OfferedTool> {
        self.servers().values().find_map(|server| {
            let tools = server.tools();
            let tool = tools.iter().find(|t| t.name == name)?;
            let cap = server.spec.capability_of(name)?;
            Some(OfferedTool {
                capability_id: cap.to_string(),
                worker_id: server.worker_id.clone(),
                tool: tool.clone(),
            })
        })
    }

    pub fn server(&self, worker_id: &str) -> Option<Arc<Downstream>> {
        self.servers().get(worker_id).cloned()
    }

    /// Stop every server (hall shutdown).
    pub async fn stop_all(&self) {
        let servers = std::mem::take(&mut *self.servers.lock().expect("servers lock"));
        for server in servers.values() {
            server.stop().await;
        }
    }
}

pub struct Catalog {
    pub offered: BTreeMap<String, OfferedTool>,
    pub shadowed: Vec<Shadowed>,
}

/// A tool name a second server also offers: only the first one's is reachable.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Shadowed {
    pub tool: String,
    pub worker_id: String,
    pub offered_by: String,
}
