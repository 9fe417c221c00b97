//! Rows as the database returns them, and their conversion into domain values. Ids are stored
//! as 24-hex text and instants as epoch milliseconds, which both databases hold natively.

use sqlx::FromRow;

use super::StoreError;
use crate::domain::{
    Booking, BookingStatus, Cursor, Event, Inventory, LockStatus, ObjectId, Role, SeatLock,
    Timestamp, User,
};

macro_rules! user_columns {
    () => {
        "id, name, email, role, password_hash, created_at, updated_at"
    };
}
macro_rules! event_columns {
    () => {
        "id, name, description, event_date, total_seats, available_seats, withheld_seats, \
         created_at, updated_at"
    };
}
macro_rules! lock_columns {
    () => {
        "id, event_id, user_id, seats, status, expires_at, idempotency_key, booking_id, \
         created_at, updated_at"
    };
}
macro_rules! booking_columns {
    () => {
        "id, user_id, event_id, seats, status, seat_lock_id, payment_expires_at, created_at, \
         updated_at"
    };
}
pub(super) use {booking_columns, event_columns, lock_columns, user_columns};

fn id(text: &str) -> Result<ObjectId, StoreError> {
    ObjectId::parse(text).ok_or_else(|| StoreError::corrupt(format!("id {text:?}")))
}

/// An instant column: epoch milliseconds in the range the API can show (1970 to 9999 in UTC,
/// [`Timestamp::in_range`]). Anything else is a corrupt value of this row, so that a row
/// written behind the API's back fails alone, never the list it is part of.
fn instant(column: &str, millis: i64) -> Result<Timestamp, StoreError> {
    Timestamp::in_range(millis)
        .ok_or_else(|| StoreError::corrupt(format!("{column} {millis} is not a showable instant")))
}

fn status<T>(text: &str, parse: fn(&str) -> Option<T>) -> Result<T, StoreError> {
    parse(text).ok_or_else(|| StoreError::corrupt(format!("status {text:?}")))
}

#[derive(FromRow)]
pub struct UserRow {
    id: String,
    name: String,
    email: String,
    role: String,
    password_hash: String,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;
    fn try_from(row: UserRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: id(&row.id)?,
            name: row.name,
            email: row.email,
            role: status(&row.role, Role::parse)?,
            password_hash: row.password_hash,
            created_at: instant("created_at", row.created_at)?,
            updated_at: instant("updated_at", row.updated_at)?,
        })
    }
}

#[derive(FromRow)]
pub struct EventRow {
    id: String,
    name: String,
    description: String,
    event_date: i64,
    total_seats: i64,
    available_seats: i64,
    withheld_seats: i64,
    created_at: i64,
    updated_at: i64,
}

impl EventRow {
    /// Where a page of the event list that ends with this row ends: its date and id.
    pub fn cursor(&self) -> Result<Cursor, StoreError> {
        Ok(Cursor {
            key: self.event_date,
            id: id(&self.id)?,
        })
    }
}

impl TryFrom<EventRow> for Event {
    type Error = StoreError;
    fn try_from(row: EventRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: id(&row.id)?,
            name: row.name,
            description: row.description,
            event_date: instant("event_date", row.event_date)?,
            total_seats: row.total_seats,
            available_seats: row.available_seats,
            withheld_seats: row.withheld_seats,
            created_at: instant("created_at", row.created_at)?,
            updated_at: instant("updated_at", row.updated_at)?,
        })
    }
}

#[derive(FromRow)]
pub struct LockRow {
    id: String,
    event_id: String,
    user_id: String,
    seats: i64,
    status: String,
    expires_at: i64,
    idempotency_key: String,
    booking_id: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<LockRow> for SeatLock {
    type Error = StoreError;
    fn try_from(row: LockRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: id(&row.id)?,
            event_id: id(&row.event_id)?,
            user_id: id(&row.user_id)?,
            seats: row.seats,
            status: status(&row.status, LockStatus::parse)?,
            expires_at: instant("expires_at", row.expires_at)?,
            idempotency_key: row.idempotency_key,
            booking_id: row.booking_id.as_deref().map(id).transpose()?,
            created_at: instant("created_at", row.created_at)?,
            updated_at: instant("updated_at", row.updated_at)?,
        })
    }
}

#[derive(FromRow)]
pub struct BookingRow {
    id: String,
    user_id: String,
    event_id: String,
    seats: i64,
    status: String,
    seat_lock_id: String,
    payment_expires_at: i64,
    created_at: i64,
    updated_at: i64,
}

impl BookingRow {
    /// Where a page of a user's bookings that ends with this row ends: its creation and id.
    pub fn cursor(&self) -> Result<Cursor, StoreError> {
        Ok(Cursor {
            key: self.created_at,
            id: id(&self.id)?,
        })
    }
}

impl TryFrom<BookingRow> for Booking {
    type Error = StoreError;
    fn try_from(row: BookingRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: id(&row.id)?,
            user_id: id(&row.user_id)?,
            event_id: id(&row.event_id)?,
            seats: row.seats,
            status: status(&row.status, BookingStatus::parse)?,
            seat_lock_id: id(&row.seat_lock_id)?,
            payment_expires_at: instant("payment_expires_at", row.payment_expires_at)?,
            created_at: instant("created_at", row.created_at)?,
            updated_at: instant("updated_at", row.updated_at)?,
        })
    }
}

#[derive(FromRow)]
pub struct InventoryRow {
    id: String,
    total_seats: i64,
    available_seats: i64,
    withheld_seats: i64,
    held_seats: i64,
    pending_payment_seats: i64,
    confirmed_seats: i64,
}

impl TryFrom<InventoryRow> for Inventory {
    type Error = StoreError;
    fn try_from(row: InventoryRow) -> Result<Self, StoreError> {
        Ok(Self {
            event_id: id(&row.id)?,
            total_seats: row.total_seats,
            available_seats: row.available_seats,
            held_seats: row.held_seats,
            pending_payment_seats: row.pending_payment_seats,
            confirmed_seats: row.confirmed_seats,
            withheld_seats: row.withheld_seats,
        })
    }
}

/// Seats that a statement released, by event: (event id, seats).
#[derive(FromRow)]
pub struct ReleasedRow {
    pub event_id: String,
    pub seats: i64,
}
