//! The hash chains: `hash = sha256(prev_hash ‖ json)` where `json` is a record's exact bytes
//! and the first `prev_hash` is the chain's genesis. The decision chain starts from the file's
//! random genesis value; the linked-record chain (linked.rs) from one derived from it. This
//! module holds the pure chain logic (hashing, checkpoints, diagnosing the first bad record) so
//! that any backend and both chains verify the same way; backends only stream rows into
//! [`Walker`].

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::record::DecisionFields;

pub type Hash = [u8; 32];

/// `sha256(prev ‖ json)`.
pub fn chain_hash(prev: &Hash, json: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(json);
    h.finalize().into()
}

/// A retention checkpoint: the pruned prefix ended at `through_seq` whose hash was
/// `through_hash`. Checkpoints chain too (from the genesis), so editing one is detected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Checkpoint {
    pub through_seq: i64,
    #[serde(serialize_with = "hex_bytes")]
    pub through_hash: Hash,
    /// Records pruned by all checkpoints so far.
    pub pruned_total: i64,
    #[serde(skip)]
    pub hash: Hash,
}

fn hex_bytes<S: serde::Serializer>(bytes: &Hash, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(bytes))
}

pub fn checkpoint_hash(
    prev: &Hash,
    through_seq: i64,
    through_hash: &Hash,
    pruned_total: i64,
) -> Hash {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(through_seq.to_be_bytes());
    h.update(through_hash);
    h.update(pruned_total.to_be_bytes());
    h.finalize().into()
}

/// Which hash chain a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Chain {
    /// The routing decisions.
    Decisions,
    /// The records linked to decisions (MCP call outcomes, approvals: linked.rs).
    Linked,
}

impl Chain {
    /// What one record of this chain is called in messages.
    pub fn noun(self) -> &'static str {
        match self {
            Self::Decisions => "record",
            Self::Linked => "linked record",
        }
    }
}

/// What is wrong with the first bad record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Problem {
    /// The record's JSON or hash was changed after it was chained.
    Edited,
    /// A filter column no longer matches the record's JSON.
    ColumnEdited { column: &'static str },
    /// Records `seq ..= last` are missing.
    Deleted { last: i64 },
    /// This record was inserted into the chain: the next one links past it.
    Inserted,
    /// This record links to record `links_to`, not to its predecessor.
    Reordered { links_to: i64 },
    /// The record links to a hash no record has: its predecessor was rewritten, or records
    /// before it were deleted and the rest renumbered.
    BrokenLink,
    /// The file's head (last committed record) says `head_seq`, but the chain ends elsewhere.
    HeadMismatch { head_seq: i64, last_seq: i64 },
    /// The chain ends at the head's seq, but this last record's hash is not the head's hash.
    /// The file alone cannot tell which side changed: the record (rewritten and re-hashed, the
    /// one edit nothing after it would reveal) or the head.
    HeadHashMismatch,
    /// A retention checkpoint was edited.
    BadCheckpoint,
    /// SQLite could not read the file at this point.
    Corrupt { detail: String },
    /// (Linked chain) The record names decision `decision_seq`, which is not in the ledger and
    /// was not pruned.
    DecisionMissing { decision_seq: i64 },
    /// (Linked chain) The decision at `decision_seq` no longer has the id or the chain hash the
    /// record was linked to: the decision (and the decision chain after it) was rewritten, or
    /// the link was.
    DecisionChanged { decision_seq: i64 },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The chain the bad record is in.
    pub chain: Chain,
    /// The first bad record's `seq` (in its chain).
    pub seq: i64,
    pub problem: Problem,
}

impl Finding {
    /// A finding in the decision chain.
    pub fn decision(seq: i64, problem: Problem) -> Self {
        Self {
            chain: Chain::Decisions,
            seq,
            problem,
        }
    }

