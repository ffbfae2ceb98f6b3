//! What the API shows of the gateway: servers with their state and tools, client sessions, the
//! settings, and the audit trail of calls (from the ledger).

use super::call::Conditions;
use super::session::SessionView;
use super::spec::{Setting, Transport};
use super::{Approval, ServerStatusView, Shadowed};
use crate::error::HallError;
use crate::hall::Hall;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One MCP worker as `GET /v1/mcp` lists it.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ServerView {
    pub worker_id: String,
    pub worker_species_id: Option<String>,
    /// `stdio` or `http`.
    pub transport: String,
    pub command: Option<String>,
    pub args: Vec<String>,
    pub url: Option<String>,
    /// Names and references only: a written-out value is never shown.
    pub env: BTreeMap<String, String>,
    pub headers: BTreeMap<String, String>,
    pub status: ServerStatusView,
    /// The tools clients are offered, with their capability.
    pub tools: Vec<ToolView>,
    /// Tools the server lists that no mapping offers (hidden from clients).
    pub unmapped_tools: Vec<String>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ToolView {
    pub name: String,
    pub capability_id: String,
    pub description: Option<String>,
}

/// `GET /v1/mcp`.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct McpOverview {
    pub servers: Vec<ServerView>,
    pub shadowed: Vec<Shadowed>,
    pub sessions: Vec<SessionView>,
    pub settings: crate::config::McpConfig,
    /// The default routing conditions of a call.
    pub conditions: Conditions,
    pub pending_approvals: usize,
}

/// `GET /v1/mcp/calls` query.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CallsQuery {
    /// The MCP worker (server) id.
    pub server: Option<String>,
    pub tool: Option<String>,
    pub correlation_id: Option<String>,
    /// `mcp_call` (default) or `approval`.
    pub kind: Option<LinkedKind>,
    /// Keyset cursor: records with a seq below this one.
    pub before_seq: Option<i64>,
    pub limit: Option<usize>,
}

/// `GET /v1/approvals` query.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalsQuery {
    /// `pending` (default) or `all` (the pending ones, then those ended since the hall started).
    pub state: Option<ApprovalsFilter>,
}

/// The kinds of records linked to a decision.
#[derive(Debug, Clone, Copy, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LinkedKind {
    McpCall,
    Approval,
}

#[derive(Debug, Clone, Copy, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ApprovalsFilter {
    Pending,
    All,
}

