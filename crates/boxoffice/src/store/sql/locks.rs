//! Holds after they are made: reading, releasing early, extending. (Making them, a batch at a
//! time, is `holds.rs`.) Seats come back only through `expiry::release_lock`, so exactly once.

use sqlx::{AssertSqlSafe, Executor};

use super::expiry::release_lock;
use super::rows::lock_columns;
use super::{Decision, SqlStore, Tx};
use crate::domain::notification::NotificationType;
use crate::domain::{LockExtension, LockStatus, ObjectId, Rejection, SeatLock, Timestamp};
use crate::store::{StoreError, StoreResult};

pub(super) async fn lock_by_id<'c>(
    db: impl Executor<'c, Database = sqlx::Any>,
    id: ObjectId,
) -> StoreResult<Option<SeatLock>> {
    Ok(sqlx::query_as(concat!(
        "SELECT ",
        lock_columns!(),
        " FROM seat_locks WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(db)
    .await?)
}

impl SqlStore {
    /// A lock, locked until the transaction ends (PostgreSQL) or under the write lock
    /// (SQLite): releases and confirmations of one lock take turns.
    pub(super) async fn lock_for_update(
        &self,
        tx: &mut Tx,
        lock_id: ObjectId,
    ) -> StoreResult<Option<SeatLock>> {
        Ok(
            sqlx::query_as(AssertSqlSafe(self.sql.lock_for_update.clone()))
                .bind(lock_id)
                .fetch_optional(&mut **tx)
                .await?,
        )
    }

    pub(super) async fn release_lock_early_in(
        &self,
        tx: &mut Tx,
        lock_id: ObjectId,
        now: Timestamp,
    ) -> StoreResult<Decision<SeatLock>> {
        // Locked like a booking, so that a confirmation of this lock takes its turn.
        let Some(lock) = self.lock_for_update(tx, lock_id).await? else {
            return Ok(Err(Rejection::LockNotFound));
        };
        if let Some(refusal) = lock.release_refusal(now) {
            if lock.has_lapsed(now) {
                self.expire_lapsed_lock(tx, &lock, now).await?;
            }
            return Ok(Err(refusal));
        }
        if !release_lock(tx, lock.id, LockStatus::Active, now).await? {
            return Err(StoreError::Conflict(None));
        }
        let released = SeatLock {
            status: LockStatus::Expired,
            updated_at: now,
            ..lock
        };
        self.notify_locks(tx, NotificationType::LockReleased, [&released], now)
            .await?;
        Ok(Ok(released))
    }

    pub(super) async fn extend_lock_in(
        &self,
        tx: &mut Tx,
        extension: LockExtension,
    ) -> StoreResult<Decision<SeatLock>> {
        // The cap depends on the row's own creation; a lock that already reached its maximum
        // lifetime (possible only if it was made with a longer TTL) cannot be extended.
        let extended: Option<SeatLock> = sqlx::query_as(concat!(
            "UPDATE seat_locks SET updated_at = $2, expires_at = CASE \
                 WHEN $3 < created_at + $4 THEN $3 ELSE created_at + $4 END \
             WHERE id = $1 AND status = 'ACTIVE' AND booking_id IS NULL AND expires_at > $2 \
             AND created_at + $4 > $2 \
             RETURNING ",
            lock_columns!()
        ))
        .bind(extension.lock_id)
        .bind(extension.now)
        .bind(extension.expires_at)
        .bind(extension.max_lifetime_seconds.saturating_mul(1000))
        .fetch_optional(&mut **tx)
        .await?;
        if let Some(lock) = extended {
            self.notify_locks(tx, NotificationType::LockExtended, [&lock], extension.now)
                .await?;
            return Ok(Ok(lock));
        }
        if let Some(lock) = lock_by_id(&mut **tx, extension.lock_id).await?
            && lock.has_lapsed(extension.now)
        {
            self.expire_lapsed_lock(tx, &lock, extension.now).await?;
        }
        Ok(Err(Rejection::InvalidOrExpiredLock))
    }

    /// A lapsed lock found on the way (rule 4) expires on the spot: seats back, and its
    /// `lock.expired`, as if the sweeper had got there first.
    pub(super) async fn expire_lapsed_lock(
        &self,
        tx: &mut Tx,
        lock: &SeatLock,
        now: Timestamp,
    ) -> StoreResult<()> {
        if release_lock(tx, lock.id, LockStatus::Active, now).await? {
            let expired = SeatLock {
                status: LockStatus::Expired,
                updated_at: now,
                ..lock.clone()
            };
            self.notify_locks(tx, NotificationType::LockExpired, [&expired], now)
                .await?;
        }
        Ok(())
    }
}