    /// A finding in the linked-record chain.
    pub fn linked(seq: i64, problem: Problem) -> Self {
        Self {
            chain: Chain::Linked,
            seq,
            problem,
        }
    }
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let seq = self.seq;
        let record = self.chain.noun();
        let (chain, head, head_table) = match self.chain {
            Chain::Decisions => ("the chain", "the ledger head", "chain_state"),
            Chain::Linked => ("the linked-record chain", "its head", "linked_chain_state"),
        };
        match &self.problem {
            Problem::Edited => write!(f, "{record} {seq} was edited: its content does not match its hash"),
            Problem::ColumnEdited { column } => {
                write!(f, "{record} {seq} was edited: column `{column}` does not match the record's JSON")
            }
            Problem::Deleted { last } if *last == seq => write!(f, "{record} {seq} was deleted"),
            Problem::Deleted { last } => write!(f, "{record}s {seq}..={last} were deleted"),
            Problem::Inserted => write!(f, "{record} {seq} was inserted: the next record links past it"),
            Problem::Reordered { links_to } => write!(
                f,
                "{record} {seq} is out of order: it links to {record} {links_to}, not to its predecessor"
            ),
            Problem::BrokenLink => write!(
                f,
                "{record} {seq} does not link to its predecessor: the predecessor was rewritten, \
                 or records before {seq} were deleted and the rest renumbered"
            ),
            Problem::HeadMismatch { head_seq, last_seq } => write!(
                f,
                "{chain} ends at {record} {last_seq} but {head} says {head_seq} \
                 (records were {} the end)",
                if last_seq < head_seq { "deleted at" } else { "appended behind the writer's back at" }
            ),
            Problem::HeadHashMismatch => write!(
                f,
                "{record} {seq}, the last one, does not have the hash {head} committed: \
                 either the record was rewritten with a new hash or the head ({head_table}) was edited"
            ),
            Problem::BadCheckpoint => write!(f, "the retention checkpoint through {record} {seq} was edited"),
            Problem::Corrupt { detail } => write!(f, "the file is corrupt at {record} {seq}: {detail}"),
            Problem::DecisionMissing { decision_seq } => write!(
                f,
                "{record} {seq} is linked to decision record {decision_seq}, which is not in the \
                 ledger and was not pruned"
            ),
            Problem::DecisionChanged { decision_seq } => write!(
                f,
                "{record} {seq} no longer matches decision record {decision_seq} it is linked to \
                 (its decision id or chain hash differs): the decision was rewritten, or the link"
            ),
        }
    }
}

/// The outcome of a full walk: the decision chain, then (once that is intact) the
/// linked-record chain, whose links are checked against the decisions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    /// Decisions checked.
    pub records_checked: u64,
    /// The seq of the last checked decision (0 if none).
    pub last_seq: i64,
    /// The latest retention checkpoint of the decision chain the walk started from, if any.
    pub checkpoint: Option<Checkpoint>,
    /// Linked records checked (0 when the decision chain is broken: not walked then).
    pub linked_records: u64,
    /// The seq of the last checked linked record (0 if none).
    pub linked_last_seq: i64,
    /// The latest retention checkpoint of the linked chain, if any.
    pub linked_checkpoint: Option<Checkpoint>,
    /// Linked records whose decision was pruned by retention: their link can no longer be
    /// checked against it (expected after a prune, not a break).
    pub linked_to_pruned: u64,
    /// The first bad record, decision chain first (see [`Finding::chain`]); `None` when both
    /// chains are intact.
    pub finding: Option<Finding>,
}

impl VerifyReport {
    pub fn is_intact(&self) -> bool {
        self.finding.is_none()
    }
}

/// Progress of a long verify: records checked so far of about `total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub done: u64,
    pub total: u64,
}

/// One stored record as the walker needs it.
pub struct ChainRow<'a> {
    pub seq: i64,
    pub prev_hash: &'a [u8],
    pub hash: &'a [u8],
    pub json: &'a [u8],
    /// The first stored column that no longer says what the JSON says (the backend compares
    /// them: [`decision_column_mismatch`] for decisions, plus the lookup keys it derives from
    /// ids such as SQLite's `decision_key`); `None` when all match. Reported only once the
    /// record's hash and link are good, so an edit of the JSON itself is named as such.
    pub mismatched_column: Option<&'static str>,
    /// What is wrong with the record's link outside its chain (a linked record's link to its
    /// decision), reported after everything else; `None` when sound or not applicable.
    pub outside_link: Option<Problem>,
}

/// Random-access questions the walker asks only after it found a bad link. Errors are the
/// store's own messages; the walker reports them as corruption at the record it was checking.
pub trait ChainLookup {
    /// The seq of the record whose hash is `hash`, if any.
    fn seq_with_hash(&mut self, hash: &[u8]) -> Result<Option<i64>, String>;
    /// The `prev_hash` of record `seq`, if it exists.
    fn prev_hash_of(&mut self, seq: i64) -> Result<Option<Vec<u8>>, String>;
}

/// Streams records in `seq` order and stops at the first bad one. O(1) memory.
pub struct Walker {
    chain: Chain,
    expected_seq: i64,
    prev: Hash,
    checked: u64,
}

impl Walker {
    /// Walk `chain` from after `start_seq` (0, or a checkpoint's last pruned seq) whose hash
    /// is `start_hash`.
    pub fn new(chain: Chain, start_seq: i64, start_hash: Hash) -> Self {
        Self {
            chain,
            expected_seq: start_seq + 1,
            prev: start_hash,
            checked: 0,
        }
    }

