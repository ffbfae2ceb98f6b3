//! One `tools/call` through the gateway (docs/mcp.md): routed as a WCP decision and recorded;
//! then forwarded (allowed), refused with its deny code (denied: the server never sees it), or
//! held for a person (`DENY_REQUIRES_HUMAN*`). Its outcome is a hash-chained ledger record linked
//! to the decision, written before the client is answered.

use super::approvals::{Approval, ApprovalState, Resolution, Taken, Verdict};
use super::downstream::CallOutcome;
use super::{OfferedTool, RecordArguments, RecordOutcome};
use crate::events::HallEvent;
use crate::hall::Hall;
use crate::receipt::Routed;
use chrono::Utc;
use rmcp::model::{CallToolRequestParams, CallToolResult, ContentBlock, MetaObject};
use rmcp::ErrorData;
use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::time::Instant;
use wcp::DenyCode;

/// The routing conditions of a call: `[mcp]` in config.toml, overridden per session.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Conditions {
    pub tenant_id: String,
    #[schemars(with = "String")]
    pub env: wcp::Env,
    #[schemars(with = "String")]
    pub data_label: wcp::DataLabel,
    #[schemars(with = "String")]
    pub tenant_risk: wcp::TenantRisk,
    #[schemars(with = "String")]
    pub qos_class: wcp::QosClass,
}

/// Who is calling.
#[derive(Debug, Clone)]
pub struct Caller {
    pub session_id: String,
    pub correlation_id: String,
    pub client: Option<String>,
    pub conditions: Conditions,
    /// Cancelled when the client cancels the request or goes away.
    pub cancelled: tokio_util::sync::CancellationToken,
}

/// The `_meta` key a client may set to put a call under its own correlation id.
pub const CORRELATION_META: &str = "correlation_id";

/// How a call ended, as its ledger record says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Ok,
    ToolError,
    ProtocolError,
    Timeout,
    Unavailable,
    Busy,
    TooLarge,
    /// The decision denied it: never forwarded.
    Denied,
    /// Allowed, but the selected worker has no MCP server offering the tool.
    NotForwarded,
}

/// Handle one call. Protocol errors (`Err`) only for an unknown tool; everything else is a tool
/// result, so the client's model reads why.
pub async fn call_tool(
    hall: &Hall,
    caller: &Caller,
    params: CallToolRequestParams,
) -> Result<CallToolResult, ErrorData> {
    let gateway = hall.mcp();
    // A server not started yet may offer it: this call is its first use.
    let offered = match gateway.find(&params.name) {
        Some(offered) => Some(offered),
        None => {
            gateway.start_idle().await;
            gateway.find(&params.name)
        }
    };
    let Some(offered) = offered else {
        return Err(ErrorData::invalid_params(
            format!("unknown tool: {}", params.name),
            None,
        ));
    };
    let arguments = Value::Object(params.arguments.clone().unwrap_or_default());
    let correlation_id = params
        .meta
        .as_ref()
        .and_then(|m| m.0 .0.get(CORRELATION_META))
        .and_then(Value::as_str)
        .filter(|c| !c.trim().is_empty())
        .unwrap_or(&caller.correlation_id)
        .to_string();
    let c = &caller.conditions;
    let input = json!({
        "capability_id": offered.capability_id,
        "env": c.env.as_str(), "data_label": c.data_label.as_str(),
        "tenant_risk": c.tenant_risk.as_str(), "qos_class": c.qos_class.as_str(),
        "tenant_id": c.tenant_id, "correlation_id": correlation_id,
        "request": arguments,
    });
    let record_mode = hall
        .mcp()
        .server(&offered.worker_id)
        .and_then(|s| s.spec.record_arguments)
        .unwrap_or(gateway.settings().record_arguments);
    let audit = Audit {
        correlation_id: correlation_id.clone(),
        caller: caller.clone(),
        tool: params.name.to_string(),
        offered: offered.clone(),
        arguments_sha256: sha256_hex(&serde_json::to_vec(&arguments).unwrap_or_default()),
        arguments: (record_mode == RecordArguments::Full).then(|| arguments.clone()),
        started: crate::otel::McpCallStart::now(params.meta.as_ref().map(|m| &m.0)),
    };
    let (decision, routed) = match hall.route_mcp(input.clone()).await {
        Ok(done) => done,
        Err(crate::HallError::LedgerUnavailable(e)) => {
            return Ok(refusal(
                "DENY_LEDGER_UNAVAILABLE",
                &format!("the decision could not be recorded, so the call was not made: {e}"),
                None,
            ));
        }
        Err(e) => return Ok(refusal("PROCTOR_INVALID_CALL", &e.to_string(), None)),
    };
    let forward = CallToolRequestParams::new(offered.tool.name.clone())
        .with_arguments(params.arguments.unwrap_or_default());
    match decision.deny_code() {
        None => {
            let dispatch = Dispatch {
                routed: &routed,
                approval: None,
                species: decision.selected_worker_species_id.as_deref(),
            };
            Ok(forward_and_record(hall, &audit, forward, dispatch).await)
        }
        Some(code @ (DenyCode::RequiresHuman | DenyCode::RequiresHumanApproval)) => {
            let reason = decision
                .deny_reason_if_denied
                .as_ref()
                .and_then(|r| r.extra.get("reason"))
                .and_then(Value::as_str)
                .map(str::to_string);
            let held = Held {
                input: &input,
                routed: &routed,
                code,
                reason,
            };
            Ok(hold_for_approval(hall, &audit, forward, held).await)
        }
        Some(code) => {
            let message = decision
                .deny_reason_if_denied
                .as_ref()
                .map_or("", |r| r.message.as_str());
            let result = refusal(code.as_str(), message, Some(&routed));
            Ok(finish(
                hall,
                &audit,
                &routed,
                Outcome::Denied,
                Record::default(),
                result,
            )
            .await)
        }
    }
}

