//! Outbound webhooks (CONTRACT.md, "Notifications: webhooks and the feed"): Standard Webhooks
//! signatures and secrets ([`signature`]), which URLs and addresses may be sent to
//! ([`address`]), and one delivery attempt to one endpoint ([`client`]).
//!
//! The delivery worker ([`worker`]) runs on every instance, sharing the work through the
//! database (`FOR UPDATE SKIP LOCKED` and a lease); the endpoints' routes are in
//! `http/webhooks.rs`.

pub mod address;
pub mod client;
pub mod signature;
pub mod worker;

pub use address::{UrlRefusal, check_url, is_public};
pub use client::{Attempt, DeliverySettings, WebhookClient};
pub use signature::{MalformedSecret, SignedHeaders, WebhookSecret};
pub use worker::DeliveryWorker;
