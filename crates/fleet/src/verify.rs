//! `proctor fleet verify`: every hall's chains re-verified from the central rows alone. For
//! each hall, in order, the first problem wins:
//! 1. its retention checkpoints (both chains) chain from its genesis (`ledger::checkpoint_hash`);
//! 2. its decisions: seqs contiguous (a gap only where a retention checkpoint or a central
//!    prune (`central_prunes`) covers it, the next record linking to its hash), each record's
//!    `prev_hash` the previous `hash`, `hash = sha256(prev_hash ‖ body)`, and the filter columns
//!    what the body says;
//! 3. its linked records, the same way from the linked genesis;
//! 4. its signed checkpoints: each signed by the registered key (checked by the caller's
//!    [`NoteVerifier`], the hall's own code) and naming the hash the chain has at that size.

use std::collections::BTreeMap;

use futures_util::{pin_mut, TryStreamExt};
use ledger::{chain_hash, checkpoint_hash, linked_genesis, DecisionFields};
use serde::Serialize;
use tokio_postgres::{Client, Row};

use crate::decision_row::{self, FIELD_COLUMNS};
use crate::error::FleetError;

/// Checks a signed checkpoint note against a hall's verifier key: its signature and origin.
/// Returns the size and head hash (hex) it signs.
pub trait NoteVerifier {
    fn open(&self, note: &str, verifier_key: &str) -> Result<(i64, String), String>;
}

/// One hall's verdict (the `--json` shape).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HallReport {
    pub hall_id: String,
    /// Decisions checked.
    pub records: i64,
    /// The newest decision seq held centrally (0: none).
    pub head_seq: i64,
    pub ok: bool,
    /// The first bad record's seq (of the chain the message names).
    pub first_bad_seq: Option<i64>,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FleetReport {
    pub halls: Vec<HallReport>,
}

impl FleetReport {
    pub fn ok(&self) -> bool {
        self.halls.iter().all(|h| h.ok)
    }
}

/// A problem found: which record, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bad {
    pub seq: Option<i64>,
    pub message: String,
}

fn bad(seq: impl Into<Option<i64>>, message: String) -> Bad {
    Bad {
        seq: seq.into(),
        message,
    }
}

/// Verify every registered hall.
pub async fn verify_all(
    client: &Client,
    notes: &dyn NoteVerifier,
) -> Result<FleetReport, FleetError> {
    let halls = client
        .query(
            "SELECT hall_id, verifier_key, genesis FROM halls ORDER BY hall_id",
            &[],
        )
        .await?;
    let mut reports = Vec::with_capacity(halls.len());
    for hall in halls {
        let hall_id: String = hall.get(0);
        let key: String = hall.get(1);
        let genesis: Option<Vec<u8>> = hall.get(2);
        reports.push(verify_hall(client, &hall_id, &key, genesis, notes).await?);
    }
    Ok(FleetReport { halls: reports })
}

async fn verify_hall(
    client: &Client,
    hall_id: &str,
    verifier_key: &str,
    genesis: Option<Vec<u8>>,
    notes: &dyn NoteVerifier,
) -> Result<HallReport, FleetError> {
    let mut report = HallReport {
        hall_id: hall_id.to_string(),
        records: 0,
        head_seq: 0,
        ok: true,
        first_bad_seq: None,
        message: String::new(),
    };
    let outcome = match genesis {
        None => Err(bad(None, "the hall registered no chain genesis".into())),
        Some(genesis) => {
            walk_hall(client, hall_id, verifier_key, &genesis, notes, &mut report).await?
        }
    };
    match outcome {
        Ok(message) => report.message = message,
        Err(b) => {
            report.ok = false;
            report.first_bad_seq = b.seq;
            report.message = b.message;
        }
    }
    Ok(report)
}

