use super::seating::HoldDetails;
use super::{LockStatus, ObjectId, Rejection, Timestamp, status_enum};

status_enum!(BookingStatus {
    Initiated => "INITIATED",
    PaymentPending => "PAYMENT_PENDING",
    Confirmed => "CONFIRMED",
    Failed => "FAILED",
    Expired => "EXPIRED",
    Cancelled => "CANCELLED",
});

#[derive(Clone, Debug)]
pub struct Booking {
    pub id: ObjectId,
    pub user_id: ObjectId,
    pub event_id: ObjectId,
    pub seats: i64,
    pub status: BookingStatus,
    pub seat_lock_id: ObjectId,
    pub payment_expires_at: Timestamp,
    /// Its lock's seat labels and price (seated or priced events).
    pub details: HoldDetails,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl BookingStatus {
    /// The status of the lock behind a booking in this status: ACTIVE while the booking may
    /// still be paid, CONSUMED once paid, EXPIRED once its seats went back (rule 6).
    pub const fn lock_status(self) -> LockStatus {
        match self {
            Self::Initiated | Self::PaymentPending => LockStatus::Active,
            Self::Confirmed => LockStatus::Consumed,
            Self::Failed | Self::Expired | Self::Cancelled => LockStatus::Expired,
        }
    }
}

impl Booking {
    /// A seated booking's seat labels; the seed shows a general-admission booking's seats as
    /// the count, as the only string.
    pub fn seat_labels(&self) -> Vec<String> {
        match &self.details.seat_labels {
            Some(labels) => labels.clone(),
            None => vec![self.seats.to_string()],
        }
    }

    /// A pending booking whose payment window has closed, swept or not.
    pub fn payment_window_closed(&self, now: Timestamp) -> bool {
        self.status == BookingStatus::PaymentPending && self.payment_expires_at <= now
    }

    /// Whether the booking may be cancelled now, before its event starts at `event_date`;
    /// if so, the status its lock is in (ACTIVE while payment is pending, CONSUMED once paid),
    /// from which the lock expires and gives its seats back. A pending booking whose payment
    /// window has closed counts as EXPIRED: the caller expires it first.
    pub fn cancellation(
        &self,
        event_date: Timestamp,
        now: Timestamp,
    ) -> Result<Cancellation, Rejection> {
        if self.payment_window_closed(now) {
            return Err(Rejection::CancellationNotAllowed(BookingStatus::Expired));
        }
        let cancellation = match self.status {
            BookingStatus::PaymentPending => Cancellation {
                lock_status: LockStatus::Active,
                refund: false,
            },
            BookingStatus::Confirmed => Cancellation {
                lock_status: LockStatus::Consumed,
                refund: true,
            },
            status => return Err(Rejection::CancellationNotAllowed(status)),
        };
        if event_date <= now {
            return Err(Rejection::EventStarted);
        }
        Ok(cancellation)
    }
}

/// What cancelling a booking undoes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cancellation {
    /// The status the booking's lock is in; it moves from there to EXPIRED.
    pub lock_status: LockStatus,
    /// Whether the booking was paid, so that a refund is recorded.
    pub refund: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fixtures::booking;

    #[test]
    fn cancellation_rules() {
        let now = Timestamp::from_millis(1_000);
        let later = Timestamp::from_millis(5_000);
        let pending = booking(BookingStatus::PaymentPending, 2_000);
        assert_eq!(
            pending.cancellation(later, now),
            Ok(Cancellation {
                lock_status: LockStatus::Active,
                refund: false
            })
        );
        assert_eq!(
            booking(BookingStatus::Confirmed, 0).cancellation(later, now),
            Ok(Cancellation {
                lock_status: LockStatus::Consumed,
                refund: true
            })
        );
        assert_eq!(pending.cancellation(now, now), Err(Rejection::EventStarted));
        assert_eq!(
            booking(BookingStatus::PaymentPending, 1_000).cancellation(later, now),
            Err(Rejection::CancellationNotAllowed(BookingStatus::Expired))
        );
        for status in [
            BookingStatus::Cancelled,
            BookingStatus::Failed,
            BookingStatus::Expired,
        ] {
            assert_eq!(
                booking(status, 2_000).cancellation(now, now),
                Err(Rejection::CancellationNotAllowed(status))
            );
        }
    }
}
