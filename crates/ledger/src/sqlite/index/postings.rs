//! Posting lists: the filter indexes of the low-cardinality columns (tenant, capability,
//! worker, rule, deny code). A handful of values covers every record, so instead of a B-tree
//! entry per record (five inserts per record, ~7 µs of the indexer's ~17), an indexing step
//! writes one block per value it saw: a row `(value, first_seq, last_seq, seqs)` whose `seqs`
//! holds the step's seqs of that value, delta-encoded. A step of 4,096 records then writes a
//! few dozen rows per index, and the index holds a few bytes per record.
//!
//! Queries read them through the table-valued function `proctor_postings(index, value)`
//! ([`PostingsTab`]): the seqs of `value`, newest first, from the block holding the cursor's
//! bound downwards. It consumes `ORDER BY seq DESC` and a `seq <`/`<=` bound, so a history page
//! reads one block or a few, however old the cursor.

use std::collections::HashMap;
use std::ffi::c_int;
use std::marker::PhantomData;

use rusqlite::vtab::{
    eponymous_only_module, Context, Filters, IndexConstraintOp, IndexInfo, VTab, VTabConfig,
    VTabConnection, VTabCursor,
};
use rusqlite::{ffi, Connection};

/// A posting-list index: table `table` holds the blocks of `decisions.column` (records whose
/// column is NULL have no entry).
pub struct PostingIndex {
    pub table: &'static str,
    pub column: &'static str,
}

pub const POSTING_INDEXES: [PostingIndex; 5] = [
    PostingIndex {
        table: "by_tenant",
        column: "tenant_id",
    },
    PostingIndex {
        table: "by_capability",
        column: "capability_id",
    },
    PostingIndex {
        table: "by_worker",
        column: "worker",
    },
    PostingIndex {
        table: "by_rule",
        column: "matched_rule_id",
    },
    PostingIndex {
        table: "by_deny_code",
        column: "deny_code",
    },
];

/// The posting index on `column`, if it has one.
pub fn on_column(column: &str) -> Option<&'static PostingIndex> {
    POSTING_INDEXES.iter().find(|i| i.column == column)
}

/// The table of one posting index, in `schema`.
pub fn create_sql(schema: &str, table: &str) -> String {
    format!(
        "CREATE TABLE {schema}.{table} (value TEXT NOT NULL, first_seq INTEGER NOT NULL, \
         last_seq INTEGER NOT NULL, seqs BLOB NOT NULL, PRIMARY KEY (value, first_seq)) \
         WITHOUT ROWID;"
    )
}

/// Ascending seqs as LEB128 varints of their gaps (the first from 0).
pub fn encode(seqs: &[i64]) -> Vec<u8> {
    let mut out = Vec::with_capacity(seqs.len() * 2);
    let mut previous = 0i64;
    for &seq in seqs {
        let mut gap = seq.wrapping_sub(previous) as u64;
        previous = seq;
        while gap >= 0x80 {
            out.push((gap as u8) | 0x80);
            gap >>= 7;
        }
        out.push(gap as u8);
    }
    out
}

/// The seqs of a block; `None` if it is damaged (a truncated varint, or seqs not ascending).
pub fn decode(block: &[u8]) -> Option<Vec<i64>> {
    let mut seqs = Vec::with_capacity(block.len());
    let (mut previous, mut gap, mut shift) = (0i64, 0u64, 0u32);
    for &byte in block {
        if shift > 63 {
            return None;
        }
        gap |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 != 0 {
            shift += 7;
            continue;
        }
        let seq = i64::try_from(gap)
            .ok()
            .and_then(|g| previous.checked_add(g))?;
        if !seqs.is_empty() && seq <= previous {
            return None;
        }
        seqs.push(seq);
        (previous, gap, shift) = (seq, 0, 0);
    }
    (shift == 0).then_some(seqs)
}

/// The seqs of a stored block; `None` if it is damaged, or not a blob at all.
fn decode_stored(block: rusqlite::types::ValueRef<'_>) -> Option<Vec<i64>> {
    block.as_blob().ok().and_then(decode)
}

