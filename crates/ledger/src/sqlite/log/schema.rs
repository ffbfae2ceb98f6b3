//! Numbered migrations, tracked in `PRAGMA user_version`. Migration N brings the schema from
//! version N-1 to N; they run in order inside one transaction when a ledger is opened for
//! writing. A file with a newer version than [`LATEST`] is refused, never downgraded.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};
use std::path::Path;

use super::codec::{self, Codec};
use crate::error::{LedgerError, Result};
use crate::linked::linked_genesis;
use crate::record::lookup_key;

/// One schema step: plain SQL, or SQL plus work SQL can't do alone.
enum Migration {
    Sql(&'static str),
    Rust(fn(&Connection) -> rusqlite::Result<()>),
}

/// Migration `i` (0-based) upgrades version `i` to `i + 1`.
const MIGRATIONS: &[Migration] = &[
    // 1: decisions + chain state + free-text index + checkpoints + hall records.
    Migration::Sql(
        r#"
    -- One row: the chain's genesis and its head (last committed record), updated with every batch.
    CREATE TABLE chain_state (
        id         INTEGER PRIMARY KEY CHECK (id = 1),
        genesis    BLOB    NOT NULL,
        created_at INTEGER NOT NULL,
        head_seq   INTEGER NOT NULL,
        head_hash  BLOB    NOT NULL
    );

    -- How `decisions.body` is encoded, with the dictionary it needs.
    CREATE TABLE codec (
        id         INTEGER PRIMARY KEY CHECK (id = 1),
        name       TEXT    NOT NULL,
        dictionary BLOB    NOT NULL
    );

    -- seq is the rowid, so every index below ends in seq implicitly: "filter = ? ORDER BY seq
    -- DESC" walks one index with no sort. Low-cardinality filters (env, data_label, qos_class,
    -- denied, dry_run) have no index: newest-first scans find matches within a few rows.
    CREATE TABLE decisions (
        seq             INTEGER PRIMARY KEY,
        ts              INTEGER NOT NULL,      -- decision timestamp, µs since the epoch (UTC)
        decision_id     TEXT    NOT NULL,
        correlation_id  TEXT    NOT NULL,
        tenant_id       TEXT    NOT NULL,
        capability_id   TEXT    NOT NULL,
        matched_rule_id TEXT    NOT NULL,
        worker          TEXT,                  -- selected_worker_species_id
        env             TEXT    NOT NULL,
        data_label      TEXT    NOT NULL,
        qos_class       TEXT    NOT NULL,
        denied          INTEGER NOT NULL,
        deny_code       TEXT,
        deny_message    TEXT,
        dry_run         INTEGER NOT NULL,
        artifact_hash   TEXT,
        prev_hash       BLOB    NOT NULL,
        hash            BLOB    NOT NULL,
        body            BLOB    NOT NULL       -- the decision's exact JSON, compressed (codec.rs); the only copy
    );
    CREATE UNIQUE INDEX decisions_decision_id ON decisions (decision_id);
    CREATE INDEX decisions_correlation ON decisions (correlation_id);
    CREATE INDEX decisions_tenant ON decisions (tenant_id);
    CREATE INDEX decisions_capability ON decisions (capability_id);
    CREATE INDEX decisions_worker ON decisions (worker) WHERE worker IS NOT NULL;
    CREATE INDEX decisions_rule ON decisions (matched_rule_id);
    CREATE INDEX decisions_deny_code ON decisions (deny_code) WHERE deny_code IS NOT NULL;
    CREATE INDEX decisions_ts ON decisions (ts);

    -- Contentless: the index only, no second copy of the text; rowid = seq. Ids stay whole
    -- tokens (record.rs, search_words), which keeps the index small and inserts cheap.
    CREATE VIRTUAL TABLE decisions_fts USING fts5 (
        body, content = '', contentless_delete = 1, tokenize = "unicode61 tokenchars '-._'"
    );

    -- Retention checkpoints, chained from the genesis (see chain.rs).
    CREATE TABLE checkpoints (
        id           INTEGER PRIMARY KEY,
        created_at   INTEGER NOT NULL,
        cutoff_ts    INTEGER NOT NULL,
        through_seq  INTEGER NOT NULL,
        through_hash BLOB    NOT NULL,
        pruned_total INTEGER NOT NULL,
        hash         BLOB    NOT NULL
    );

    CREATE TABLE alerts (
        id              INTEGER PRIMARY KEY,
        created_at      INTEGER NOT NULL,
        severity        INTEGER NOT NULL,      -- 0 info, 1 warning, 2 critical
        code            TEXT    NOT NULL,
        message         TEXT    NOT NULL,
        worker_id       TEXT,
        correlation_id  TEXT,
        acknowledged_at INTEGER,
        details         TEXT    NOT NULL
    );
    CREATE INDEX alerts_open ON alerts (id) WHERE acknowledged_at IS NULL;

    CREATE TABLE hall_events (
        id             INTEGER PRIMARY KEY,
        ts             INTEGER NOT NULL,
        kind           TEXT    NOT NULL,
        worker_id      TEXT,
        correlation_id TEXT,
        details        TEXT    NOT NULL
    );
    CREATE INDEX hall_events_ts ON hall_events (ts);
    CREATE INDEX hall_events_worker ON hall_events (worker_id, ts) WHERE worker_id IS NOT NULL;
    CREATE INDEX hall_events_correlation ON hall_events (correlation_id, ts)
        WHERE correlation_id IS NOT NULL;
    "#,
    ),
    // 2: the free-text index is maintained after commit, off the durable path (fts.rs);
    // this is how far it got. Files from version 1 indexed every record in the append.
    Migration::Sql(
        r#"
    CREATE TABLE fts_state (
        id          INTEGER PRIMARY KEY CHECK (id = 1),
        indexed_seq INTEGER NOT NULL
    );
    INSERT INTO fts_state (id, indexed_seq) SELECT 1, coalesce(max(seq), 0) FROM decisions;
    "#,
    ),
    // 3: decision ids are indexed by a 64-bit key of the id instead of the id text.
    Migration::Rust(key_decision_ids),
    // 4: the filter indexes become derived data too (index/derived.rs): tables of (value, seq) that
    // the writer fills after commit in big steps, with the free-text index; the position they
    // have all reached moves to `index_state`. Correlation ids are found through the free-text
    // index instead (a B-tree of random ids costs a page write per record). Only the chain
    // table and its sequential `ts` index stay on the durable path.
    Migration::Rust(derive_filter_indexes),
    // 5: the derived indexes move to a file of their own (index/index_file.rs), which the indexer
    // rebuilds from the records on the first open: it writes under its own lock, beside the
    // commits instead of between them.
    Migration::Sql(
        r#"
    DROP TABLE by_decision_key;
    DROP TABLE by_tenant;
    DROP TABLE by_capability;
    DROP TABLE by_worker;
    DROP TABLE by_rule;
    DROP TABLE by_deny_code;
    DROP TABLE decisions_fts;
    DROP TABLE index_state;
    "#,
    ),
    // 6: linked records (MCP call outcomes, approvals), a second hash chain linked to decisions.
    Migration::Rust(linked_records),
    // 7: each worker's last heartbeat, one row per worker, so a restarted hall still knows when
    // it last heard from each (heartbeats themselves are not kept; hall_records.rs).
    Migration::Sql(
        r#"
    CREATE TABLE worker_heartbeats (
        worker_id  TEXT    PRIMARY KEY,
        ts         INTEGER NOT NULL,      -- µs since the epoch (UTC)
        reported   TEXT,
        latency_ms REAL
    ) WITHOUT ROWID;
    "#,
    ),
    // 8: alerts end by themselves (`resolved_at`, when their condition ended) and an
    // acknowledgement says who acknowledged and why (hall_records.rs). Open = neither.
    Migration::Sql(
        r#"
    ALTER TABLE alerts ADD COLUMN resolved_at INTEGER;
    ALTER TABLE alerts ADD COLUMN acked_by TEXT;
    ALTER TABLE alerts ADD COLUMN ack_note TEXT;
    DROP INDEX alerts_open;
    CREATE INDEX alerts_open ON alerts (id) WHERE acknowledged_at IS NULL AND resolved_at IS NULL;
    "#,
    ),
    // 9: every change of an alert (created, acknowledged, resolved, edited) takes the next
    // number of one counter, so the fleet shipper ships alerts by change, not once by id
    // (docs/fleet.md). Triggers keep it, whoever writes: numbers only grow, one per row
    // changed, visible in commit order (SQLite has one writer).
    Migration::Sql(ALERT_CHANGES),
];

