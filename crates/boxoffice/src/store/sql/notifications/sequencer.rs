//! Gap-free sequence numbers in commit order, shared by every instance (CONTRACT.md:
//! "a consumer that asks for everything after the last sequence it saw never misses one,
//! whatever instance wrote it").
//!
//! Why numbers are not given inside the change's transaction: a number taken there (a
//! database sequence, or `MAX + 1`) is taken in start order, not commit order. Transaction A
//! takes 7, B takes 8, B commits, a reader sees 8 and asks next for "after 8", then A commits
//! 7: the reader never sees it. Taking the number from one counter row updated inside every
//! change would serialise every write in the system behind that row, the one thing a hot
//! event cannot afford.
//!
//! So a change inserts its notification without a number (in its own transaction: it exists
//! if and only if the change committed), and a sequencer numbers committed rows afterwards:
//! - one sequencer at a time, on any instance: it holds the `notification_sequencer` row
//!   (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so a second one skips instead of queueing;
//!   SQLite's single writer gives the same);
//! - it can only see committed rows, and numbers them `last + 1 …` in insertion order, then
//!   stores the new `last`, all in one transaction: numbers are gap-free, and a transaction
//!   that fails leaves no number behind;
//! - the feed shows only numbered rows. Every number up to the highest a reader can see was
//!   given by a sequencer transaction that has committed, with every row it numbered; a row
//!   that commits later gets a higher number from a later sequencer transaction. A reader that
//!   asks for everything after N therefore never misses one.
//!
//! Order: rows are numbered in the order their changes committed, as far as anyone can
//! observe it: a change made after another was visible (a booking after its lock) was
//! inserted after it and, if both wait for the same sequencer run, is numbered after it.
//!
//! The same transaction makes the delivery rows for the endpoints that want each numbered
//! notification, so that an endpoint never misses one either.

use sqlx::AssertSqlSafe;

use crate::domain::Timestamp;
use crate::store::StoreResult;
use crate::store::sql::SqlStore;

/// How many notifications one sequencer transaction numbers at most.
pub const SEQUENCE_BATCH: i64 = 1000;

impl SqlStore {
    /// Whether any committed notification is waiting for its number; a cheap read (a partial
    /// index), so idle instances can ask often.
    pub(super) async fn any_unsequenced(&self) -> StoreResult<bool> {
        let found: Option<i64> =
            sqlx::query_scalar("SELECT position FROM notifications WHERE sequence IS NULL LIMIT 1")
                .fetch_optional(&self.reader)
                .await?;
        Ok(found.is_some())
    }

    /// Numbers up to [`SEQUENCE_BATCH`] committed notifications and queues their deliveries;
    /// how many it numbered (0 as well when another instance's sequencer holds the turn).
    pub(super) async fn sequence_batch(&self, now: Timestamp) -> StoreResult<u64> {
        let mut tx = self.writer.begin_with(self.dialect.begin_write()).await?;
        let turn = self.dialect.statement(
            "SELECT last_sequence FROM notification_sequencer WHERE id = 1{skip_locked}",
        );
        let Some(last): Option<i64> = sqlx::query_scalar(AssertSqlSafe(turn))
            .fetch_optional(&mut *tx)
            .await?
        else {
            return Ok(0);
        };
        let numbered = sqlx::query(
            "UPDATE notifications SET sequence = $1 + r.rn \
             FROM (SELECT position, ROW_NUMBER() OVER (ORDER BY position) AS rn \
                   FROM notifications WHERE sequence IS NULL ORDER BY position LIMIT $2) AS r \
             WHERE notifications.position = r.position",
        )
        .bind(last)
        .bind(SEQUENCE_BATCH)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if numbered == 0 {
            return Ok(0);
        }
        let new_last = last + i64::try_from(numbered).unwrap_or(i64::MAX);
        sqlx::query("UPDATE notification_sequencer SET last_sequence = $1 WHERE id = 1")
            .bind(new_last)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO webhook_deliveries \
               (endpoint_id, notification_id, sequence, ordering_key, status, attempts, \
                queued_at, next_attempt_at) \
             SELECT e.id, n.id, n.sequence, n.ordering_key, 'pending', 0, $3, $3 \
             FROM notifications n JOIN webhook_endpoints e ON e.deleted_at IS NULL \
               AND (e.types = '' OR (',' || e.types || ',') LIKE ('%,' || n.type || ',%')) \
             WHERE n.sequence > $1 AND n.sequence <= $2",
        )
        .bind(last)
        .bind(new_last)
        .bind(now.millis())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(numbered)
    }
}
