//! Reserved seating (CONTRACT.md, "Reserved seating"; issue 11): the seating chart of a seated
//! event, the status of each seat, and best available. Pure: the store loads seat statuses
//! and makes the decisions taken here durable; the HTTP wiring (event creation with a
//! `seatingChart`, holds by name and best available, the seat list) follows with the seat rows.

mod best_available;
mod chart;
mod event;
mod hold;
mod keys;
mod parse;
mod request;
mod status;

#[cfg(test)]
mod parse_tests;
#[cfg(test)]
mod tests;

pub use best_available::{Pick, SeatFilter, SeatPlan};
pub use chart::{
    Category, MAX_CATEGORIES, MAX_SEAT_NUMBER, MAX_SEATS, Row, Seat, SeatingChart, Section,
};
pub use event::EventSeating;
pub use hold::{HeldSeats, HoldDetails, SeatSelection};
pub use keys::is_valid_key;
pub use request::{BestAvailableRequest, parse_seat_labels};
pub use status::{SeatCounts, SeatStatus};