/// Migration 9. Existing alerts are numbered in id order, then those acknowledged or resolved
/// since get numbers after all of them: their central copies (shipped by id, before the
/// change) then receive the change once.
const ALERT_CHANGES: &str = r#"
    ALTER TABLE alerts ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0;
    UPDATE alerts SET change_seq = id;
    UPDATE alerts SET change_seq = later.n
    FROM (SELECT id, (SELECT coalesce(max(id), 0) FROM alerts)
                     + row_number() OVER (ORDER BY id) AS n
          FROM alerts WHERE acknowledged_at IS NOT NULL OR resolved_at IS NOT NULL) AS later
    WHERE alerts.id = later.id;
    CREATE INDEX alerts_changed ON alerts (change_seq);

    -- One row: the last change number handed out.
    CREATE TABLE alert_changes (
        id  INTEGER PRIMARY KEY CHECK (id = 1),
        seq INTEGER NOT NULL
    );
    INSERT INTO alert_changes (id, seq) SELECT 1, coalesce(max(change_seq), 0) FROM alerts;

    CREATE TRIGGER alerts_change_on_insert AFTER INSERT ON alerts BEGIN
        UPDATE alert_changes SET seq = seq + 1 WHERE id = 1;
        UPDATE alerts SET change_seq = (SELECT seq FROM alert_changes WHERE id = 1)
        WHERE id = NEW.id;
    END;
    -- Every column but change_seq itself (so the trigger's own update does not fire it).
    CREATE TRIGGER alerts_change_on_update AFTER UPDATE OF created_at, severity, code, message,
        worker_id, correlation_id, acknowledged_at, details, resolved_at, acked_by, ack_note
        ON alerts BEGIN
        UPDATE alert_changes SET seq = seq + 1 WHERE id = 1;
        UPDATE alerts SET change_seq = (SELECT seq FROM alert_changes WHERE id = 1)
        WHERE id = NEW.id;
    END;
"#;

/// Migration 6. Linked records are fewer than decisions and are filtered straight from the
/// ledger file (no derived index file): their indexes are written in the commit. The random
/// ids (decision and correlation) are indexed by their 64-bit lookup key, as decisions are
/// (~3× fewer index pages to dirty per insert than the id text); the other filters take a
/// handful of values each, so their entries land on a few hot pages. Each index ends in `seq`
/// (the rowid), so "filter = ? ORDER BY seq" walks one index with no sort.
const LINKED_TABLES: &str = r#"
    CREATE TABLE linked_records (
        seq             INTEGER PRIMARY KEY,
        ts              INTEGER NOT NULL,      -- `at`, µs since the epoch (UTC)
        kind            TEXT    NOT NULL,
        decision_id     TEXT    NOT NULL,
        decision_key    INTEGER NOT NULL,      -- lookup key of decision_id (record.rs)
        decision_seq    INTEGER NOT NULL,      -- the linked decision's seq
        correlation_id  TEXT    NOT NULL,
        correlation_key INTEGER NOT NULL,      -- lookup key of correlation_id
        server          TEXT,
        tool            TEXT,
        prev_hash       BLOB    NOT NULL,
        hash            BLOB    NOT NULL,
        json            TEXT    NOT NULL       -- the chained JSON, exactly what was hashed
    );
    CREATE INDEX linked_decision ON linked_records (decision_key);
    CREATE INDEX linked_correlation ON linked_records (correlation_key);
    CREATE INDEX linked_server_tool ON linked_records (server, tool);
    CREATE INDEX linked_server ON linked_records (server);
    CREATE INDEX linked_tool ON linked_records (tool);
    CREATE INDEX linked_kind ON linked_records (kind);

    -- One row: the linked chain's head. Its genesis is derived from chain_state's (linked.rs).
    CREATE TABLE linked_chain_state (
        id        INTEGER PRIMARY KEY CHECK (id = 1),
        head_seq  INTEGER NOT NULL,
        head_hash BLOB    NOT NULL
    );

    -- Retention checkpoints of the linked chain, chained from its genesis (like checkpoints).
    CREATE TABLE linked_checkpoints (
        id           INTEGER PRIMARY KEY,
        created_at   INTEGER NOT NULL,
        through_seq  INTEGER NOT NULL,
        through_hash BLOB    NOT NULL,
        pruned_total INTEGER NOT NULL,
        hash         BLOB    NOT NULL
    );
"#;

fn linked_records(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(LINKED_TABLES)?;
    // A new file has no chain_state yet: `migrate` starts both heads after this.
    start_linked_chain(conn)
}

/// The linked chain's head at its genesis, once the decision chain's genesis exists.
fn start_linked_chain(conn: &Connection) -> rusqlite::Result<()> {
    let genesis: Option<Vec<u8>> = conn
        .query_row("SELECT genesis FROM chain_state WHERE id = 1", [], |r| {
            r.get(0)
        })
        .optional()?;
    if let Some(genesis) = genesis {
        conn.execute(
            "INSERT INTO linked_chain_state (id, head_seq, head_hash) VALUES (1, 0, ?1)",
            [linked_genesis(&genesis).as_slice()],
        )?;
    }
    Ok(())
}

/// Migration 3. Random decision ids land on random pages of their index, so each batch
/// dirtied most of the pages of a text index (~45 bytes an entry); an index of 64-bit keys
/// (`record::lookup_key`, ~16 bytes an entry) has ~3× fewer pages to dirty, write to the WAL
/// and checkpoint. Not UNIQUE (keys may collide): appends check for the id itself (append.rs).
/// Existing rows get their keys here, in steps, before the new index is built.
fn key_decision_ids(conn: &Connection) -> rusqlite::Result<()> {
    const STEP: i64 = 10_000;
    conn.execute_batch(
        "ALTER TABLE decisions ADD COLUMN decision_key INTEGER NOT NULL DEFAULT 0;",
    )?;
    let mut select = conn
        .prepare("SELECT seq, decision_id FROM decisions WHERE seq > ?1 ORDER BY seq LIMIT ?2")?;
    let mut update = conn.prepare("UPDATE decisions SET decision_key = ?2 WHERE seq = ?1")?;
    let mut after = 0i64;
    loop {
        let ids = select
            .query_map((after, STEP), |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        for (seq, id) in &ids {
            update.execute((seq, lookup_key(id)))?;
        }
        match ids.last() {
            Some((seq, _)) => after = *seq,
            None => break,
        }
    }
    conn.execute_batch(
        "DROP INDEX decisions_decision_id;
         CREATE INDEX decisions_decision_key ON decisions (decision_key);",
    )
}

/// Migration 4: filter index tables built from the records indexed so far (sorted, so each is
/// written in order), then the old indexes dropped. The tables as schema 4 defines them (a
/// later change to `derived::FILTER_INDEXES` is a later migration).
fn derive_filter_indexes(conn: &Connection) -> rusqlite::Result<()> {
    const TABLES: [(&str, &str, &str); 6] = [
        ("by_decision_key", "decision_key", "INTEGER"),
        ("by_tenant", "tenant_id", "TEXT"),
        ("by_capability", "capability_id", "TEXT"),
        ("by_worker", "worker", "TEXT"),
        ("by_rule", "matched_rule_id", "TEXT"),
        ("by_deny_code", "deny_code", "TEXT"),
    ];
    conn.execute_batch("ALTER TABLE fts_state RENAME TO index_state;")?;
    for (table, column, kind) in TABLES {
        conn.execute_batch(&format!(
            "CREATE TABLE {table} (value {kind} NOT NULL, seq INTEGER NOT NULL, \
                 PRIMARY KEY (value, seq)) WITHOUT ROWID;
             INSERT INTO {table} (value, seq) SELECT {column}, seq FROM decisions \
                 WHERE seq <= (SELECT indexed_seq FROM index_state) AND {column} IS NOT NULL \
                 ORDER BY 1, 2;"
        ))?;
    }
    conn.execute_batch(
        "DROP INDEX decisions_decision_key;
         DROP INDEX decisions_correlation;
         DROP INDEX decisions_tenant;
         DROP INDEX decisions_capability;
         DROP INDEX decisions_worker;
         DROP INDEX decisions_rule;
         DROP INDEX decisions_deny_code;",
    )
}

/// The first schema with linked records.
const LINKED: i64 = 6;

/// The schema version this build writes.
pub const LATEST: i64 = MIGRATIONS.len() as i64;

fn user_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

/// A version-0 file with tables in it belongs to someone else.
fn has_foreign_tables(conn: &Connection) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%')",
        [],
        |r| r.get(0),
    )
}

