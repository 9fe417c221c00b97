//! boxoffice: an event-booking backend that never oversells a seat.

pub mod app;
pub mod auth;
pub mod check;
pub mod config;
pub mod deadline;
pub mod domain;
pub mod holds;
pub mod http;
pub mod import;
pub mod outbox;
pub mod password;
pub mod seatmap;
pub mod server;
pub mod store;
pub mod sweeper;
pub mod telemetry;
pub mod webhooks;
