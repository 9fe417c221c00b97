//! Outbound webhooks (CONTRACT.md, "Notifications: webhooks and the feed"): Standard Webhooks
//! signatures and secrets ([`signature`]), which URLs and addresses may be sent to
//! ([`address`]), and one delivery attempt to one endpoint ([`client`]).
//!
//! These are the parts that need no database. The endpoints' routes, the delivery workers
//! (every instance, sharing rows through `FOR UPDATE SKIP LOCKED`) and their wiring into the
//! server follow with the outbox.

pub mod address;
pub mod client;
pub mod signature;

pub use address::{UrlRefusal, check_url, is_public};
pub use client::{Attempt, DeliverySettings, WebhookClient};
pub use signature::{MalformedSecret, SignedHeaders, WebhookSecret};