/// What the ledger keeps of every call of one tool invocation.
struct Audit {
    /// The call's correlation id (the session's, or its `_meta`'s).
    correlation_id: String,
    caller: Caller,
    tool: String,
    offered: OfferedTool,
    arguments: Option<Value>,
    arguments_sha256: String,
    /// For the call's latency metric and its span (crate::otel).
    started: crate::otel::McpCallStart,
}

/// The parts of an outcome record beyond its kind.
#[derive(Default)]
struct Record {
    latency_ms: Option<f64>,
    result_bytes: Option<usize>,
    result_sha256: Option<String>,
    error: Option<String>,
    approval_id: Option<String>,
    dispatch_decision: Option<Value>,
}

struct Dispatch<'a> {
    routed: &'a Routed,
    approval: Option<(&'a str, Value)>,
    species: Option<&'a str>,
}

async fn forward_and_record(
    hall: &Hall,
    audit: &Audit,
    forward: CallToolRequestParams,
    dispatch: Dispatch<'_>,
) -> CallToolResult {
    let routed = dispatch.routed;
    let mut record = Record {
        approval_id: dispatch.approval.as_ref().map(|(id, _)| id.to_string()),
        dispatch_decision: dispatch.approval.map(|(_, d)| d),
        ..Record::default()
    };
    // The decision selects a species; the call goes to this tool's server only if it is one.
    let server = hall
        .mcp()
        .server(&audit.offered.worker_id)
        .filter(|s| Some(hall.species_of(&s.worker_id).as_deref()) == Some(dispatch.species));
    let Some(server) = server else {
        let message = format!(
            "the decision selected worker species {}, which is not the species of {}, the MCP server of this tool",
            dispatch.species.unwrap_or("(none)"),
            audit.offered.worker_id
        );
        record.error = Some(message.clone());
        let result = refusal("PROCTOR_NOT_FORWARDED", &message, Some(routed));
        return finish(hall, audit, routed, Outcome::NotForwarded, record, result).await;
    };
    let started = Instant::now();
    let outcome = server.call(forward).await;
    let latency = started.elapsed();
    record.latency_ms = Some(latency.as_secs_f64() * 1000.0);
    let (kind, result) = match outcome {
        CallOutcome::Answered {
            mut result,
            bytes,
            sha256,
        } => {
            record.result_bytes = Some(bytes);
            record.result_sha256 = Some(sha256);
            let kind = if result.is_error == Some(true) {
                Outcome::ToolError
            } else {
                Outcome::Ok
            };
            attach_meta(&mut result, routed);
            (kind, *result)
        }
        CallOutcome::ProtocolError(e) => (
            Outcome::ProtocolError,
            failure(
                &mut record,
                "PROCTOR_DOWNSTREAM_ERROR",
                format!("the MCP server answered with an error: {e}"),
                routed,
            ),
        ),
        CallOutcome::Timeout(t) => (
            Outcome::Timeout,
            failure(
                &mut record,
                "PROCTOR_TIMEOUT",
                format!("the tool did not answer within {} s", t.as_secs()),
                routed,
            ),
        ),
        CallOutcome::Unavailable(e) => (
            Outcome::Unavailable,
            failure(&mut record, "PROCTOR_SERVER_UNAVAILABLE", e, routed),
        ),
        CallOutcome::Busy(n) => (
            Outcome::Busy,
            failure(
                &mut record,
                "PROCTOR_BUSY",
                format!("{n} calls to this MCP server are already in flight; try again"),
                routed,
            ),
        ),
        CallOutcome::TooLarge { bytes, limit } => {
            record.result_bytes = Some(bytes);
            (Outcome::TooLarge, failure(&mut record, "PROCTOR_RESULT_TOO_LARGE", format!("the tool's result is {bytes} bytes; the limit is {limit} (mcp.max_result_bytes)"), routed))
        }
    };
    hall.mcp_call_health(&server.worker_id, kind, latency);
    finish(hall, audit, routed, kind, record, result).await
}

