//! Proctor fleets (docs/fleet.md): each hall ships its ledger to one central PostgreSQL, where
//! `proctor fleet verify` re-verifies every hall's chains. The hall's SQLite ledger stays its
//! source of truth and is the outbox: the [`Shipper`] reads it on a read-only connection after
//! a durable cursor and copies it in batches, at least once and idempotently on (hall id, seq),
//! on a thread of its own so a route never waits for PostgreSQL.
//!
//! One job per module: [`schema`] (the versioned central migrations), [`identity`] (the hall
//! id and what is registered), [`cursor`] (the durable shipping position), `outbox` (one
//! round's read of the ledger), [`ship`] (one batch's SQL), [`round`] (one round's
//! transactions, on one connection or two), [`shipper`] (the loop: connect,
//! register, ship, back off), [`status`] (what the hall reports), [`verify`] (the central chain
//! walk), [`query`] (the fleet view's reads), [`dsn`] (connection strings without their
//! secrets), `testing` (a throwaway PostgreSQL, feature `testing`).

pub mod cursor;
mod decision_row;
pub mod dsn;
mod error;
pub mod identity;
mod notes;
mod outbox;
pub mod query;
pub mod round;
pub mod schema;
pub mod ship;
pub mod shipper;
pub mod status;
#[cfg(feature = "testing")]
pub mod testing;
pub mod verify;

pub use error::FleetError;
pub use identity::HallIdentity;
pub use shipper::{Shipper, ShipperConfig};
pub use status::{Backlog, FleetStatus};