/// Index the records `(from, to]` into every posting index: one block per index and value.
pub fn index_step(tx: &Connection, from: i64, to: i64) -> rusqlite::Result<()> {
    for (index, blocks) in POSTING_INDEXES.iter().zip(postings_of(tx, from, to)?) {
        write(tx, index.table, blocks)?;
    }
    Ok(())
}

/// The seqs of each value among the records `(from, to]`, per index in [`POSTING_INDEXES`]
/// order. Records are read in seq order, so each value's seqs come out ascending.
fn postings_of(
    conn: &Connection,
    from: i64,
    to: i64,
) -> rusqlite::Result<Vec<HashMap<String, Vec<i64>>>> {
    let columns: Vec<&str> = POSTING_INDEXES.iter().map(|i| i.column).collect();
    let mut by_value: Vec<HashMap<String, Vec<i64>>> = vec![HashMap::new(); columns.len()];
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT seq, {} FROM decisions WHERE seq > ?1 AND seq <= ?2",
        columns.join(", ")
    ))?;
    let mut rows = stmt.query((from, to))?;
    while let Some(row) = rows.next()? {
        let seq: i64 = row.get(0)?;
        for (i, values) in by_value.iter_mut().enumerate() {
            // A value that is not text (only a damaged record has one) is left out, as the
            // free-text index leaves it out.
            let Ok(Some(value)) = row.get_ref(i + 1)?.as_str_or_null() else {
                continue;
            };
            match values.get_mut(value) {
                Some(seqs) => seqs.push(seq),
                None => {
                    values.insert(value.to_owned(), vec![seq]);
                }
            }
        }
    }
    Ok(by_value)
}

/// Write each value's seqs (ascending) into `table` as blocks of up to [`BLOCK_MAX`] seqs.
fn write(
    tx: &Connection,
    table: &str,
    by_value: impl IntoIterator<Item = (String, Vec<i64>)>,
) -> rusqlite::Result<()> {
    let mut insert = tx.prepare_cached(&format!(
        "INSERT INTO {table} (value, first_seq, last_seq, seqs) VALUES (?1, ?2, ?3, ?4)"
    ))?;
    for (value, seqs) in by_value {
        for block in seqs.chunks(BLOCK_MAX) {
            insert.execute((&value, block[0], block[block.len() - 1], encode(block)))?;
        }
    }
    Ok(())
}

/// Seqs per block at most: a page decodes one block or a few, so one stays a few KB.
const BLOCK_MAX: usize = 4096;

/// Rewrite the blocks that start after `since` as blocks of up to [`BLOCK_MAX`] seqs per
/// value, in each index where that means fewer blocks. Under a light load a step indexes a
/// record or two, so a block holds a seq or two and costs a row; compacting keeps the index
/// small and a walk to a few rows per page. An index with a block that no longer decodes is
/// left as it is (the deep check names it).
pub fn compact(tx: &Connection, since: i64) -> rusqlite::Result<()> {
    for index in &POSTING_INDEXES {
        let mut by_value: Vec<(String, Vec<i64>)> = Vec::new();
        let mut blocks = 0usize;
        let mut damaged = false;
        let mut stmt = tx.prepare_cached(&format!(
            "SELECT value, seqs FROM {} WHERE first_seq > ?1 ORDER BY value, first_seq",
            index.table
        ))?;
        let mut rows = stmt.query([since])?;
        while let Some(row) = rows.next()? {
            blocks += 1;
            let (Ok(value), Some(seqs)) =
                (row.get_ref(0)?.as_str(), decode_stored(row.get_ref(1)?))
            else {
                damaged = true;
                break;
            };
            match by_value.last_mut() {
                Some((last, all)) if last == value => all.extend(seqs),
                _ => by_value.push((value.to_owned(), seqs)),
            }
        }
        drop(rows);
        let compacted: usize = by_value
            .iter()
            .map(|(_, s)| s.len().div_ceil(BLOCK_MAX))
            .sum();
        if damaged || compacted >= blocks {
            continue;
        }
        tx.prepare_cached(&format!("DELETE FROM {} WHERE first_seq > ?1", index.table))?
            .execute([since])?;
        write(tx, index.table, by_value)?;
    }
    Ok(())
}