fn failure(record: &mut Record, code: &str, message: String, routed: &Routed) -> CallToolResult {
    let result = refusal(code, &message, Some(routed));
    record.error = Some(message);
    result
}

/// Record the call's outcome and answer. The record is queued before the answer leaves, so it is
/// committed in order and before the ledger closes; by default the answer does not wait for its
/// fsync (`[mcp] record_outcome`). With `before_answer`, an outcome that cannot be recorded
/// withholds the result (fail closed: what is answered is audited).
async fn finish(
    hall: &Hall,
    audit: &Audit,
    routed: &Routed,
    outcome: Outcome,
    record: Record,
    result: CallToolResult,
) -> CallToolResult {
    hall.observe_mcp_call(
        &audit.started,
        crate::otel::McpCallEnd {
            server: &audit.offered.worker_id,
            tool: &audit.tool,
            outcome,
            decision_id: &routed.receipt.decision_id,
            session_id: &audit.caller.session_id,
        },
    );
    let body = json!({
        "session_id": audit.caller.session_id,
        "client": audit.caller.client,
        "capability_id": audit.offered.capability_id,
        "tenant_id": audit.caller.conditions.tenant_id,
        "arguments": audit.arguments,
        "arguments_sha256": audit.arguments_sha256,
        "outcome": outcome,
        "latency_ms": record.latency_ms,
        "result_bytes": record.result_bytes,
        "result_sha256": record.result_sha256,
        "error": record.error,
        "approval_id": record.approval_id,
        "dispatch_decision": record.dispatch_decision,
    });
    let linked = ledger::NewLinkedRecord {
        at: Utc::now(),
        kind: "mcp_call".into(),
        decision_id: routed.receipt.decision_id.clone(),
        correlation_id: audit.correlation_id.clone(),
        server: Some(audit.offered.worker_id.clone()),
        tool: Some(audit.tool.clone()),
        body,
    };
    let after_answer = hall.mcp().settings().record_outcome == RecordOutcome::AfterAnswer;
    let urgency = if after_answer {
        ledger::Urgency::Soon
    } else {
        ledger::Urgency::Now
    };
    let recorded = hall.record_linked(linked, urgency);
    let session_id = audit.caller.session_id.clone();
    let announce = {
        let hall = hall.clone();
        move |stored: ledger::LinkedRecord| {
            hall.mcp().sessions.count_call(&session_id);
            hall.publish(HallEvent::McpCall(std::sync::Arc::new(stored)));
        }
    };
    if after_answer {
        let decision_id = routed.receipt.decision_id.clone();
        tokio::spawn(async move {
            match recorded.await {
                Ok(stored) => announce(stored),
                // The decision is in the ledger; only this outcome is missing (and the
                // ledger_unwritable alert is up while writes fail).
                Err(e) => {
                    tracing::error!(%decision_id, error = %e, "a tool call's outcome could not be recorded")
                }
            }
        });
        return result;
    }
    match recorded.await {
        Ok(stored) => {
            announce(stored);
            result
        }
        Err(e) => refusal(
            "DENY_LEDGER_UNAVAILABLE",
            &format!("the call's outcome could not be recorded, so its result is withheld: {e}"),
            Some(routed),
        ),
    }
}

