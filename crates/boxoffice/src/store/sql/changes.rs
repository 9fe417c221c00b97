//! Changes after the fact: cancelling a booking, releasing or extending a hold, and editing an
//! event. Seats come back only through `release_lock`, so exactly once.

use sqlx::AssertSqlSafe;

use super::{
    Decision, SqlStore, Tx, change_booking_status, event_by_id, expire_booking, lock_by_id,
    record_payment, release_lock,
};
use crate::domain::{
    Booking, BookingStatus, Event, EventChanges, LockExtension, LockStatus, ObjectId,
    REFUND_OUTCOME, Rejection, SeatLock, Timestamp,
};
use crate::store::rows::{EventRow, LockRow, event_columns, lock_columns};
use crate::store::{StoreError, StoreResult};

impl SqlStore {
    pub(super) async fn cancel_booking_in(
        &self,
        tx: &mut Tx,
        booking_id: ObjectId,
        now: Timestamp,
    ) -> StoreResult<Decision<Booking>> {
        // Locked (PostgreSQL) or under the write lock (SQLite): a payment of the same booking
        // waits for this transaction, and then finds it CANCELLED.
        let Some(booking) = self.booking_for_update(tx, booking_id).await? else {
            return Ok(Err(Rejection::BookingNotFound));
        };
        if booking.payment_window_closed(now) {
            expire_booking(tx, &booking, now).await?;
        }
        let Some(event) = event_by_id(&mut **tx, booking.event_id).await? else {
            return Err(StoreError::corrupt(format!(
                "booking {} names a missing event",
                booking.id
            )));
        };
        let cancellation = match booking.cancellation(event.event_date, now) {
            Ok(cancellation) => cancellation,
            Err(refusal) => return Ok(Err(refusal)),
        };
        if !change_booking_status(
            tx,
            booking.id,
            booking.status,
            BookingStatus::Cancelled,
            now,
        )
        .await?
        {
            return Err(StoreError::Conflict(None));
        }
        if !release_lock(tx, booking.seat_lock_id, cancellation.lock_status, now).await? {
            // The booking holds seats but its lock disagrees: giving nothing back would lose
            // them for good, so change nothing and let someone look.
            return Err(StoreError::corrupt(format!(
                "lock {} of {} booking {} is not {}",
                booking.seat_lock_id, booking.status, booking.id, cancellation.lock_status
            )));
        }
        if cancellation.refund {
            record_payment(tx, booking.id, REFUND_OUTCOME, now).await?;
        }
        Ok(Ok(Booking {
            status: BookingStatus::Cancelled,
            updated_at: now,
            ..booking
        }))
    }

    pub(super) async fn release_lock_early_in(
        &self,
        tx: &mut Tx,
        lock_id: ObjectId,
        now: Timestamp,
    ) -> StoreResult<Decision<SeatLock>> {
        // Locked like a booking above, so that a confirmation of this lock takes its turn.
        let row: Option<LockRow> = sqlx::query_as(AssertSqlSafe(self.sql.lock_for_update.clone()))
            .bind(lock_id.to_string())
            .fetch_optional(&mut **tx)
            .await?;
        let Some(lock) = row.map(SeatLock::try_from).transpose()? else {
            return Ok(Err(Rejection::LockNotFound));
        };
        if let Some(refusal) = lock.release_refusal(now) {
            if lock.has_lapsed(now) {
                release_lock(tx, lock.id, LockStatus::Active, now).await?;
            }
            return Ok(Err(refusal));
        }
        if !release_lock(tx, lock.id, LockStatus::Active, now).await? {
            return Err(StoreError::Conflict(None));
        }
        Ok(Ok(SeatLock {
            status: LockStatus::Expired,
            updated_at: now,
            ..lock
        }))
    }

    pub(super) async fn extend_lock_in(
        &self,
        tx: &mut Tx,
        extension: LockExtension,
    ) -> StoreResult<Decision<SeatLock>> {
        // The cap depends on the row's own creation; a lock that already reached its maximum
        // lifetime (possible only if it was made with a longer TTL) cannot be extended.
        let extended: Option<LockRow> = sqlx::query_as(concat!(
            "UPDATE seat_locks SET updated_at = $2, expires_at = CASE \
                 WHEN $3 < created_at + $4 THEN $3 ELSE created_at + $4 END \
             WHERE id = $1 AND status = 'ACTIVE' AND booking_id IS NULL AND expires_at > $2 \
             AND created_at + $4 > $2 \
             RETURNING ",
            lock_columns!()
        ))
        .bind(extension.lock_id.to_string())
        .bind(extension.now.millis())
        .bind(extension.expires_at.millis())
        .bind(extension.max_lifetime_seconds.saturating_mul(1000))
        .fetch_optional(&mut **tx)
        .await?;
        if let Some(lock) = extended {
            return Ok(Ok(SeatLock::try_from(lock)?));
        }
        if let Some(lock) = lock_by_id(&mut **tx, extension.lock_id).await?
            && lock.has_lapsed(extension.now)
        {
            release_lock(tx, lock.id, LockStatus::Active, extension.now).await?;
        }
        Ok(Err(Rejection::InvalidOrExpiredLock))
    }

    pub(super) async fn update_event_in(
        &self,
        tx: &mut Tx,
        id: ObjectId,
        changes: &EventChanges,
        now: Timestamp,
    ) -> StoreResult<Decision<Event>> {
        if changes.is_empty() {
            return Ok(event_by_id(&mut **tx, id)
                .await?
                .ok_or(Rejection::EventNotFound));
        }
        // One conditional statement: the seats taken meanwhile are those the database sees,
        // never a count read earlier. Every SET expression reads the row as it was.
        let updated: Option<EventRow> = sqlx::query_as(concat!(
            "UPDATE events SET name = COALESCE($2, name), \
                 description = COALESCE($3, description), \
                 event_date = COALESCE($4, event_date), \
                 total_seats = COALESCE($5, total_seats), \
                 available_seats = available_seats + (COALESCE($5, total_seats) - total_seats), \
                 updated_at = $6 \
             WHERE id = $1 AND available_seats + (COALESCE($5, total_seats) - total_seats) >= 0 \
             RETURNING ",
            event_columns!()
        ))
        .bind(id.to_string())
        .bind(changes.name.clone())
        .bind(changes.description.clone())
        .bind(changes.event_date.map(Timestamp::millis))
        .bind(changes.total_seats)
        .bind(now.millis())
        .fetch_optional(&mut **tx)
        .await?;
        match updated {
            Some(event) => Ok(Ok(Event::try_from(event)?)),
            None if event_by_id(&mut **tx, id).await?.is_some() => {
                Ok(Err(Rejection::SeatsAlreadyTaken))
            }
            None => Ok(Err(Rejection::EventNotFound)),
        }
    }
}
