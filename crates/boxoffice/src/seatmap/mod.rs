//! Pictures of a seated event (CONTRACT.md, "Reserved seating"): the seat map as SVG, drawn
//! from the chart and the seats' statuses, and the HTML page that shows it and refreshes it
//! every two seconds. Pure functions from data to text; the routes
//! (`GET /api/events/:id/seatmap.svg`, `GET /seatmap/:id`) follow with the seat rows, through
//! [`SeatMaps`] (`cache.rs`), which draws each event's map once per short interval and bounds
//! how many are drawn at once.
//!
//! Text from clients (event, section and category names) is escaped with `quick-xml`.

mod cache;
mod page;
mod svg;

pub use cache::{FRESH_FOR, MAX_SLOTS, SeatMapError, SeatMaps};
pub use page::{PAGE_SCRIPT, REFRESH_MILLISECONDS, seat_map_page};
pub use svg::{draw_seat_map, status_colour};
