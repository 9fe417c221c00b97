//! Webhook endpoints: create, read, list with counts, delete, rotate the secret. The writes
//! go through `in_write_tx!` like every other write: they join the request's unit of work
//! (the `Idempotency-Key` answer is kept in their transaction) and decide against the
//! request's deadline before COMMIT (CONTRACT.md rule 8).

use sqlx::{AssertSqlSafe, FromRow};

use super::id;
use crate::domain::notification::{
    DeliveryCounts, NewWebhook, NotificationType, ROTATION_OVERLAP_MILLIS, Webhook,
};
use crate::domain::{ObjectId, Rejection, Timestamp};
use crate::store::sql::{Decision, SqlStore};
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
        let webhook = Webhook {
            id: ObjectId::generate(),
            url: new.url,
            types: new.types,
            description: new.description,
            created_at: now,
            updated_at: now,
            counts: DeliveryCounts::default(),
        };
        // A write like any other: it joins the request's unit of work, so that an
        // `Idempotency-Key` answer is kept in the same transaction (CONTRACT.md, "Retrying
        // any write"), and decides against the request's deadline before COMMIT (rule 8).
        crate::store::sql::in_write_tx!(self, |tx| async {
            sqlx::query(
                "INSERT INTO webhook_endpoints (id, url, types, description, secret, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $6)",
            )
            .bind(webhook.id.to_string())
            .bind(webhook.url.clone())
            .bind(types_column(&webhook.types))
            .bind(webhook.description.clone())
            .bind(secret.clone())
            .bind(now.millis())
            .execute(&mut *tx)
            .await?;
            Ok::<Decision<()>, StoreError>(Ok(()))
        })?;
        Ok(StoredEndpoint { webhook, secret })
    }

    pub(super) async fn webhook_by_id(&self, id: ObjectId) -> StoreResult<Option<Webhook>> {
        endpoint_by_id(&self.reader, id).await
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
    /// are given up). Returns it as it was; [`Rejection::WebhookNotFound`] if there is none
    /// (or it is already deleted).
    pub(super) async fn mark_webhook_deleted(
        &self,
        id: ObjectId,
        now: Timestamp,
    ) -> StoreResult<Webhook> {
        crate::store::sql::in_write_tx!(self, |tx| async {
            let Some(webhook) = endpoint_by_id(&mut *tx, id).await? else {
                return Ok(Err(Rejection::WebhookNotFound));
            };
            let done = sqlx::query(
                "UPDATE webhook_endpoints SET deleted_at = $2, updated_at = $2 \
                 WHERE id = $1 AND deleted_at IS NULL",
            )
            .bind(id.to_string())
            .bind(now.millis())
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                return Ok(Err(Rejection::WebhookNotFound));
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
            Ok::<Decision<Webhook>, StoreError>(Ok(webhook))
        })
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
        crate::store::sql::in_write_tx!(self, |tx| async {
            let done = sqlx::query(
                "UPDATE webhook_endpoints SET previous_secret = secret, previous_secret_until = $3, \
                 secret = $2, updated_at = $4 WHERE id = $1 AND deleted_at IS NULL",
            )
            .bind(id.to_string())
            .bind(secret.clone())
            .bind(now.plus_millis(ROTATION_OVERLAP_MILLIS).millis())
            .bind(now.millis())
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                return Ok(Err(Rejection::WebhookNotFound));
            }
            Ok::<Decision<()>, StoreError>(Ok(()))
        })
    }
}

/// The endpoint `id` with its counts, unless deleted; read from `db` (the reader pool, or the
/// write transaction that is about to change it).
async fn endpoint_by_id<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    id: ObjectId,
) -> StoreResult<Option<Webhook>> {
    let row: Option<EndpointRow> =
        sqlx::query_as(AssertSqlSafe(format!("{SELECT_ENDPOINT} AND e.id = $1")))
            .bind(id.to_string())
            .fetch_optional(db)
            .await?;
    row.map(Webhook::try_from).transpose()
}
