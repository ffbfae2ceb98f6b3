//! History queries: filters compiled to one parameterised WHERE clause, keyset pages on `seq`
//! (newest first, never OFFSET), the free-text index, traces and chart stats.

use chrono::{DateTime, Utc};
use rusqlite::types::{Type, Value};
use rusqlite::{params_from_iter, Connection, ErrorCode, OptionalExtension, Row};

use super::derived::KEY_INDEX;
use super::postings;
use crate::error::LedgerError;
use crate::query::{
    encode_cursor, Bucket, Count, CountRequest, Facet, Filter, MatchCount, Page, PageRequest,
    Stats, StatsRequest, Summary, SummaryRequest, SUMMARY_BUCKETS,
};
use crate::record::{lookup_key, micros_to_time, search_words, DecisionFields, StoredDecision};
use crate::sqlite::log::codec::Codec;

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

/// The columns of a [`StoredDecision`] after its seq, in [`stored`]'s order.
pub const COLUMNS: &str = "d.hash, d.ts, d.decision_id, d.correlation_id, d.tenant_id, \
    d.capability_id, d.matched_rule_id, d.worker, d.env, d.data_label, d.qos_class, d.denied, \
    d.deny_code, d.deny_message, d.dry_run, d.artifact_hash, d.body";

/// The filter columns from a row selected with [`COLUMNS`] (its `d.ts` at column `at`).
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

/// One source of rows: `FROM … WHERE …`, its parameters, and the expression of its seq (the
/// driving index's own, so that ordering by seq walks that index).
struct Arm {
    from_where: String,
    params: Vec<Value>,
    seq: &'static str,
}

/// The rows a filter selects, as one or two arms read with `UNION ALL`. The free-text index
/// drives free text, and a correlation id (ids are whole words in it; a B-tree of random ids
/// would cost a page write per record). A filter on a column with a filter index (derived.rs)
/// walks that index. Both kinds of index hold the records up to the same position, so each
/// adds an arm for the tail after it, scanned newest first; free text has none (a writable
/// handle indexes first, sqlite/mod.rs). Any other filter reads the decisions table in one arm.
struct Selection {
    arms: Vec<Arm>,
}

impl Selection {
    fn new(filter: &Filter, before_seq: Option<i64>) -> Self {
        let text = |v: &Option<String>| v.clone().map(Value::Text);
        let flag = |v: Option<bool>| v.map(|b| Value::Integer(b as i64));
        let micros = |t: Option<DateTime<Utc>>| t.map(|t| Value::Integer(t.timestamp_micros()));
        // Filter-indexed columns first, in the order an index is picked to drive the scan
        // (the likely most selective first).
        let conditions = [
            ("worker", "=", text(&filter.worker)),
            ("matched_rule_id", "=", text(&filter.rule_id)),
            ("capability_id", "=", text(&filter.capability_id)),
            ("deny_code", "=", text(&filter.deny_code)),
            ("tenant_id", "=", text(&filter.tenant_id)),
            ("correlation_id", "=", text(&filter.correlation_id)),
            ("ts", ">=", micros(filter.since)),
            ("ts", "<", micros(filter.until)),
            ("denied", "=", flag(filter.denied)),
            ("env", "=", text(&filter.env)),
            ("data_label", "=", text(&filter.data_label)),
            ("dry_run", "=", flag(filter.dry_run)),
        ];
        let mut clauses = vec!["1".to_string()];
        let mut params = Vec::new();
        let mut driver = None;
        for (column, op, value) in conditions {
            let Some(value) = value else { continue };
            if driver.is_none() {
                driver = postings::on_column(column).map(|i| (i.table, value.clone()));
            }
            clauses.push(format!("d.{column} {op} ?"));
            params.push(value);
        }
        let conditions = clauses.join(" AND ");
        // The cursor bounds the driving seq, so the walk starts at the cursor.
        let arm = |from: &str, seq: &'static str, leading: Vec<Value>| {
            let mut from_where = format!("{from} AND {conditions}");
            let mut all = leading;
            all.extend(params.iter().cloned());
            if let Some(before) = before_seq {
                from_where.push_str(&format!(" AND {seq} < ?"));
                all.push(Value::Integer(before));
            }
            Arm {
                from_where,
                params: all,
                seq,
            }
        };
        let tail = || arm(TAIL, "d.seq", Vec::new());
        let searched = |terms: String| {
            arm(
                "FROM decisions_fts JOIN decisions d ON d.seq = decisions_fts.rowid \
                 WHERE decisions_fts MATCH ?",
                "d.seq",
                vec![Value::Text(terms)],
            )
        };
        let free_text = filter.text.as_deref().and_then(fts_query);
        let correlation = filter.correlation_id.as_deref().and_then(fts_query);
        let arms = match (free_text, correlation, driver) {
            (Some(text), correlation, _) => {
                let terms: Vec<String> = [Some(text), correlation].into_iter().flatten().collect();
                vec![searched(terms.join(" "))]
            }
            (None, Some(correlation), _) => vec![searched(correlation), tail()],
            (None, None, Some((table, value))) => vec![
                arm(
                    &format!(
                        "FROM proctor_postings('{table}', ?) x JOIN decisions d ON d.seq = x.seq \
                         WHERE 1"
                    ),
                    "x.seq",
                    vec![value],
                ),
                tail(),
            ],
            (None, None, None) => vec![arm("FROM decisions d WHERE 1", "d.seq", Vec::new())],
        };
        Self { arms }
    }

    /// `SELECT seq, columns` over every arm, and the parameters for the whole statement.
    fn select(&self, columns: &str) -> (String, Vec<Value>) {
        let sql = self
            .arms
            .iter()
            .map(|a| format!("SELECT {} AS seq, {columns} {}", a.seq, a.from_where))
            .collect::<Vec<_>>()
            .join(" UNION ALL ");
        let params = self
            .arms
            .iter()
            .flat_map(|a| a.params.iter().cloned())
            .collect();
        (sql, params)
    }
}