/// A call whose decision asked for a person.
struct Held<'a> {
    input: &'a Value,
    routed: &'a Routed,
    code: DenyCode,
    reason: Option<String>,
}

async fn hold_for_approval(
    hall: &Hall,
    audit: &Audit,
    forward: CallToolRequestParams,
    held: Held<'_>,
) -> CallToolResult {
    let Held {
        input,
        routed,
        code,
        reason,
    } = held;
    let gateway = hall.mcp();
    let now = Utc::now();
    let timeout = std::time::Duration::from_secs(gateway.settings().approval_timeout_s);
    let approval = Approval {
        id: uuid::Uuid::new_v4().to_string(),
        decision_id: routed.receipt.decision_id.clone(),
        correlation_id: audit.correlation_id.clone(),
        capability_id: audit.offered.capability_id.clone(),
        tool: audit.tool.clone(),
        worker_id: audit.offered.worker_id.clone(),
        deny_code: code.as_str().to_string(),
        reason,
        arguments: audit.arguments.clone(),
        arguments_sha256: audit.arguments_sha256.clone(),
        session_id: audit.caller.session_id.clone(),
        client: audit.caller.client.clone(),
        requested_at: now,
        expires_at: now + chrono::Duration::from_std(timeout).unwrap_or_default(),
        state: ApprovalState::Pending,
        verdict: None,
    };
    let id = approval.id.clone();
    let mut waiting = gateway.approvals.hold(approval.clone());
    hall.publish(HallEvent::Approval(std::sync::Arc::new(approval)));
    // A client that leaves while waiting ends the approval as cancelled (this future is dropped).
    let guard = CancelOnDrop {
        hall: hall.clone(),
        id: Some(id.clone()),
    };
    let resolution = tokio::select! {
        r = &mut waiting => r.ok(),
        // The client cancelled or left: the guard below ends the approval as cancelled.
        () = audit.caller.cancelled.cancelled() => {
            drop(guard);
            return refusal(code.as_str(), "the client cancelled the call while it waited for a person", Some(routed));
        }
        () = tokio::time::sleep(timeout) => match gateway.approvals.take(&id) {
            Ok(taken) => {
                let verdict = Verdict { by: "proctor".into(), at: Utc::now(), note: Some(format!("no verdict within {} s", timeout.as_secs())) };
                let _ = end_approval(hall, taken, ApprovalState::Expired, verdict.clone()).await;
                None
            }
            // A person decided just now: their verdict is on its way.
            Err(_) => waiting.await.ok(),
        },
    };
    guard.disarm();
    let deny = |by: String| {
        let message = format!("{by} (decision {})", routed.receipt.decision_id);
        (
            Outcome::Denied,
            refusal(code.as_str(), &message, Some(routed)),
        )
    };
    let record = Record {
        approval_id: Some(id.clone()),
        ..Record::default()
    };
    let (outcome, result) = match resolution {
        Some(Resolution::Approved(_)) => {
            let approved = hall.decide_approved(input.clone());
            return match approved {
                Ok(dispatched) if !dispatched.denied => {
                    let json = serde_json::to_value(&dispatched).unwrap_or(Value::Null);
                    let dispatch = Dispatch {
                        routed,
                        approval: Some((&id, json)),
                        species: dispatched.selected_worker_species_id.as_deref(),
                    };
                    forward_and_record(hall, audit, forward, dispatch).await
                }
                Ok(dispatched) => {
                    let reason = dispatched.deny_reason_if_denied.as_ref();
                    let code = reason.map_or("DENY_INTERNAL_ERROR", |r| r.code.as_str());
                    let message = format!(
                        "approved, but the dispatch was then refused: {}",
                        reason.map_or("", |r| r.message.as_str())
                    );
                    let record = Record {
                        approval_id: Some(id.clone()),
                        error: Some(message.clone()),
                        dispatch_decision: serde_json::to_value(&dispatched).ok(),
                        ..Record::default()
                    };
                    let result = refusal(code, &message, Some(routed));
                    finish(hall, audit, routed, Outcome::Denied, record, result).await
                }
                Err(e) => refusal("PROCTOR_INVALID_CALL", &e, Some(routed)),
            };
        }
        Some(Resolution::Denied(v)) => deny(format!(
            "denied by {}{}",
            v.by,
            v.note.map(|n| format!(": {n}")).unwrap_or_default()
        )),
        Some(Resolution::Unrecorded(e)) => (
            Outcome::Denied,
            refusal(
                "DENY_LEDGER_UNAVAILABLE",
                &format!("the verdict could not be recorded: {e}"),
                Some(routed),
            ),
        ),
        None => deny(format!(
            "no verdict within {} s; the call was not made",
            timeout.as_secs()
        )),
    };
    finish(hall, audit, routed, outcome, record, result).await
}