/// `POST /v1/approvals/{id}` body.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalVerdict {
    pub verdict: VerdictKind,
    pub note: Option<String>,
    /// Who decides (default: the API's caller, `api`).
    pub by: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum VerdictKind {
    Approve,
    Deny,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ApprovalList {
    pub count: usize,
    pub approvals: Vec<Approval>,
}

/// Longest note or name a verdict may carry.
const MAX_VERDICT_TEXT: usize = 2000;

fn shown(settings: &BTreeMap<String, Setting>) -> BTreeMap<String, String> {
    settings
        .iter()
        .map(|(k, v)| (k.clone(), v.display()))
        .collect()
}

impl Hall {
    pub fn mcp_overview(&self) -> McpOverview {
        let gateway = self.mcp();
        let catalog = gateway.catalog();
        let servers = gateway
            .servers()
            .values()
            .map(|server| {
                let (command, args, url, env, headers) = match &server.spec.transport {
                    Transport::Stdio {
                        command, args, env, ..
                    } => (
                        Some(command.clone()),
                        args.clone(),
                        None,
                        shown(env),
                        BTreeMap::new(),
                    ),
                    Transport::Http { url, headers } => (
                        None,
                        Vec::new(),
                        Some(url.clone()),
                        BTreeMap::new(),
                        shown(headers),
                    ),
                };
                let listed = server.tools();
                let tools = catalog
                    .offered
                    .iter()
                    .filter(|(_, o)| o.worker_id == server.worker_id)
                    .map(|(name, o)| ToolView {
                        name: name.clone(),
                        capability_id: o.capability_id.clone(),
                        description: o.tool.description.as_ref().map(|d| d.to_string()),
                    })
                    .collect();
                let unmapped_tools = listed
                    .iter()
                    .filter(|t| server.spec.capability_of(&t.name).is_none())
                    .map(|t| t.name.to_string())
                    .collect();
                ServerView {
                    worker_id: server.worker_id.clone(),
                    worker_species_id: self.species_of(&server.worker_id),
                    transport: server.spec.transport.kind().into(),
                    command,
                    args,
                    url,
                    env,
                    headers,
                    status: server.view(),
                    tools,
                    unmapped_tools,
                }
            })
            .collect();
        let s = gateway.settings();
        McpOverview {
            servers,
            shadowed: catalog.shadowed,
            sessions: gateway.sessions.list(),
            conditions: s.conditions(),
            settings: s.clone(),
            pending_approvals: gateway.approvals.pending_count(),
        }
    }

    /// The audit trail: MCP call outcomes (or approval endings), newest first.
    pub async fn mcp_calls(&self, q: CallsQuery) -> Result<Vec<ledger::LinkedRecord>, HallError> {
        let limit = q.limit.unwrap_or(100);
        if !(1..=1000).contains(&limit) {
            return Err(HallError::InvalidQuery(
                "limit must be between 1 and 1000".into(),
            ));
        }
        let kind = match q.kind.unwrap_or(LinkedKind::McpCall) {
            LinkedKind::McpCall => "mcp_call",
            LinkedKind::Approval => "approval",
        };
        let filter = ledger::LinkedFilter {
            kind: Some(kind.into()),
            server: q.server,
            tool: q.tool,
            correlation_id: q.correlation_id,
            before_seq: q.before_seq,
            limit: Some(limit),
            // The trail is newest first, a correlation filter included (its default is a story).
            order: Some(ledger::LinkedOrder::NewestFirst),
            ..Default::default()
        };
        self.ledger().query(move |b| b.linked(&filter)).await
    }

    /// The linked records (calls, approvals) of one decision, oldest first.
    pub async fn linked_of(
        &self,
        decision_id: &str,
    ) -> Result<Vec<ledger::LinkedRecord>, HallError> {
        let filter = ledger::LinkedFilter {
            decision_id: Some(decision_id.to_string()),
            limit: Some(1000),
            ..Default::default()
        };
        self.ledger().query(move |b| b.linked(&filter)).await
    }

    /// The linked records of one correlation id, oldest first.
    pub async fn linked_of_trace(
        &self,
        correlation_id: &str,
    ) -> Result<Vec<ledger::LinkedRecord>, HallError> {
        let filter = ledger::LinkedFilter {
            correlation_id: Some(correlation_id.to_string()),
            limit: Some(1000),
            ..Default::default()
        };
        self.ledger().query(move |b| b.linked(&filter)).await
    }

    pub fn approvals(&self, q: ApprovalsQuery) -> ApprovalList {
        let pending_only = !matches!(q.state, Some(ApprovalsFilter::All));
        let approvals = self.mcp().approvals.list(pending_only);
        ApprovalList {
            count: approvals.len(),
            approvals,
        }
    }

    /// `POST /v1/approvals/{id}`.
    pub async fn approval_verdict(
        &self,
        id: &str,
        body: ApprovalVerdict,
        default_by: &str,
    ) -> Result<Approval, HallError> {
        for (field, text) in [("note", &body.note), ("by", &body.by)] {
            if text.as_ref().is_some_and(|t| t.len() > MAX_VERDICT_TEXT) {
                return Err(HallError::InvalidSettings(format!(
                    "{field}: at most {MAX_VERDICT_TEXT} bytes"
                )));
            }
        }
        let by = body
            .by
            .filter(|b| !b.trim().is_empty())
            .unwrap_or_else(|| default_by.to_string());
        let note = body.note.filter(|n| !n.trim().is_empty());
        self.decide_approval(id, matches!(body.verdict, VerdictKind::Approve), by, note)
            .await
    }
}