/// Bring a writable ledger to [`LATEST`], creating the chain state on a new file.
pub fn migrate(conn: &mut Connection, path: &Path, now_micros: i64) -> Result<()> {
    let db = |e| LedgerError::sqlite(path, e);
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db)?;
    let found = user_version(&tx).map_err(db)?;
    check_version(path, found, &tx)?;
    for (i, migration) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        tracing::info!(path = %path.display(), version = i + 1, "applying ledger migration");
        match migration {
            Migration::Sql(sql) => tx.execute_batch(sql),
            Migration::Rust(step) => step(&tx),
        }
        .map_err(db)?;
    }
    if found == 0 {
        let genesis = random_genesis();
        tx.execute(
            "INSERT INTO chain_state (id, genesis, created_at, head_seq, head_hash) VALUES (1, ?1, ?2, 0, ?1)",
            (genesis.as_slice(), now_micros),
        )
        .map_err(db)?;
        tx.execute(
            "INSERT INTO codec (id, name, dictionary) VALUES (1, ?1, ?2)",
            (codec::CODEC_NAME, codec::DICTIONARY),
        )
        .map_err(db)?;
        start_linked_chain(&tx).map_err(db)?;
    }
    check_chain_state(&tx, path, LATEST)?;
    tx.pragma_update(None, "user_version", LATEST).map_err(db)?;
    tx.commit().map_err(db)
}