async fn walk_hall(
    client: &Client,
    hall_id: &str,
    verifier_key: &str,
    genesis: &[u8],
    notes: &dyn NoteVerifier,
    report: &mut HallReport,
) -> Result<Result<String, Bad>, FleetError> {
    let linked_start = linked_genesis(genesis).to_vec();
    let mut decisions = Walk::new("record", genesis);
    let mut linked = Walk::new("linked record", &linked_start);
    for (chain, walk) in [("decisions", &mut decisions), ("linked", &mut linked)] {
        if let Err(b) = load_retention(client, hall_id, chain, walk).await? {
            return Ok(Err(b));
        }
    }
    if let Err(b) = load_prunes(client, hall_id, &mut decisions).await? {
        return Ok(Err(b));
    }
    let signed = client
        .query(
            "SELECT size, head_hash, note FROM checkpoints WHERE hall_id = $1 ORDER BY size",
            &[&hall_id],
        )
        .await?;
    for row in &signed {
        decisions.want(row.get(0));
    }

    let walked = walk_decisions(client, hall_id, &mut decisions).await?;
    report.records = decisions.records;
    report.head_seq = decisions.last_seq;
    if let Err(b) = walked {
        return Ok(Err(b));
    }
    let walked = walk_linked(client, hall_id, &mut linked).await?;
    if let Err(b) = walked {
        return Ok(Err(b));
    }

    let mut checked = 0;
    for row in &signed {
        let (size, head_hash, note): (i64, Vec<u8>, String) = (row.get(0), row.get(1), row.get(2));
        let (signed_size, signed_hash) = match notes.open(&note, verifier_key) {
            Ok((size, hash)) => (size, hex::decode(hash).unwrap_or_default()),
            Err(why) => return Ok(Err(bad(size, format!("signed checkpoint {size}: {why}")))),
        };
        if signed_size != size || signed_hash != head_hash {
            return Ok(Err(bad(
                size,
                format!("signed checkpoint {size}: its size or hash column differs from the signed note"),
            )));
        }
        match decisions.hash_at(size) {
            Known::Hash(hash) if hash == signed_hash => checked += 1,
            Known::Hash(_) => {
                return Ok(Err(bad(
                    size,
                    format!(
                        "record {size} is not the one the hall signed in its checkpoint of size \
                         {size}: the chain was rewritten up to there"
                    ),
                )))
            }
            Known::Pruned => {}
            Known::Beyond => {
                return Ok(Err(bad(
                    decisions.last_seq + 1,
                    format!(
                        "the hall signed a checkpoint of {size} records but the central store \
                         holds records up to {} only: records were deleted",
                        decisions.last_seq
                    ),
                )))
            }
        }
    }
    Ok(Ok(format!(
        "{} decisions (head {}) and {} linked records verified, {checked} signed checkpoints",
        decisions.records, decisions.last_seq, linked.records
    )))
}

async fn load_retention(
    client: &Client,
    hall_id: &str,
    chain: &str,
    walk: &mut Walk,
) -> Result<Result<(), Bad>, FleetError> {
    let rows = client
        .query(
            "SELECT id, through_seq, through_hash, pruned_total, hash FROM retention_checkpoints \
             WHERE hall_id = $1 AND chain = $2 ORDER BY id",
            &[&hall_id, &chain],
        )
        .await?;
    let mut prev = walk.genesis.clone();
    for row in rows {
        let (id, through_seq, through_hash, pruned_total, hash): (i64, i64, Vec<u8>, i64, Vec<u8>) =
            (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4));
        let (Ok(p), Ok(t)) = (
            <[u8; 32]>::try_from(prev.as_slice()),
            <[u8; 32]>::try_from(through_hash.as_slice()),
        ) else {
            return Ok(Err(bad(
                through_seq,
                format!("{chain} retention checkpoint {id} holds a malformed hash"),
            )));
        };
        if checkpoint_hash(&p, through_seq, &t, pruned_total).as_slice() != hash.as_slice() {
            return Ok(Err(bad(
                through_seq,
                format!(
                    "{chain} retention checkpoint {id} (through {} {through_seq}) was edited",
                    walk.noun
                ),
            )));
        }
        walk.cover(1, through_seq, through_hash);
        prev = hash;
    }
    Ok(Ok(()))
}

async fn load_prunes(
    client: &Client,
    hall_id: &str,
    walk: &mut Walk,
) -> Result<Result<(), Bad>, FleetError> {
    let rows = client
        .query(
            "SELECT from_seq, through_seq, through_hash FROM central_prunes WHERE hall_id = $1",
            &[&hall_id],
        )
        .await?;
    for row in rows {
        walk.cover(row.get(0), row.get(1), row.get(2));
    }
    Ok(Ok(()))
}

/// The decisions in seq order, each also checked for filter columns that say what its body says.
async fn walk_decisions(
    client: &Client,
    hall_id: &str,
    walk: &mut Walk,
) -> Result<Result<(), Bad>, FleetError> {
    let sql = format!(
        "SELECT seq, prev_hash, hash, body, {FIELD_COLUMNS} FROM decisions WHERE hall_id = $1 \
         ORDER BY seq"
    );
    walk_chain(
        client,
        &sql,
        hall_id,
        walk,
        |seq, body, row| match DecisionFields::from_json(body) {
            Ok(fields) if fields == decision_row::fields(row, 4) => Ok(()),
            Ok(_) => Err(bad(
                seq,
                format!("record {seq} was edited: a column no longer says what its JSON says"),
            )),
            Err(e) => Err(bad(seq, format!("record {seq}: {e}"))),
        },
    )
    .await
}