/// Drop the blocks wholly at or before `through` (retention pruned those records). A block
/// that straddles it stays: queries join entries to records, so its pruned seqs go unseen.
pub fn forget_sql(schema: &str, through: i64) -> String {
    POSTING_INDEXES
        .iter()
        .map(|i| {
            format!(
                "DELETE FROM {schema}.{} WHERE last_seq <= {through};",
                i.table
            )
        })
        .collect()
}

/// Records per pass of [`check`]: a pass holds the expected seqs of its records for every index
/// (8 bytes per record and index), so the check's memory stays bounded (~48 MB) however long
/// the ledger.
const CHECK_PASS: i64 = 1 << 20;

/// Hold every posting index against the records `(pruned, indexed]`: `(table, wrong, missing)`
/// per index, where `wrong` counts entries whose record has another value (or is gone, or
/// whose block is damaged) and `missing` indexed records without their entry. The records
/// are read once, in passes of [`CHECK_PASS`]; each pass reads the (small) posting tables.
pub fn check(conn: &Connection) -> rusqlite::Result<Vec<(&'static str, u64, u64)>> {
    check_in_passes(conn, CHECK_PASS)
}

fn check_in_passes(
    conn: &Connection,
    records_per_pass: i64,
) -> rusqlite::Result<Vec<(&'static str, u64, u64)>> {
    let (pruned, indexed): (i64, i64) = conn.query_row(
        "SELECT pruned_seq, indexed_seq FROM index_state WHERE id = 1",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let mut report: Vec<_> = POSTING_INDEXES.iter().map(|i| (i.table, 0, 0)).collect();
    let mut from = pruned;
    loop {
        let to = from.saturating_add(records_per_pass).min(indexed);
        let pass = Pass {
            from,
            // Seqs past the indexed ones must not be in any block: the last pass looks for them.
            to: if to == indexed { i64::MAX } else { to },
            first: from == pruned,
        };
        // One scan of the records for all the indexes, grouped as the indexer groups them.
        for ((table, wrong, missing), expected) in
            report.iter_mut().zip(postings_of(conn, from, to)?)
        {
            let (w, m) = check_pass(conn, table, &pass, expected)?;
            *wrong += w;
            *missing += m;
        }
        if to == indexed {
            return Ok(report);
        }
        from = to;
    }
}

/// The seqs `(from, to]` of one pass of [`check`]; damaged blocks are counted in the first.
struct Pass {
    from: i64,
    to: i64,
    first: bool,
}

/// [`check`] of one posting index over one pass: `(wrong, missing)`.
fn check_pass(
    conn: &Connection,
    table: &str,
    pass: &Pass,
    expected: HashMap<String, Vec<i64>>,
) -> rusqlite::Result<(u64, u64)> {
    let mut found: HashMap<String, Vec<i64>> = HashMap::new();
    let mut wrong = 0u64;
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT value, first_seq, last_seq, seqs FROM {table} ORDER BY value, first_seq"
    ))?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let value = row.get_ref(0)?.as_str().ok();
        let (first, last) = (row.get_ref(1)?.as_i64().ok(), row.get_ref(2)?.as_i64().ok());
        match (value, decode_stored(row.get_ref(3)?)) {
            (Some(value), Some(seqs))
                if seqs.first() == first.as_ref() && seqs.last() == last.as_ref() =>
            {
                let kept = seqs.into_iter().filter(|&s| s > pass.from && s <= pass.to);
                found.entry(value.to_owned()).or_default().extend(kept);
            }
            _ if pass.first => wrong += 1,
            _ => {}
        }
    }
    let mut missing = 0u64;
    for (value, want) in &expected {
        let have = found.remove(value).unwrap_or_default();
        let (extra, absent) = sorted_difference(&have, want);
        wrong += extra;
        missing += absent;
    }
    wrong += found.values().map(|seqs| seqs.len() as u64).sum::<u64>();
    Ok((wrong, missing))
}

/// How many of `have` are not in `want`, and of `want` not in `have` (both ascending; a seq
/// repeated in `have`, or out of order across its blocks, counts as not wanted).
fn sorted_difference(have: &[i64], want: &[i64]) -> (u64, u64) {
    let (mut extra, mut absent) = (0u64, 0u64);
    let (mut h, mut w) = (have.iter().peekable(), want.iter().peekable());
    loop {
        match (h.peek(), w.peek()) {
            (Some(a), Some(b)) if a == b => {
                h.next();
                w.next();
            }
            (Some(a), Some(b)) if a < b => {
                extra += 1;
                h.next();
            }
            (Some(_), Some(_)) | (None, Some(_)) => {
                absent += 1;
                w.next();
            }
            (Some(_), None) => {
                extra += 1;
                h.next();
            }
            (None, None) => return (extra, absent),
        }
    }
}

