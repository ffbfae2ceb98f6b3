//! History queries: filters compiled to one parameterised WHERE clause, keyset pages on `seq`
//! (newest first, never OFFSET), the free-text index, traces and chart stats.

use chrono::{DateTime, Utc};
use rusqlite::types::{Type, Value};
use rusqlite::{params_from_iter, Connection, OptionalExtension, Row};

use super::codec::Codec;
use crate::error::LedgerError;
use crate::query::{encode_cursor, Bucket, Count, Filter, Page, PageRequest, Stats, StatsRequest};
use crate::record::{lookup_key, micros_to_time, search_words, DecisionFields, StoredDecision};

pub enum ReadError {
    Ledger(LedgerError),
    Sqlite(rusqlite::Error),
}

impl From<rusqlite::Error> for ReadError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Sqlite(e)
    }
}

impl From<LedgerError> for ReadError {
    fn from(e: LedgerError) -> Self {
        Self::Ledger(e)
    }
}

pub fn is_fts_syntax_error(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(_, Some(m)) if m.contains("fts5"))
}

/// The columns of a [`StoredDecision`], in [`stored`]'s order.
pub const COLUMNS: &str = "d.seq, d.hash, d.ts, d.decision_id, d.correlation_id, d.tenant_id, \
    d.capability_id, d.matched_rule_id, d.worker, d.env, d.data_label, d.qos_class, d.denied, \
    d.deny_code, d.deny_message, d.dry_run, d.artifact_hash, d.body";

/// The filter columns from a row selected with [`COLUMNS`], starting at column `at`.
pub fn fields(row: &Row<'_>, at: usize) -> rusqlite::Result<DecisionFields> {
    Ok(DecisionFields {
        ts_micros: row.get(at)?,
        decision_id: row.get(at + 1)?,
        correlation_id: row.get(at + 2)?,
        tenant_id: row.get(at + 3)?,
        capability_id: row.get(at + 4)?,
        matched_rule_id: row.get(at + 5)?,
        worker: row.get(at + 6)?,
        env: row.get(at + 7)?,
        data_label: row.get(at + 8)?,
        qos_class: row.get(at + 9)?,
        denied: row.get(at + 10)?,
        deny_code: row.get(at + 11)?,
        deny_message: row.get(at + 12)?,
        dry_run: row.get(at + 13)?,
        artifact_hash: row.get(at + 14)?,
    })
}

fn stored(row: &Row<'_>, codec: &Codec) -> rusqlite::Result<StoredDecision> {
    let seq: i64 = row.get(0)?;
    let hash: Vec<u8> = row.get(1)?;
    let body = row.get_ref(17)?.as_blob()?;
    let json = codec.decode(body).map_err(|detail| {
        let detail = format!("record {seq}: {detail}");
        rusqlite::Error::FromSqlConversionFailure(17, Type::Blob, detail.into())
    })?;
    Ok(StoredDecision {
        seq,
        hash: hex::encode(hash),
        fields: fields(row, 2)?,
        json,
    })
}

/// `FROM … WHERE …` for a filter, with its parameters. With free text the FTS index drives
/// the scan (it yields rowids newest first cheaply); otherwise the decisions table does.
struct Selection {
    from_where: String,
    params: Vec<Value>,
}

impl Selection {
    fn new(filter: &Filter, before_seq: Option<i64>) -> Self {
        let text = |v: &Option<String>| v.clone().map(Value::Text);
        let flag = |v: Option<bool>| v.map(|b| Value::Integer(b as i64));
        let micros = |t: Option<DateTime<Utc>>| t.map(|t| Value::Integer(t.timestamp_micros()));
        let search = filter.text.as_deref().and_then(fts_query);
        let from = match search {
            Some(_) => "FROM decisions_fts JOIN decisions d ON d.seq = decisions_fts.rowid",
            None => "FROM decisions d",
        };
        let conditions = [
            ("decisions_fts MATCH ?", search.map(Value::Text)),
            ("d.seq < ?", before_seq.map(Value::Integer)),
            ("d.ts >= ?", micros(filter.since)),
            ("d.ts < ?", micros(filter.until)),
            ("d.tenant_id = ?", text(&filter.tenant_id)),
            ("d.capability_id = ?", text(&filter.capability_id)),
            ("d.worker = ?", text(&filter.worker)),
            ("d.matched_rule_id = ?", text(&filter.rule_id)),
            ("d.correlation_id = ?", text(&filter.correlation_id)),
            ("d.denied = ?", flag(filter.denied)),
            ("d.deny_code = ?", text(&filter.deny_code)),
            ("d.env = ?", text(&filter.env)),
            ("d.data_label = ?", text(&filter.data_label)),
            ("d.dry_run = ?", flag(filter.dry_run)),
        ];
        let (clauses, params): (Vec<&str>, Vec<Value>) = conditions
            .into_iter()
            .filter_map(|(sql, value)| value.map(|v| (sql, v)))
            .unzip();
        let mut from_where = from.to_string();
        if !clauses.is_empty() {
            from_where.push_str(" WHERE ");
            from_where.push_str(&clauses.join(" AND "));
        }
        Self { from_where, params }
    }
}

