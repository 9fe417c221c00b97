use super::seating::{HoldDetails, SeatSelection};
use super::{ObjectId, Rejection, Timestamp, status_enum};

status_enum!(LockStatus { Active => "ACTIVE", Expired => "EXPIRED", Consumed => "CONSUMED" });

#[derive(Clone, Debug)]
pub struct SeatLock {
    pub id: ObjectId,
    pub event_id: ObjectId,
    pub user_id: ObjectId,
    pub seats: i64,
    pub status: LockStatus,
    pub expires_at: Timestamp,
    pub idempotency_key: String,
    /// The booking this lock became, if it was confirmed.
    pub booking_id: Option<ObjectId>,
    /// Its seats' labels, request and price (seated or priced events).
    pub details: HoldDetails,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl SeatLock {
    /// An ACTIVE lock without a booking whose time is up: it no longer holds its seats,
    /// whether or not the sweeper has got to it yet.
    pub fn has_lapsed(&self, now: Timestamp) -> bool {
        self.status == LockStatus::Active && self.booking_id.is_none() && self.expires_at <= now
    }

    /// Why this lock cannot be released early by its holder, if it cannot: only an ACTIVE
    /// lock without a booking can (a booked one goes with its booking). A lapsed lock counts
    /// as EXPIRED; the caller expires it on the spot.
    pub fn release_refusal(&self, now: Timestamp) -> Option<Rejection> {
        if self.status != LockStatus::Active {
            Some(Rejection::ReleaseNotAllowed(self.status))
        } else if self.booking_id.is_some() {
            Some(Rejection::LockBacksBooking)
        } else if self.has_lapsed(now) {
            Some(Rejection::ReleaseNotAllowed(LockStatus::Expired))
        } else {
            None
        }
    }
}

pub const MAX_EXTENSION_SECONDS: i64 = 3600;

/// A request to move an ACTIVE lock's expiry to `now + seconds`, never beyond its creation
/// plus the maximum lifetime of a lock.
#[derive(Clone, Copy, Debug)]
pub struct LockExtension {
    pub lock_id: ObjectId,
    pub now: Timestamp,
    pub expires_at: Timestamp,
    pub max_lifetime_seconds: i64,
}

impl LockExtension {
    pub fn check_seconds(seconds: Option<i64>) -> Result<i64, Rejection> {
        match seconds {
            Some(n) if (1..=MAX_EXTENSION_SECONDS).contains(&n) => Ok(n),
            _ => Err(Rejection::invalid(
                "seconds must be an integer between 1 and 3600",
            )),
        }
    }
}

pub const MAX_SEATS_PER_LOCK: i64 = 100;
pub const MAX_IDEMPOTENCY_KEY_CHARS: usize = 255;

/// A request to hold seats, checked against every rule that needs no database.
#[derive(Clone, Debug)]
pub struct LockRequest {
    pub event_id: ObjectId,
    pub user_id: ObjectId,
    pub seats: i64,
    pub idempotency_key: String,
    /// Seats by name, best available, or only a count (CONTRACT.md, "Holding seats").
    pub selection: SeatSelection,
    pub now: Timestamp,
    pub expires_at: Timestamp,
}

impl LockRequest {
    pub fn check_seats(seats: Option<i64>) -> Result<i64, Rejection> {
        match seats {
            Some(n) if (1..=MAX_SEATS_PER_LOCK).contains(&n) => Ok(n),
            _ => Err(Rejection::invalid(
                "seats must be an integer between 1 and 100",
            )),
        }
    }

    pub fn check_idempotency_key(key: Option<&str>) -> Result<String, Rejection> {
        match key {
            Some(key) if !key.is_empty() && key.chars().count() <= MAX_IDEMPOTENCY_KEY_CHARS => {
                Ok(key.to_owned())
            }
            Some(key) if !key.is_empty() => Err(Rejection::invalid(
                "idempotencyKey must be at most 255 characters",
            )),
            _ => Err(Rejection::invalid("idempotencyKey is required")),
        }
    }

    /// The ACTIVE lock this request makes when it is granted, holding the seats described by
    /// `details` (empty for an unpriced general-admission event).
    pub fn new_lock(&self, details: HoldDetails) -> SeatLock {
        SeatLock {
            details,
            id: ObjectId::generate(),
            event_id: self.event_id,
            user_id: self.user_id,
            seats: self.seats,
            status: LockStatus::Active,
            expires_at: self.expires_at,
            idempotency_key: self.idempotency_key.clone(),
            booking_id: None,
            created_at: self.now,
            updated_at: self.now,
        }
    }

    /// Whether an earlier lock under the same key was made by this same request.
    pub fn matches(&self, earlier: &SeatLock) -> bool {
        earlier.event_id == self.event_id
            && earlier.seats == self.seats
            && earlier.details.seat_request == self.selection.canonical()
    }
}
