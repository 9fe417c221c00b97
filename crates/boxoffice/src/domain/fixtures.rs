//! Values for the domain's unit tests: one id, a booking, a lock.

use super::{Booking, BookingStatus, LockStatus, ObjectId, SeatLock, Timestamp};

pub fn id() -> ObjectId {
    ObjectId::parse("697a00af215688d2a9fca5c8").unwrap()
}

pub fn at(millis: i64) -> Timestamp {
    Timestamp::from_millis(millis)
}

/// A two-seat booking made at 0, its window closing at `payment_expires_at` (milliseconds).
pub fn booking(status: BookingStatus, payment_expires_at: i64) -> Booking {
    Booking {
        id: id(),
        user_id: id(),
        event_id: id(),
        seats: 2,
        status,
        seat_lock_id: id(),
        payment_expires_at: at(payment_expires_at),
        details: Default::default(),
        created_at: at(0),
        updated_at: at(0),
    }
}

/// A two-seat lock made at 0, lapsing at `expires_at` (milliseconds).
pub fn lock(status: LockStatus, booking_id: Option<ObjectId>, expires_at: i64) -> SeatLock {
    SeatLock {
        id: id(),
        event_id: id(),
        user_id: id(),
        seats: 2,
        status,
        expires_at: at(expires_at),
        idempotency_key: "k".to_owned(),
        booking_id,
        details: Default::default(),
        created_at: at(0),
        updated_at: at(0),
    }
}
