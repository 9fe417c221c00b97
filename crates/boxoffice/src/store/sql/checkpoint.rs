//! SQLite's WAL checkpoints, off the writer's path.
//!
//! In WAL mode every commit appends the pages it changed to the `-wal` file, and a checkpoint
//! copies them back into the database file (and syncs it). By default SQLite checkpoints from
//! inside the commit that takes the WAL past 1,000 pages, so under a burst of holds the one
//! writer stopped every few milliseconds to copy 4 MB and sync: each hold batch behind it waited.
//! Here a background task checkpoints every [`INTERVAL`] from a reader connection, in
//! PASSIVE mode (it never blocks the writer or a reader, and copies what it can), while the
//! writer's own automatic checkpoint is kept only as a backstop, at [`WRITER_BACKSTOP_PAGES`]:
//! it still bounds the WAL when no checkpointer runs (the `check` and `import-mongo`
//! commands) or when it falls behind, and it resets the WAL at the next write once everything
//! has been copied.
//!
//! Readers can starve checkpoints: the WAL starts again from its beginning only when everything
//! in it has been copied *and* no reader still reads from it, so overlapping reads (clients
//! polling a big hall's seats, say) kept it growing without bound (778 MB in 30 s, found by a
//! review). So a pass that finds the WAL past [`TRUNCATE_AFTER_PAGES`] runs a TRUNCATE
//! checkpoint: it waits (at most [`TRUNCATE_WAIT`], holding off writers meanwhile) for the
//! readers of the WAL to finish, then empties it; readers that start meanwhile read the database
//! file. If it cannot within that wait, the next pass tries again. The price is paid only while
//! readers starve the checkpoints, by the writers: with six clients polling a 100,000-seat hall's
//! seats during a 64-client hold load, the WAL peaked at 67 MB instead of 659 MB in 30 s, and
//! 30 % fewer holds were granted in those 30 s (one run each; docs/performance.md). Under a hold
//! load alone the WAL stays below the threshold (the writer's backstop restarts it first), and
//! this costs nothing. When the writer restarts the WAL, `journal_size_limit` gives the file
//! back down to [`WAL_FILE_LIMIT_BYTES`].
//!
//! Durability is unchanged: a commit is in the WAL (synchronous = NORMAL) whether or not it has
//! been checkpointed, and opening the database after a crash replays the WAL (the `kill -9`
//! tests of `tests/api/crash_and_scale.rs` run with this; `tests/api/wal_checkpoints.rs` shows
//! the background checkpoints at work).
//!
//! Measured (docs/performance.md, "A lever found and kept"): on a busy machine the hold path
//! alone 1.6 to 2 times as fast, and the hot-lock over HTTP up to 1.4 times, with a lower p90.

use std::time::Duration;

use sqlx::AssertSqlSafe;
use tokio::sync::watch;

use super::dialect::BUSY_TIMEOUT_MS;
use super::{Dialect, SqlStore};

/// How often the background task checkpoints (measured best among 20, 50, 250 and 1,000 ms
/// under a hot-lock load: often enough that each pass copies little).
pub const INTERVAL: Duration = Duration::from_millis(50);

/// The writer's own automatic checkpoint, in pages of the WAL (4 KiB each: about 40 MiB),
/// set on the writer connection (`PRAGMA wal_autocheckpoint`).
pub const WRITER_BACKSTOP_PAGES: u32 = 10_000;

/// A WAL of more pages than this (64 MiB) is emptied by a TRUNCATE checkpoint: past the
/// backstop, it means readers keep the writer from starting it again.
pub const TRUNCATE_AFTER_PAGES: i64 = 16_384;

/// How long a TRUNCATE checkpoint waits for the WAL's readers (and holds off writers), at most.
pub const TRUNCATE_WAIT: Duration = Duration::from_millis(100);

/// What the WAL file is cut back to when the writer starts it again (`journal_size_limit`).
pub const WAL_FILE_LIMIT_BYTES: i64 = 64 * 1024 * 1024;

/// What one pass did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckpointPass {
    /// Pages in the WAL when the pass began (SQLite's `log` column).
    pub wal_pages: i64,
    /// Whether a TRUNCATE checkpoint emptied the WAL.
    pub truncated: bool,
}

