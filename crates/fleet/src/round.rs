//! One shipping round written to PostgreSQL: in one transaction, or, while a backlog of
//! decisions drains, split over two connections. PostgreSQL gives each connection one backend
//! process, and a backend inserting rows (heap, TOAST, nine indexes) is what limits a single
//! COPY; two COPY streams in flight keep two backends busy.
//!
//! The split keeps what the shipper promises: the two transactions commit in order, the first
//! (the first half of the decisions and every other stream) before the second, so the central
//! store always holds a prefix of every stream, which is where a new session resumes; the
//! cursor is saved only after both committed (the caller's job).

use tokio_postgres::{Client, Transaction};

use crate::error::FleetError;
use crate::ship::{self, Batch, Months};
use crate::status::Backlog;

/// Decisions in a round from which it is split over two connections (below, one transaction's
/// fixed costs weigh more than what a second backend buys).
pub const SPLIT_FROM: usize = 1_000;

/// How long the second transaction waits for a lock before the round fails (and is retried).
/// It can wait on another hall creating a month partition, which waits on our first
/// transaction, which commits only after the second's insert: a cycle through this client
/// that PostgreSQL cannot see, broken here.
const SECOND_LOCK_TIMEOUT: &str = "5s";

/// Write `batch` and the hall's contact (`last_contact`, `backlog`), committed when this returns
/// Ok. `second`, when given and the batch is big enough, takes half of the decisions.
pub async fn write(
    main: &mut Client,
    second: Option<&mut Client>,
    hall_id: &str,
    batch: &Batch,
    backlog: &Backlog,
    months: &mut Months,
) -> Result<(), FleetError> {
    match second {
        Some(second) if batch.decisions.len() >= SPLIT_FROM => {
            write_split(main, second, hall_id, batch, backlog, months).await
        }
        _ => {
            let tx = main.transaction().await?;
            ship::insert(&tx, hall_id, batch, months).await?;
            contact(&tx, hall_id, backlog).await?;
            Ok(tx.commit().await?)
        }
    }
}

async fn write_split(
    main: &mut Client,
    second: &mut Client,
    hall_id: &str,
    batch: &Batch,
    backlog: &Backlog,
    months: &mut Months,
) -> Result<(), FleetError> {
    // Partitions first, each committed on its own: creating one locks all of `decisions`,
    // which inside either transaction would hold the other up until it commits.
    ship::ensure_months(&*main, &batch.decisions, months).await?;
    let (first, rest) = batch.decisions.split_at(batch.decisions.len() / 2);
    let tx1 = main.transaction().await?;
    let tx2 = second.transaction().await?;
    tx2.batch_execute(&format!("SET LOCAL lock_timeout = '{SECOND_LOCK_TIMEOUT}'"))
        .await?;
    let first_part = async {
        ship::insert_decisions(&tx1, hall_id, first).await?;
        ship::insert_context(&tx1, hall_id, batch).await?;
        contact(&tx1, hall_id, backlog).await
    };
    tokio::try_join!(first_part, ship::insert_decisions(&tx2, hall_id, rest))?;
    tx1.commit().await?;
    // Should this fail, the store holds the first half: a prefix, where the next session
    // resumes (the cursor is not saved).
    tx2.commit().await?;
    Ok(())
}

/// The hall's `last_contact` and backlog, in the round's (first) transaction.
async fn contact(tx: &Transaction<'_>, hall_id: &str, backlog: &Backlog) -> Result<(), FleetError> {
    let detail = serde_json::to_value(backlog).expect("a backlog serializes");
    tx.execute(
        "UPDATE halls SET last_contact = now(), backlog = $2, backlog_detail = $3 \
         WHERE hall_id = $1",
        &[
            &hall_id,
            &backlog.total,
            &tokio_postgres::types::Json(detail),
        ],
    )
    .await?;
    Ok(())
}