/// A read-only opener can't migrate: the file must already be at [`LATEST`].
pub fn check_readable(conn: &Connection, path: &Path) -> Result<()> {
    let found = user_version(conn).map_err(|e| LedgerError::sqlite(path, e))?;
    check_version(path, found, conn)?;
    check_chain_state(conn, path, found)?;
    if found < LATEST {
        return Err(LedgerError::Database {
            path: path.to_path_buf(),
            detail: format!(
                "ledger schema version {found} is older than {LATEST}; open it for writing once to upgrade"
            ),
        });
    }
    Ok(())
}

fn check_version(path: &Path, found: i64, conn: &Connection) -> Result<()> {
    if found < 0 {
        // Migrations are counted from 0: a negative version would skip them all (and be
        // "upgraded" to the latest without its tables).
        return Err(LedgerError::Corrupt {
            path: path.to_path_buf(),
            detail: format!(
                "its schema version (PRAGMA user_version) is {found}, which no proctor writes"
            ),
        });
    }
    if found > LATEST {
        return Err(LedgerError::FutureSchema {
            path: path.to_path_buf(),
            found,
            supported: LATEST,
        });
    }
    if found == 0 && has_foreign_tables(conn).map_err(|e| LedgerError::sqlite(path, e))? {
        return Err(LedgerError::ForeignDatabase {
            path: path.to_path_buf(),
        });
    }
    if found == 0 && conn.is_readonly("main").unwrap_or(false) {
        // An empty file opened read-only: there is no ledger in it yet.
        return Err(LedgerError::NotFound {
            path: path.to_path_buf(),
        });
    }
    Ok(())
}

