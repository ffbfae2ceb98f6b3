//! Alerts, hall events and last heartbeats: plain tables beside the decisions (not chained).

use chrono::{DateTime, Utc};
use rusqlite::types::Value;
use rusqlite::{params_from_iter, Connection, Row};

use crate::hall_records::{
    Alert, AlertAck, AlertFilter, EventFilter, LastHeartbeat, NewAlert, NewHallEvent, Severity,
    StoredHallEvent,
};
use crate::record::micros_to_time;

const DEFAULT_ALERTS: usize = 100;
const DEFAULT_EVENTS: usize = 1000;

fn severity_rank(s: Severity) -> i64 {
    s as i64
}

pub(crate) fn severity_from_rank(rank: i64) -> Severity {
    match rank {
        0 => Severity::Info,
        1 => Severity::Warning,
        _ => Severity::Critical,
    }
}

/// Details are stored as JSON text; unreadable text (edited by hand) comes back as a string.
fn details(text: String) -> serde_json::Value {
    serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text))
}

pub fn insert_alert(conn: &Connection, a: &NewAlert) -> rusqlite::Result<i64> {
    conn.prepare_cached(
        "INSERT INTO alerts (created_at, severity, code, message, worker_id, correlation_id, details) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute((
        a.created_at.timestamp_micros(),
        severity_rank(a.severity),
        &a.code,
        &a.message,
        &a.worker_id,
        &a.correlation_id,
        a.details.to_string(),
    ))?;
    Ok(conn.last_insert_rowid())
}

pub fn alerts(conn: &Connection, f: &AlertFilter) -> rusqlite::Result<Vec<Alert>> {
    let mut sql = String::from(
        "SELECT id, created_at, severity, code, message, worker_id, correlation_id, details, \
         acknowledged_at, acked_by, ack_note, resolved_at FROM alerts WHERE severity >= ?1",
    );
    if f.open_only {
        sql.push_str(" AND acknowledged_at IS NULL AND resolved_at IS NULL");
    }
    sql.push_str(" ORDER BY id DESC LIMIT ?2");
    let min = f.min_severity.map_or(0, severity_rank);
    let limit = f.limit.unwrap_or(DEFAULT_ALERTS) as i64;
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map((min, limit), |r| {
        Ok(Alert {
            id: r.get(0)?,
            alert: NewAlert {
                created_at: micros_to_time(r.get(1)?),
                severity: severity_from_rank(r.get(2)?),
                code: r.get(3)?,
                message: r.get(4)?,
                worker_id: r.get(5)?,
                correlation_id: r.get(6)?,
                details: details(r.get(7)?),
            },
            acknowledged_at: r.get::<_, Option<i64>>(8)?.map(micros_to_time),
            acked_by: r.get(9)?,
            ack_note: r.get(10)?,
            resolved_at: r.get::<_, Option<i64>>(11)?.map(micros_to_time),
        })
    })?;
    rows.collect()
}

pub fn ack_alert(conn: &Connection, id: i64, ack: &AlertAck) -> rusqlite::Result<bool> {
    let changed = conn.execute(
        "UPDATE alerts SET acknowledged_at = ?2, acked_by = ?3, ack_note = ?4 \
         WHERE id = ?1 AND acknowledged_at IS NULL",
        (id, ack.at.timestamp_micros(), &ack.by, &ack.note),
    )?;
    Ok(changed == 1)
}

/// The subject is the hall's (`details.subject`), else the worker the alert is about.
pub fn resolve_alerts(
    conn: &Connection,
    code: &str,
    subject: &str,
    at: DateTime<Utc>,
) -> rusqlite::Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached(
        "UPDATE alerts SET resolved_at = ?3 WHERE resolved_at IS NULL AND code = ?1 \
         AND coalesce(CASE WHEN json_valid(details) THEN details ->> '$.subject' END, worker_id) = ?2 \
         RETURNING id",
    )?;
    let ids = stmt.query_map((code, subject, at.timestamp_micros()), |r| r.get(0))?;
    ids.collect()
}

pub fn insert_event(conn: &Connection, e: &NewHallEvent) -> rusqlite::Result<i64> {
    conn.prepare_cached(
        "INSERT INTO hall_events (ts, kind, worker_id, correlation_id, details) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute((
        e.at.timestamp_micros(),
        &e.kind,
        &e.worker_id,
        &e.correlation_id,
        e.details.to_string(),
    ))?;
    Ok(conn.last_insert_rowid())
}

pub fn events(conn: &Connection, f: &EventFilter) -> rusqlite::Result<Vec<StoredHallEvent>> {
    let mut clauses = Vec::new();
    let mut params = Vec::new();
    let conditions = [
        ("worker_id = ?", f.worker_id.clone().map(Value::Text)),
        (
            "correlation_id = ?",
            f.correlation_id.clone().map(Value::Text),
        ),
        ("kind = ?", f.kind.clone().map(Value::Text)),
        (
            "ts >= ?",
            f.since.map(|t| Value::Integer(t.timestamp_micros())),
        ),
        (
            "ts < ?",
            f.until.map(|t| Value::Integer(t.timestamp_micros())),
        ),
    ];
    for (sql, value) in conditions {
        if let Some(v) = value {
            clauses.push(sql);
            params.push(v);
        }
    }
    let mut sql =
        String::from("SELECT id, ts, kind, worker_id, correlation_id, details FROM hall_events");
    if !clauses.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&clauses.join(" AND "));
    }
    let limit = f.limit.unwrap_or(DEFAULT_EVENTS);
    sql.push_str(&format!(" ORDER BY ts, id LIMIT {limit}"));
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params_from_iter(params.iter()), event)?;
    rows.collect()
}

fn event(r: &Row<'_>) -> rusqlite::Result<StoredHallEvent> {
    Ok(StoredHallEvent {
        id: r.get(0)?,
        event: NewHallEvent {
            at: micros_to_time(r.get(1)?),
            kind: r.get(2)?,
            worker_id: r.get(3)?,
            correlation_id: r.get(4)?,
            details: details(r.get(5)?),
        },
    })
}

/// Keep each worker's newest heartbeat, in one transaction (the hall writes them in batches).
pub fn save_heartbeats(conn: &mut Connection, beats: &[LastHeartbeat]) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    {
        // A batch written late never replaces a newer row (`ts` only moves forward).
        let mut upsert = tx.prepare_cached(
            "INSERT INTO worker_heartbeats (worker_id, ts, reported, latency_ms) \
             VALUES (?1, ?2, ?3, ?4) ON CONFLICT (worker_id) DO UPDATE SET \
             ts = excluded.ts, reported = excluded.reported, latency_ms = excluded.latency_ms \
             WHERE excluded.ts >= worker_heartbeats.ts",
        )?;
        for b in beats {
            upsert.execute((
                &b.worker_id,
                b.at.timestamp_micros(),
                &b.reported,
                b.latency_ms,
            ))?;
        }
    }
    tx.commit()
}

pub fn last_heartbeats(conn: &Connection) -> rusqlite::Result<Vec<LastHeartbeat>> {
    let mut stmt = conn.prepare_cached(
        "SELECT worker_id, ts, reported, latency_ms FROM worker_heartbeats ORDER BY worker_id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(LastHeartbeat {
            worker_id: r.get(0)?,
            at: micros_to_time(r.get(1)?),
            reported: r.get(2)?,
            latency_ms: r.get(3)?,
        })
    })?;
    rows.collect()
}
