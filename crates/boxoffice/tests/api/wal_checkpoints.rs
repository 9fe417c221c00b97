//! SQLite's WAL is checkpointed by a background task (`store/sql/checkpoint.rs`), not by the
//! writer in the middle of a commit: committed holds reach the database file itself within
//! moments, long before the writer's own backstop (10,000 pages of WAL) would copy them.

use std::time::{Duration, Instant};

use sqlx::{Connection as _, SqliteConnection};

use crate::harness::{Backend, TestApp};

const HOLDS: usize = 200;

/// How many holds of `event` the database file at `path` holds, read from a copy of the file
/// alone (without its `-wal`): only what a checkpoint has copied into it. `None` while the copy
/// cannot be read (taken in the middle of a checkpoint's write, say).
async fn holds_in_file(path: &str, event: &str) -> Option<i64> {
    let dir = tempfile::tempdir().ok()?;
    let copy = dir.path().join("copy.db");
    std::fs::copy(path, &copy).ok()?;
    let mut connection = SqliteConnection::connect(&format!("sqlite://{}", copy.display()))
        .await
        .ok()?;
    let count = sqlx::query_scalar("SELECT COUNT(*) FROM seat_locks WHERE event_id = $1")
        .bind(event)
        .fetch_one(&mut connection)
        .await
        .ok();
    let _ = connection.close().await;
    count
}

#[tokio::test]
async fn committed_holds_reach_the_database_file_without_waiting_for_the_writers_backstop() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let event = app.create_event(1_000).await;
    let user = app.register("Ada").await;
    // One at a time: each is its own commit, a few WAL pages each, far below 10,000 pages.
    for i in 0..HOLDS {
        app.lock(&event, &user, 1, &format!("hold-{i}")).await;
    }
    let path = app
        .database_url
        .strip_prefix("sqlite://")
        .expect("a SQLite URL")
        .to_owned();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = None;
    while Instant::now() < deadline {
        seen = holds_in_file(&path, &event).await;
        if seen == Some(HOLDS as i64) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        seen,
        Some(HOLDS as i64),
        "every committed hold is copied into the database file by the background checkpoints"
    );
    app.stop().await;
}
