//! One shipping round's SQL: decisions by binary COPY (see `insert_decisions`), the smaller
//! streams as one multi-row `INSERT … SELECT FROM unnest(arrays)` each (one statement and one
//! round trip per stream, whatever the batch size). Never a doubled or overwritten central
//! row: a batch shipped twice adds nothing, and an edited row stays edited, for `fleet verify`
//! to find. Alerts are the exception: they change after they are created, and their central
//! copy follows (`insert_alerts`).

use std::collections::HashSet;

use chrono::{DateTime, Datelike, Utc};
use futures_util::pin_mut;
use ledger::{OutboxAlert, OutboxDecision, OutboxEvent, OutboxLinked, OutboxRetention};
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::Json;
use tokio_postgres::{GenericClient, Transaction};

use crate::decision_row::{self, COLUMNS};
use crate::error::FleetError;

/// A signed checkpoint as the hall wrote it, with the two lines shipping needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedNote {
    pub size: i64,
    pub head_hash: Vec<u8>,
    pub note: String,
}

/// One round's records, read from the ledger after the cursor.
#[derive(Debug, Default)]
pub struct Batch {
    pub decisions: Vec<OutboxDecision>,
    pub linked: Vec<OutboxLinked>,
    pub events: Vec<OutboxEvent>,
    pub alerts: Vec<OutboxAlert>,
    pub retention_decisions: Vec<OutboxRetention>,
    pub retention_linked: Vec<OutboxRetention>,
    pub checkpoint: Option<SignedNote>,
}

