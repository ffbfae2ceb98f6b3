//! The shipping loop, on a thread of its own with a single-threaded runtime: nothing it does
//! (connecting, waiting for PostgreSQL, backing off) runs on the hall's runtime or its ledger
//! writer, so a route is never slowed or denied because the central store is slow or away.
//!
//! A session: connect, migrate, register the hall, take the central store's position of every
//! stream as the cursor, then ship rounds (read after the cursor on a read-only ledger
//! connection; insert in one transaction; commit; save the cursor) until an error ends the
//! session. Sessions are retried with exponential backoff until the shipper stops.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use chrono::Utc;
use ledger::{OpenOptions, SqliteBackend};
use tokio::sync::watch;
use tokio_postgres::Client;

use crate::cursor::{Cursor, CursorFile};
use crate::error::FleetError;
use crate::identity::HallIdentity;
use crate::outbox::{Outbox, Round};
use crate::round;
use crate::ship::{Batch, Months};
use crate::status::{Backlog, FleetStatus};
use crate::{dsn, schema};

/// Records per stream per round, at most: big enough that a round's fixed costs (a
/// transaction, a round trip per stream) vanish, small enough to keep a round well under a
/// second and its memory to a few MiB.
pub const DEFAULT_BATCH: usize = 5_000;
/// How often an idle shipper looks for new records.
pub const DEFAULT_POLL: Duration = Duration::from_millis(200);
/// After a round that shipped records without filling a batch, the next waits this long: under
/// a steady load the hall's records gather into fewer, bigger rounds (each round's fixed costs,
/// a transaction and the cursor's fsyncs, paid once a second rather than five times), for at
/// most this much more lag.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(1);
/// How often an idle shipper tells the central store it is alive (`halls.last_contact`).
const HEARTBEAT: Duration = Duration::from_secs(5);
const MIN_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// After the round's second connection failed to open, it is not tried again for this long.
const SECOND_RETRY: Duration = Duration::from_secs(60);
/// Connecting (TCP + startup) gives up after this; a stalled server is then retried.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// What the shipper needs to know about its hall.
#[derive(Debug, Clone)]
pub struct ShipperConfig {
    /// Never logged or shown whole (it may hold a password): see [`dsn::redacted`].
    pub database_url: String,
    /// Where `fleet/cursor.json` lives.
    pub data_dir: PathBuf,
    pub ledger_path: PathBuf,
    /// The signed checkpoint files to ship (the data dir's and the mirror's).
    pub checkpoint_files: Vec<PathBuf>,
    pub identity: HallIdentity,
    pub batch: usize,
    /// See [`DEFAULT_POLL`].
    pub poll: Duration,
    /// See [`DEFAULT_INTERVAL`] (never shorter than `poll`).
    pub interval: Duration,
}

/// A running shipper; stops (and joins its thread) on [`Shipper::stop`] or drop.
pub struct Shipper {
    status: Arc<Mutex<FleetStatus>>,
    stop: watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
}

impl Shipper {
    /// Check the configuration and start shipping. Only a bad URL or no thread fails here; an
    /// unreachable store is retried in the background and shows in [`Shipper::status`].
    pub fn start(config: ShipperConfig) -> Result<Shipper, FleetError> {
        let pg = dsn::parse(&config.database_url)?;
        let cursor_file = CursorFile::of(&config.data_dir);
        // A damaged cursor costs nothing but a re-read: the store's own position replaces it on
        // connect. It must not keep the hall from starting.
        let cursor = cursor_file.load().unwrap_or_else(|e| {
            tracing::warn!("{e}; the central store's position will be used");
            Cursor::default()
        });
        let status = Arc::new(Mutex::new(FleetStatus {
            configured: true,
            hall_id: Some(config.identity.hall_id.clone()),
            database: Some(dsn::redacted(&pg)),
            ..FleetStatus::default()
        }));
        let (stop, stopped) = watch::channel(false);
        let session = Session {
            pg,
            cursor_file,
            cursor,
            status: status.clone(),
            config,
        };
        let thread = std::thread::Builder::new()
            .name("fleet-shipper".into())
            .spawn(move || session.run(stopped))
            .map_err(|e| FleetError::Config(format!("cannot start the shipper thread: {e}")))?;
        Ok(Shipper {
            status,
            stop,
            thread: Some(thread),
        })
    }

    pub fn status(&self) -> FleetStatus {
        lock(&self.status).clone()
    }

