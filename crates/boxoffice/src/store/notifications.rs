//! The notifications' use cases (CONTRACT.md, "Notifications: webhooks and the feed"): the
//! feed, the sequencer that numbers it, pruning, webhook endpoints and their deliveries.
//! [`super::SqlStore`] implements them (`sql/notifications/`); the HTTP layer, the outbox's
//! background work and the delivery workers use them through this trait.
//!
//! Writing a notification is not among them: every change writes its own, in its own
//! transaction, inside the [`super::Store`] use case that makes the change (the outbox).

use async_trait::async_trait;

use super::StoreResult;
use crate::domain::notification::{
    AttemptRecord, AttemptStatus, FeedQuery, NewWebhook, Notification, Webhook,
};
use crate::domain::{ObjectId, Timestamp};

/// An endpoint with the secret it was created with (for the one answer that shows it).
#[derive(Clone, Debug)]
pub struct StoredEndpoint {
    pub webhook: Webhook,
    pub secret: String,
}

/// An endpoint's signing secrets at one instant: the current one, and the one it replaced
/// while the rotation's overlap lasts.
#[derive(Clone, Debug)]
pub struct EndpointSecrets {
    pub current: String,
    pub previous: Option<String>,
}

/// A delivery this instance has leased: send it, then record a [`DeliveryResult`].
#[derive(Clone, Debug)]
pub struct DueDelivery {
    pub delivery_id: i64,
    pub endpoint_id: ObjectId,
    pub url: String,
    pub secrets: EndpointSecrets,
    pub notification: Notification,
    /// Attempts made before this one, ever (this one is number `attempts + 1` in the
    /// attempts history; a redeliver does not restart the numbering).
    pub attempts: i64,
    /// Attempts made before this one since the delivery was last queued (by the sequencer,
    /// or again by a redeliver): the backoff's step (CONTRACT.md, "Delivery"; a redeliver
    /// starts the schedule afresh).
    pub attempts_since_queued: i64,
    /// When the delivery was queued (or queued again): its retry window starts there.
    pub queued_at: Timestamp,
}

/// What to do with a delivery after an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryOutcome {
    Delivered,
    RetryAt(Timestamp),
    Dead,
}

/// One attempt's result, to record.
#[derive(Clone, Debug)]
pub struct DeliveryResult {
    pub delivery: DueDelivery,
    pub outcome: DeliveryOutcome,
    pub http_status: Option<u16>,
    pub error: Option<String>,
    pub at: Timestamp,
}

/// One step of pruning old notifications ([`Notifications::prune_notifications`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PruneStep {
    /// How many notifications this step deleted.
    pub deleted: u64,
    /// Where the next step starts (an opaque insertion-order cursor), or `None` when the walk
    /// reached notifications created at or after the cutoff, or the newest one.
    pub next: Option<i64>,
}

#[async_trait]
pub trait Notifications: Send + Sync + 'static {
    // The feed and its sequencer (`sql/notifications/feed.rs`, `sequencer.rs`).

    /// Numbered notifications after `query.after`, by sequence.
    async fn feed(&self, query: &FeedQuery) -> StoreResult<Vec<Notification>>;
    /// Whether a committed notification waits for its number (a cheap read).
    async fn has_unsequenced(&self) -> StoreResult<bool>;
    /// Numbers a batch of committed notifications in commit order and queues their deliveries;
    /// how many (0 when another instance's sequencer has the turn).
    async fn sequence_pending(&self, now: Timestamp) -> StoreResult<u64>;
    /// Looks at the next batch of notifications in insertion order after `after` (a
    /// [`PruneStep::next`], or 0 to start from the oldest) and deletes those created before
    /// `before` that no endpoint waits for, with their deliveries and attempts.
    async fn prune_notifications(&self, before: Timestamp, after: i64) -> StoreResult<PruneStep>;

    // Endpoints (`sql/notifications/endpoints.rs`).

    async fn create_webhook(
        &self,
        new: NewWebhook,
        secret: String,
        now: Timestamp,
    ) -> StoreResult<StoredEndpoint>;
    async fn webhook(&self, id: ObjectId) -> StoreResult<Option<Webhook>>;
    /// Every endpoint not deleted, oldest first.
    async fn webhooks(&self) -> StoreResult<Vec<Webhook>>;
    /// Nothing more is delivered to it; `Webhook not found` if it is not there.
    async fn delete_webhook(&self, id: ObjectId, now: Timestamp) -> StoreResult<Webhook>;
    /// The new secret signs from now on; the previous one too, for 24 hours.
    async fn rotate_webhook_secret(
        &self,
        id: ObjectId,
        secret: String,
        now: Timestamp,
    ) -> StoreResult<()>;

    // Deliveries (`sql/notifications/deliveries.rs`).

    /// Leases up to `limit` due deliveries for `lease_millis`, each the first still pending of
    /// its purchase for its endpoint.
    async fn claim_deliveries(
        &self,
        now: Timestamp,
        limit: i64,
        lease_millis: i64,
    ) -> StoreResult<Vec<DueDelivery>>;
    /// Records attempts' outcomes, in one transaction.
    async fn record_deliveries(&self, results: &[DeliveryResult]) -> StoreResult<()>;
    /// An endpoint's attempts, newest first, before the attempt `before` (a cursor).
    async fn delivery_attempts(
        &self,
        endpoint: ObjectId,
        status: Option<AttemptStatus>,
        before: Option<ObjectId>,
        limit: i64,
    ) -> StoreResult<Vec<AttemptRecord>>;
    /// Queues an endpoint's dead deliveries after sequence `after` again; how many.
    async fn redeliver(&self, endpoint: ObjectId, after: i64, now: Timestamp) -> StoreResult<u64>;
    /// Deliveries still pending to endpoints not deleted.
    async fn pending_deliveries(&self) -> StoreResult<i64>;
}