/// Register `proctor_postings` on a connection that queries the indexes.
pub fn register(conn: &Connection) -> rusqlite::Result<()> {
    conn.create_module(
        c"proctor_postings",
        eponymous_only_module::<PostingsTab>(),
        None,
    )
}

// Columns of `proctor_postings`: `seq`, then the hidden arguments.
const COLUMN_INDEX: c_int = 1;
const COLUMN_VALUE: c_int = 2;
// `idx_num` bits: the seq bound given, and whether it includes its seq.
const BOUNDED: c_int = 1;
const INCLUSIVE: c_int = 2;

/// The table-valued function `proctor_postings(index, value)`: the seqs in posting index
/// `index` (a table name from [`POSTING_INDEXES`]) of `value`, newest first.
#[repr(C)]
struct PostingsTab {
    /// Base class; must be first.
    base: ffi::sqlite3_vtab,
    /// The connection the function runs on: blocks are read with a query of their own.
    db: *mut ffi::sqlite3,
}

unsafe impl<'vtab> VTab<'vtab> for PostingsTab {
    type Aux = ();
    type Cursor = PostingsCursor<'vtab>;

    fn connect(
        db: &mut VTabConnection,
        _aux: Option<&()>,
        _args: &[&[u8]],
    ) -> rusqlite::Result<(String, Self)> {
        db.config(VTabConfig::Innocuous)?;
        let tab = Self {
            base: ffi::sqlite3_vtab::default(),
            // SAFETY: the handle outlives the table, which SQLite disconnects before closing.
            db: unsafe { db.handle() },
        };
        Ok((
            "CREATE TABLE x(seq INTEGER, idx HIDDEN, value HIDDEN)".into(),
            tab,
        ))
    }

    fn best_index(&self, info: &mut IndexInfo) -> rusqlite::Result<()> {
        let (mut index, mut value, mut bound) = (None, None, None);
        for (i, c) in info.constraints().enumerate() {
            if !c.is_usable() {
                continue;
            }
            match (c.column(), c.operator()) {
                (COLUMN_INDEX, IndexConstraintOp::SQLITE_INDEX_CONSTRAINT_EQ) => index = Some(i),
                (COLUMN_VALUE, IndexConstraintOp::SQLITE_INDEX_CONSTRAINT_EQ) => value = Some(i),
                (0, IndexConstraintOp::SQLITE_INDEX_CONSTRAINT_LT) => bound = Some((i, 0)),
                (0, IndexConstraintOp::SQLITE_INDEX_CONSTRAINT_LE) => bound = Some((i, INCLUSIVE)),
                _ => {}
            }
        }
        let (Some(index), Some(value)) = (index, value) else {
            // Without both arguments there is nothing to read: make SQLite pass them.
            return Err(rusqlite::Error::ModuleError(
                "proctor_postings needs an index and a value".into(),
            ));
        };
        let mut idx_num = 0;
        for (argv, i) in [(1, index), (2, value)] {
            let mut usage = info.constraint_usage(i);
            usage.set_argv_index(argv);
            usage.set_omit(true);
        }
        if let Some((i, inclusive)) = bound {
            idx_num = BOUNDED | inclusive;
            let mut usage = info.constraint_usage(i);
            usage.set_argv_index(3);
            usage.set_omit(true);
        }
        let newest_first = {
            let mut order = info.order_bys();
            matches!((order.next(), order.next()), (Some(o), None) if o.column() == 0 && o.is_order_by_desc())
        };
        if newest_first || info.num_of_order_by() == 0 {
            info.set_order_by_consumed(true);
        }
        info.set_idx_num(idx_num);
        info.set_estimated_cost(if bound.is_some() { 10.0 } else { 100.0 });
        info.set_estimated_rows(1_000);
        Ok(())
    }