    /// Stop shipping: an unfinished round is abandoned (its records ship again next time).
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        let _ = self.stop.send(true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Shipper {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

struct Session {
    pg: tokio_postgres::Config,
    cursor_file: CursorFile,
    cursor: Cursor,
    status: Arc<Mutex<FleetStatus>>,
    config: ShipperConfig,
}

impl Session {
    fn run(mut self, mut stopped: watch::Receiver<bool>) {
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => {
                self.failed(&FleetError::Config(format!(
                    "no runtime for the shipper: {e}"
                )));
                return;
            }
        };
        runtime.block_on(async {
            tokio::select! {
                _ = stopped.wait_for(|stop| *stop) => {}
                _ = self.retry_forever() => {}
            }
        });
    }

    async fn retry_forever(&mut self) {
        let mut backoff = MIN_BACKOFF;
        loop {
            let mut outbox = None;
            let error = match self.session(&mut outbox, &mut backoff).await {
                Ok(never) => match never {},
                Err(e) => e,
            };
            self.failed(&error);
            let wait = backoff;
            backoff = (backoff * 2).min(MAX_BACKOFF);
            // The backlog keeps growing while the store is away: show it.
            if let Some(outbox) = &outbox {
                self.refresh_backlog(&outbox.ledger);
            }
            tokio::time::sleep(wait).await;
        }
    }

    fn failed(&self, error: &FleetError) {
        tracing::warn!(
            database = self.status().database.as_deref().unwrap_or(""),
            hall_id = %self.config.identity.hall_id,
            "fleet shipping: {error}"
        );
        let mut status = lock(&self.status);
        status.connected = false;
        status.last_error = Some(error.to_string());
    }

    fn status(&self) -> FleetStatus {
        lock(&self.status).clone()
    }

    fn refresh_backlog(&self, ledger: &SqliteBackend) {
        if let Ok(heads) = ledger.outbox_heads() {
            lock(&self.status).backlog = Backlog::between(&self.cursor, &heads);
        }
    }

    /// One connection's life; returns only with the error that ended it.
    async fn session(
        &mut self,
        outbox_slot: &mut Option<Arc<Outbox>>,
        backoff: &mut Duration,
    ) -> Result<std::convert::Infallible, FleetError> {
        let outbox = outbox_slot.insert(Arc::new(Outbox {
            ledger: SqliteBackend::open(&self.config.ledger_path, OpenOptions::read_only())?,
            batch: self.config.batch,
            checkpoint_files: self.config.checkpoint_files.clone(),
            hall_id: self.config.identity.hall_id.clone(),
        }));
        self.refresh_backlog(&outbox.ledger);
        let mut client = self.connect().await?;
        schema::migrate(&mut client).await?;
        register(
            &client,
            &self.config.identity,
            &outbox.ledger.outbox_genesis()?,
        )
        .await?;
        self.resume_from_central(&client).await?;
        *backoff = MIN_BACKOFF;
        {
            let mut status = lock(&self.status);
            status.connected = true;
            status.last_error = None;
            status.last_contact = Some(Utc::now());
        }
        let mut months = Months::default();
        let mut last_contact = tokio::time::Instant::now();
        // The next round, read from SQLite on a blocking thread while PostgreSQL inserts this one
        // (only while a backlog is draining: an idle shipper reads after its poll instead).
        let mut next: Option<tokio::task::JoinHandle<Result<Round, FleetError>>> = None;
        let mut second: Option<Client> = None;
        let mut second_retry = tokio::time::Instant::now();
        loop {
            let Round { heads, batch } = match next.take() {
                Some(read) => read.await.map_err(|e| {
                    FleetError::Config(format!("the shipper's ledger read failed: {e}"))
                })??,
                None => outbox.read(&self.cursor)?,
            };
            let full = outbox.is_full(&batch);
            let after = advance(self.cursor, &batch);
            if full {
                let outbox = outbox.clone();
                next = Some(tokio::task::spawn_blocking(move || outbox.read(&after)));
            }
            let backlog = Backlog::between(&after, &heads);
            // A second connection only while a backlog of decisions drains: an idle or
            // keeping-up hall holds one.
            if batch.decisions.len() < round::SPLIT_FROM {
                second = None;
            } else if second.is_none() && tokio::time::Instant::now() >= second_retry {
                second = self.connect_second().await;
                if second.is_none() {
                    // A server out of connections is not asked again every round.
                    second_retry = tokio::time::Instant::now() + SECOND_RETRY;
                }
            }
            if !batch.is_empty() || last_contact.elapsed() >= HEARTBEAT {
                let shipped = round::write(
                    &mut client,
                    second.as_mut(),
                    &self.config.identity.hall_id,
                    &batch,
                    &backlog,
                    &mut months,
                )
                .await;
                if let Err(e) = shipped {
                    months.forget();
                    return Err(e);
                }
                last_contact = tokio::time::Instant::now();
                if after != self.cursor {
                    self.cursor_file.save(&after)?;
                    self.cursor = after;
                }
                let mut status = lock(&self.status);
                status.connected = true;
                status.last_error = None;
                status.last_contact = Some(Utc::now());
                status.shipped += batch.len() as u64;
                status.backlog = backlog;
            } else {
                lock(&self.status).backlog = backlog;
            }
            if !full {
                let wait = if batch.is_empty() {
                    self.config.poll
                } else {
                    self.config.interval.max(self.config.poll)
                };
                tokio::time::sleep(wait).await;
            }
        }
    }

    async fn connect(&self) -> Result<Client, FleetError> {
        let mut pg = self.pg.clone();
        pg.connect_timeout(CONNECT_TIMEOUT);
        pg.application_name("proctor-fleet-shipper");
        let client = dsn::connect(&pg).await?;
        // Decision bodies past ~2 KB are compressed by PostgreSQL (TOAST); lz4 does it in a
        // fraction of the CPU of the default pglz (BENCHMARKS.md, "Fleet shipping"). A server
        // without it (before 14, or built without lz4) keeps its default.
        if let Err(e) = client
            .batch_execute("SET default_toast_compression = lz4")
            .await
        {
            tracing::debug!("fleet shipping: lz4 compression unavailable, using the default: {e}");
        }
        Ok(client)
    }

    /// The round's second connection ([`round`]); without it the round ships on one.
    async fn connect_second(&self) -> Option<Client> {
        self.connect()
            .await
            .map_err(|e| {
                tracing::info!(
                    hall_id = %self.config.identity.hall_id,
                    "fleet shipping on one connection: a second one failed: {e}"
                )
            })
            .ok()
    }

    /// The central store's position of every stream becomes the cursor: after a crash between
    /// a commit and the cursor's save nothing ships twice, and after a database restored from
    /// an older backup what it lacks ships again.
    async fn resume_from_central(&mut self, client: &Client) -> Result<(), FleetError> {
        let row = client
            .query_one(
                "SELECT greatest((SELECT max(seq) FROM decisions WHERE hall_id = $1),
                                 (SELECT max(through_seq) FROM central_prunes WHERE hall_id = $1), 0),
                        coalesce((SELECT max(seq) FROM linked_records WHERE hall_id = $1), 0),
                        coalesce((SELECT max(id) FROM hall_events WHERE hall_id = $1), 0),
                        coalesce((SELECT max(change_seq) FROM alerts WHERE hall_id = $1), 0),
                        coalesce((SELECT max(size) FROM checkpoints WHERE hall_id = $1), 0),
                        coalesce((SELECT max(id) FROM retention_checkpoints
                                  WHERE hall_id = $1 AND chain = 'decisions'), 0),
                        coalesce((SELECT max(id) FROM retention_checkpoints
                                  WHERE hall_id = $1 AND chain = 'linked'), 0)",
                &[&self.config.identity.hall_id],
            )
            .await?;
        let central = Cursor {
            decisions: row.get(0),
            linked: row.get(1),
            events: row.get(2),
            alerts: row.get(3),
            checkpoint: row.get(4),
            retention_decisions: row.get(5),
            retention_linked: row.get(6),
        };
        if central != self.cursor {
            if central.decisions < self.cursor.decisions {
                tracing::warn!(
                    hall_id = %self.config.identity.hall_id,
                    "the central store holds decisions up to seq {} only (this hall shipped up \
                     to {}): shipping them again",
                    central.decisions,
                    self.cursor.decisions
                );
            }
            self.cursor_file.save(&central)?;
            self.cursor = central;
        }
        Ok(())
    }
}

/// The cursor after `batch` committed.
fn advance(mut cursor: Cursor, batch: &Batch) -> Cursor {
    if let Some(last) = batch.decisions.last() {
        cursor.decisions = last.seq;
    }
    if let Some(last) = batch.linked.last() {
        cursor.linked = last.seq;
    }
    if let Some(last) = batch.events.last() {
        cursor.events = last.id;
    }
    if let Some(last) = batch.alerts.last() {
        cursor.alerts = last.change_seq;
    }
    if let Some(last) = batch.retention_decisions.last() {
        cursor.retention_decisions = last.id;
    }
    if let Some(last) = batch.retention_linked.last() {
        cursor.retention_linked = last.id;
    }
    if let Some(note) = &batch.checkpoint {
        cursor.checkpoint = note.size;
    }
    cursor
}

/// The `halls` row: created on first contact, its name kept current. A row for this hall id
/// with another genesis is someone else's chain, and one with another key would make its
/// checkpoints unverifiable: both refused (fail closed).
async fn register(
    client: &Client,
    identity: &HallIdentity,
    genesis: &[u8],
) -> Result<(), FleetError> {
    let row = client
        .query_one(
            "INSERT INTO halls (hall_id, public_key, key_name, verifier_key, name, version, \
             genesis, last_contact) VALUES ($1, $2, $3, $4, $5, $6, $7, now()) \
             ON CONFLICT (hall_id) DO UPDATE SET name = EXCLUDED.name, \
             version = EXCLUDED.version, last_contact = now(), \
             genesis = coalesce(halls.genesis, EXCLUDED.genesis) \
             RETURNING genesis, verifier_key",
            &[
                &identity.hall_id,
                &identity.public_key,
                &identity.key_name,
                &identity.verifier_key,
                &identity.name,
                &identity.version,
                &genesis,
            ],
        )
        .await?;
    let central: Vec<u8> = row.get(0);
    if central != genesis {
        return Err(FleetError::ForeignChain {
            hall_id: identity.hall_id.clone(),
        });
    }
    // The registered key is what every shipped checkpoint is verified with: never replaced.
    let key: String = row.get(1);
    if key != identity.verifier_key {
        return Err(FleetError::Config(format!(
            "hall {} is registered centrally with another hall key ({key}); this hall's is {}",
            identity.hall_id, identity.verifier_key
        )));
    }
    Ok(())
}
