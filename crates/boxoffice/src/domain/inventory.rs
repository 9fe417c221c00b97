//! The inventory arithmetic (CONTRACT.md, "Inventory"): where every seat of an event is. One
//! definition of which lock or booking holds seats as what, used by the inventory endpoint and
//! `boxoffice check` (through the store's statement, built from [`SeatUse`]) and by the
//! importer's recount (through [`Inventory::count`]).

use super::{Booking, BookingStatus, LockStatus, ObjectId, SeatLock};

/// What the seats of a lock or booking are, for the inventory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeatUse {
    /// An ACTIVE lock without a booking.
    Held,
    /// A PAYMENT_PENDING booking (its lock is ACTIVE and not counted again).
    PendingPayment,
    /// A CONFIRMED booking (its lock is CONSUMED and not counted again).
    Confirmed,
}

impl SeatUse {
    /// The status of a lock whose seats are held, when it has no booking.
    pub const HELD_LOCK: LockStatus = LockStatus::Active;
    pub const PENDING_BOOKING: BookingStatus = BookingStatus::PaymentPending;
    pub const CONFIRMED_BOOKING: BookingStatus = BookingStatus::Confirmed;

    pub fn of_lock(lock: &SeatLock) -> Option<Self> {
        (lock.status == Self::HELD_LOCK && lock.booking_id.is_none()).then_some(Self::Held)
    }

    pub fn of_booking(booking: &Booking) -> Option<Self> {
        match booking.status {
            Self::PENDING_BOOKING => Some(Self::PendingPayment),
            Self::CONFIRMED_BOOKING => Some(Self::Confirmed),
            _ => None,
        }
    }
}

/// Where every seat of an event is, computed from the lock and booking rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inventory {
    pub event_id: ObjectId,
    pub total_seats: i64,
    pub available_seats: i64,
    pub held_seats: i64,
    pub pending_payment_seats: i64,
    pub confirmed_seats: i64,
    pub withheld_seats: i64,
    /// A seated event's seat rows, checked against the counter and the locks.
    pub seat_rows: Option<SeatRows>,
}

/// What a seated event's seat rows say (CONTRACT.md, "Reserved seating", "Rules"): FREE seats
/// must be `availableSeats`, BLOCKED ones `withheldSeats`, and every taken seat must belong
/// to exactly one ACTIVE or CONSUMED lock, in the status that lock gives it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SeatRows {
    pub free: i64,
    pub blocked: i64,
    /// Taken seats whose lock is not ACTIVE or CONSUMED, or whose status is not the one
    /// their lock gives (HELD, PENDING_PAYMENT, SOLD).
    pub stray: i64,
    /// ACTIVE or CONSUMED locks that do not hold as many seat rows as their `seats`.
    pub short_locks: i64,
}

impl Inventory {
    /// The counter agrees with the rows: no seat sold twice, none lost; and on a seated event,
    /// the seat rows agree with both.
    pub fn is_consistent(&self) -> bool {
        self.available_seats
            + self.held_seats
            + self.pending_payment_seats
            + self.confirmed_seats
            + self.withheld_seats
            == self.total_seats
            && self.seat_rows.is_none_or(|rows| {
                rows.free == self.available_seats
                    && rows.blocked == self.withheld_seats
                    && rows.stray == 0
                    && rows.short_locks == 0
            })
    }

    /// The counter the rows say the event should have.
    pub fn expected_available(&self) -> i64 {
        self.total_seats
            - self.held_seats
            - self.pending_payment_seats
            - self.confirmed_seats
            - self.withheld_seats
    }
}

impl Inventory {
    /// An event's inventory before any lock or booking is counted.
    pub fn new(
        event_id: ObjectId,
        total_seats: i64,
        available_seats: i64,
        withheld_seats: i64,
    ) -> Self {
        Self {
            event_id,
            total_seats,
            available_seats,
            held_seats: 0,
            pending_payment_seats: 0,
            confirmed_seats: 0,
            withheld_seats,
            seat_rows: None,
        }
    }

    /// Counts `seats` used as `used`.
    pub fn count(&mut self, used: SeatUse, seats: i64) {
        match used {
            SeatUse::Held => self.held_seats += seats,
            SeatUse::PendingPayment => self.pending_payment_seats += seats,
            SeatUse::Confirmed => self.confirmed_seats += seats,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fixtures::{id, lock};

    #[test]
    fn each_seat_is_counted_once() {
        let id = id();
        assert_eq!(
            SeatUse::of_lock(&lock(LockStatus::Active, Some(id), 0)),
            None
        );
        assert_eq!(SeatUse::of_lock(&lock(LockStatus::Consumed, None, 0)), None);

        let mut inventory = Inventory::new(id, 10, 3, 1);
        inventory.count(SeatUse::Held, 2);
        inventory.count(SeatUse::PendingPayment, 3);
        inventory.count(SeatUse::Confirmed, 1);
        assert!(inventory.is_consistent());
        inventory.available_seats = 4;
        assert!(!inventory.is_consistent());
        assert_eq!(inventory.expected_available(), 3);
    }
}
