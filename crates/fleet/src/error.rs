use std::path::PathBuf;

/// What can go wrong between a hall and the central store. Messages never hold the database
/// URL's password: connection strings are shown through [`crate::dsn::redacted`] only.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    #[error("fleet configuration: {0}")]
    Config(String),
    #[error("PostgreSQL: {0}")]
    Postgres(String),
    #[error("central schema migration: {0}")]
    Migration(String),
    #[error("{path}: {detail}")]
    Io { path: PathBuf, detail: String },
    #[error(transparent)]
    Ledger(#[from] ledger::LedgerError),
    /// The central store holds another chain under this hall id (its genesis differs): this
    /// hall's records would be dropped as duplicates of someone else's, so nothing is shipped.
    #[error(
        "the central store already holds a different ledger under hall id {hall_id} (its chain \
         genesis differs): set another `[fleet] hall_id`, or remove that hall's rows centrally"
    )]
    ForeignChain { hall_id: String },
}

impl From<tokio_postgres::Error> for FleetError {
    fn from(e: tokio_postgres::Error) -> Self {
        // `Display` of a tokio-postgres error names the server's message, never the config.
        let detail = match e.as_db_error() {
            Some(db) => format!("{} ({})", db.message(), db.code().code()),
            None => e.to_string(),
        };
        FleetError::Postgres(detail)
    }
}

impl FleetError {
    pub(crate) fn io(path: impl Into<PathBuf>, e: impl std::fmt::Display) -> Self {
        FleetError::Io {
            path: path.into(),
            detail: e.to_string(),
        }
    }
}
