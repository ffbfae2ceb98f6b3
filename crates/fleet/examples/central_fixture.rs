//! A throwaway central store for the fleet view's browser test (tests/e2e/fleet.mjs): starts
//! PostgreSQL (`fleet::testing::TempPostgres`), migrates it, fills it with the test fixture
//! (`fleet::query::fixture`: three halls, a correlation id spanning two) and prints its URL on
//! one line. Then reads commands from stdin: `stop` / `start` the server (an outage); end of
//! input stops it and removes its files.
//!
//!   cargo run -p fleet --features testing --example central_fixture

use std::io::BufRead;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let pg = fleet::testing::TempPostgres::start();
    let (mut client, connection) = tokio_postgres::connect(&pg.url(), tokio_postgres::NoTls)
        .await
        .expect("connect to the temp PostgreSQL");
    let connection = tokio::spawn(connection);
    fleet::schema::migrate(&mut client).await.expect("migrate");
    fleet::query::fixture::seed(&client, chrono::Utc::now())
        .await
        .expect("seed");
    drop(client);
    let _ = connection.await;
    println!("{}", pg.url());
    for line in std::io::stdin().lock().lines() {
        match line.as_deref().map(str::trim) {
            Ok("stop") => pg.stop_server(),
            Ok("start") => pg.start_server(),
            Ok(other) => eprintln!("central_fixture: unknown command {other:?} (stop, start)"),
            Err(_) => break,
        }
        println!("ok");
    }
}
