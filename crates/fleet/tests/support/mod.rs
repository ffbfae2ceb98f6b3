//! What the fleet tests share: ledgers full of realistic decisions, a shipper over one, the
//! central store's counts, and waits that always have a deadline.

#![allow(dead_code)]

#[path = "../../../ledger/tests/common/mod.rs"]
pub mod decisions;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fleet::verify::{FleetReport, NoteVerifier};
use fleet::{HallIdentity, Shipper, ShipperConfig};
use ledger::Ledger;

pub const DEADLINE: Duration = Duration::from_secs(60);

/// Poll `done` until it holds; panics naming `what` after `deadline`.
pub fn wait_until(what: &str, deadline: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < deadline,
            "timed out after {deadline:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A hall's data dir with a ledger, as far as shipping is concerned.
pub struct TestHall {
    pub dir: tempfile::TempDir,
    pub ledger: Option<Ledger>,
    pub hall_id: String,
}

impl TestHall {
    pub fn new(hall_id: &str) -> TestHall {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(dir.path().join("ledger.sqlite")).unwrap();
        TestHall {
            dir,
            ledger: Some(ledger),
            hall_id: hall_id.into(),
        }
    }

    pub fn ledger_path(&self) -> PathBuf {
        self.dir.path().join("ledger.sqlite")
    }

    /// Append decisions `from..from + n`, durably, in batches as concurrent callers would.
    pub fn append(&self, from: u64, n: u64) {
        let ledger = self.ledger.as_ref().unwrap();
        let pending: Vec<_> = (from..from + n)
            .map(|i| ledger.submit(decisions::decision(i)).unwrap())
            .collect();
        for rx in pending {
            rx.blocking_recv().unwrap().unwrap();
        }
    }

    pub fn head(&self) -> i64 {
        self.ledger.as_ref().unwrap().backend().head().unwrap().seq
    }

    pub fn identity(&self) -> HallIdentity {
        HallIdentity {
            hall_id: self.hall_id.clone(),
            public_key: "dGVzdA==".into(),
            key_name: "proctor-hall/test".into(),
            verifier_key: format!("proctor-hall/test+00000000+{}", self.hall_id),
            name: "test-host".into(),
            version: "test".into(),
        }
    }

    pub fn shipper(&self, database_url: &str) -> Shipper {
        Shipper::start(ShipperConfig {
            database_url: database_url.into(),
            data_dir: self.dir.path().to_path_buf(),
            ledger_path: self.ledger_path(),
            checkpoint_files: Vec::new(),
            identity: self.identity(),
            batch: 2_000,
            poll: Duration::from_millis(50),
            interval: Duration::from_millis(50),
        })
        .unwrap()
    }

    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    /// The shipper's cursor as saved in the data dir.
    pub fn saved_cursor(&self) -> fleet::cursor::Cursor {
        fleet::cursor::CursorFile::of(self.data_dir())
            .load()
            .unwrap()
    }

    pub fn backend(&self) -> &dyn ledger::LedgerBackend {
        self.ledger.as_ref().unwrap().backend()
    }

    /// Raise a warning alert about `worker`, as the hall's health watch does; its id.
    pub fn alert(&self, worker: &str) -> i64 {
        self.backend()
            .insert_alert(&ledger::NewAlert {
                created_at: chrono::Utc::now(),
                severity: ledger::Severity::Warning,
                code: "WORKER_OFFLINE".into(),
                message: format!("{worker} went offline"),
                worker_id: Some(worker.into()),
                correlation_id: None,
                details: serde_json::json!({"subject": worker}),
            })
            .unwrap()
    }

    pub fn ack(&self, id: i64, by: &str, note: &str) {
        let ack = ledger::AlertAck {
            at: chrono::Utc::now(),
            by: by.into(),
            note: Some(note.into()),
        };
        assert!(self.backend().ack_alert(id, &ack).unwrap());
    }

    /// Stop the hall (its ledger closed) and start it again on the same data dir.
    pub fn restart(&mut self) {
        self.ledger.take().unwrap().close();
        self.ledger = Some(Ledger::open(self.ledger_path()).unwrap());
    }
}

/// A client of the central store on a runtime of its own.
pub struct Central {
    pub runtime: tokio::runtime::Runtime,
    pub client: tokio_postgres::Client,
}

impl Central {
    pub fn connect(url: &str) -> Central {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let config = fleet::dsn::parse(url).unwrap();
        let client = runtime.block_on(fleet::dsn::connect(&config)).unwrap();
        Central { runtime, client }
    }

    pub fn count(&self, sql: &str) -> i64 {
        self.runtime
            .block_on(self.client.query_one(sql, &[]))
            .map(|row| row.get(0))
            .unwrap_or(-1)
    }

    /// The first column of the first row as text; "" when there is none (or the schema is
    /// not there yet).
    pub fn text(&self, sql: &str) -> String {
        self.runtime
            .block_on(self.client.query_opt(sql, &[]))
            .ok()
            .flatten()
            .and_then(|row| row.get::<_, Option<String>>(0))
            .unwrap_or_default()
    }

    pub fn execute(&self, sql: &str) -> u64 {
        self.runtime
            .block_on(self.client.execute(sql, &[]))
            .unwrap()
    }

    /// Decisions of `hall_id` held centrally, and how many distinct seqs they are; (-1, -1)
    /// before the schema exists.
    pub fn decisions_of(&self, hall_id: &str) -> (i64, i64) {
        self.runtime
            .block_on(self.client.query_one(
                "SELECT count(*), count(DISTINCT seq) FROM decisions WHERE hall_id = $1",
                &[&hall_id],
            ))
            .map(|row| (row.get(0), row.get(1)))
            .unwrap_or((-1, -1))
    }

    pub fn verify(&self) -> FleetReport {
        self.runtime
            .block_on(fleet::verify::verify_all(&self.client, &NoNotes))
            .unwrap()
    }
}

/// These tests ship no signed checkpoints; the hall's own note code is exercised by the
/// hall and CLI tests.
pub struct NoNotes;

impl NoteVerifier for NoNotes {
    fn open(&self, _note: &str, _key: &str) -> Result<(i64, String), String> {
        Err("no signed checkpoints expected here".into())
    }
}
