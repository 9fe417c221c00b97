//! Payments: the seed's three simulated outcomes, and which transition each makes
//! (CONTRACT.md, "Payment outcomes"; rule 4 for a lapsed payment window; rule 9, nothing is
//! sold for an event that has started).

use super::{Booking, BookingStatus, Rejection, Timestamp};

/// The simulated payment provider's answer, forced by the client.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum PaymentForce {
    Success,
    Failure,
    Timeout,
}

impl PaymentForce {
    pub fn parse(force: Option<&str>) -> Result<Self, Rejection> {
        match force {
            Some("success") => Ok(Self::Success),
            Some("failure") => Ok(Self::Failure),
            Some("timeout") => Ok(Self::Timeout),
            _ => Err(Rejection::invalid(
                "force must be success | failure | timeout",
            )),
        }
    }

    /// How the attempt is recorded in `payments`.
    pub const fn outcome(self) -> &'static str {
        match self {
            Self::Success => "SUCCESS",
            Self::Failure => "FAILED",
            Self::Timeout => "TIMEOUT",
        }
    }
}

/// How a cancellation's refund is recorded in `payments`.
pub const REFUND_OUTCOME: &str = "REFUND";

/// What a payment does to the booking's lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockMove {
    /// Nothing changes (a timeout).
    Keep,
    /// ACTIVE → CONSUMED: the seats stay sold.
    Consume,
    /// ACTIVE → EXPIRED: the seats go back to the event (rule 6).
    Release,
}

/// The transition a payment makes: the booking's new status and what happens to its lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settlement {
    pub status: BookingStatus,
    pub lock: LockMove,
    /// How the attempt is recorded in `payments` (every attempt is).
    pub outcome: &'static str,
}

impl Booking {
    /// Which transition `force` makes on this booking now, for an event that starts at
    /// `event_date`. Only a PAYMENT_PENDING booking may be paid; one whose window has closed
    /// counts as EXPIRED (rule 4): the caller expires it first (see
    /// [`Booking::payment_window_closed`]). From `event_date` on, a successful payment is
    /// refused with `Event has already taken place` and changes nothing (rule 9); a failure
    /// or a timeout is still settled.
    pub fn settlement(
        &self,
        force: PaymentForce,
        event_date: Timestamp,
        now: Timestamp,
    ) -> Result<Settlement, Rejection> {
        if self.status != BookingStatus::PaymentPending {
            return Err(Rejection::PaymentNotAllowed(self.status));
        }
        if self.payment_window_closed(now) {
            return Err(Rejection::PaymentNotAllowed(BookingStatus::Expired));
        }
        if force == PaymentForce::Success && event_date <= now {
            return Err(Rejection::EventStarted);
        }
        let (status, lock) = match force {
            PaymentForce::Success => (BookingStatus::Confirmed, LockMove::Consume),
            PaymentForce::Failure => (BookingStatus::Failed, LockMove::Release),
            PaymentForce::Timeout => (BookingStatus::PaymentPending, LockMove::Keep),
        };
        Ok(Settlement {
            status,
            lock,
            outcome: force.outcome(),
        })
    }

    /// The booking as the settlement leaves it (`updatedAt` moves only if the status does).
    pub fn settled(self, settlement: &Settlement, now: Timestamp) -> Self {
        if settlement.status == self.status {
            return self;
        }
        Self {
            status: settlement.status,
            updated_at: now,
            ..self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fixtures::booking;

    #[test]
    fn each_outcome_makes_its_transition() {
        let now = Timestamp::from_millis(1_000);
        let pending = booking(BookingStatus::PaymentPending, 2_000);
        let later = Timestamp::from_millis(9_000);
        let of = |force| pending.settlement(force, later, now).unwrap();
        assert_eq!(
            (
                of(PaymentForce::Success).status,
                of(PaymentForce::Success).lock
            ),
            (BookingStatus::Confirmed, LockMove::Consume)
        );
        assert_eq!(
            (
                of(PaymentForce::Failure).status,
                of(PaymentForce::Failure).lock
            ),
            (BookingStatus::Failed, LockMove::Release)
        );
        assert_eq!(
            (
                of(PaymentForce::Timeout).status,
                of(PaymentForce::Timeout).lock
            ),
            (BookingStatus::PaymentPending, LockMove::Keep)
        );
        let (timeout, success) = (of(PaymentForce::Timeout), of(PaymentForce::Success));
        let kept = pending.clone().settled(&timeout, now);
        assert_eq!(kept.updated_at, Timestamp::from_millis(0));
        let paid = pending.settled(&success, now);
        assert_eq!(
            (paid.status, paid.updated_at),
            (BookingStatus::Confirmed, now)
        );
    }

    #[test]
    fn only_a_pending_booking_within_its_window_is_paid() {
        let now = Timestamp::from_millis(1_000);
        assert_eq!(
            booking(BookingStatus::PaymentPending, 1_000).settlement(
                PaymentForce::Success,
                later(),
                now
            ),
            Err(Rejection::PaymentNotAllowed(BookingStatus::Expired))
        );
        assert_eq!(
            booking(BookingStatus::Confirmed, 2_000).settlement(
                PaymentForce::Timeout,
                later(),
                now
            ),
            Err(Rejection::PaymentNotAllowed(BookingStatus::Confirmed))
        );
    }

    fn later() -> Timestamp {
        Timestamp::from_millis(9_000)
    }

    #[test]
    fn from_the_event_date_on_only_failure_and_timeout_are_settled() {
        let pending = booking(BookingStatus::PaymentPending, 5_000);
        let starts = Timestamp::from_millis(2_000);
        for now in [2_000, 3_000] {
            let now = Timestamp::from_millis(now);
            assert_eq!(
                pending.settlement(PaymentForce::Success, starts, now),
                Err(Rejection::EventStarted)
            );
            assert_eq!(
                pending
                    .settlement(PaymentForce::Failure, starts, now)
                    .map(|s| s.status),
                Ok(BookingStatus::Failed)
            );
            assert_eq!(
                pending
                    .settlement(PaymentForce::Timeout, starts, now)
                    .map(|s| s.lock),
                Ok(LockMove::Keep)
            );
        }
        let before = Timestamp::from_millis(1_999);
        assert_eq!(
            pending
                .settlement(PaymentForce::Success, starts, before)
                .map(|s| s.status),
            Ok(BookingStatus::Confirmed)
        );
    }
}