async fn walk_linked(
    client: &Client,
    hall_id: &str,
    walk: &mut Walk,
) -> Result<Result<(), Bad>, FleetError> {
    let sql =
        "SELECT seq, prev_hash, hash, json FROM linked_records WHERE hall_id = $1 ORDER BY seq";
    walk_chain(client, sql, hall_id, walk, |_, _, _| Ok(())).await
}

/// Stream `sql`'s rows (seq, prev_hash, hash, the chained text, then anything `check` reads)
/// through `walk`, then `check` each linked row; the first problem wins.
async fn walk_chain(
    client: &Client,
    sql: &str,
    hall_id: &str,
    walk: &mut Walk,
    check: impl Fn(i64, &str, &Row) -> Result<(), Bad>,
) -> Result<Result<(), Bad>, FleetError> {
    let rows = client.query_raw(sql, [hall_id]).await?;
    pin_mut!(rows);
    while let Some(row) = rows.try_next().await? {
        let (seq, text): (i64, &str) = (row.get(0), row.get(3));
        if let Err(b) = walk
            .step(seq, row.get(1), row.get(2), text.as_bytes())
            .and_then(|()| check(seq, text, &row))
        {
            return Ok(Err(b));
        }
    }
    Ok(Ok(()))
}

/// What the chain says at a seq a signed checkpoint names.
#[derive(Debug, PartialEq, Eq)]
pub enum Known {
    Hash(Vec<u8>),
    /// Inside a pruned range that does not end there: no longer checkable.
    Pruned,
    /// Past the newest record held.
    Beyond,
}

/// One chain's walk in seq order, O(1) memory besides the hashes wanted for checkpoints.
#[derive(Debug)]
pub struct Walk {
    noun: &'static str,
    genesis: Vec<u8>,
    /// Pruned ranges: from_seq → (through_seq, hash of through_seq).
    covered: BTreeMap<i64, (i64, Vec<u8>)>,
    next_seq: i64,
    prev: Vec<u8>,
    pub records: i64,
    pub last_seq: i64,
    wanted: BTreeMap<i64, Option<Vec<u8>>>,
}

impl Walk {
    pub fn new(noun: &'static str, genesis: &[u8]) -> Self {
        let mut wanted = BTreeMap::new();
        wanted.insert(0, Some(genesis.to_vec()));
        Walk {
            noun,
            genesis: genesis.to_vec(),
            covered: BTreeMap::new(),
            next_seq: 1,
            prev: genesis.to_vec(),
            records: 0,
            last_seq: 0,
            wanted,
        }
    }

    /// Seqs `from..=through` were pruned; `hash` was the last one's.
    pub fn cover(&mut self, from: i64, through: i64, hash: Vec<u8>) {
        self.covered.insert(from, (through, hash));
    }

    /// Remember the hash at `seq` for a signed checkpoint.
    pub fn want(&mut self, seq: i64) {
        self.wanted.entry(seq).or_insert(None);
    }

    /// The hash of the last pruned seq when `from..=through` is wholly pruned and a pruned
    /// range ends exactly at `through`.
    fn pruned_through(&self, from: i64, through: i64) -> Option<Vec<u8>> {
        let mut reach = from - 1;
        let mut end_hash = None;
        for (&start, (end, hash)) in self.covered.range(..=through) {
            if start <= reach + 1 && *end > reach {
                reach = *end;
            }
            if *end == through {
                end_hash = Some(hash.clone());
            }
        }
        (reach >= through).then_some(end_hash).flatten()
    }

