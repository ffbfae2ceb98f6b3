//! The central schema: versioned migrations (`migrations/V*__*.sql`, embedded at build time)
//! run by refinery, which records what ran in `refinery_schema_history`. Every hall runs them
//! on connect; an advisory lock makes concurrent halls run them once.

use tokio_postgres::Client;

use crate::error::FleetError;

mod embedded {
    refinery::embed_migrations!("migrations");
}

/// Any constant both sides agree on; "prfl" in ASCII.
const MIGRATION_LOCK: i64 = 0x7072_666c;

/// Bring the central schema up to date. A database a newer build migrated further is used as
/// it is (migrations only add tables and columns); one whose applied migrations differ from
/// ours is refused.
pub async fn migrate(client: &mut Client) -> Result<(), FleetError> {
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    let result = embedded::migrations::runner()
        .set_abort_divergent(true)
        .set_abort_missing(false)
        .run_async(client)
        .await
        .map(drop)
        .map_err(|e| FleetError::Migration(e.to_string()));
    // The lock is the session's: released here, or when the connection closes on an error.
    client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await?;
    result
}