    fn open(&'vtab mut self) -> rusqlite::Result<PostingsCursor<'vtab>> {
        Ok(PostingsCursor {
            base: ffi::sqlite3_vtab_cursor::default(),
            db: self.db,
            table: "",
            value: String::new(),
            below: i64::MAX,
            block: Vec::new(),
            next_block_below: i64::MAX,
            blocks_per_read: 1,
            exhausted: true,
            phantom: PhantomData,
        })
    }
}

#[repr(C)]
struct PostingsCursor<'vtab> {
    /// Base class; must be first.
    base: ffi::sqlite3_vtab_cursor,
    db: *mut ffi::sqlite3,
    table: &'static str,
    value: String,
    /// Seqs from here up are not wanted.
    below: i64,
    /// The current block's wanted seqs, ascending: the last is the current row.
    block: Vec<i64>,
    /// The next blocks to read start below this seq.
    next_block_below: i64,
    /// Blocks read per query: one first (a page rarely needs more), doubling up to 64.
    blocks_per_read: i64,
    /// No block is left to read.
    exhausted: bool,
    phantom: PhantomData<&'vtab PostingsTab>,
}

impl PostingsCursor<'_> {
    /// Make the last of `block` the next row, reading older blocks when it is empty.
    fn fill(&mut self) -> rusqlite::Result<()> {
        while self.block.is_empty() && !self.exhausted {
            // SAFETY: the connection is open while SQLite runs this cursor, and the wrapper
            // does not close it when dropped. (Dropping it does clear the connection's hooks,
            // rusqlite's commit/update/progress/authorizer hooks: ledger connections set none.)
            let conn = unsafe { Connection::from_handle(self.db) }?;
            let mut stmt = conn.prepare(&format!(
                "SELECT first_seq, seqs FROM {} WHERE value = ?1 AND first_seq < ?2 \
                 ORDER BY first_seq DESC LIMIT ?3",
                self.table
            ))?;
            let mut rows =
                stmt.query((&self.value, self.next_block_below, self.blocks_per_read))?;
            let mut read = 0;
            let mut seqs = Vec::new();
            while let Some(row) = rows.next()? {
                read += 1;
                let first: i64 = row.get(0)?;
                let block = decode_stored(row.get_ref(1)?).ok_or_else(|| {
                    rusqlite::Error::ModuleError(format!(
                        "damaged posting block in {} (value {:?}, first seq {first}): delete \
                         the ledger's index file and the next writable open rebuilds it",
                        self.table, self.value
                    ))
                })?;
                // Blocks come newest first: put each older one in front.
                let wanted = block.into_iter().filter(|&s| s < self.below);
                seqs.splice(0..0, wanted);
                self.next_block_below = first;
            }
            self.exhausted = read < self.blocks_per_read;
            self.blocks_per_read = (self.blocks_per_read * 2).min(64);
            self.block = seqs;
        }
        Ok(())
    }
}