/// Turn what a person typed into a safe FTS5 expression: every word must appear (words as
/// [`search_words`] splits them, so ids and codes match whole), each quoted so nothing typed
/// is FTS syntax, and a trailing `*` on a typed word makes its last word a prefix search.
/// `None` if nothing searchable was typed.
pub fn fts_query(text: &str) -> Option<String> {
    let mut terms = Vec::new();
    for typed in text.split_whitespace() {
        let (typed, prefix) = match typed.strip_suffix('*') {
            Some(t) => (t, "*"),
            None => (typed, ""),
        };
        let words: Vec<&str> = search_words(typed).collect();
        for (i, word) in words.iter().enumerate() {
            let star = if i + 1 == words.len() { prefix } else { "" };
            // Words hold no quotes (see search_words): quoting is enough to escape them.
            terms.push(format!("\"{word}\"{star}"));
        }
    }
    (!terms.is_empty()).then(|| terms.join(" "))
}

pub fn page(conn: &Connection, codec: &Codec, request: &PageRequest) -> Result<Page, ReadError> {
    let (limit, before) = request.bounds()?;
    let sel = Selection::new(&request.filter, before);
    // One extra row tells whether an older page exists without a COUNT.
    let sql = format!(
        "SELECT {COLUMNS} {} ORDER BY d.seq DESC LIMIT {}",
        sel.from_where,
        limit + 1
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut records = stmt
        .query_map(params_from_iter(sel.params.iter()), |r| stored(r, codec))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let next_cursor = (records.len() > limit).then(|| {
        records.truncate(limit);
        encode_cursor(records[limit - 1].seq)
    });
    Ok(Page {
        records,
        next_cursor,
    })
}

pub fn get(
    conn: &Connection,
    codec: &Codec,
    decision_id: &str,
) -> rusqlite::Result<Option<StoredDecision>> {
    // The key finds the row through the small index; the id tells colliding keys apart.
    let sql = format!(
        "SELECT {COLUMNS} FROM decisions d WHERE d.decision_key = ?1 AND d.decision_id = ?2"
    );
    conn.prepare_cached(&sql)?
        .query_row((lookup_key(decision_id), decision_id), |r| stored(r, codec))
        .optional()
}

pub fn trace(
    conn: &Connection,
    codec: &Codec,
    correlation_id: &str,
) -> rusqlite::Result<Vec<StoredDecision>> {
    let sql =
        format!("SELECT {COLUMNS} FROM decisions d WHERE d.correlation_id = ?1 ORDER BY d.seq");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([correlation_id], |r| stored(r, codec))?;
    rows.collect()
}

pub fn stats(conn: &Connection, request: &StatsRequest) -> Result<Stats, ReadError> {
    if request.bucket_seconds < 1 {
        return Err(LedgerError::BadQuery("bucket width must be at least 1 second".into()).into());
    }
    let sel = Selection::new(&request.filter, None);
    let params = || params_from_iter(sel.params.iter());
    let width = request.bucket_seconds.saturating_mul(1_000_000);
    let (total, denied): (u64, u64) = conn.query_row(
        &format!(
            "SELECT count(*), coalesce(sum(d.denied), 0) {}",
            sel.from_where
        ),
        params(),
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let mut stmt = conn.prepare(&format!(
        "SELECT d.ts - (d.ts % {width}) AS b, count(*), sum(d.denied) {} GROUP BY b ORDER BY b",
        sel.from_where
    ))?;
    let buckets = stmt
        .query_map(params(), |r| {
            Ok(Bucket {
                start: micros_to_time(r.get(0)?),
                decisions: r.get(1)?,
                denied: r.get(2)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let top = |column: &str| -> rusqlite::Result<Vec<Count>> {
        let glue = if sel.from_where.contains(" WHERE ") {
            "AND"
        } else {
            "WHERE"
        };
        let mut stmt = conn.prepare(&format!(
            "SELECT d.{column}, count(*) AS n {} {glue} d.{column} IS NOT NULL \
             GROUP BY d.{column} ORDER BY n DESC, d.{column} LIMIT {}",
            sel.from_where, request.top
        ))?;
        let rows = stmt.query_map(params(), |r| {
            Ok(Count {
                key: r.get(0)?,
                count: r.get(1)?,
            })
        })?;
        rows.collect()
    };
    Ok(Stats {
        total,
        denied,
        buckets,
        top_deny_codes: top("deny_code")?,
        workers: top("worker")?,
    })
}

#[cfg(test)]
mod tests {
    use super::fts_query;

    #[test]
    fn free_text_is_quoted_and_safe() {
        assert_eq!(
            fts_query("cap.pay DENY_X").unwrap(),
            r#""cap.pay" "DENY_X""#
        );
        assert_eq!(
            fts_query(r#"a"b inv* refused."#).unwrap(),
            r#""a" "b" "inv"* "refused""#
        );
        assert_eq!(fts_query("x:cap.*").unwrap(), r#""x" "cap"*"#);
        assert_eq!(fts_query(r#"  - * "" ._ "#), None);
    }
}
