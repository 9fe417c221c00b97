use super::{ObjectId, Rejection, Timestamp, status_enum};

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
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Booking {
    /// The seed shows a general-admission booking's seats as the count, as the only string.
    pub fn seat_labels(&self) -> Vec<String> {
        vec![self.seats.to_string()]
    }

    /// A pending booking whose payment window has closed, swept or not.
    pub fn payment_window_closed(&self, now: Timestamp) -> bool {
        self.status == BookingStatus::PaymentPending && self.payment_expires_at <= now
    }
}

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
