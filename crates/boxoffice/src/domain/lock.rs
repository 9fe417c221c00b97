use super::seating::{HoldDetails, SeatSelection};
use super::{Integer, ObjectId, Rejection, Timestamp, status_enum};

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
    /// `seconds`: an integer from 1 to 3600, else 400 `seconds must be an integer between 1
    /// and 3600` (CONTRACT.md, hold extension), an integer beyond 64 bits included.
    pub fn check_seconds(seconds: Option<Integer>) -> Result<i64, Rejection> {
        match seconds.map(Integer::saturating) {
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
    /// `seats`: an integer from 1 to 100, else 400 `seats must be an integer between 1 and
    /// 100` (CONTRACT.md, `POST /api/locks`), an integer beyond 64 bits included.
    pub fn check_seats(seats: Option<Integer>) -> Result<i64, Rejection> {
        match seats.map(Integer::saturating) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seats_and_seconds_are_bounded_however_far_beyond() {
        assert_eq!(LockRequest::check_seats(Some(100.into())), Ok(100));
        assert_eq!(LockExtension::check_seconds(Some(3600.into())), Ok(3600));
        for out in [
            Some(0.into()),
            Some(101.into()),
            Some(Integer::Above),
            Some(Integer::Below),
            None,
        ] {
            assert_eq!(
                LockRequest::check_seats(out).unwrap_err().to_string(),
                "seats must be an integer between 1 and 100",
                "{out:?}"
            );
        }
        for out in [
            Some(0.into()),
            Some(3601.into()),
            Some(Integer::Above),
            Some(Integer::Below),
            None,
        ] {
            assert_eq!(
                LockExtension::check_seconds(out).unwrap_err().to_string(),
                "seconds must be an integer between 1 and 3600",
                "{out:?}"
            );
        }
    }
}
