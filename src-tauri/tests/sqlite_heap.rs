//! The embedded hall caps SQLite's heap before its ledger opens (src/sqlite_heap.rs), so the
//! desktop's memory levels off instead of growing into the ledger writer's 64 MiB cache.

use proctor_desktop::sqlite_heap::{current, SQLITE_SOFT_HEAP_LIMIT};
use proctor_desktop::{EmbeddedHall, StartOptions};

#[tokio::test]
async fn starting_the_embedded_hall_sets_the_sqlite_heap_limit() {
    assert_eq!(current(), 0, "no limit before the hall starts");
    let dir = tempfile::tempdir().unwrap();
    let hall = EmbeddedHall::start(StartOptions {
        data_dir: dir.path().to_path_buf(),
        listen: Some("127.0.0.1:0".parse().unwrap()),
    })
    .await
    .expect("hall starts");
    assert_eq!(current(), SQLITE_SOFT_HEAP_LIMIT);
    hall.shutdown().await;
}