/// The records after the derived indexes' position (derived.rs), found by a scan of the
/// newest rows by seq (NOT INDEXED: so a time filter can never turn it into a walk of the
/// whole `ts` index).
const TAIL: &str =
    "FROM decisions d NOT INDEXED WHERE d.seq > (SELECT indexed_seq FROM index_state)";

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
    let (select, params) = Selection::new(&request.filter, before).select(COLUMNS);
    // One extra row tells whether an older page exists without a COUNT.
    let sql = format!("{select} ORDER BY seq DESC LIMIT {}", limit + 1);
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut records = stmt
        .query_map(params_from_iter(params.iter()), |r| stored(r, codec))?
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
    // The key finds the row through its small index; the id tells colliding keys apart.
    let sql = format!(
        "SELECT d.seq, {COLUMNS} FROM {KEY_INDEX} x JOIN decisions d ON d.seq = x.seq \
         WHERE x.value = ?1 AND d.decision_id = ?2 \
         UNION ALL SELECT d.seq, {COLUMNS} {TAIL} AND d.decision_key = ?1 AND d.decision_id = ?2"
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
    let filter = Filter {
        correlation_id: Some(correlation_id.to_string()),
        ..Filter::default()
    };
    let (select, params) = Selection::new(&filter, None).select(COLUMNS);
    let mut stmt = conn.prepare_cached(&format!("{select} ORDER BY seq"))?;
    let rows = stmt.query_map(params_from_iter(params.iter()), |r| stored(r, codec))?;
    rows.collect()
}

