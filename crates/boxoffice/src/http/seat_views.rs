//! The JSON shapes of reserved seating (CONTRACT.md, "Reserved seating"), field for field.

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::ObjectId;
use crate::domain::seating::{SeatCounts, SeatStatus, SeatingChart};

/// A category of a seated event, with its FREE seats.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CategoryView {
    pub key: String,
    pub name: String,
    /// Minor units (cents for EUR).
    pub price: i64,
    pub currency: String,
    /// Seats of this category that are FREE.
    pub available_seats: i64,
}

impl CategoryView {
    /// Every category of the chart with its FREE seats, from `counts` (each category's seats
    /// by status, in the chart's order of categories).
    pub fn all(chart: &SeatingChart, counts: &[SeatCounts]) -> Vec<Self> {
        let free = counts.iter().map(|counts| counts.free);
        chart
            .categories()
            .iter()
            .zip(free)
            .map(|(category, available_seats)| Self {
                key: category.key.clone(),
                name: category.name.clone(),
                price: category.price,
                currency: category.currency.clone(),
                available_seats,
            })
            .collect()
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SeatView {
    /// `section-row-number`, unique in the event.
    pub label: String,
    pub section: String,
    pub row: String,
    pub number: u16,
    /// The category's key.
    pub category: String,
    pub accessible: bool,
    #[schema(value_type = String, examples("FREE", "HELD", "PENDING_PAYMENT", "SOLD", "BLOCKED"))]
    pub status: SeatStatus,
}

/// `{FREE, HELD, PENDING_PAYMENT, SOLD, BLOCKED}`: seats in each status.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub struct SeatCountsView {
    pub free: i64,
    pub held: i64,
    pub pending_payment: i64,
    pub sold: i64,
    pub blocked: i64,
}

impl From<SeatCounts> for SeatCountsView {
    fn from(counts: SeatCounts) -> Self {
        Self {
            free: counts.free,
            held: counts.held,
            pending_payment: counts.pending_payment,
            sold: counts.sold,
            blocked: counts.blocked,
        }
    }
}

/// `{eventId, seats: [...], counts: {...}}`, the seats in chart order.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SeatsView {
    pub event_id: ObjectId,
    pub seats: Vec<SeatView>,
    /// The seats listed, by status.
    pub counts: SeatCountsView,
}

impl SeatsView {
    /// The seats `listed` (indexes in chart order) of `chart` with `statuses`.
    pub fn new(
        event_id: ObjectId,
        chart: &SeatingChart,
        statuses: &[SeatStatus],
        listed: impl Iterator<Item = usize>,
    ) -> Self {
        let seats: Vec<SeatView> = listed
            .map(|index| {
                let seat = &chart.seats()[index];
                let row = &chart.rows()[seat.row as usize];
                SeatView {
                    label: chart.label(index),
                    section: chart.sections()[row.section].key.clone(),
                    row: row.key.clone(),
                    number: seat.number,
                    category: chart.categories()[row.category].key.clone(),
                    accessible: seat.accessible,
                    status: statuses[index],
                }
            })
            .collect();
        let counts = SeatCounts::of(seats.iter().map(|seat| seat.status));
        Self {
            event_id,
            seats,
            counts: counts.into(),
        }
    }
}

/// `{blocked: [labels]}` or `{unblocked: [labels]}`.
#[derive(Serialize, ToSchema)]
pub struct SeatChangeView {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocked: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unblocked: Option<Vec<String>>,
}

impl SeatChangeView {
    pub fn new(block: bool, labels: Vec<String>) -> Self {
        if block {
            Self {
                blocked: Some(labels),
                unblocked: None,
            }
        } else {
            Self {
                blocked: None,
                unblocked: Some(labels),
            }
        }
    }
}