unsafe impl VTabCursor for PostingsCursor<'_> {
    fn filter(
        &mut self,
        idx_num: c_int,
        _idx_str: Option<&str>,
        args: &Filters<'_>,
    ) -> rusqlite::Result<()> {
        let table: Option<String> = args.get(0)?;
        let value: Option<String> = args.get(1)?;
        let bound: Option<i64> = if idx_num & BOUNDED != 0 {
            args.get(2)?
        } else {
            Some(i64::MAX)
        };
        self.table = match table
            .as_deref()
            .and_then(|t| POSTING_INDEXES.iter().find(|i| i.table == t))
        {
            Some(index) => index.table,
            None => {
                return Err(rusqlite::Error::ModuleError(format!(
                    "proctor_postings: no posting index {table:?}"
                )))
            }
        };
        self.block.clear();
        self.blocks_per_read = 1;
        // A NULL value or bound matches nothing, as `=` and `<` with NULL do.
        let (Some(value), Some(bound)) = (value, bound) else {
            self.exhausted = true;
            return Ok(());
        };
        self.value = value;
        self.below = if idx_num & INCLUSIVE != 0 {
            bound.saturating_add(1)
        } else {
            bound
        };
        self.next_block_below = self.below;
        self.exhausted = false;
        self.fill()
    }

    fn next(&mut self) -> rusqlite::Result<()> {
        self.block.pop();
        self.fill()
    }

    fn eof(&self) -> bool {
        self.block.is_empty()
    }

    fn column(&self, ctx: &mut Context, i: c_int) -> rusqlite::Result<()> {
        match i {
            0 => ctx.set_result(&self.block.last().copied()),
            COLUMN_INDEX => ctx.set_result(&self.table),
            _ => ctx.set_result(&self.value),
        }
    }

    fn rowid(&self) -> rusqlite::Result<i64> {
        Ok(self.block.last().copied().unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_round_trip_and_damage_is_caught() {
        for seqs in [vec![], vec![1], vec![1, 2, 3, 200, 70_000, i64::MAX / 2]] {
            assert_eq!(decode(&encode(&seqs)).unwrap(), seqs);
        }
        assert_eq!(decode(&[0x80]), None, "a truncated varint");
        assert_eq!(decode(&[5, 0]), None, "a repeated seq");
        assert_eq!(decode(&[0xff; 11]), None, "a varint too long");
    }

    /// A connection with the tenant index holding blocks `(value, seqs)`, and records 1..=20.
    fn with_blocks(blocks: &[(&str, &[i64])]) -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        register(&conn).unwrap();
        conn.execute_batch(&format!(
            "{} CREATE TABLE decisions (seq INTEGER PRIMARY KEY, tenant_id TEXT);",
            create_sql("main", "by_tenant")
        ))
        .unwrap();
        for seq in 1..=20 {
            conn.execute("INSERT INTO decisions VALUES (?1, 't')", [seq])
                .unwrap();
        }
        for (value, seqs) in blocks {
            conn.execute(
                "INSERT INTO by_tenant VALUES (?1, ?2, ?3, ?4)",
                (value, seqs[0], seqs[seqs.len() - 1], encode(seqs)),
            )
            .unwrap();
        }
        conn
    }

    /// The deep check in passes counts exactly what it counts in one pass, for an intact index
    /// and for blocks that were damaged, deleted, moved to another value or given a seq too
    /// many (one past the indexed records), whichever passes they straddle.
    #[test]
    fn the_check_in_passes_counts_what_one_pass_counts() {
        let conn = Connection::open_in_memory().unwrap();
        let columns: Vec<&str> = POSTING_INDEXES.iter().map(|i| i.column).collect();
        let mut sql = format!(
            "CREATE TABLE decisions (seq INTEGER PRIMARY KEY, {});
             CREATE TABLE index_state (id INTEGER PRIMARY KEY, pruned_seq, indexed_seq);
             INSERT INTO index_state VALUES (1, 3, 95);",
            columns.join(", ")
        );
        for index in &POSTING_INDEXES {
            sql.push_str(&create_sql("main", index.table));
        }
        conn.execute_batch(&sql).unwrap();
        for seq in 1..=100i64 {
            let value = |modulo: i64| (seq % modulo != 0).then(|| format!("v{}", seq % modulo));
            conn.execute(
                "INSERT INTO decisions VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                (seq, value(3), value(5), value(7), value(11), value(13)),
            )
            .unwrap();
        }
        // Steps of 9 records (blocks that straddle passes), the first three records pruned.
        for from in (3..95).step_by(9) {
            index_step(&conn, from, (from + 9).min(95)).unwrap();
        }
        let counts = |conn: &Connection, pass| -> Vec<(u64, u64)> {
            let report = check_in_passes(conn, pass).unwrap();
            report.into_iter().map(|(_, w, m)| (w, m)).collect()
        };
        let passes = [1, 4, 10, 33, i64::MAX];
        for pass in passes {
            assert_eq!(
                counts(&conn, pass),
                vec![(0, 0); 5],
                "intact, passes of {pass}"
            );
        }
        conn.execute_batch(
            "UPDATE by_tenant SET seqs = x'80' WHERE value = 'v1' AND first_seq > 40 AND first_seq < 50;
             DELETE FROM by_capability WHERE value = 'v2' AND first_seq > 60;
             UPDATE by_worker SET value = 'v1' WHERE value = 'v2' AND first_seq > 20 AND first_seq < 30;",
        )
        .unwrap();
        let (first, block): (i64, Vec<u8>) = conn
            .query_row(
                "SELECT first_seq, seqs FROM by_rule WHERE value = 'v1' ORDER BY first_seq DESC",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        let mut seqs = decode(&block).unwrap();
        seqs.push(96);
        conn.execute(
            "UPDATE by_rule SET last_seq = 96, seqs = ?1 WHERE value = 'v1' AND first_seq = ?2",
            (encode(&seqs), first),
        )
        .unwrap();
        let whole = counts(&conn, i64::MAX);
        assert!(whole.iter().take(4).all(|&(w, m)| w + m > 0), "{whole:?}");
        for pass in passes {
            assert_eq!(counts(&conn, pass), whole, "tampered, passes of {pass}");
        }
    }

    /// Column `i` of every row of `sql`.
    fn rows<T: rusqlite::types::FromSql>(
        conn: &Connection,
        sql: &str,
        i: usize,
    ) -> rusqlite::Result<Vec<T>> {
        let mut stmt = conn.prepare(sql)?;
        let rows = stmt.query_map([], |r| r.get(i))?;
        rows.collect()
    }

    fn seqs(conn: &Connection, sql: &str) -> Vec<i64> {
        rows(conn, sql, 0).unwrap()
    }

    #[test]
    fn postings_come_newest_first_from_the_bound_down() {
        let a: &[(&str, &[i64])] = &[
            ("a", &[1, 4]),
            ("b", &[2, 3]),
            ("a", &[7, 9, 12]),
            ("a", &[15]),
        ];
        let conn = with_blocks(a);
        let walk = "SELECT x.seq FROM proctor_postings('by_tenant', 'a') x \
                    JOIN decisions d ON d.seq = x.seq";
        let desc = "ORDER BY x.seq DESC";
        assert_eq!(seqs(&conn, &format!("{walk} {desc}")), [15, 12, 9, 7, 4, 1]);
        assert_eq!(
            seqs(&conn, &format!("{walk} WHERE x.seq < 12 {desc}")),
            [9, 7, 4, 1]
        );
        assert_eq!(
            seqs(&conn, &format!("{walk} WHERE x.seq <= 12 {desc} LIMIT 2")),
            [12, 9]
        );
        assert_eq!(
            seqs(&conn, &format!("{walk} WHERE x.seq < 8 ORDER BY x.seq")),
            [1, 4, 7]
        );
        let none: [i64; 0] = [];
        assert_eq!(
            seqs(&conn, "SELECT seq FROM proctor_postings('by_tenant', NULL)"),
            none
        );
        assert_eq!(
            seqs(&conn, "SELECT seq FROM proctor_postings('by_tenant', 'zz')"),
            none
        );
        // The walk drives the join and takes the bound and the order itself: no sort, no scan
        // of the records.
        let plan: Vec<String> = rows(
            &conn,
            &format!("EXPLAIN QUERY PLAN {walk} WHERE x.seq < 12 {desc} LIMIT 3"),
            3,
        )
        .unwrap();
        assert!(plan[0].starts_with("SCAN x VIRTUAL TABLE"), "{plan:?}");
        assert!(
            plan.iter()
                .all(|l| !l.contains("TEMP B-TREE") && !l.starts_with("SCAN d")),
            "{plan:?}"
        );
        let bad = rows::<i64>(
            &conn,
            "SELECT seq FROM proctor_postings('decisions', 'a')",
            0,
        );
        assert!(bad.unwrap_err().to_string().contains("no posting index"));
    }

    #[test]
    fn a_damaged_block_fails_the_query_naming_the_cure() {
        let conn = with_blocks(&[("a", &[1, 4])]);
        conn.execute("UPDATE by_tenant SET seqs = x'80'", [])
            .unwrap();
        let err = rows::<i64>(
            &conn,
            "SELECT seq FROM proctor_postings('by_tenant', 'a')",
            0,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("damaged posting block in by_tenant"), "{err}");
        assert!(err.contains("delete the ledger's index file"), "{err}");
    }

    #[test]
    fn differences_count_both_ways() {
        assert_eq!(sorted_difference(&[1, 2, 3], &[1, 2, 3]), (0, 0));
        assert_eq!(sorted_difference(&[1, 3, 9], &[1, 2, 3]), (1, 1));
        assert_eq!(sorted_difference(&[1, 1, 2], &[1, 2]), (1, 0));
        assert_eq!(sorted_difference(&[], &[4]), (0, 1));
    }
}
