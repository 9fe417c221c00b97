//! The feed (`GET /api/notifications`) and the pruning of old notifications.

use sqlx::{AssertSqlSafe, FromRow};

use super::id;
use crate::domain::Timestamp;
use crate::domain::notification::{
    FeedQuery, NewNotification, Notification, NotificationType, OrderingKey,
};
use crate::store::sql::SqlStore;
use crate::store::{StoreError, StoreResult};

#[derive(FromRow)]
pub(super) struct NotificationRow {
    id: String,
    sequence: i64,
    #[sqlx(rename = "type")]
    kind: String,
    ordering_key: String,
    data: String,
    created_at: i64,
}

impl TryFrom<NotificationRow> for Notification {
    type Error = StoreError;
    fn try_from(row: NotificationRow) -> StoreResult<Self> {
        let kind = NotificationType::parse(&row.kind)
            .ok_or_else(|| StoreError::corrupt(format!("notification type {:?}", row.kind)))?;
        let data = serde_json::from_str(&row.data)
            .map_err(|_| StoreError::corrupt("notification data"))?;
        Ok(Self {
            sequence: row.sequence,
            notification: NewNotification {
                id: id(&row.id)?,
                kind,
                ordering_key: OrderingKey::from_id(id(&row.ordering_key)?),
                created_at: Timestamp::from_millis(row.created_at),
                data,
            },
        })
    }
}

/// How many notifications one pruning transaction deletes at most.
pub const PRUNE_BATCH: i64 = 500;

impl SqlStore {
    /// Numbered notifications after `query.after`, by sequence.
    pub(super) async fn feed_page(&self, query: &FeedQuery) -> StoreResult<Vec<Notification>> {
        let mut sql = String::from(
            "SELECT id, sequence, type, ordering_key, data, created_at FROM notifications \
             WHERE sequence > $1",
        );
        if !query.types.is_empty() {
            let params: Vec<String> = (0..query.types.len())
                .map(|i| format!("${}", i + 3))
                .collect();
            sql.push_str(&format!(" AND type IN ({})", params.join(", ")));
        }
        sql.push_str(" ORDER BY sequence LIMIT $2");
        let mut select = sqlx::query_as::<_, NotificationRow>(AssertSqlSafe(sql))
            .bind(query.after)
            .bind(query.limit);
        for kind in &query.types {
            select = select.bind(kind.as_str());
        }
        let rows = select.fetch_all(&self.reader).await?;
        rows.into_iter().map(Notification::try_from).collect()
    }

    /// Deletes up to [`PRUNE_BATCH`] notifications created before `before` that no endpoint
    /// is still waiting for (delivered or dead for every endpoint not deleted), with their
    /// deliveries and
    /// attempts: the only rows boxoffice ever deletes (`NOTIFICATION_RETENTION_DAYS`). How
    /// many it deleted.
    pub(super) async fn prune_batch(&self, before: Timestamp) -> StoreResult<u64> {
        let mut tx = self.writer.begin_with(self.dialect.begin_write()).await?;
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT n.id FROM notifications n WHERE n.created_at < $1 AND n.sequence IS NOT NULL \
             AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d \
                             JOIN webhook_endpoints e ON e.id = d.endpoint_id \
                             WHERE d.notification_id = n.id AND d.status = 'pending' \
                               AND e.deleted_at IS NULL) \
             ORDER BY n.position LIMIT $2",
        )
        .bind(before.millis())
        .bind(PRUNE_BATCH)
        .fetch_all(&mut *tx)
        .await?;
        if ids.is_empty() {
            return Ok(0);
        }
        let params: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
        let list = params.join(", ");
        for table in ["webhook_attempts", "webhook_deliveries"] {
            let sql = format!("DELETE FROM {table} WHERE notification_id IN ({list})");
            let mut delete = sqlx::query(AssertSqlSafe(sql));
            for id in &ids {
                delete = delete.bind(id.clone());
            }
            delete.execute(&mut *tx).await?;
        }
        let sql = format!("DELETE FROM notifications WHERE id IN ({list})");
        let mut delete = sqlx::query(AssertSqlSafe(sql));
        for id in &ids {
            delete = delete.bind(id.clone());
        }
        let deleted = delete.execute(&mut *tx).await?.rows_affected();
        tx.commit().await?;
        Ok(deleted)
    }
}