    pub fn step(
        &mut self,
        seq: i64,
        prev_hash: Vec<u8>,
        hash: Vec<u8>,
        body: &[u8],
    ) -> Result<(), Bad> {
        let noun = self.noun;
        if seq < self.next_seq {
            return Err(bad(seq, format!("{noun} {seq} appears twice")));
        }
        if seq > self.next_seq {
            let (from, through) = (self.next_seq, seq - 1);
            match self.pruned_through(from, through) {
                Some(h) => self.prev = h,
                None => {
                    let what = if from == through {
                        format!("{noun} {from} is missing")
                    } else {
                        format!("{noun}s {from}..{through} are missing")
                    };
                    return Err(bad(
                        from,
                        format!("{what} (deleted, and no retention covers it)"),
                    ));
                }
            }
        }
        if prev_hash != self.prev {
            return Err(bad(
                seq,
                format!(
                    "{noun} {seq} does not link to {noun} {}: it, or the record before it, was \
                     rewritten or replaced",
                    seq - 1
                ),
            ));
        }
        let (Ok(prev), Ok(_)) = (
            <[u8; 32]>::try_from(prev_hash.as_slice()),
            <[u8; 32]>::try_from(hash.as_slice()),
        ) else {
            return Err(bad(seq, format!("{noun} {seq} holds a malformed hash")));
        };
        if chain_hash(&prev, body).as_slice() != hash.as_slice() {
            return Err(bad(
                seq,
                format!("{noun} {seq} was edited: its content does not match its hash"),
            ));
        }
        if let Some(slot) = self.wanted.get_mut(&seq) {
            *slot = Some(hash.clone());
        }
        self.prev = hash;
        self.next_seq = seq + 1;
        self.last_seq = seq;
        self.records += 1;
        Ok(())
    }

    pub fn hash_at(&self, seq: i64) -> Known {
        if let Some(Some(hash)) = self.wanted.get(&seq) {
            return Known::Hash(hash.clone());
        }
        if let Some(h) = self
            .covered
            .values()
            .find(|(end, _)| *end == seq)
            .map(|(_, h)| h)
        {
            return Known::Hash(h.clone());
        }
        if self
            .covered
            .iter()
            .any(|(from, (end, _))| (*from..=*end).contains(&seq))
        {
            return Known::Pruned;
        }
        Known::Beyond
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (seq, prev_hash, hash, body)
    type Rec = (i64, Vec<u8>, Vec<u8>, String);

    fn chain(n: i64) -> (Vec<u8>, Vec<Rec>) {
        let genesis = vec![9u8; 32];
        let mut prev: [u8; 32] = genesis.clone().try_into().unwrap();
        let mut out = Vec::new();
        for seq in 1..=n {
            let body = format!("{{\"n\":{seq}}}");
            let hash = chain_hash(&prev, body.as_bytes());
            out.push((seq, prev.to_vec(), hash.to_vec(), body));
            prev = hash;
        }
        (genesis, out)
    }

    fn walk_all(walk: &mut Walk, records: &[Rec]) -> Result<(), Bad> {
        records
            .iter()
            .try_for_each(|(s, p, h, b)| walk.step(*s, p.clone(), h.clone(), b.as_bytes()))
    }

    #[test]
    fn an_intact_chain_verifies_and_each_break_is_named() {
        let (genesis, records) = chain(5);
        let mut walk = Walk::new("record", &genesis);
        walk.want(3);
        walk_all(&mut walk, &records).unwrap();
        assert_eq!(walk.hash_at(3), Known::Hash(records[2].2.clone()));
        assert_eq!(walk.hash_at(0), Known::Hash(genesis.clone()));
        assert_eq!(walk.hash_at(6), Known::Beyond);

        let mut edited = records.clone();
        edited[2].3 = "{\"n\":33}".into();
        let err = walk_all(&mut Walk::new("record", &genesis), &edited).unwrap_err();
        assert_eq!(err.seq, Some(3));
        assert!(
            err.message.contains("record 3 was edited"),
            "{}",
            err.message
        );

        let mut missing = records.clone();
        missing.remove(1);
        let err = walk_all(&mut Walk::new("record", &genesis), &missing).unwrap_err();
        assert_eq!(err.seq, Some(2));
        assert!(
            err.message.contains("record 2 is missing"),
            "{}",
            err.message
        );
    }

    #[test]
    fn a_gap_covered_by_pruned_ranges_links_through_their_hash() {
        let (genesis, records) = chain(6);
        let mut walk = Walk::new("record", &genesis);
        walk.cover(1, 2, records[1].2.clone());
        walk.cover(3, 4, records[3].2.clone());
        walk_all(&mut walk, &records[4..]).unwrap();
        assert_eq!(walk.records, 2);
        assert_eq!(walk.hash_at(4), Known::Hash(records[3].2.clone()));
        assert_eq!(walk.hash_at(1), Known::Pruned);

        let mut partial = Walk::new("record", &genesis);
        partial.cover(1, 2, records[1].2.clone());
        let err = walk_all(&mut partial, &records[4..]).unwrap_err();
        assert_eq!(err.seq, Some(1));
    }
}
