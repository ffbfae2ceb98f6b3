//! A decision's central row: the one list of the `decisions` columns the shipper writes
//! ([`values`], in [`COLUMNS`] order, [`TYPES`]) and `fleet verify` reads back ([`fields`]).

use chrono::{DateTime, Utc};
use ledger::{DecisionFields, OutboxDecision};
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::Row;

/// The filter columns, in [`fields`]' order.
macro_rules! field_columns {
    () => {
        "ts, decision_id, correlation_id, tenant_id, capability_id, matched_rule_id, worker, \
         env, data_label, qos_class, denied, deny_code, deny_message, dry_run, artifact_hash"
    };
}

/// The filter columns a `SELECT` reads for [`fields`].
pub const FIELD_COLUMNS: &str = field_columns!();

/// Every column the shipper writes, in [`values`]' order (`shipped_at` is the server's).
pub const COLUMNS: &str = concat!("hall_id, seq, prev_hash, hash, body, ", field_columns!());

/// The PostgreSQL type of each of [`COLUMNS`] (a binary COPY needs them).
pub const TYPES: [Type; 20] = [
    Type::TEXT,
    Type::INT8,
    Type::BYTEA,
    Type::BYTEA,
    Type::TEXT,
    Type::TIMESTAMPTZ,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::BOOL,
    Type::TEXT,
    Type::TEXT,
    Type::BOOL,
    Type::TEXT,
];

/// One decision's row, in [`COLUMNS`] order: `hall_id` a `&str`, `ts` its `fields.ts_micros`
/// as a time.
pub fn values<'a>(
    hall_id: &'a (dyn ToSql + Sync),
    d: &'a OutboxDecision,
    ts: &'a DateTime<Utc>,
) -> [&'a (dyn ToSql + Sync); 20] {
    let f = &d.fields;
    [
        hall_id,
        &d.seq,
        &d.prev_hash,
        &d.hash,
        &d.json,
        ts,
        &f.decision_id,
        &f.correlation_id,
        &f.tenant_id,
        &f.capability_id,
        &f.matched_rule_id,
        &f.worker,
        &f.env,
        &f.data_label,
        &f.qos_class,
        &f.denied,
        &f.deny_code,
        &f.deny_message,
        &f.dry_run,
        &f.artifact_hash,
    ]
}

/// The filter columns of a row that selected [`FIELD_COLUMNS`] from column `at` on.
pub fn fields(row: &Row, at: usize) -> DecisionFields {
    DecisionFields {
        ts_micros: row.get::<_, DateTime<Utc>>(at).timestamp_micros(),
        decision_id: row.get(at + 1),
        correlation_id: row.get(at + 2),
        tenant_id: row.get(at + 3),
        capability_id: row.get(at + 4),
        matched_rule_id: row.get(at + 5),
        worker: row.get(at + 6),
        env: row.get(at + 7),
        data_label: row.get(at + 8),
        qos_class: row.get(at + 9),
        denied: row.get(at + 10),
        deny_code: row.get(at + 11),
        deny_message: row.get(at + 12),
        dry_run: row.get(at + 13),
        artifact_hash: row.get(at + 14),
    }
}