impl SqlStore {
    /// Checkpoints the WAL every [`INTERVAL`] until `stop` turns true (SQLite; PostgreSQL has
    /// nothing to do here and returns at once). A failed pass is logged and the next one tried.
    pub async fn run_wal_checkpoints(&self, mut stop: watch::Receiver<bool>) {
        if self.dialect != Dialect::Sqlite {
            return;
        }
        let mut ticks = tokio::time::interval(INTERVAL);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failing = false;
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                _ = stop.wait_for(|stopped| *stopped) => return,
            }
            match self.checkpoint_wal(TRUNCATE_AFTER_PAGES).await {
                // Said once per run of failures, not twenty times a second.
                Err(error) if !failing => {
                    tracing::warn!(%error, every = ?INTERVAL, "WAL checkpoint failed; trying again");
                    failing = true;
                }
                Err(_) => {}
                Ok(_) if failing => {
                    tracing::info!("WAL checkpoints work again");
                    failing = false;
                }
                Ok(_) => {}
            }
        }
    }

    /// One pass, from a reader connection (a checkpoint changes no data, so a `query_only`
    /// connection may run it): a PASSIVE checkpoint, which copies the WAL's committed pages that
    /// no reader still needs into the database file without waiting for anyone; then, if the WAL
    /// holds more than `truncate_after` pages, a TRUNCATE checkpoint (see the module's text).
    pub async fn checkpoint_wal(&self, truncate_after: i64) -> sqlx::Result<CheckpointPass> {
        let mut connection = self.reader.acquire().await?;
        let (_busy, wal_pages, _copied): (i64, i64, i64) =
            sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
                .fetch_one(&mut *connection)
                .await?;
        let mut truncated = false;
        if wal_pages > truncate_after {
            // The wait is this connection's busy timeout, set for this one statement.
            let wait = TRUNCATE_WAIT.as_millis();
            sqlx::raw_sql(AssertSqlSafe(format!("PRAGMA busy_timeout = {wait};")))
                .execute(&mut *connection)
                .await?;
            let result: sqlx::Result<(i64, i64, i64)> =
                sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
                    .fetch_one(&mut *connection)
                    .await;
            let usual = format!("PRAGMA busy_timeout = {BUSY_TIMEOUT_MS};");
            sqlx::raw_sql(AssertSqlSafe(usual))
                .execute(&mut *connection)
                .await?;
            // `busy` is 1 when readers or a writer kept it from finishing in time.
            truncated = matches!(result?, (0, _, _));
        }
        Ok(CheckpointPass {
            wal_pages,
            truncated,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use sqlx::{Connection as _, Executor as _};

    use super::*;
    use crate::domain::{NewUser, Role, Timestamp};
    use crate::store::{PoolSettings, Store as _};

    async fn store_in(dir: &Path) -> (SqlStore, String) {
        let url = format!("sqlite://{}", dir.join("wal.db").display());
        let settings = PoolSettings {
            max_connections: 2,
            acquire_timeout: Duration::from_secs(60),
        };
        (SqlStore::connect(&url, &settings).await.unwrap(), url)
    }

    async fn register(store: &SqlStore, n: usize) {
        let user = NewUser {
            name: format!("User {n}"),
            email: format!("user-{n}@example.com"),
            role: Role::User,
            password_hash: "not a hash".to_owned(),
        };
        store.register_user(user, Timestamp::now()).await.unwrap();
    }

    fn wal_bytes(dir: &Path) -> u64 {
        std::fs::metadata(dir.join("wal.db-wal")).map_or(0, |meta| meta.len())
    }

    #[tokio::test]
    async fn a_wal_past_the_threshold_is_emptied() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = store_in(dir.path()).await;
        register(&store, 1).await;
        assert!(wal_bytes(dir.path()) > 0);
        let pass = store.checkpoint_wal(i64::MAX).await.unwrap();
        assert!(pass.wal_pages > 0 && !pass.truncated, "{pass:?}");
        assert!(
            wal_bytes(dir.path()) > 0,
            "a PASSIVE pass copies, it does not empty"
        );
        let pass = store.checkpoint_wal(0).await.unwrap();
        assert!(pass.truncated, "{pass:?}");
        assert_eq!(wal_bytes(dir.path()), 0);
        store.close().await;
    }

    #[tokio::test]
    async fn a_reader_of_the_wal_holds_the_truncation_off_until_it_ends() {
        let dir = tempfile::tempdir().unwrap();
        let (store, url) = store_in(dir.path()).await;
        register(&store, 1).await;
        // A reader whose snapshot is in the WAL, as a long read of a big hall's seats would be.
        let mut reader = sqlx::SqliteConnection::connect(&url).await.unwrap();
        reader.execute("BEGIN").await.unwrap();
        let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&mut reader)
            .await
            .unwrap();
        assert_eq!(users, 1);
        register(&store, 2).await;
        let pass = store.checkpoint_wal(0).await.unwrap();
        assert!(!pass.truncated, "the reader still reads the WAL: {pass:?}");
        // Writes go on meanwhile (the wait is bounded), and the reader sees its snapshot.
        register(&store, 3).await;
        reader.execute("COMMIT").await.unwrap();
        let pass = store.checkpoint_wal(0).await.unwrap();
        assert!(pass.truncated, "{pass:?}");
        assert_eq!(wal_bytes(dir.path()), 0);
        reader.close().await.unwrap();
        store.close().await;
    }
}
