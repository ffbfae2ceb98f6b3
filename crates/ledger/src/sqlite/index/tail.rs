//! The writer's memory of the decision keys beyond the indexes (committed, not yet indexed:
//! derived.rs), so the duplicate-id check on append needs no index written on the durable
//! path. It may hold keys of records that have since been indexed or rolled back: a key
//! here only sends the check to the exact (slower) scan of the tail, so stale keys cost time,
//! never a wrong answer. It is only trusted while the chain head is the one it was built at:
//! if another process appended meanwhile, it is rebuilt from the file.

use std::collections::{HashMap, VecDeque};

use rusqlite::Connection;

#[derive(Default)]
pub struct TailKeys {
    /// The chain head these keys were last brought up to; `None` before the first load.
    head: Option<i64>,
    /// `(seq, key)` in seq order, and how many tail records have each key.
    order: VecDeque<(i64, i64)>,
    counts: HashMap<i64, u32>,
}

impl TailKeys {
    /// Make sure the keys cover every record after `indexed` up to `head` (read inside the
    /// writer's transaction): reloads from the file unless they were built at `head`.
    pub fn sync(&mut self, conn: &Connection, indexed: i64, head: i64) -> rusqlite::Result<()> {
        if self.head == Some(head) {
            return Ok(());
        }
        *self = Self::default();
        let mut stmt = conn.prepare_cached(
            "SELECT seq, decision_key FROM decisions WHERE seq > ?1 ORDER BY seq",
        )?;
        let mut rows = stmt.query([indexed])?;
        while let Some(row) = rows.next()? {
            self.push(row.get(0)?, row.get(1)?);
        }
        self.head = Some(head);
        Ok(())
    }

    pub fn might_hold(&self, key: i64) -> bool {
        self.counts.contains_key(&key)
    }

    /// The seqs of the tail records with `key`, newest first (a linked record usually names a
    /// decision just appended). Empty unless [`TailKeys::might_hold`]; may include stale seqs.
    pub fn seqs_with(&self, key: i64) -> impl Iterator<Item = i64> + '_ {
        let held = self.might_hold(key);
        self.order
            .iter()
            .rev()
            .take_while(move |_| held)
            .filter(move |&&(_, k)| k == key)
            .map(|&(seq, _)| seq)
    }

    pub fn push(&mut self, seq: i64, key: i64) {
        self.order.push_back((seq, key));
        *self.counts.entry(key).or_default() += 1;
    }

    /// The chain head after a commit that this writer made.
    pub fn committed(&mut self, head: i64) {
        self.head = Some(head);
    }

    /// Forget the keys of records up to `indexed_seq`: the index has them now.
    pub fn indexed_through(&mut self, indexed_seq: i64) {
        while let Some(&(seq, key)) = self.order.front() {
            if seq > indexed_seq {
                break;
            }
            self.order.pop_front();
            if let Some(n) = self.counts.get_mut(&key) {
                *n -= 1;
                if *n == 0 {
                    self.counts.remove(&key);
                }
            }
        }
    }
}