    fn finding(&self, seq: i64, problem: Problem) -> Finding {
        Finding {
            chain: self.chain,
            seq,
            problem,
        }
    }

    pub fn checked(&self) -> u64 {
        self.checked
    }

    /// The seq of the last good record.
    pub fn last_seq(&self) -> i64 {
        self.expected_seq - 1
    }

    /// Check the next row; `Some` is the first bad record.
    pub fn step(&mut self, row: &ChainRow<'_>, lookup: &mut dyn ChainLookup) -> Option<Finding> {
        let seq = self.expected_seq;
        let found = |problem| Some(self.finding(seq, problem));
        if row.seq != seq {
            return found(Problem::Deleted { last: row.seq - 1 });
        }
        let (Ok(prev_hash), Ok(hash)) = (Hash::try_from(row.prev_hash), Hash::try_from(row.hash))
        else {
            return found(Problem::Edited);
        };
        if chain_hash(&prev_hash, row.json) != hash {
            return found(Problem::Edited);
        }
        if prev_hash != self.prev {
            return Some(
                self.diagnose_link(row, lookup)
                    .unwrap_or_else(|detail| self.finding(seq, Problem::Corrupt { detail })),
            );
        }
        if let Some(column) = row.mismatched_column {
            return found(Problem::ColumnEdited { column });
        }
        if let Some(problem) = &row.outside_link {
            return found(problem.clone());
        }
        self.prev = hash;
        self.expected_seq += 1;
        self.checked += 1;
        None
    }

    /// The record is self-consistent but links elsewhere: work out how it got there.
    fn diagnose_link(
        &self,
        row: &ChainRow<'_>,
        lookup: &mut dyn ChainLookup,
    ) -> Result<Finding, String> {
        let seq = row.seq;
        let finding = match lookup.seq_with_hash(row.prev_hash)? {
            // It skips its predecessor and links to the one before: the predecessor is a forgery.
            Some(t) if t == seq - 2 => self.finding(seq - 1, Problem::Inserted),
            Some(links_to) => self.finding(seq, Problem::Reordered { links_to }),
            None => {
                // If the next record links to our predecessor, this record is the forgery.
                let next_links_here = lookup
                    .prev_hash_of(seq + 1)?
                    .is_some_and(|p| p == self.prev);
                let problem = if next_links_here {
                    Problem::Inserted
                } else {
                    Problem::BrokenLink
                };
                self.finding(seq, problem)
            }
        };
        Ok(finding)
    }

    /// After the last row: the chain must end where the ledger's head says.
    pub fn finish(&self, head_seq: i64, head_hash: &Hash) -> Option<Finding> {
        let last_seq = self.last_seq();
        if last_seq != head_seq {
            return Some(self.finding(
                last_seq.min(head_seq) + 1,
                Problem::HeadMismatch { head_seq, last_seq },
            ));
        }
        (self.checked > 0 && &self.prev != head_hash)
            .then(|| self.finding(last_seq, Problem::HeadHashMismatch))
    }
}

/// The first filter column of a decision (`stored`) that no longer says what its JSON says.
pub fn decision_column_mismatch(json: &[u8], stored: &DecisionFields) -> Option<&'static str> {
    let Ok(json) = std::str::from_utf8(json) else {
        return Some("json");
    };
    let Ok(truth) = DecisionFields::from_json(json) else {
        return Some("json");
    };
    let s = stored;
    // Every column a reader trusts instead of the JSON (exports, search) must be held to it.
    let checks: [(&'static str, bool); 15] = [
        ("ts", s.ts_micros == truth.ts_micros),
        ("decision_id", s.decision_id == truth.decision_id),
        ("correlation_id", s.correlation_id == truth.correlation_id),
        ("tenant_id", s.tenant_id == truth.tenant_id),
        ("capability_id", s.capability_id == truth.capability_id),
        (
            "matched_rule_id",
            s.matched_rule_id == truth.matched_rule_id,
        ),
        ("worker", s.worker == truth.worker),
        ("env", s.env == truth.env),
        ("data_label", s.data_label == truth.data_label),
        ("qos_class", s.qos_class == truth.qos_class),
        ("denied", s.denied == truth.denied),
        ("deny_code", s.deny_code == truth.deny_code),
        ("deny_message", s.deny_message == truth.deny_message),
        ("dry_run", s.dry_run == truth.dry_run),
        ("artifact_hash", s.artifact_hash == truth.artifact_hash),
    ];
    checks.into_iter().find(|(_, ok)| !ok).map(|(name, _)| name)
}
