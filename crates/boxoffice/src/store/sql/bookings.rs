//! Bookings: confirming a hold (rules 3 and 5), reading, and cancelling. Which booking may be
//! confirmed, replayed or cancelled is the domain's answer (`domain::confirmation`,
//! `Booking::cancellation`); this makes it durable.

use sqlx::{AssertSqlSafe, Executor};

use super::expiry::release_lock;
use super::payments::record_payment;
use super::rows::{booking_columns, lock_columns};
use super::{Decision, SqlStore, Tx};
use crate::domain::notification::{NotificationType, Refund};
use crate::domain::seating::SeatStatus;
use crate::domain::{
    Booking, BookingStatus, Confirmation, ObjectId, REFUND_OUTCOME, Reconfirmation, Rejection,
    SeatLock, Timestamp,
};
use crate::store::{ConfirmOutcome, StoreError, StoreResult};

pub(super) async fn booking_by_id<'c>(
    db: impl Executor<'c, Database = sqlx::Any>,
    id: ObjectId,
) -> StoreResult<Option<Booking>> {
    Ok(sqlx::query_as(concat!(
        "SELECT ",
        booking_columns!(),
        " FROM bookings WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(db)
    .await?)
}

/// Writes a booking row as given; false if its id or its lock is already taken (imports run
/// twice; a lock yields at most one booking).
pub(super) async fn insert_booking<'c>(
    db: impl Executor<'c, Database = sqlx::Any>,
    booking: &Booking,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "INSERT INTO bookings (id, user_id, event_id, seats, status, seat_lock_id, \
         payment_expires_at, seat_labels, amount, currency, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING",
    )
    .bind(booking.id)
    .bind(booking.user_id)
    .bind(booking.event_id)
    .bind(booking.seats)
    .bind(booking.status)
    .bind(booking.seat_lock_id)
    .bind(booking.payment_expires_at)
    .bind(super::seats::labels_json(&booking.details))
    .bind(booking.details.price.as_ref().map(|p| p.amount))
    .bind(booking.details.price.as_ref().map(|p| p.currency.clone()))
    .bind(booking.created_at)
    .bind(booking.updated_at)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Moves a booking from one status to another; false if it was no longer in `from`.
pub(super) async fn change_booking_status(
    tx: &mut Tx,
    booking_id: ObjectId,
    from: BookingStatus,
    to: BookingStatus,
    now: Timestamp,
) -> StoreResult<bool> {
    let changed = sqlx::query(
        "UPDATE bookings SET status = $3, updated_at = $4 WHERE id = $1 AND status = $2",
    )
    .bind(booking_id)
    .bind(from)
    .bind(to)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(changed.rows_affected() == 1)
}

impl SqlStore {
    /// A booking about to change, locked until the transaction ends (PostgreSQL) or under the
    /// write lock (SQLite), so that payments and cancellations of one booking take turns. A
    /// pending one whose payment window has closed is expired on the spot first (rule 4); the
    /// booking is returned as read, and the domain counts it as EXPIRED.
    pub(super) async fn booking_for_change(
        &self,
        tx: &mut Tx,
        booking_id: ObjectId,
        now: Timestamp,
    ) -> StoreResult<Option<Booking>> {
        let booking: Option<Booking> =
            sqlx::query_as(AssertSqlSafe(self.sql.booking_for_update.clone()))
                .bind(booking_id)
                .fetch_optional(&mut **tx)
                .await?;
        if let Some(booking) = &booking
            && booking.payment_window_closed(now)
        {
            self.expire_booking(tx, booking, now).await?;
        }
        Ok(booking)
    }

    pub(super) async fn confirm_booking_in(
        &self,
        tx: &mut Tx,
        lock_id: ObjectId,
        now: Timestamp,
        payment_expires_at: Timestamp,
    ) -> StoreResult<Decision<ConfirmOutcome>> {
        // Locked until the transaction ends (PostgreSQL) or under the write lock (SQLite):
        // confirmations of one lock take turns, so the decision below stands at COMMIT.
        let Some(lock) = self.lock_for_update(tx, lock_id).await? else {
            return Ok(Err(Rejection::InvalidOrExpiredLock));
        };
        let Some(event) = super::events::event_by_id(&mut **tx, lock.event_id).await? else {
            return Err(StoreError::corrupt(format!(
                "lock {} names a missing event",
                lock.id
            )));
        };
        let booked = match lock.booking_id {
            Some(id) if !lock.has_lapsed(now) => booking_by_id(&mut **tx, id).await?,
            _ => None,
        };
        match lock.confirmation(booked.as_ref(), event.event_date, now) {
            Confirmation::Claim => {}
            Confirmation::Refuse(refusal) => return Ok(Err(refusal)),
            Confirmation::Reconfirm(answer) => {
                return self.reconfirmed(tx, &lock, booked, answer, now).await;
            }
        }
        let booking_id = ObjectId::generate();
        // The claim, stating `SeatLock::confirmable` once more as its condition. The lock now
        // lives exactly as long as the booking's payment window (rule 5).
        let claimed: Option<SeatLock> = sqlx::query_as(concat!(
            "UPDATE seat_locks SET booking_id = $2, expires_at = $3, updated_at = $4 \
             WHERE id = $1 AND status = 'ACTIVE' AND booking_id IS NULL AND expires_at > $4 \
             RETURNING ",
            lock_columns!()
        ))
        .bind(lock_id)
        .bind(booking_id)
        .bind(payment_expires_at)
        .bind(now)
        .fetch_optional(&mut **tx)
        .await?;
        let Some(lock) = claimed else {
            // Another confirmation changed the lock after all: decide again from the start.
            return Err(StoreError::Conflict(None));
        };
        let booking = lock.booking(booking_id, now, payment_expires_at);
        if !insert_booking(&mut **tx, &booking).await? {
            // The claim above made this lock ours: no other booking can name it.
            return Err(StoreError::corrupt(format!(
                "lock {lock_id} already has a booking"
            )));
        }
        if booking.details.seat_labels.is_some() {
            super::seats::follow_lock(tx, lock_id, SeatStatus::PendingPayment).await?;
        }
        self.notify_bookings(
            tx,
            NotificationType::BookingCreated,
            [(&booking, None)],
            now,
        )
        .await?;
        Ok(Ok(ConfirmOutcome {
            booking,
            replayed: false,
        }))
    }

    pub(super) async fn cancel_booking_in(
        &self,
        tx: &mut Tx,
        booking_id: ObjectId,
        now: Timestamp,
    ) -> StoreResult<Decision<Booking>> {
        // Locked (PostgreSQL) or under the write lock (SQLite): a payment of the same booking
        // waits for this transaction, and then finds it CANCELLED.
        let Some(booking) = self.booking_for_change(tx, booking_id, now).await? else {
            return Ok(Err(Rejection::BookingNotFound));
        };
        let Some(event) = super::events::event_by_id(&mut **tx, booking.event_id).await? else {
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
        let refund = if cancellation.refund {
            let payment_id = record_payment(tx, booking.id, REFUND_OUTCOME, now).await?;
            Some(Refund {
                payment_id,
                at: now,
            })
        } else {
            None
        };
        let cancelled = Booking {
            status: BookingStatus::Cancelled,
            updated_at: now,
            ..booking
        };
        self.notify_bookings(
            tx,
            NotificationType::BookingCancelled,
            [(&cancelled, refund)],
            now,
        )
        .await?;
        Ok(Ok(cancelled))
    }

    /// The answer to confirming a lock that could not be claimed, as the domain decided it
    /// (`SeatLock::reconfirmation`): the booking an earlier confirmation made, or a refusal (a
    /// lapsed lock is expired on the spot first, with its `lock.expired`).
    async fn reconfirmed(
        &self,
        tx: &mut Tx,
        lock: &SeatLock,
        booking: Option<Booking>,
        answer: Reconfirmation,
        now: Timestamp,
    ) -> StoreResult<Decision<ConfirmOutcome>> {
        match answer {
            Reconfirmation::Replay => Ok(Ok(ConfirmOutcome {
                booking: booking
                    .ok_or_else(|| StoreError::corrupt("a replay without a booking"))?,
                replayed: true,
            })),
            Reconfirmation::ExpireLapsedLock => {
                self.expire_lapsed_lock(tx, lock, now).await?;
                Ok(Err(Rejection::InvalidOrExpiredLock))
            }
            Reconfirmation::Refuse => Ok(Err(Rejection::InvalidOrExpiredLock)),
        }
    }
}
