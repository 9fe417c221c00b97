//! Rows as the database returns them, read straight into domain values (the column types are
//! in `values.rs`), and the column lists every SELECT and RETURNING of them names.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use sqlx::any::AnyRow;
use sqlx::{FromRow, Row};

use crate::domain::SeatRows;
use crate::domain::seating::{HoldDetails, SeatingChart};
use crate::domain::{Booking, Event, Inventory, ObjectId, Price, SeatLock, User};

macro_rules! user_columns {
    () => {
        "id, name, email, role, password_hash, credentials_version, created_at, updated_at"
    };
}
macro_rules! event_columns {
    () => {
        "id, name, description, event_date, total_seats, available_seats, withheld_seats, \
         seating_chart, price, currency, created_at, updated_at"
    };
}
macro_rules! lock_columns {
    () => {
        "id, event_id, user_id, seats, status, expires_at, idempotency_key, booking_id, \
         seat_labels, seat_request, next_to_each_other, amount, currency, created_at, updated_at"
    };
}
macro_rules! booking_columns {
    () => {
        "id, user_id, event_id, seats, status, seat_lock_id, payment_expires_at, seat_labels, \
         amount, currency, created_at, updated_at"
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
            credentials_version: row.try_get("credentials_version")?,
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
            seating: chart(row)?,
            price: price(row)?,
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
            details: HoldDetails {
                seat_labels: seat_labels(row)?,
                seat_request: row.try_get("seat_request")?,
                next_to_each_other: row
                    .try_get::<Option<i64>, _>("next_to_each_other")?
                    .map(|flag| flag != 0),
                price: price(row)?,
            },
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
            details: HoldDetails {
                seat_labels: seat_labels(row)?,
                price: price(row)?,
                ..HoldDetails::default()
            },
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
            seat_rows: match row.try_get::<i64, _>("seated")? {
                0 => None,
                _ => Some(SeatRows {
                    free: row.try_get("free_seat_rows")?,
                    blocked: row.try_get("blocked_seat_rows")?,
                    stray: row.try_get("stray_seat_rows")?,
                    short_locks: row.try_get("short_locks")?,
                }),
            },
        })
    }
}

fn corrupt(what: String) -> sqlx::Error {
    sqlx::Error::Decode(format!("corrupt row: {what}").into())
}

/// `amount`/`price` and `currency`, both or neither.
fn price(row: &AnyRow) -> sqlx::Result<Option<Price>> {
    let amount: Option<i64> = match row.try_get("amount") {
        Ok(amount) => amount,
        Err(sqlx::Error::ColumnNotFound(_)) => row.try_get("price")?,
        Err(error) => return Err(error),
    };
    let currency: Option<String> = row.try_get("currency")?;
    Ok(amount
        .zip(currency)
        .map(|(amount, currency)| Price { amount, currency }))
}

/// A JSON array of labels.
fn seat_labels(row: &AnyRow) -> sqlx::Result<Option<Vec<String>>> {
    let text: Option<String> = row.try_get("seat_labels")?;
    text.map(|text| serde_json::from_str(&text).map_err(|e| corrupt(format!("seat_labels: {e}"))))
        .transpose()
}

/// The event's seating chart, parsed once per event and process: a chart never changes.
fn chart(row: &AnyRow) -> sqlx::Result<Option<Arc<SeatingChart>>> {
    let Some(text) = row.try_get::<Option<String>, _>("seating_chart")? else {
        return Ok(None);
    };
    let id: ObjectId = row.try_get("id")?;
    static CHARTS: OnceLock<Mutex<HashMap<ObjectId, Arc<SeatingChart>>>> = OnceLock::new();
    let charts = CHARTS.get_or_init(Mutex::default);
    if let Some(chart) = charts
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&id)
    {
        return Ok(Some(chart.clone()));
    }
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| corrupt(format!("seating_chart: {e}")))?;
    let chart = Arc::new(
        SeatingChart::parse_stored(&value).map_err(|e| corrupt(format!("seating_chart: {e}")))?,
    );
    let mut charts = charts.lock().unwrap_or_else(PoisonError::into_inner);
    // Bounded: a process that reads very many seated events parses some again.
    if charts.len() >= 1024 {
        charts.clear();
    }
    charts.insert(id, chart.clone());
    Ok(Some(chart))
}
