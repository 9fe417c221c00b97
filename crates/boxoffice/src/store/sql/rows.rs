//! Rows as the database returns them, read straight into domain values (the column types are
//! in `values.rs`), and the column lists every SELECT and RETURNING of them names.

use sqlx::any::AnyRow;
use sqlx::{FromRow, Row};

use crate::domain::{Booking, Event, Inventory, SeatLock, User};

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

impl FromRow<'_, AnyRow> for User {
    fn from_row(row: &AnyRow) -> sqlx::Result<Self> {
        Ok(Self {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            email: row.try_get("email")?,
            role: row.try_get("role")?,
            password_hash: row.try_get("password_hash")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }
}

impl FromRow<'_, AnyRow> for Event {
    fn from_row(row: &AnyRow) -> sqlx::Result<Self> {
        Ok(Self {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            description: row.try_get("description")?,
            event_date: row.try_get("event_date")?,
            total_seats: row.try_get("total_seats")?,
            available_seats: row.try_get("available_seats")?,
            withheld_seats: row.try_get("withheld_seats")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }
}

impl FromRow<'_, AnyRow> for SeatLock {
    fn from_row(row: &AnyRow) -> sqlx::Result<Self> {
        Ok(Self {
            id: row.try_get("id")?,
            event_id: row.try_get("event_id")?,
            user_id: row.try_get("user_id")?,
            seats: row.try_get("seats")?,
            status: row.try_get("status")?,
            expires_at: row.try_get("expires_at")?,
            idempotency_key: row.try_get("idempotency_key")?,
            booking_id: row.try_get("booking_id")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }
}

impl FromRow<'_, AnyRow> for Booking {
    fn from_row(row: &AnyRow) -> sqlx::Result<Self> {
        Ok(Self {
            id: row.try_get("id")?,
            user_id: row.try_get("user_id")?,
            event_id: row.try_get("event_id")?,
            seats: row.try_get("seats")?,
            status: row.try_get("status")?,
            seat_lock_id: row.try_get("seat_lock_id")?,
            payment_expires_at: row.try_get("payment_expires_at")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }
}

/// The columns of the inventory statement (see `inventory.rs`).
impl FromRow<'_, AnyRow> for Inventory {
    fn from_row(row: &AnyRow) -> sqlx::Result<Self> {
        Ok(Self {
            event_id: row.try_get("id")?,
            total_seats: row.try_get("total_seats")?,
            available_seats: row.try_get("available_seats")?,
            held_seats: row.try_get("held_seats")?,
            pending_payment_seats: row.try_get("pending_payment_seats")?,
            confirmed_seats: row.try_get("confirmed_seats")?,
            withheld_seats: row.try_get("withheld_seats")?,
        })
    }
}
