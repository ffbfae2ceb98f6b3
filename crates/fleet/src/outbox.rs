//! One round's read of the ledger (the outbox): every stream's records after a position, on
//! the shipper's own read-only connection. Blocking (SQLite), so the shipper can run it on a
//! blocking thread while PostgreSQL inserts the round before (see `shipper.rs`).

use std::path::PathBuf;

use ledger::{Chain, OutboxHeads, SqliteBackend};

use crate::cursor::Cursor;
use crate::error::FleetError;
use crate::notes;
use crate::ship::Batch;

/// A hall's ledger as the shipper reads it.
pub struct Outbox {
    pub ledger: SqliteBackend,
    /// Records per stream per round, at most.
    pub batch: usize,
    /// The signed checkpoint files (the data dir's and the mirror's).
    pub checkpoint_files: Vec<PathBuf>,
    /// For the warnings only.
    pub hall_id: String,
}

/// What one read found: the ledger's heads and the records after the position read from.
pub struct Round {
    pub heads: OutboxHeads,
    pub batch: Batch,
}

impl Outbox {
    /// The records after `after`, at most [`Outbox::batch`] per stream.
    pub fn read(&self, after: &Cursor) -> Result<Round, FleetError> {
        let heads = self.ledger.outbox_heads()?;
        let (c, n, ledger) = (after, self.batch, &self.ledger);
        let mut batch = Batch::default();
        if heads.decisions > c.decisions {
            batch.decisions = ledger.outbox_decisions(c.decisions, n)?;
            if let Some(first) = batch.decisions.first() {
                if first.seq > c.decisions + 1 {
                    tracing::warn!(
                        hall_id = %self.hall_id,
                        "decisions {}..={} were pruned from the ledger before they were shipped: \
                         the central store has only their retention checkpoint",
                        c.decisions + 1,
                        first.seq - 1
                    );
                }
            }
        }
        if heads.linked > c.linked {
            batch.linked = ledger.outbox_linked(c.linked, n)?;
        }
        if heads.events > c.events {
            batch.events = ledger.outbox_events(c.events, n)?;
        }
        if heads.alerts > c.alerts {
            batch.alerts = ledger.outbox_alerts(c.alerts, n)?;
        }
        if heads.retention_decisions > c.retention_decisions {
            batch.retention_decisions =
                ledger.outbox_retention(Chain::Decisions, c.retention_decisions)?;
        }
        if heads.retention_linked > c.retention_linked {
            batch.retention_linked = ledger.outbox_retention(Chain::Linked, c.retention_linked)?;
        }
        // A checkpoint ships once the records it covers have: centrally, every checkpoint then
        // has its records to be checked against.
        let shipped_through = batch.decisions.last().map_or(c.decisions, |d| d.seq);
        batch.checkpoint = notes::newest(&self.checkpoint_files)
            .filter(|note| note.size > c.checkpoint && note.size <= shipped_through);
        Ok(Round { heads, batch })
    }

    /// A stream filled its batch: more is waiting right now.
    pub fn is_full(&self, batch: &Batch) -> bool {
        let n = self.batch;
        batch.decisions.len() >= n
            || batch.linked.len() >= n
            || batch.events.len() >= n
            || batch.alerts.len() >= n
    }
}
