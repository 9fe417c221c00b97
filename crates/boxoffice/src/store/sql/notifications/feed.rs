//! The feed (`GET /api/notifications`) and the pruning of old notifications.

use sqlx::{AssertSqlSafe, FromRow};

use super::id;
use crate::domain::Timestamp;
use crate::domain::notification::{
    FeedQuery, NewNotification, Notification, NotificationType, OrderingKey,
};
use crate::store::sql::SqlStore;
use crate::store::{PruneStep, StoreError, StoreResult};

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

/// How many notifications one pruning transaction looks at (and deletes at most).
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

    /// Looks at the next [`PRUNE_BATCH`] notifications by `position` after `after` and deletes
    /// those created before `before` that are numbered and that no endpoint is still waiting
    /// for (delivered or dead for every endpoint not deleted), with their deliveries and
    /// attempts: the only rows boxoffice ever deletes (`NOTIFICATION_RETENTION_DAYS`).
    ///
    /// The walk is by `position` (the primary key) rather than by `created_at`, so that no
    /// index on `created_at` costs every notification's insert (migration 0011). `created_at`
    /// grows with `position` only up to the clock skew between instances (each takes its own
    /// clock just before its COMMIT), which is harmless here: a row is deleted only if its own
    /// `created_at` is before the cutoff, so nothing is ever pruned early; the walk stops after
    /// the first batch whose last row was created at or after the cutoff, so an older row
    /// written a little later by an instance whose clock is behind is left for the next
    /// pruning (minutes later, when the cutoff has moved past its neighbours), kept a little
    /// longer than the retention, never shorter.
    pub(super) async fn prune_batch(
        &self,
        before: Timestamp,
        after: i64,
    ) -> StoreResult<PruneStep> {
        let mut tx = self.writer.begin_with(self.dialect.begin_write()).await?;
        let window: Vec<(i64, String, i64, Option<i64>, i64)> = sqlx::query_as(
            "SELECT n.position, n.id, n.created_at, n.sequence, \
                    (SELECT COUNT(*) FROM webhook_deliveries d \
                     JOIN webhook_endpoints e ON e.id = d.endpoint_id \
                     WHERE d.notification_id = n.id AND d.status = 'pending' \
                       AND e.deleted_at IS NULL) AS waiting \
             FROM notifications n WHERE n.position > $1 ORDER BY n.position LIMIT $2",
        )
        .bind(after)
        .bind(PRUNE_BATCH)
        .fetch_all(&mut *tx)
        .await?;
        let Some(&(last, _, last_created_at, ..)) = window.last() else {
            return Ok(PruneStep {
                deleted: 0,
                next: None,
            });
        };
        let full = i64::try_from(window.len()) == Ok(PRUNE_BATCH);
        let next = (full && last_created_at < before.millis()).then_some(last);
        let ids: Vec<String> = window
            .into_iter()
            .filter(|(_, _, created_at, sequence, waiting)| {
                *created_at < before.millis() && sequence.is_some() && *waiting == 0
            })
            .map(|(_, id, ..)| id)
            .collect();
        if ids.is_empty() {
            return Ok(PruneStep { deleted: 0, next });
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
        Ok(PruneStep { deleted, next })
    }
}
