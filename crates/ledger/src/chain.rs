//! The hash chain: `hash = sha256(prev_hash ‖ json)` where `json` is the decision's exact bytes
//! and the first `prev_hash` is the file's random genesis value. This module holds the pure
//! chain logic (hashing, checkpoints, diagnosing the first bad record) so that any backend
//! verifies the same way; backends only stream rows into [`Walker`].

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
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The first bad record's `seq`.
    pub seq: i64,
    pub problem: Problem,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let seq = self.seq;
        match &self.problem {
            Problem::Edited => write!(f, "record {seq} was edited: its content does not match its hash"),
            Problem::ColumnEdited { column } => {
                write!(f, "record {seq} was edited: column `{column}` does not match the record's JSON")
            }
            Problem::Deleted { last } if *last == seq => write!(f, "record {seq} was deleted"),
            Problem::Deleted { last } => write!(f, "records {seq}..={last} were deleted"),
            Problem::Inserted => write!(f, "record {seq} was inserted: the next record links past it"),
            Problem::Reordered { links_to } => write!(
                f,
                "record {seq} is out of order: it links to record {links_to}, not to its predecessor"
            ),
            Problem::BrokenLink => write!(
                f,
                "record {seq} does not link to its predecessor: the predecessor was rewritten, \
                 or records before {seq} were deleted and the rest renumbered"
            ),
            Problem::HeadMismatch { head_seq, last_seq } => write!(
                f,
                "the chain ends at record {last_seq} but the ledger head says {head_seq} \
                 (records were {} the end)",
                if last_seq < head_seq { "deleted at" } else { "appended behind the writer's back at" }
            ),
            Problem::HeadHashMismatch => write!(
                f,
                "record {seq}, the last one, does not have the hash the ledger head committed: \
                 either the record was rewritten with a new hash or the head (chain_state) was edited"
            ),
            Problem::BadCheckpoint => write!(f, "the retention checkpoint through record {seq} was edited"),
            Problem::Corrupt { detail } => write!(f, "the file is corrupt at record {seq}: {detail}"),
        }
    }
}

/// The outcome of a full walk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    pub records_checked: u64,
    /// The seq of the last checked record (0 if none).
    pub last_seq: i64,
    /// The latest retention checkpoint the walk started from, if any.
    pub checkpoint: Option<Checkpoint>,
    /// The first bad record; `None` when the chain is intact.
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
    pub fields: DecisionFields,
    /// A column the backend derives from the row's ids for lookups (e.g. SQLite's
    /// `decision_key`) that no longer matches them; `None` when all match.
    pub stale_key: Option<&'static str>,
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
    expected_seq: i64,
    prev: Hash,
    checked: u64,
}

impl Walker {
    /// Start after `start_seq` (0, or a checkpoint's last pruned seq) whose hash is `start_hash`.
    pub fn new(start_seq: i64, start_hash: Hash) -> Self {
        Self {
            expected_seq: start_seq + 1,
            prev: start_hash,
            checked: 0,
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
        let found = |problem| Some(Finding { seq, problem });
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
                    .unwrap_or_else(|detail| Finding {
                        seq,
                        problem: Problem::Corrupt { detail },
                    }),
            );
        }
        if let Some(column) = mismatched_column(row).or(row.stale_key) {
            return found(Problem::ColumnEdited { column });
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
            Some(t) if t == seq - 2 => Finding {
                seq: seq - 1,
                problem: Problem::Inserted,
            },
            Some(links_to) => Finding {
                seq,
                problem: Problem::Reordered { links_to },
            },
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
                Finding { seq, problem }
            }
        };
        Ok(finding)
    }

    /// After the last row: the chain must end where the ledger's head says.
    pub fn finish(&self, head_seq: i64, head_hash: &Hash) -> Option<Finding> {
        let last_seq = self.last_seq();
        if last_seq != head_seq {
            return Some(Finding {
                seq: last_seq.min(head_seq) + 1,
                problem: Problem::HeadMismatch { head_seq, last_seq },
            });
        }
        (self.checked > 0 && &self.prev != head_hash).then_some(Finding {
            seq: last_seq,
            problem: Problem::HeadHashMismatch,
        })
    }
}

/// The first filter column that no longer says what the JSON says.
fn mismatched_column(row: &ChainRow<'_>) -> Option<&'static str> {
    let Ok(json) = std::str::from_utf8(row.json) else {
        return Some("json");
    };
    let Ok(truth) = DecisionFields::from_json(json) else {
        return Some("json");
    };
    let s = &row.fields;
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
