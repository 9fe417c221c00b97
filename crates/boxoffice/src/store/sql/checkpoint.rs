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
//! Durability is unchanged: a commit is in the WAL (synchronous = NORMAL) whether or not it has
//! been checkpointed, and opening the database after a crash replays the WAL (the `kill -9`
//! tests of `tests/api/crash_and_scale.rs` run with this; `tests/api/wal_checkpoints.rs` shows
//! the background checkpoints at work).
//!
//! Measured (docs/performance.md, "A lever found and kept"): on a busy machine the hold path
//! alone 1.6 to 2 times as fast, and the hot-lock over HTTP up to 1.4 times, with a lower p90.

use std::time::Duration;

use tokio::sync::watch;

use super::{Dialect, SqlStore};

/// How often the background task checkpoints (measured best among 20, 50, 250 and 1,000 ms
/// under a hot-lock load: often enough that each pass copies little).
pub const INTERVAL: Duration = Duration::from_millis(50);

/// The writer's own automatic checkpoint, in pages of the WAL (4 KiB each: about 40 MiB),
/// set on the writer connection (`PRAGMA wal_autocheckpoint`).
pub const WRITER_BACKSTOP_PAGES: u32 = 10_000;

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
            match self.checkpoint_wal().await {
                // Said once per run of failures, not twenty times a second.
                Err(error) if !failing => {
                    tracing::warn!(%error, "WAL checkpoint failed; trying again every 50 ms");
                    failing = true;
                }
                Err(_) => {}
                Ok(()) if failing => {
                    tracing::info!("WAL checkpoints work again");
                    failing = false;
                }
                Ok(()) => {}
            }
        }
    }

    /// One PASSIVE checkpoint, from a reader connection (a checkpoint changes no data, so a
    /// `query_only` connection may run it): copies the WAL's committed pages that no reader
    /// still needs into the database file.
    pub async fn checkpoint_wal(&self) -> sqlx::Result<()> {
        sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_all(&self.reader)
            .await?;
        Ok(())
    }
}
