//! The JSON shapes of CONTRACT.md, field for field. Domain types never serialize themselves,
//! so a renamed Rust field can never rename a JSON one. Each shape also derives its OpenAPI
//! schema, so the description shows what is serialized.

use serde::Serialize;
use utoipa::ToSchema;

use super::seat_views::CategoryView;
use crate::domain::seating::SeatCounts;
use crate::domain::{
    Booking, BookingStatus, CursorKey, Event, Inventory, LockStatus, ObjectId, Page, Role,
    SeatLock, Timestamp, User,
};

/// `{"success": true, "data": …}`
#[derive(Serialize, ToSchema)]
pub struct Data<T> {
    pub success: bool,
    pub data: T,
}

pub fn data<T>(data: T) -> axum::Json<Data<T>> {
    axum::Json(Data {
        success: true,
        data,
    })
}

/// `{"success": true, "data": […], "nextCursor": "…" | null}`
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct List<T> {
    pub success: bool,
    pub data: Vec<T>,
    /// Where the next page starts; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// A page of domain values, each shown as its view; the next page's cursor sealed with
/// `cursors` for `scope` (the listing and its filters).
pub fn list<T, V: From<T>>(page: Page<T>, cursors: &CursorKey, scope: &str) -> axum::Json<List<V>> {
    axum::Json(List {
        success: true,
        data: page.items.into_iter().map(V::from).collect(),
        next_cursor: page.next.map(|cursor| cursor.seal(cursors, scope)),
    })
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserView {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<User> for UserView {
    fn from(user: User) -> Self {
        Self {
            id: user.id,
            name: user.name,
            email: user.email,
            role: user.role,
            created_at: user.created_at,
            updated_at: user.updated_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventView {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub name: String,
    pub description: String,
    pub event_date: Timestamp,
    pub total_seats: i64,
    pub available_seats: i64,
    pub withheld_seats: i64,
    /// Whether the event has a seating chart (CONTRACT.md, "Reserved seating").
    pub seated: bool,
    /// A seated event's price categories, each with its FREE seats.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub categories: Option<Vec<CategoryView>>,
    /// A general-admission event's price per seat, in minor units, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl EventView {
    /// The view of an event; a seated one's categories show their FREE seats from `counts`
    /// (each category's seats by status, in the chart's order of categories; without them,
    /// or with counts for another chart, its categories are left out).
    pub fn with_counts(event: Event, counts: Option<&[SeatCounts]>) -> Self {
        let categories = event
            .seating
            .as_deref()
            .zip(counts)
            .filter(|(chart, counts)| chart.categories().len() == counts.len())
            .map(|(chart, counts)| CategoryView::all(chart, counts));
        Self {
            categories,
            ..Self::from(event)
        }
    }
}

impl From<Event> for EventView {
    /// Without its seats' statuses: a seated event's categories are left out (use
    /// [`EventView::with_counts`]).
    fn from(event: Event) -> Self {
        Self {
            seated: event.seating.is_some(),
            categories: None,
            price: event.price.as_ref().map(|price| price.amount),
            currency: event.price.as_ref().map(|price| price.currency.clone()),
            id: event.id,
            name: event.name,
            description: event.description,
            event_date: event.event_date,
            total_seats: event.total_seats,
            available_seats: event.available_seats,
            withheld_seats: event.withheld_seats,
            created_at: event.created_at,
            updated_at: event.updated_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InventoryView {
    pub event_id: ObjectId,
    pub total_seats: i64,
    pub available_seats: i64,
    pub held_seats: i64,
    pub pending_payment_seats: i64,
    pub confirmed_seats: i64,
    pub withheld_seats: i64,
    pub consistent: bool,
}

impl From<Inventory> for InventoryView {
    fn from(inventory: Inventory) -> Self {
        Self {
            consistent: inventory.is_consistent(),
            event_id: inventory.event_id,
            total_seats: inventory.total_seats,
            available_seats: inventory.available_seats,
            held_seats: inventory.held_seats,
            pending_payment_seats: inventory.pending_payment_seats,
            confirmed_seats: inventory.confirmed_seats,
            withheld_seats: inventory.withheld_seats,
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LockView {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub event_id: ObjectId,
    pub user_id: ObjectId,
    pub seats: i64,
    pub status: LockStatus,
    pub expires_at: Timestamp,
    pub idempotency_key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub booking_id: Option<ObjectId>,
    /// A seated event's seats, in chart order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seat_labels: Option<Vec<String>>,
    /// Best available only: whether the seats are next to each other.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_to_each_other: Option<bool>,
    /// The sum of the seats' prices in minor units, when the event has prices.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<SeatLock> for LockView {
    fn from(lock: SeatLock) -> Self {
        let details = lock.details;
        Self {
            seat_labels: details.seat_labels,
            next_to_each_other: details.next_to_each_other,
            amount: details.price.as_ref().map(|price| price.amount),
            currency: details.price.map(|price| price.currency),
            id: lock.id,
            event_id: lock.event_id,
            user_id: lock.user_id,
            seats: lock.seats,
            status: lock.status,
            expires_at: lock.expires_at,
            idempotency_key: lock.idempotency_key,
            booking_id: lock.booking_id,
            created_at: lock.created_at,
            updated_at: lock.updated_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BookingView {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub user: ObjectId,
    pub event: ObjectId,
    /// Seated: the seat labels; general admission: the count, as the only string (the seed's
    /// shape).
    pub seats: Vec<String>,
    pub seat_count: i64,
    pub status: BookingStatus,
    pub seat_lock_id: ObjectId,
    pub payment_expires_at: Timestamp,
    /// The sum of the seats' prices in minor units, when the event has prices.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<Booking> for BookingView {
    fn from(booking: Booking) -> Self {
        Self {
            seats: booking.seat_labels(),
            amount: booking.details.price.as_ref().map(|price| price.amount),
            currency: booking
                .details
                .price
                .as_ref()
                .map(|price| price.currency.clone()),
            id: booking.id,
            user: booking.user_id,
            event: booking.event_id,
            seat_count: booking.seats,
            status: booking.status,
            seat_lock_id: booking.seat_lock_id,
            payment_expires_at: booking.payment_expires_at,
            created_at: booking.created_at,
            updated_at: booking.updated_at,
        }
    }
}

/// The request bodies, for the API description only: handlers read bodies field by field
/// (`JsonObject`), so that each field's error is the contract's message and nothing is
/// coerced. Keep these in step with the handlers' reading.
pub mod bodies;

/// `{"status": "OK"}`
#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(examples("OK"))]
    pub status: &'static str,
}

/// `{"status": "OK" | "UNAVAILABLE", "database": "OK" | why not}`
#[derive(Serialize, ToSchema)]
pub struct Readiness {
    #[schema(examples("OK", "UNAVAILABLE"))]
    pub status: &'static str,
    /// `OK`, or why the database did not answer.
    pub database: String,
}
