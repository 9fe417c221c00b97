//! Webhook endpoints: create, read, list with counts, delete, rotate the secret.

use sqlx::{AssertSqlSafe, FromRow};

use super::id;
use crate::domain::notification::{
    DeliveryCounts, NewWebhook, NotificationType, ROTATION_OVERLAP_MILLIS, Webhook,
};
use crate::domain::{ObjectId, Rejection, Timestamp};
use crate::store::sql::SqlStore;
use crate::store::{StoreError, StoreResult, StoredEndpoint};

#[derive(FromRow)]
struct EndpointRow {
    id: String,
    url: String,
    types: String,
    description: String,
    created_at: i64,
    updated_at: i64,
    pending: i64,
    delivered: i64,
    dead: i64,
}

const SELECT_ENDPOINT: &str = "SELECT e.id, e.url, e.types, e.description, e.created_at, e.updated_at, \
    (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND d.status = 'pending') AS pending, \
    (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND d.status = 'delivered') AS delivered, \
    (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND d.status = 'dead') AS dead \
    FROM webhook_endpoints e WHERE e.deleted_at IS NULL";

impl TryFrom<EndpointRow> for Webhook {
    type Error = StoreError;
    fn try_from(row: EndpointRow) -> StoreResult<Self> {
        let types = NotificationType::parse_list(row.types.split(',').filter(|t| !t.is_empty()))
            .map_err(StoreError::corrupt)?;
        Ok(Self {
            id: id(&row.id)?,
            url: row.url,
            types,
            description: row.description,
            created_at: Timestamp::from_millis(row.created_at),
            updated_at: Timestamp::from_millis(row.updated_at),
            counts: DeliveryCounts {
                pending: row.pending,
                delivered: row.delivered,
                dead: row.dead,
            },
        })
    }
}

fn types_column(types: &[NotificationType]) -> String {
    types
        .iter()
        .map(|t| t.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

impl SqlStore {
    /// Stores a new endpoint with its secret (`whsec_…`); it receives the notifications
    /// numbered from now on.
    pub(super) async fn insert_webhook(
        &self,
        new: NewWebhook,
        secret: String,
        now: Timestamp,
    ) -> StoreResult<StoredEndpoint> {
        let id = ObjectId::generate();
        sqlx::query(
            "INSERT INTO webhook_endpoints (id, url, types, description, secret, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(id.to_string())
        .bind(new.url.clone())
        .bind(types_column(&new.types))
        .bind(new.description.clone())
        .bind(secret.clone())
        .bind(now.millis())
        .execute(&self.writer)
        .await?;
        let webhook = Webhook {
            id,
            url: new.url,
            types: new.types,
            description: new.description,
            created_at: now,
            updated_at: now,
            counts: DeliveryCounts::default(),
        };
        Ok(StoredEndpoint { webhook, secret })
    }

    pub(super) async fn webhook_by_id(&self, id: ObjectId) -> StoreResult<Option<Webhook>> {
        let row: Option<EndpointRow> =
            sqlx::query_as(AssertSqlSafe(format!("{SELECT_ENDPOINT} AND e.id = $1")))
                .bind(id.to_string())
                .fetch_optional(&self.reader)
                .await?;
        row.map(Webhook::try_from).transpose()
    }

    /// Every endpoint not deleted, oldest first.
    pub(super) async fn all_webhooks(&self) -> StoreResult<Vec<Webhook>> {
        let rows: Vec<EndpointRow> =
            sqlx::query_as(AssertSqlSafe(format!("{SELECT_ENDPOINT} ORDER BY e.id")))
                .fetch_all(&self.reader)
                .await?;
        rows.into_iter().map(Webhook::try_from).collect()
    }

    /// Marks an endpoint deleted: nothing more is delivered to it (its pending deliveries
    /// are given up). Returns it as it was.
    pub(super) async fn mark_webhook_deleted(
        &self,
        id: ObjectId,
        now: Timestamp,
    ) -> StoreResult<Webhook> {
        let webhook = self
            .webhook_by_id(id)
            .await?
            .ok_or(Rejection::WebhookNotFound)?;
        let mut tx = self.writer.begin_with(self.dialect.begin_write()).await?;
        let done = sqlx::query(
            "UPDATE webhook_endpoints SET deleted_at = $2, updated_at = $2 \
             WHERE id = $1 AND deleted_at IS NULL",
        )
        .bind(id.to_string())
        .bind(now.millis())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(Rejection::WebhookNotFound.into());
        }
        // What it still waited for is given up, so that nothing keeps it (or its
        // notifications, from pruning) alive.
        sqlx::query(
            "UPDATE webhook_deliveries SET status = 'dead', finished_at = $2, leased_until = 0 \
             WHERE endpoint_id = $1 AND status = 'pending'",
        )
        .bind(id.to_string())
        .bind(now.millis())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(webhook)
    }

    /// Replaces the secret with `secret`; the one it replaces keeps signing for
    /// [`ROTATION_OVERLAP_MILLIS`] (CONTRACT.md: "for 24 h deliveries are signed with both
    /// secrets").
    pub(super) async fn replace_secret(
        &self,
        id: ObjectId,
        secret: String,
        now: Timestamp,
    ) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE webhook_endpoints SET previous_secret = secret, previous_secret_until = $3, \
             secret = $2, updated_at = $4 WHERE id = $1 AND deleted_at IS NULL",
        )
        .bind(id.to_string())
        .bind(secret)
        .bind(now.plus_millis(ROTATION_OVERLAP_MILLIS).millis())
        .bind(now.millis())
        .execute(&self.writer)
        .await?;
        if done.rows_affected() == 0 {
            return Err(Rejection::WebhookNotFound.into());
        }
        Ok(())
    }
}