/// Every ledger has its one `chain_state` row (genesis and head of the hash chain) from its
/// first migration on; without it nothing can be read or appended, and SQLite would only say
/// "query returned no rows". The same for the linked chain's head from schema `LINKED` on.
fn check_chain_state(conn: &Connection, path: &Path, version: i64) -> Result<()> {
    let rows: i64 = conn
        .query_row("SELECT count(*) FROM chain_state WHERE id = 1", [], |r| {
            r.get(0)
        })
        .map_err(|e| LedgerError::sqlite(path, e))?;
    if rows == 0 {
        return Err(LedgerError::Corrupt {
            path: path.to_path_buf(),
            detail: "the chain_state row (the genesis and head of the hash chain) is missing"
                .into(),
        });
    }
    if version < LINKED {
        return Ok(());
    }
    let linked: i64 = conn
        .query_row(
            "SELECT count(*) FROM linked_chain_state WHERE id = 1",
            [],
            |r| r.get(0),
        )
        .map_err(|e| LedgerError::sqlite(path, e))?;
    if linked == 0 {
        return Err(LedgerError::Corrupt {
            path: path.to_path_buf(),
            detail: "the linked_chain_state row (the head of the linked-record chain) is missing"
                .into(),
        });
    }
    Ok(())
}

/// 32 random bytes: two v4 UUIDs (OS randomness), so chains of different files never collide.
fn random_genesis() -> [u8; 32] {
    let mut g = [0u8; 32];
    g[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    g[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    g
}

/// The linked chain's head `(head_seq, head_hash)`.
pub fn linked_head(conn: &Connection) -> rusqlite::Result<(i64, Vec<u8>)> {
    conn.prepare_cached("SELECT head_seq, head_hash FROM linked_chain_state WHERE id = 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
}

/// The chain's genesis and head `(genesis, head_seq, head_hash)`.
pub fn chain_state(conn: &Connection) -> rusqlite::Result<(Vec<u8>, i64, Vec<u8>)> {
    // Cached: every append batch reads the head.
    conn.prepare_cached("SELECT genesis, head_seq, head_hash FROM chain_state WHERE id = 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
}

/// The file's codec; refuses encodings this build does not know.
pub fn load_codec(conn: &Connection, path: &Path) -> Result<Codec> {
    let (name, dictionary): (String, Vec<u8>) = conn
        .query_row("SELECT name, dictionary FROM codec WHERE id = 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .map_err(|e| LedgerError::sqlite(path, e))?;
    if name != codec::CODEC_NAME {
        return Err(LedgerError::Database {
            path: path.to_path_buf(),
            detail: format!(
                "decisions are stored with codec {name:?}, which this build cannot read"
            ),
        });
    }
    Ok(Codec::new(dictionary))
}
