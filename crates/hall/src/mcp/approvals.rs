//! Calls held for a person: a tool call whose decision needs a human (`DENY_REQUIRES_HUMAN`,
//! `DENY_REQUIRES_HUMAN_APPROVAL`) waits here until someone approves or denies it, it expires, or
//! its client leaves. Taking an approval out of the pending set is atomic, so exactly one of
//! those four endings wins. While its ending is being recorded it is still listed as pending
//! (it is, until the ledger holds the verdict), so a listing never loses it in between.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use tokio::sync::oneshot;

/// Decided approvals kept in memory for the Approvals screen (the ledger keeps them all).
const RECENT: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ApprovalState {
    Pending,
    Approved,
    Denied,
    /// Nobody answered within `approval_timeout_s`.
    Expired,
    /// The client went away while waiting.
    Cancelled,
}

/// Who ended a wait, when, and why.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Verdict {
    pub by: String,
    pub at: DateTime<Utc>,
    pub note: Option<String>,
}

/// A held call, as `GET /v1/approvals` lists it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Approval {
    pub id: String,
    /// The recorded decision that asked for a person.
    pub decision_id: String,
    pub correlation_id: String,
    pub capability_id: String,
    pub tool: String,
    /// The MCP worker whose tool it is.
    pub worker_id: String,
    pub deny_code: String,
    /// The gate's reason, or the blast score rationale.
    pub reason: Option<String>,
    /// The call's arguments (`null` when `record_arguments = "hash"`).
    pub arguments: Option<Value>,
    pub arguments_sha256: String,
    pub session_id: String,
    pub client: Option<String>,
    pub requested_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub state: ApprovalState,
    pub verdict: Option<Verdict>,
}

/// What the waiting call hears.
#[derive(Debug)]
pub enum Resolution {
    Approved(Verdict),
    Denied(Verdict),
    /// The verdict could not be recorded: the call is refused (fail closed).
    Unrecorded(String),
}

/// An approval taken out of the pending set: its ending is being recorded.
pub struct Taken {
    pub approval: Approval,
    pub waiter: oneshot::Sender<Resolution>,
}

#[derive(Default)]
pub struct Approvals {
    store: Mutex<Store>,
}

/// Why an approval could not be taken.
#[derive(Debug, PartialEq, Eq)]
pub enum NotTaken {
    Unknown,
    /// Another ending (a verdict, the expiry, a cancel) is being recorded right now.
    Ending,
    Ended(ApprovalState),
}

#[derive(Default)]
struct Store {
    pending: HashMap<String, Taken>,
    /// Taken, their endings not recorded yet.
    ending: HashMap<String, Approval>,
    done: VecDeque<Approval>,
}

impl Approvals {
    fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store.lock().expect("approvals lock")
    }

    /// Hold a call; its waiter hears the resolution.
    pub fn hold(&self, approval: Approval) -> oneshot::Receiver<Resolution> {
        let (tx, rx) = oneshot::channel();
        self.store().pending.insert(
            approval.id.clone(),
            Taken {
                approval,
                waiter: tx,
            },
        );
        rx
    }

    /// Take a pending approval out (for a verdict, an expiry or a cancel); [`Self::finish`]
    /// follows once its ending is recorded. `Err` says why not.
    pub fn take(&self, id: &str) -> Result<Taken, NotTaken> {
        let mut store = self.store();
        if let Some(taken) = store.pending.remove(id) {
            store.ending.insert(id.to_string(), taken.approval.clone());
            return Ok(taken);
        }
        if store.ending.contains_key(id) {
            return Err(NotTaken::Ending);
        }
        match store.done.iter().find(|a| a.id == id) {
            Some(a) => Err(NotTaken::Ended(a.state)),
            None => Err(NotTaken::Unknown),
        }
    }

    /// Keep an ended approval for the listing.
    pub fn finish(&self, approval: Approval) {
        let mut store = self.store();
        store.ending.remove(&approval.id);
        if store.done.len() == RECENT {
            store.done.pop_back();
        }
        store.done.push_front(approval);
    }

    pub fn get(&self, id: &str) -> Option<Approval> {
        let store = self.store();
        store
            .pending
            .get(id)
            .map(|t| t.approval.clone())
            .or_else(|| store.ending.get(id).cloned())
            .or_else(|| store.done.iter().find(|a| a.id == id).cloned())
    }

    pub fn pending_count(&self) -> usize {
        let store = self.store();
        store.pending.len() + store.ending.len()
    }

    /// Pending ones first (oldest first: the one waiting longest), then the ended ones, newest
    /// first.
    pub fn list(&self, pending_only: bool) -> Vec<Approval> {
        let store = self.store();
        let mut pending: Vec<Approval> = (store.pending.values().map(|t| &t.approval))
            .chain(store.ending.values())
            .cloned()
            .collect();
        pending.sort_by(|a, b| a.requested_at.cmp(&b.requested_at).then(a.id.cmp(&b.id)));
        if !pending_only {
            pending.extend(store.done.iter().cloned());
        }
        pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn approval(id: &str, at: i64) -> Approval {
        let t = DateTime::from_timestamp(at, 0).unwrap();
        Approval {
            id: id.into(),
            decision_id: format!("d-{id}"),
            correlation_id: "c".into(),
            capability_id: "cap.a.b".into(),
            tool: "t".into(),
            worker_id: "w".into(),
            deny_code: "DENY_REQUIRES_HUMAN_APPROVAL".into(),
            reason: None,
            arguments: None,
            arguments_sha256: String::new(),
            session_id: "s".into(),
            client: None,
            requested_at: t,
            expires_at: t,
            state: ApprovalState::Pending,
            verdict: None,
        }
    }

    #[test]
    fn an_approval_ends_once() {
        let a = Approvals::default();
        let mut rx = a.hold(approval("x", 1));
        let taken = a.take("x").expect("pending");
        assert_eq!(a.take("x").err(), Some(NotTaken::Ending), "taken twice");
        // Until its ending is recorded it is still listed, as pending.
        assert_eq!(a.list(true).len(), 1);
        assert_eq!(a.get("x").map(|x| x.state), Some(ApprovalState::Pending));
        let mut ended = taken.approval;
        ended.state = ApprovalState::Denied;
        a.finish(ended);
        assert_eq!(
            a.take("x").err(),
            Some(NotTaken::Ended(ApprovalState::Denied))
        );
        assert!(a.list(true).is_empty());
        assert_eq!(a.list(false).len(), 1);
        assert_eq!(a.take("y").err(), Some(NotTaken::Unknown));
        taken
            .waiter
            .send(Resolution::Unrecorded("x".into()))
            .unwrap();
        assert!(matches!(rx.try_recv(), Ok(Resolution::Unrecorded(_))));
    }

    #[test]
    fn pending_first_oldest_first_then_ended_newest_first() {
        let a = Approvals::default();
        let _r2 = a.hold(approval("late", 20));
        let _r1 = a.hold(approval("early", 10));
        for (id, at) in [("old", 1), ("new", 2)] {
            let mut done = approval(id, at);
            done.state = ApprovalState::Expired;
            a.finish(done);
        }
        let ids: Vec<String> = a.list(false).into_iter().map(|x| x.id).collect();
        assert_eq!(ids, ["early", "late", "new", "old"]);
        assert_eq!(a.list(true).len(), 2);
        assert_eq!(a.pending_count(), 2);
    }
}