impl Batch {
    pub fn len(&self) -> usize {
        self.decisions.len()
            + self.linked.len()
            + self.events.len()
            + self.alerts.len()
            + self.retention_decisions.len()
            + self.retention_linked.len()
            + usize::from(self.checkpoint.is_some())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn time(micros: i64) -> DateTime<Utc> {
    ledger::micros_to_time(micros)
}

/// The month partitions a transaction made sure of; forgotten when it fails (a rolled-back
/// CREATE leaves no partition).
#[derive(Debug, Default)]
pub struct Months(HashSet<(i32, u32)>);

impl Months {
    pub fn forget(&mut self) {
        self.0.clear();
    }
}

/// Insert `batch` for `hall_id` inside `tx` (the caller commits).
pub async fn insert(
    tx: &Transaction<'_>,
    hall_id: &str,
    batch: &Batch,
    months: &mut Months,
) -> Result<(), FleetError> {
    ensure_months(tx, &batch.decisions, months).await?;
    insert_decisions(tx, hall_id, &batch.decisions).await?;
    insert_context(tx, hall_id, batch).await
}

/// Every stream of `batch` but its decisions.
pub async fn insert_context(
    tx: &Transaction<'_>,
    hall_id: &str,
    batch: &Batch,
) -> Result<(), FleetError> {
    if !batch.linked.is_empty() {
        insert_linked(tx, hall_id, &batch.linked).await?;
    }
    if !batch.events.is_empty() {
        insert_events(tx, hall_id, &batch.events).await?;
    }
    if !batch.alerts.is_empty() {
        insert_alerts(tx, hall_id, &batch.alerts).await?;
    }
    insert_retention(tx, hall_id, "decisions", &batch.retention_decisions).await?;
    insert_retention(tx, hall_id, "linked", &batch.retention_linked).await?;
    if let Some(note) = &batch.checkpoint {
        tx.execute(
            "INSERT INTO checkpoints (hall_id, size, head_hash, note) VALUES ($1, $2, $3, $4) \
             ON CONFLICT DO NOTHING",
            &[&hall_id, &note.size, &note.head_hash, &note.note],
        )
        .await?;
    }
    Ok(())
}

/// Every month the decisions touch has its partition (fleet_ensure_month in V1__central.sql),
/// in a transaction or on its own.
pub async fn ensure_months(
    client: &impl GenericClient,
    decisions: &[OutboxDecision],
    months: &mut Months,
) -> Result<(), FleetError> {
    for d in decisions {
        let at = time(d.fields.ts_micros);
        if months.0.insert((at.year(), at.month())) {
            client
                .execute("SELECT fleet_ensure_month($1)", &[&at])
                .await?;
        }
    }
    Ok(())
}

/// Decisions go in with a binary COPY: straight into `decisions` when none of them is there yet
/// (the shipper's case: it resumes from the store's own position), else (a batch shipped again)
/// into a temporary table and from there with `INSERT … SELECT … ON CONFLICT DO NOTHING`. The
/// savepoint lets the direct COPY fail on a duplicate without failing the round. Their month
/// partitions must exist ([`ensure_months`]).
pub async fn insert_decisions(
    tx: &Transaction<'_>,
    hall_id: &str,
    rows: &[OutboxDecision],
) -> Result<(), FleetError> {
    if rows.is_empty() {
        return Ok(());
    }
    tx.batch_execute("SAVEPOINT fleet_direct").await?;
    match copy_decisions(tx, "decisions", hall_id, rows).await {
        Ok(()) => {
            tx.batch_execute("RELEASE SAVEPOINT fleet_direct").await?;
            return Ok(());
        }
        Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
            tx.batch_execute("ROLLBACK TO SAVEPOINT fleet_direct")
                .await?;
        }
        Err(e) => return Err(e.into()),
    }
    tx.batch_execute(
        "CREATE TEMPORARY TABLE IF NOT EXISTS fleet_decisions_in (LIKE decisions INCLUDING DEFAULTS) \
         ON COMMIT DELETE ROWS",
    )
    .await?;
    copy_decisions(tx, "fleet_decisions_in", hall_id, rows).await?;
    tx.execute(
        &format!(
            "INSERT INTO decisions ({COLUMNS}) SELECT {COLUMNS} FROM fleet_decisions_in \
             ON CONFLICT DO NOTHING"
        ),
        &[],
    )
    .await?;
    Ok(())
}

async fn copy_decisions(
    tx: &Transaction<'_>,
    table: &str,
    hall_id: &str,
    rows: &[OutboxDecision],
) -> Result<(), tokio_postgres::Error> {
    let sink = tx
        .copy_in(&format!(
            "COPY {table} ({COLUMNS}) FROM STDIN (FORMAT binary)"
        ))
        .await?;
    let writer = BinaryCopyInWriter::new(sink, &decision_row::TYPES);
    pin_mut!(writer);
    for d in rows {
        let ts = time(d.fields.ts_micros);
        writer
            .as_mut()
            .write(&decision_row::values(&hall_id, d, &ts))
            .await?;
    }
    writer.finish().await?;
    Ok(())
}

async fn insert_linked(
    tx: &Transaction<'_>,
    hall_id: &str,
    rows: &[OutboxLinked],
) -> Result<(), FleetError> {
    let col = |f: fn(&OutboxLinked) -> &String| rows.iter().map(f).collect::<Vec<_>>();
    let opt = |f: fn(&OutboxLinked) -> &Option<String>| rows.iter().map(f).collect::<Vec<_>>();
    let seq: Vec<i64> = rows.iter().map(|r| r.seq).collect();
    let ts: Vec<DateTime<Utc>> = rows.iter().map(|r| time(r.ts)).collect();
    let decision_seq: Vec<i64> = rows.iter().map(|r| r.decision_seq).collect();
    let prev: Vec<&[u8]> = rows.iter().map(|r| r.prev_hash.as_slice()).collect();
    let hash: Vec<&[u8]> = rows.iter().map(|r| r.hash.as_slice()).collect();
    tx.execute(
        "INSERT INTO linked_records (hall_id, seq, ts, kind, decision_id, decision_seq, \
         correlation_id, server, tool, prev_hash, hash, json) \
         SELECT $1, * FROM unnest($2::bigint[], $3::timestamptz[], $4::text[], $5::text[], \
         $6::bigint[], $7::text[], $8::text[], $9::text[], $10::bytea[], $11::bytea[], $12::text[]) \
         ON CONFLICT DO NOTHING",
        &[
            &hall_id,
            &seq,
            &ts,
            &col(|r| &r.kind),
            &col(|r| &r.decision_id),
            &decision_seq,
            &col(|r| &r.correlation_id),
            &opt(|r| &r.server),
            &opt(|r| &r.tool),
            &prev,
            &hash,
            &col(|r| &r.json),
        ],
    )
    .await?;
    Ok(())
}

/// A details column that is not JSON (never written by the hall) is shipped as a JSON string
/// rather than refused: these rows are context, and one bad row must not stop the stream.
fn details(text: &str) -> Json<serde_json::Value> {
    Json(serde_json::from_str(text).unwrap_or_else(|_| serde_json::Value::String(text.into())))
}

async fn insert_events(
    tx: &Transaction<'_>,
    hall_id: &str,
    rows: &[OutboxEvent],
) -> Result<(), FleetError> {
    let id: Vec<i64> = rows.iter().map(|e| e.id).collect();
    let ts: Vec<DateTime<Utc>> = rows.iter().map(|e| time(e.ts)).collect();
    let kind: Vec<&str> = rows.iter().map(|e| e.kind.as_str()).collect();
    let worker: Vec<Option<&str>> = rows.iter().map(|e| e.worker_id.as_deref()).collect();
    let corr: Vec<Option<&str>> = rows.iter().map(|e| e.correlation_id.as_deref()).collect();
    let det: Vec<Json<serde_json::Value>> = rows.iter().map(|e| details(&e.details)).collect();
    tx.execute(
        "INSERT INTO hall_events (hall_id, id, ts, kind, worker_id, correlation_id, details) \
         SELECT $1, * FROM unnest($2::bigint[], $3::timestamptz[], $4::text[], $5::text[], \
         $6::text[], $7::jsonb[]) ON CONFLICT DO NOTHING",
        &[&hall_id, &id, &ts, &kind, &worker, &corr, &det],
    )
    .await?;
    Ok(())
}

/// Alerts are upserted: an alert ships again with each change (acknowledged, resolved), and
/// the central row takes it only when its `change_seq` is newer than the stored one, so a batch
/// shipped twice or late never takes an alert back. (Alerts are context, not chained evidence:
/// overwriting them is what keeps them current.)
async fn insert_alerts(
    tx: &Transaction<'_>,
    hall_id: &str,
    rows: &[OutboxAlert],
) -> Result<(), FleetError> {
    let int = |f: fn(&OutboxAlert) -> i64| rows.iter().map(f).collect::<Vec<_>>();
    let text = |f: fn(&OutboxAlert) -> &str| rows.iter().map(f).collect::<Vec<_>>();
    let opt = |f: fn(&OutboxAlert) -> Option<&str>| rows.iter().map(f).collect::<Vec<_>>();
    let at = |f: fn(&OutboxAlert) -> Option<i64>| {
        rows.iter().map(|a| f(a).map(time)).collect::<Vec<_>>()
    };
    let created: Vec<DateTime<Utc>> = rows.iter().map(|a| time(a.created_at)).collect();
    let det: Vec<Json<serde_json::Value>> = rows.iter().map(|a| details(&a.details)).collect();
    tx.execute(
        "INSERT INTO alerts (hall_id, id, change_seq, created_at, severity, code, message, \
         worker_id, correlation_id, acknowledged_at, acked_by, ack_note, resolved_at, details) \
         SELECT $1, * FROM unnest($2::bigint[], $3::bigint[], $4::timestamptz[], $5::text[], \
         $6::text[], $7::text[], $8::text[], $9::text[], $10::timestamptz[], $11::text[], \
         $12::text[], $13::timestamptz[], $14::jsonb[]) \
         ON CONFLICT (hall_id, id) DO UPDATE SET change_seq = EXCLUDED.change_seq, \
         created_at = EXCLUDED.created_at, severity = EXCLUDED.severity, code = EXCLUDED.code, \
         message = EXCLUDED.message, worker_id = EXCLUDED.worker_id, \
         correlation_id = EXCLUDED.correlation_id, acknowledged_at = EXCLUDED.acknowledged_at, \
         acked_by = EXCLUDED.acked_by, ack_note = EXCLUDED.ack_note, \
         resolved_at = EXCLUDED.resolved_at, details = EXCLUDED.details, shipped_at = now() \
         WHERE alerts.change_seq < EXCLUDED.change_seq",
        &[
            &hall_id,
            &int(|a| a.id),
            &int(|a| a.change_seq),
            &created,
            &text(|a| a.severity.as_str()),
            &text(|a| &a.code),
            &text(|a| &a.message),
            &opt(|a| a.worker_id.as_deref()),
            &opt(|a| a.correlation_id.as_deref()),
            &at(|a| a.acknowledged_at),
            &opt(|a| a.acked_by.as_deref()),
            &opt(|a| a.ack_note.as_deref()),
            &at(|a| a.resolved_at),
            &det,
        ],
    )
    .await?;
    Ok(())
}

async fn insert_retention(
    tx: &Transaction<'_>,
    hall_id: &str,
    chain: &str,
    rows: &[OutboxRetention],
) -> Result<(), FleetError> {
    for r in rows {
        tx.execute(
            "INSERT INTO retention_checkpoints (hall_id, chain, id, created_at, cutoff_ts, \
             through_seq, through_hash, pruned_total, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
            &[
                &hall_id,
                &chain,
                &r.id,
                &time(r.created_at),
                &r.cutoff_ts.map(time),
                &r.through_seq,
                &r.through_hash,
                &r.pruned_total,
                &r.hash,
            ],
        )
        .await?;
    }
    Ok(())
}
