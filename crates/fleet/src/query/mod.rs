//! The fleet view's reads of the central store (docs/fleet.md, "Fleet view"): a page of
//! decisions across halls with the local explorer's filters plus the hall, one decision with
//! its linked records, a trace whose correlation id spans halls, stats buckets, and the halls
//! with their last contact and backlog. Read-only: the session refuses writes
//! (`default_transaction_read_only`), so a bug here cannot edit the evidence.
//!
//! Rows come back as stored (the decision's exact JSON text, hashes in hex); the HTTP layer
//! (`hall::fleet_view`) shapes them into the hall API's answers.

mod decisions;
#[cfg(feature = "testing")]
pub mod fixture;
mod halls;
mod stats;

pub use decisions::{CentralDecision, CentralEvent, CentralLinked, DecisionFilter, Page, Trace};
pub use halls::{HallHealth, HallRow, LATE_AFTER, SILENT_AFTER};
pub use stats::FleetStats;

use std::sync::Arc;
use std::time::Duration;
use tokio_postgres::{Client, Config, NoTls};

/// How long a connection attempt may take before the view answers "unavailable" (unless the
/// URL says otherwise): a request must not hang on a PostgreSQL that is away.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Any one query's limit, server-side: a free-text search over millions of rows is stopped
/// rather than left to hold a connection (the HTTP request has its own timeout).
const STATEMENT_TIMEOUT_MS: u32 = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// The database URL does not parse (a start-up error, never a request's); the message
    /// never echoes the URL (it may hold a password).
    #[error("{0}")]
    BadUrl(String),
    /// PostgreSQL is unreachable, refused the session or failed the query.
    #[error("the central store is unavailable: {0}")]
    Unavailable(String),
    /// A request the store cannot answer as asked (a bad cursor, a limit out of range).
    #[error("{0}")]
    BadQuery(String),
}

pub type Result<T> = std::result::Result<T, QueryError>;

impl From<tokio_postgres::Error> for QueryError {
    fn from(e: tokio_postgres::Error) -> Self {
        // FleetError's message names the server's own cause (a missing table when the schema
        // was never migrated, a statement timeout ...), never the connection string.
        QueryError::Unavailable(crate::FleetError::from(e).to_string())
    }
}

/// A read-only connection to the central store, (re)opened on demand: started while
/// PostgreSQL is down, it answers [`QueryError::Unavailable`] until PostgreSQL is back.
/// Concurrent queries share one connection (tokio-postgres pipelines them).
pub struct Reader {
    config: Config,
    client: tokio::sync::Mutex<Option<Arc<Client>>>,
}

impl Reader {
    /// Checks `url` (a `postgresql://` URL or a `key=value` string); connects on first use.
    pub fn new(url: &str) -> Result<Self> {
        let mut config = crate::dsn::parse(url).map_err(|e| QueryError::BadUrl(e.to_string()))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        let options = format!(
            "{} -c default_transaction_read_only=on -c statement_timeout={STATEMENT_TIMEOUT_MS}",
            config.get_options().unwrap_or("")
        );
        config.options(options.trim_start());
        config.application_name("proctor fleet view");
        Ok(Self {
            config,
            client: tokio::sync::Mutex::new(None),
        })
    }

    /// The store, as `postgresql://user@host:port/db` (never the password).
    pub fn describe(&self) -> String {
        crate::dsn::redacted(&self.config)
    }

    /// The open connection, or a new one when there is none or it closed (PostgreSQL restarted).
    pub(crate) async fn client(&self) -> Result<Arc<Client>> {
        let mut slot = self.client.lock().await;
        if let Some(client) = slot.as_ref().filter(|c| !c.is_closed()) {
            return Ok(client.clone());
        }
        *slot = None;
        let (client, connection) = self.config.connect(NoTls).await?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::warn!(error = %e, "fleet view: the connection to PostgreSQL ended");
            }
        });
        let client = Arc::new(client);
        *slot = Some(client.clone());
        Ok(client)
    }
}
