//! The notifications' use cases as SQL ([`Notifications`]), and the outbox: [`record`] writes
//! a change's notifications in the change's own transaction.

mod deliveries;
mod endpoints;
mod feed;
mod outbox;
mod sequencer;

pub use sequencer::SEQUENCE_BATCH;

use async_trait::async_trait;

use super::SqlStore;
use crate::domain::notification::{
    AttemptRecord, AttemptStatus, FeedQuery, NewWebhook, Notification, Webhook,
};
use crate::domain::{ObjectId, Timestamp};
use crate::store::{
    DeliveryResult, DueDelivery, Notifications, PruneStep, StoreResult, StoredEndpoint,
};

#[async_trait]
impl Notifications for SqlStore {
    async fn feed(&self, query: &FeedQuery) -> StoreResult<Vec<Notification>> {
        self.feed_page(query).await
    }
    async fn has_unsequenced(&self) -> StoreResult<bool> {
        self.any_unsequenced().await
    }
    async fn sequence_pending(&self, now: Timestamp) -> StoreResult<u64> {
        self.sequence_batch(now).await
    }
    async fn prune_notifications(&self, before: Timestamp, after: i64) -> StoreResult<PruneStep> {
        self.prune_batch(before, after).await
    }
    async fn create_webhook(
        &self,
        new: NewWebhook,
        secret: String,
        now: Timestamp,
    ) -> StoreResult<StoredEndpoint> {
        self.insert_webhook(new, secret, now).await
    }
    async fn webhook(&self, id: ObjectId) -> StoreResult<Option<Webhook>> {
        self.webhook_by_id(id).await
    }
    async fn webhooks(&self) -> StoreResult<Vec<Webhook>> {
        self.all_webhooks().await
    }
    async fn delete_webhook(&self, id: ObjectId, now: Timestamp) -> StoreResult<Webhook> {
        self.mark_webhook_deleted(id, now).await
    }
    async fn rotate_webhook_secret(
        &self,
        id: ObjectId,
        secret: String,
        now: Timestamp,
    ) -> StoreResult<()> {
        self.replace_secret(id, secret, now).await
    }
    async fn claim_deliveries(
        &self,
        now: Timestamp,
        limit: i64,
        lease_millis: i64,
    ) -> StoreResult<Vec<DueDelivery>> {
        self.claim_due(now, limit, lease_millis).await
    }
    async fn record_deliveries(&self, results: &[DeliveryResult]) -> StoreResult<()> {
        self.record_results(results).await
    }
    async fn delivery_attempts(
        &self,
        endpoint: ObjectId,
        status: Option<AttemptStatus>,
        before: Option<ObjectId>,
        limit: i64,
    ) -> StoreResult<Vec<AttemptRecord>> {
        self.attempts_page(endpoint, status, before, limit).await
    }
    async fn redeliver(&self, endpoint: ObjectId, after: i64, now: Timestamp) -> StoreResult<u64> {
        self.requeue_dead(endpoint, after, now).await
    }
    async fn pending_deliveries(&self) -> StoreResult<i64> {
        self.count_pending().await
    }
}

/// An id read back from a text column.
fn id(text: &str) -> StoreResult<ObjectId> {
    ObjectId::parse(text).ok_or_else(|| crate::store::StoreError::corrupt(format!("id {text:?}")))
}