/// Record how an approval ended (hash-chained, linked to its decision), keep it for the
/// listing, publish it, and tell a waiting call. An approval is the waiter's to forward.
pub async fn end_approval(
    hall: &Hall,
    taken: Taken,
    state: ApprovalState,
    verdict: Verdict,
) -> Result<Approval, String> {
    let mut approval = taken.approval;
    approval.state = state;
    approval.verdict = Some(verdict.clone());
    let linked = ledger::NewLinkedRecord {
        at: verdict.at,
        kind: "approval".into(),
        decision_id: approval.decision_id.clone(),
        correlation_id: approval.correlation_id.clone(),
        server: Some(approval.worker_id.clone()),
        tool: Some(approval.tool.clone()),
        body: serde_json::to_value(&approval).unwrap_or(Value::Null),
    };
    let recorded = hall.record_linked(linked, ledger::Urgency::Now).await;
    hall.mcp().approvals.finish(approval.clone());
    hall.publish(HallEvent::Approval(std::sync::Arc::new(approval.clone())));
    let resolution = match (&recorded, state) {
        (Err(e), _) => Resolution::Unrecorded(e.clone()),
        (Ok(_), ApprovalState::Approved) => Resolution::Approved(verdict),
        (Ok(_), _) => Resolution::Denied(verdict),
    };
    let _ = taken.waiter.send(resolution);
    recorded.map(|_| approval)
}

/// Ends a still-pending approval as cancelled when the waiting call is dropped (its client left).
struct CancelOnDrop {
    hall: Hall,
    id: Option<String>,
}

impl CancelOnDrop {
    fn disarm(mut self) {
        self.id = None;
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        let Some(id) = self.id.take() else { return };
        let Ok(taken) = self.hall.mcp().approvals.take(&id) else {
            return;
        };
        let hall = self.hall.clone();
        tokio::spawn(async move {
            let verdict = Verdict {
                by: "proctor".into(),
                at: Utc::now(),
                note: Some("the client disconnected while waiting".into()),
            };
            let _ = end_approval(&hall, taken, ApprovalState::Cancelled, verdict).await;
        });
    }
}

/// A refused call: `isError`, text starting with the code, then the message, then the decision.
pub fn refusal(code: &str, message: &str, routed: Option<&Routed>) -> CallToolResult {
    let mut text = format!("{code}: {message}");
    if let Some(r) = routed {
        if !text.contains(&r.receipt.decision_id) {
            text.push_str(&format!(" (decision {})", r.receipt.decision_id));
        }
    }
    let mut result = CallToolResult::error(vec![ContentBlock::text(text)]);
    if let Some(r) = routed {
        attach_meta(&mut result, r);
    }
    result
}

/// `_meta.proctor`: the decision id and its evidence receipt.
fn attach_meta(result: &mut CallToolResult, routed: &Routed) {
    let mut meta = result.meta.take().map(|m| m.0).unwrap_or_default();
    meta.insert(
        "proctor".into(),
        json!({"decision_id": routed.receipt.decision_id, "evidence_receipt": routed.receipt}),
    );
    result.meta = Some(MetaObject(meta));
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}