pub fn stats(conn: &Connection, request: &StatsRequest) -> Result<Stats, ReadError> {
    if request.bucket_seconds < 1 {
        return Err(LedgerError::BadQuery("bucket width must be at least 1 second".into()).into());
    }
    let (select, params) = Selection::new(&request.filter, None)
        .select("d.ts AS ts, d.denied AS denied, d.deny_code AS deny_code, d.worker AS worker");
    let from = format!("FROM ({select})");
    let params = || params_from_iter(params.iter());
    let width = request.bucket_seconds.saturating_mul(1_000_000);
    // One snapshot for the totals, the buckets and the tops.
    let snapshot = conn.unchecked_transaction()?;
    let (total, denied): (u64, u64) = snapshot.query_row(
        &format!("SELECT count(*), coalesce(sum(denied), 0) {from}"),
        params(),
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let mut stmt = snapshot.prepare(&format!(
        "SELECT ts - (ts % {width}) AS b, count(*), sum(denied) {from} GROUP BY b ORDER BY b"
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
        let mut stmt = snapshot.prepare(&format!(
            "SELECT {column}, count(*) AS n {from} WHERE {column} IS NOT NULL \
             GROUP BY {column} ORDER BY n DESC, {column} LIMIT {}",
            request.top
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

/// Decisions per value of a column with a posting index, over the whole ledger, most first.
/// The blocks are counted, not read back as records (see [`posting_counts`]).
pub fn counts_by(conn: &Connection, column: &str) -> Result<Vec<Count>, ReadError> {
    let index = postings::on_column(column)
        .ok_or_else(|| LedgerError::BadQuery(format!("no posting index on {column}")))?;
    let mut counts: Vec<Count> = posting_counts(conn, index, None)?
        .into_iter()
        .filter(|(_, count)| *count > 0)
        .map(|(key, count)| Count { key, count })
        .collect();
    counts.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
    Ok(counts)
}

/// Decisions per value of `index`'s column (every value, or only `only`), from its posting
/// blocks: a seq is one varint, so a block holds as many seqs as bytes without their high bit (a
/// block that straddles the retention cut is decoded, to leave out its pruned seqs), and the
/// records after the indexed position are grouped from the tail. About 2 bytes read per record
/// instead of the record itself.
fn posting_counts(
    conn: &Connection,
    index: &postings::PostingIndex,
    only: Option<&str>,
) -> rusqlite::Result<std::collections::HashMap<String, u64>> {
    // One snapshot (the caller's, if it holds one): the blocks and the tail then meet at the
    // same indexed position.
    let _snapshot = match conn.is_autocommit() {
        true => Some(conn.unchecked_transaction()?),
        false => None,
    };
    let pruned: i64 = conn.query_row("SELECT pruned_seq FROM index_state", [], |r| r.get(0))?;
    let mut counts: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
    let value_is = if only.is_some() {
        "value = ?1"
    } else {
        "?1 IS NULL"
    };
    let mut blocks = conn.prepare(&format!(
        "SELECT value, first_seq, seqs FROM {} WHERE {value_is}",
        index.table
    ))?;
    let mut rows = blocks.query([only])?;
    while let Some(row) = rows.next()? {
        let first_seq: i64 = row.get(1)?;
        let seqs = row.get_ref(2)?.as_blob()?;
        let n = if first_seq > pruned {
            seqs.iter().filter(|b| *b & 0x80 == 0).count()
        } else {
            postings::decode(seqs).map_or(0, |s| s.iter().filter(|&&q| q > pruned).count())
        };
        *counts.entry(row.get(0)?).or_default() += n as u64;
    }
    let column = index.column;
    let value_is = if only.is_some() {
        "= ?1"
    } else {
        "IS NOT NULL AND ?1 IS NULL"
    };
    let mut tail = conn.prepare(&format!(
        "SELECT d.{column}, count(*) {TAIL} AND d.{column} {value_is} GROUP BY d.{column}"
    ))?;
    let mut rows = tail.query([only])?;
    while let Some(row) = rows.next()? {
        *counts.entry(row.get(0)?).or_default() += row.get::<_, u64>(1)?;
    }
    Ok(counts)
}

/// The facet columns of a summary, by the API's parameter names, in the order listed.
const FACETS: [(&str, &str); 6] = [
    ("tenant_id", "d.tenant_id"),
    ("env", "d.env"),
    ("capability_id", "d.capability_id"),
    ("deny_code", "d.deny_code"),
    ("worker", "d.worker"),
    ("data_label", "d.data_label"),
];

/// Bucket widths a summary picks from (seconds): round steps from a second to a day.
const BUCKET_WIDTHS: [i64; 16] = [
    1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 10_800, 21_600, 86_400,
];

/// One walk of the newest `scan` matching records (the page's own plan, so a filtered summary
/// costs what reading that many rows of its page costs), counted per bucket and facet value.
pub fn summary(conn: &Connection, request: &SummaryRequest) -> Result<Summary, ReadError> {
    if request.bucket_seconds.is_some_and(|w| w < 1) {
        return Err(LedgerError::BadQuery("bucket width must be at least 1 second".into()).into());
    }
    let columns: Vec<&str> = FACETS.iter().map(|(_, column)| *column).collect();
    let (select, params) = Selection::new(&request.filter, None)
        .select(&format!("d.ts, d.denied, {}", columns.join(", ")));
    let sql = format!("{select} ORDER BY seq DESC LIMIT {}", request.scan + 1);
    let snapshot = conn.unchecked_transaction()?;
    let mut times: Vec<(i64, bool)> = Vec::new();
    let mut counts: Vec<std::collections::HashMap<String, u64>> = vec![Default::default(); 6];
    let mut stmt = snapshot.prepare(&sql)?;
    let mut rows = stmt.query(params_from_iter(params.iter()))?;
    let mut more = false;
    while let Some(row) = rows.next()? {
        if times.len() == request.scan {
            more = true;
            break;
        }
        times.push((row.get(1)?, row.get(2)?));
        for (i, facet) in counts.iter_mut().enumerate() {
            let rusqlite::types::ValueRef::Text(bytes) = row.get_ref(3 + i)? else {
                continue;
            };
            let value = String::from_utf8_lossy(bytes);
            match facet.get_mut(value.as_ref()) {
                Some(n) => *n += 1,
                None => {
                    facet.insert(value.into_owned(), 1);
                }
            }
        }
    }
    drop(rows);
    let (total, total_exact) = match more {
        false => (times.len() as u64, true),
        true => match index_count(&snapshot, &request.filter)? {
            Some(n) => (n, true),
            None => (times.len() as u64, false),
        },
    };
    let width = request
        .bucket_seconds
        .unwrap_or_else(|| bucket_width(&request.filter, &times));
    Ok(Summary {
        total,
        total_exact,
        scanned: times.len() as u64,
        bucket_seconds: width,
        buckets: buckets(&times, width),
        facets: FACETS
            .iter()
            .zip(counts)
            .map(|((field, _), values)| Facet {
                field,
                values: top(values, request.top),
            })
            .collect(),
    })
}

/// How many records match, within the request's budget. A filter an index counts (time alone,
/// or one posting column alone: [`index_count`]) is counted there; any other walks the page's
/// own plan and counts the rows as they come, so that when the budget runs out the rows counted
/// so far are a true lower bound. The loop looks at the clock between rows; a step that reads
/// many non-matching rows is interrupted instead (see [`Deadline`]), so `conn` should be a
/// connection of the caller's own.
pub fn count(conn: &Connection, request: &CountRequest) -> Result<MatchCount, ReadError> {
    let started = std::time::Instant::now();
    let _deadline = Deadline::start(conn, request.budget);
    let interrupted =
        |e: &rusqlite::Error| e.sqlite_error_code() == Some(ErrorCode::OperationInterrupted);
    let lower_bound = |total| MatchCount {
        total,
        exact: false,
    };
    match index_count(conn, &request.filter) {
        Ok(Some(total)) => return Ok(MatchCount { total, exact: true }),
        Ok(None) => {}
        // An index count outlasting the budget has counted nothing it can tell.
        Err(e) if interrupted(&e) => return Ok(lower_bound(0)),
        Err(e) => return Err(e.into()),
    }
    if started.elapsed() >= request.budget {
        return Ok(lower_bound(0));
    }
    let (select, params) = Selection::new(&request.filter, None).select("NULL");
    let mut stmt = conn.prepare(&select)?;
    let mut rows = stmt.query(params_from_iter(params.iter()))?;
    let mut total = 0u64;
    loop {
        match rows.next() {
            Ok(Some(_)) => total += 1,
            Ok(None) => return Ok(MatchCount { total, exact: true }),
            Err(e) if interrupted(&e) => return Ok(lower_bound(total)),
            Err(e) => return Err(e.into()),
        }
        // The clock every 1,024 rows: cheap next to the rows.
        if total.is_multiple_of(1024) && started.elapsed() >= request.budget {
            return Ok(lower_bound(total));
        }
    }
}

/// Interrupts a connection's running statement once a budget has run out, from a thread that
/// waits for it, and again every 10 ms after (SQLite forgets an interrupt that arrives while
/// no statement runs); dropped, it ends that thread (the channel disconnects). The interrupt
/// handle needs no rusqlite feature, where a progress handler would need `hooks`.
struct Deadline {
    _done: std::sync::mpsc::Sender<()>,
}

impl Deadline {
    fn start(conn: &Connection, budget: std::time::Duration) -> Self {
        use std::sync::mpsc::RecvTimeoutError::Timeout;
        let handle = conn.get_interrupt_handle();
        let (done, wait) = std::sync::mpsc::channel::<()>();
        std::thread::spawn(move || {
            let mut wait_for = budget;
            while let Err(Timeout) = wait.recv_timeout(wait_for) {
                handle.interrupt();
                wait_for = std::time::Duration::from_millis(10);
            }
        });
        Self { _done: done }
    }
}

/// The count of a filter an index answers without reading a record: time alone (or nothing),
/// or one column with a posting index alone; `None` for any other filter.
fn index_count(conn: &Connection, filter: &Filter) -> rusqlite::Result<Option<u64>> {
    match time_only_count(conn, filter)? {
        Some(n) => Ok(Some(n)),
        None => posting_only_count(conn, filter),
    }
}

/// A filter on one column with a posting index, and nothing else, counts that value's posting
/// blocks without reading a record.
fn posting_only_count(conn: &Connection, filter: &Filter) -> rusqlite::Result<Option<u64>> {
    let mut rest = filter.clone();
    let set: Vec<(&str, String)> = [
        ("tenant_id", rest.tenant_id.take()),
        ("capability_id", rest.capability_id.take()),
        ("worker", rest.worker.take()),
        ("matched_rule_id", rest.rule_id.take()),
        ("deny_code", rest.deny_code.take()),
    ]
    .into_iter()
    .filter_map(|(column, value)| Some((column, value?)))
    .collect();
    let ([(column, value)], true) = (set.as_slice(), rest == Filter::default()) else {
        return Ok(None);
    };
    let Some(index) = postings::on_column(column) else {
        return Ok(None);
    };
    let counts = posting_counts(conn, index, Some(value))?;
    Ok(Some(counts.get(value).copied().unwrap_or(0)))
}

/// A filter on time alone counts on the `ts` index without reading a record.
fn time_only_count(conn: &Connection, filter: &Filter) -> rusqlite::Result<Option<u64>> {
    let time_only = Filter {
        since: filter.since,
        until: filter.until,
        ..Filter::default()
    };
    if *filter != time_only {
        return Ok(None);
    }
    let mut sql = "SELECT count(*) FROM decisions WHERE 1".to_string();
    let mut params = Vec::new();
    for (op, at) in [(">=", filter.since), ("<", filter.until)] {
        if let Some(at) = at {
            sql.push_str(&format!(" AND ts {op} ?"));
            params.push(at.timestamp_micros());
        }
    }
    conn.query_row(&sql, params_from_iter(params), |r| r.get(0))
        .map(Some)
}

/// The narrowest round width that spans the filter's time range (or, open-ended, the scanned
/// records') in about [`SUMMARY_BUCKETS`] buckets.
fn bucket_width(filter: &Filter, times: &[(i64, bool)]) -> i64 {
    let newest = times.first().map(|t| t.0);
    let oldest = times.last().map(|t| t.0);
    let to = filter.until.map(|t| t.timestamp_micros()).or(newest);
    let from = filter.since.map(|t| t.timestamp_micros()).or(oldest);
    let span_s = match (from, to) {
        (Some(from), Some(to)) => to.saturating_sub(from).max(0) / 1_000_000,
        _ => 0,
    };
    let wanted = span_s / SUMMARY_BUCKETS;
    BUCKET_WIDTHS
        .into_iter()
        .find(|w| *w >= wanted)
        .unwrap_or(BUCKET_WIDTHS[BUCKET_WIDTHS.len() - 1])
}

fn buckets(times: &[(i64, bool)], width_s: i64) -> Vec<Bucket> {
    let width = width_s.saturating_mul(1_000_000);
    let mut buckets: std::collections::BTreeMap<i64, (u64, u64)> = Default::default();
    for (ts, denied) in times {
        let b = buckets.entry(ts - ts.rem_euclid(width)).or_default();
        b.0 += 1;
        b.1 += u64::from(*denied);
    }
    buckets
        .into_iter()
        .map(|(start, (decisions, denied))| Bucket {
            start: micros_to_time(start),
            decisions,
            denied,
        })
        .collect()
}

fn top(values: std::collections::HashMap<String, u64>, n: usize) -> Vec<Count> {
    let mut counts: Vec<Count> = values
        .into_iter()
        .map(|(key, count)| Count { key, count })
        .collect();
    counts.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
    counts.truncate(n);
    counts
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
