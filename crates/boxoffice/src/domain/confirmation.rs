//! Confirming a hold: whether it may be confirmed, the booking it makes, and what a
//! confirmation that cannot claim the hold answers (CONTRACT.md rule 3, a lock yields at most
//! one booking; rule 4, a lapsed hold cannot be confirmed; rule 5, the hold then lives as long
//! as the payment window; rule 9, nothing is sold for an event that has started).

use super::seating::HoldDetails;
use super::{Booking, BookingStatus, LockStatus, ObjectId, Rejection, SeatLock, Timestamp};

/// What confirming a lock does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Confirmation {
    /// Claim the lock and make its booking ([`SeatLock::booking`]).
    Claim,
    /// Not claimable: answer as [`SeatLock::reconfirmation`] says.
    Reconfirm(Reconfirmation),
    /// The lock could be claimed, but its event has started (rule 9): nothing changes.
    Refuse(Rejection),
}

/// The answer to confirming a lock that the claim did not take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reconfirmation {
    /// An earlier confirmation made this booking, still awaiting payment: return it again.
    Replay,
    /// The lock lapsed unswept: expire it now (its seats go back), then refuse.
    ExpireLapsedLock,
    /// `INVALID_OR_EXPIRED_LOCK`.
    Refuse,
}

impl SeatLock {
    /// Whether a confirmation may claim this lock now: ACTIVE, no booking yet, not lapsed.
    /// (The store claims it with one conditional UPDATE stating the same condition.)
    pub fn confirmable(&self, now: Timestamp) -> bool {
        self.status == LockStatus::Active && self.booking_id.is_none() && self.expires_at > now
    }

    /// What confirming this lock at `now` does, for an event that starts at `event_date`;
    /// `booking` is the booking the lock names, if any. A repeat of an earlier confirmation
    /// still replays after the start (it sells nothing new, as a replayed hold does not).
    pub fn confirmation(
        &self,
        booking: Option<&Booking>,
        event_date: Timestamp,
        now: Timestamp,
    ) -> Confirmation {
        if !self.confirmable(now) {
            Confirmation::Reconfirm(self.reconfirmation(booking, now))
        } else if event_date <= now {
            Confirmation::Refuse(Rejection::EventStarted)
        } else {
            Confirmation::Claim
        }
    }

    /// The PAYMENT_PENDING booking that confirming this lock at `now` makes; the lock then
    /// lives until `payment_expires_at` too (rule 5).
    pub fn booking(&self, id: ObjectId, now: Timestamp, payment_expires_at: Timestamp) -> Booking {
        Booking {
            id,
            user_id: self.user_id,
            event_id: self.event_id,
            seats: self.seats,
            status: BookingStatus::PaymentPending,
            seat_lock_id: self.id,
            payment_expires_at,
            details: HoldDetails {
                seat_request: None,
                next_to_each_other: None,
                ..self.details.clone()
            },
            created_at: now,
            updated_at: now,
        }
    }

    /// What to answer when this lock could not be claimed; `booking` is the one it names.
    pub fn reconfirmation(&self, booking: Option<&Booking>, now: Timestamp) -> Reconfirmation {
        if self.has_lapsed(now) {
            return Reconfirmation::ExpireLapsedLock;
        }
        match booking {
            Some(booking)
                if Some(booking.id) == self.booking_id
                    && booking.status == BookingStatus::PaymentPending
                    && !booking.payment_window_closed(now) =>
            {
                Reconfirmation::Replay
            }
            _ => Reconfirmation::Refuse,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fixtures::{at, lock};

    #[test]
    fn a_lock_yields_one_booking_replayed_while_it_awaits_payment() {
        let now = at(1_000);
        let fresh = lock(LockStatus::Active, None, 2_000);
        assert!(fresh.confirmable(now));
        let booking = fresh.booking(ObjectId::generate(), now, at(5_000));
        assert_eq!(booking.status, BookingStatus::PaymentPending);
        assert_eq!((booking.seats, booking.seat_lock_id), (2, fresh.id));

        let booked = lock(LockStatus::Active, Some(booking.id), 5_000);
        assert!(!booked.confirmable(now));
        assert_eq!(
            booked.reconfirmation(Some(&booking), now),
            Reconfirmation::Replay
        );
        assert_eq!(
            booked.reconfirmation(Some(&booking), at(5_000)),
            Reconfirmation::Refuse
        );
        let paid = Booking {
            status: BookingStatus::Confirmed,
            ..booking.clone()
        };
        assert_eq!(
            booked.reconfirmation(Some(&paid), now),
            Reconfirmation::Refuse
        );
        assert_eq!(booked.reconfirmation(None, now), Reconfirmation::Refuse);
    }

    #[test]
    fn a_lock_of_an_event_that_has_started_is_not_confirmed() {
        let fresh = lock(LockStatus::Active, None, 9_000);
        assert_eq!(
            fresh.confirmation(None, at(2_000), at(1_000)),
            Confirmation::Claim
        );
        for now in [2_000, 3_000] {
            assert_eq!(
                fresh.confirmation(None, at(2_000), at(now)),
                Confirmation::Refuse(Rejection::EventStarted)
            );
        }
        let booking = fresh.booking(ObjectId::generate(), at(500), at(9_000));
        let booked = lock(LockStatus::Active, Some(booking.id), 9_000);
        assert_eq!(
            booked.confirmation(Some(&booking), at(2_000), at(3_000)),
            Confirmation::Reconfirm(Reconfirmation::Replay)
        );
        let lapsed = lock(LockStatus::Active, None, 2_500);
        assert_eq!(
            lapsed.confirmation(None, at(2_000), at(3_000)),
            Confirmation::Reconfirm(Reconfirmation::ExpireLapsedLock)
        );
    }

    #[test]
    fn a_lapsed_lock_is_expired_then_refused() {
        let lapsed = lock(LockStatus::Active, None, 1_000);
        assert!(!lapsed.confirmable(at(1_000)));
        assert_eq!(
            lapsed.reconfirmation(None, at(1_000)),
            Reconfirmation::ExpireLapsedLock
        );
        let expired = lock(LockStatus::Expired, None, 1_000);
        assert_eq!(
            expired.reconfirmation(None, at(1_000)),
            Reconfirmation::Refuse
        );
    }
}
