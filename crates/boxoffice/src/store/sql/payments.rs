//! Payments (CONTRACT.md "Payment outcomes"): the transition is the domain's
//! (`Booking::settlement`); this writes it, with the attempt, in one transaction.

use super::bookings::change_booking_status;
use super::expiry::release_lock;
use super::{Decision, SqlStore, Tx};
use crate::domain::notification::NotificationType;
use crate::domain::seating::SeatStatus;
use crate::domain::{
    Booking, BookingStatus, LockMove, LockStatus, ObjectId, PaymentForce, Rejection, Timestamp,
};
use crate::store::{StoreError, StoreResult};

impl SqlStore {
    pub(super) async fn settle_payment_in(
        &self,
        tx: &mut Tx,
        booking_id: ObjectId,
        force: PaymentForce,
        now: Timestamp,
    ) -> StoreResult<Decision<Booking>> {
        // A lapsed one is expired on the spot, then refused as EXPIRED (rule 4).
        let Some(booking) = self.booking_for_change(tx, booking_id, now).await? else {
            return Ok(Err(Rejection::BookingNotFound));
        };
        let Some(event) = super::events::event_by_id(&mut **tx, booking.event_id).await? else {
            return Err(StoreError::corrupt(format!(
                "booking {} names a missing event",
                booking.id
            )));
        };
        let settlement = match booking.settlement(force, event.event_date, now) {
            Ok(settlement) => settlement,
            Err(refusal) => return Ok(Err(refusal)),
        };
        if settlement.status != booking.status {
            // The row is locked (PostgreSQL) or the database is (SQLite): the status read
            // above is current, so this cannot miss.
            if !change_booking_status(tx, booking.id, booking.status, settlement.status, now)
                .await?
            {
                return Err(StoreError::Conflict(None));
            }
        }
        match settlement.lock {
            LockMove::Keep => {}
            LockMove::Consume => {
                sqlx::query(
                    "UPDATE seat_locks SET status = $3, updated_at = $2 \
                     WHERE id = $1 AND status = $4",
                )
                .bind(booking.seat_lock_id)
                .bind(now)
                .bind(LockStatus::Consumed)
                .bind(LockStatus::Active)
                .execute(&mut **tx)
                .await?;
                if booking.details.seat_labels.is_some() {
                    super::seats::follow_lock(tx, booking.seat_lock_id, SeatStatus::Sold).await?;
                }
            }
            LockMove::Release => {
                release_lock(tx, booking.seat_lock_id, LockStatus::Active, now).await?;
            }
        }
        record_payment(tx, booking.id, settlement.outcome, now).await?;
        let changed = settlement.status != booking.status;
        let settled = booking.settled(&settlement, now);
        // A timeout changes nothing and makes no notification.
        let kind = match settled.status {
            _ if !changed => None,
            BookingStatus::Confirmed => Some(NotificationType::BookingConfirmed),
            BookingStatus::Failed => Some(NotificationType::BookingFailed),
            _ => None,
        };
        if let Some(kind) = kind {
            self.notify_bookings(tx, kind, [(&settled, None)], now)
                .await?;
        }
        Ok(Ok(settled))
    }
}

/// Records a payment attempt (or a refund) of a booking; its id.
pub(super) async fn record_payment(
    tx: &mut Tx,
    booking_id: ObjectId,
    outcome: &str,
    now: Timestamp,
) -> StoreResult<ObjectId> {
    let id = ObjectId::generate();
    sqlx::query(
        "INSERT INTO payments (id, booking_id, outcome, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(id)
    .bind(booking_id)
    .bind(outcome.to_owned())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(id)
}
