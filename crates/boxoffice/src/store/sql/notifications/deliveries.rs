//! Deliveries: which notification goes to which endpoint next, and what each attempt did.
//!
//! Every instance delivers. A worker claims due deliveries by leasing them (`leased_until`)
//! in a short transaction that selects them `FOR UPDATE SKIP LOCKED`, so two instances never
//! claim the same one and never wait for each other; the HTTP request is made outside any
//! transaction, and the outcome is recorded afterwards. An instance that dies with a lease
//! leaves it to lapse, and another instance tries again (delivery is at least once).

use sqlx::{AssertSqlSafe, FromRow};

use super::feed::NotificationRow;
use super::id;
use crate::domain::notification::{AttemptRecord, AttemptStatus, Notification};
use crate::domain::{ObjectId, Rejection, Timestamp};
use crate::store::sql::{Decision, Dialect, SqlStore};
use crate::store::{
    DeliveryOutcome, DeliveryResult, DueDelivery, EndpointSecrets, StoreError, StoreResult,
};

#[derive(FromRow)]
struct DueRow {
    delivery_id: i64,
    endpoint_id: String,
    url: String,
    secret: String,
    previous_secret: Option<String>,
    previous_secret_until: Option<i64>,
    attempts: i64,
    attempts_at_queue: i64,
    queued_at: i64,
    #[sqlx(flatten)]
    notification: NotificationRow,
}

#[derive(FromRow)]
struct AttemptRow {
    id: String,
    notification_id: String,
    attempt: i64,
    status: String,
    http_status: Option<i64>,
    error: Option<String>,
    at: i64,
}

impl SqlStore {
    /// Leases up to `limit` deliveries that are due at `now`, for `lease_millis`: pending, to
    /// an endpoint not deleted, not leased by anyone, and the first still pending of their
    /// purchase for their endpoint (CONTRACT.md: "a later one waits for the earlier to be
    /// delivered or dead"). Oldest due first.
    pub(super) async fn claim_due(
        &self,
        now: Timestamp,
        limit: i64,
        lease_millis: i64,
    ) -> StoreResult<Vec<DueDelivery>> {
        // A read first: an idle instance asks often, and must not take SQLite's write lock
        // (or open a PostgreSQL write transaction) to learn that nothing is due.
        let due: Option<i64> = sqlx::query_scalar(
            "SELECT d.id FROM webhook_deliveries d \
             WHERE d.status = 'pending' AND d.next_attempt_at <= $1 AND d.leased_until <= $1 \
               AND EXISTS (SELECT 1 FROM webhook_endpoints e \
                           WHERE e.id = d.endpoint_id AND e.deleted_at IS NULL) LIMIT 1",
        )
        .bind(now.millis())
        .fetch_optional(&self.reader)
        .await?;
        if due.is_none() {
            return Ok(Vec::new());
        }
        let mut tx = self.writer.begin_with(self.dialect.begin_write()).await?;
        // `OFFSET 0` (PostgreSQL) keeps each EXISTS a sub-plan probed per candidate row, so
        // the due rows are read in index order and the scan stops after `$2` of them.
        // Without it PostgreSQL turns them into joins over every pending delivery, then
        // sorts them all: measured, 45 to 95 ms per claim with 16,000 to 34,000 pending,
        // and 44 s once with a plan cached while the table was small (docs/performance.md).
        let fence = match self.dialect {
            Dialect::Postgres => " OFFSET 0",
            Dialect::Sqlite => "",
        };
        let select = self.dialect.statement(&format!(
            "SELECT d.id FROM webhook_deliveries d \
             WHERE d.status = 'pending' AND d.next_attempt_at <= $1 AND d.leased_until <= $1 \
               AND EXISTS (SELECT 1 FROM webhook_endpoints e \
                           WHERE e.id = d.endpoint_id AND e.deleted_at IS NULL{fence}) \
               AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p \
                               WHERE p.endpoint_id = d.endpoint_id \
                                 AND p.ordering_key = d.ordering_key \
                                 AND p.status = 'pending' AND p.sequence < d.sequence{fence}) \
             ORDER BY d.next_attempt_at, d.sequence LIMIT $2{{skip_locked}}",
        ));
        let ids: Vec<i64> = sqlx::query_scalar(AssertSqlSafe(select))
            .bind(now.millis())
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = (0..ids.len())
            .map(|i| format!("${}", i + 2))
            .collect::<Vec<_>>()
            .join(", ");
        let mut lease = sqlx::query(AssertSqlSafe(format!(
            "UPDATE webhook_deliveries SET leased_until = $1 WHERE id IN ({list})"
        )))
        .bind(now.plus_millis(lease_millis).millis());
        for id in &ids {
            lease = lease.bind(*id);
        }
        lease.execute(&mut *tx).await?;
        let mut details = sqlx::query_as::<_, DueRow>(AssertSqlSafe(format!(
            "SELECT d.id AS delivery_id, d.endpoint_id, e.url, e.secret, e.previous_secret, \
               e.previous_secret_until, d.attempts, d.attempts_at_queue, d.queued_at, \
               n.id, n.sequence, n.type, n.ordering_key, n.data, n.created_at \
             FROM webhook_deliveries d \
             JOIN webhook_endpoints e ON e.id = d.endpoint_id \
             JOIN notifications n ON n.id = d.notification_id \
             WHERE d.id IN ({list}) AND $1 = $1 ORDER BY d.sequence"
        )))
        .bind(now.millis());
        for id in &ids {
            details = details.bind(*id);
        }
        let rows = details.fetch_all(&mut *tx).await?;
        tx.commit().await?;
        rows.into_iter()
            .map(|row| {
                let previous = match (row.previous_secret, row.previous_secret_until) {
                    (Some(secret), Some(until)) if until > now.millis() => Some(secret),
                    _ => None,
                };
                Ok(DueDelivery {
                    delivery_id: row.delivery_id,
                    endpoint_id: id(&row.endpoint_id)?,
                    url: row.url,
                    secrets: EndpointSecrets {
                        current: row.secret,
                        previous,
                    },
                    notification: Notification::try_from(row.notification)?,
                    attempts: row.attempts,
                    attempts_since_queued: row.attempts - row.attempts_at_queue,
                    queued_at: Timestamp::from_millis(row.queued_at),
                })
            })
            .collect()
    }

    /// Records attempts' outcomes and their attempt rows, in one transaction, and ends their
    /// leases: two statements for the whole batch, whatever its size (each statement is a
    /// round trip that holds SQLite's only write lock, which the holds need too), the rows
    /// passed as one JSON array as the batch of holds does (`batch_sql.rs`).
    pub(super) async fn record_results(&self, results: &[DeliveryResult]) -> StoreResult<()> {
        if results.is_empty() {
            return Ok(());
        }
        let mut outcomes = Vec::with_capacity(results.len());
        let mut attempts = Vec::with_capacity(results.len());
        for result in results {
            let (status, next, finished, attempt_status) = match result.outcome {
                DeliveryOutcome::Delivered => (
                    "delivered",
                    result.at,
                    Some(result.at),
                    AttemptStatus::Delivered,
                ),
                DeliveryOutcome::RetryAt(next) => ("pending", next, None, AttemptStatus::Failed),
                DeliveryOutcome::Dead => ("dead", result.at, Some(result.at), AttemptStatus::Dead),
            };
            outcomes.push(serde_json::json!([
                result.delivery.delivery_id,
                status,
                next.millis(),
                finished.map(Timestamp::millis),
            ]));
            attempts.push(serde_json::json!([
                ObjectId::generate().to_string(),
                result.delivery.endpoint_id.to_string(),
                result.delivery.notification.notification.id.to_string(),
                result.delivery.attempts + 1,
                attempt_status.as_str(),
                result.http_status,
                result.error,
                result.at.millis(),
            ]));
        }
        let (update, insert) = record_statements(self.dialect);
        let mut tx = self.writer.begin_with(self.dialect.begin_write()).await?;
        sqlx::query(update)
            .bind(serde_json::Value::Array(outcomes).to_string())
            .execute(&mut *tx)
            .await?;
        sqlx::query(insert)
            .bind(serde_json::Value::Array(attempts).to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// An endpoint's attempts, newest first: up to `limit` before the attempt `before` (a
    /// cursor), of one status if given.
    pub(super) async fn attempts_page(
        &self,
        endpoint: ObjectId,
        status: Option<AttemptStatus>,
        before: Option<ObjectId>,
        limit: i64,
    ) -> StoreResult<Vec<AttemptRecord>> {
        let mut sql = String::from(
            "SELECT id, notification_id, attempt, status, http_status, error, at \
             FROM webhook_attempts WHERE endpoint_id = $1 AND ($2 = '' OR status = $2) \
             AND ($3 = '' OR id < $3) ORDER BY id DESC LIMIT $4",
        );
        sql.shrink_to_fit();
        let rows: Vec<AttemptRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(endpoint.to_string())
            .bind(status.map_or("", AttemptStatus::as_str))
            .bind(before.map_or_else(String::new, |id| id.to_string()))
            .bind(limit)
            .fetch_all(&self.reader)
            .await?;
        rows.into_iter()
            .map(|row| {
                Ok(AttemptRecord {
                    id: id(&row.id)?,
                    notification_id: id(&row.notification_id)?,
                    attempt: row.attempt,
                    status: AttemptStatus::parse(&row.status)
                        .ok_or_else(|| StoreError::corrupt(format!("status {:?}", row.status)))?,
                    http_status: row.http_status,
                    error: row.error,
                    at: Timestamp::from_millis(row.at),
                })
            })
            .collect()
    }

    /// Queues an endpoint's dead deliveries with a sequence above `after` again, as if new
    /// (a new retry window, and the backoff from its first step: `attempts_at_queue`,
    /// migration 0012), keeping their attempts and the count that numbers them; how many.
    pub(super) async fn requeue_dead(
        &self,
        endpoint: ObjectId,
        after: i64,
        now: Timestamp,
    ) -> StoreResult<u64> {
        // A request's write: it joins the request's unit of work (`in_write_tx!`).
        crate::store::sql::in_write_tx!(self, |tx| async {
            let live: Option<String> = sqlx::query_scalar(
                "SELECT id FROM webhook_endpoints WHERE id = $1 AND deleted_at IS NULL",
            )
            .bind(endpoint.to_string())
            .fetch_optional(&mut *tx)
            .await?;
            if live.is_none() {
                return Ok(Err(Rejection::WebhookNotFound));
            }
            let queued = sqlx::query(
                "UPDATE webhook_deliveries SET status = 'pending', queued_at = $3, \
                 attempts_at_queue = attempts, next_attempt_at = $3, leased_until = 0, \
                 finished_at = NULL \
                 WHERE endpoint_id = $1 AND status = 'dead' AND sequence > $2",
            )
            .bind(endpoint.to_string())
            .bind(after)
            .bind(now.millis())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            Ok::<Decision<u64>, StoreError>(Ok(queued))
        })
    }

    /// Deliveries still pending, over every endpoint not deleted (a gauge).
    pub(super) async fn count_pending(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM webhook_deliveries d WHERE d.status = 'pending' \
             AND EXISTS (SELECT 1 FROM webhook_endpoints e \
                         WHERE e.id = d.endpoint_id AND e.deleted_at IS NULL)",
        )
        .fetch_one(&self.reader)
        .await?)
    }
}

/// The two statements of [`SqlStore::record_results`]: `$1` is a JSON array of
/// `[delivery id, status, next attempt, finished at]` (the outcome of a delivery still
/// pending; another instance may have recorded it already), then of `[attempt id, endpoint,
/// notification, attempt, status, http status, error, at]`.
fn record_statements(dialect: Dialect) -> (&'static str, &'static str) {
    match dialect {
        Dialect::Postgres => (
            "UPDATE webhook_deliveries AS d SET status = r->>1, attempts = d.attempts + 1, \
               next_attempt_at = (r->>2)::bigint, leased_until = 0, \
               finished_at = (r->>3)::bigint \
             FROM json_array_elements($1::json) AS t(r) \
             WHERE d.id = (r->>0)::bigint AND d.status = 'pending'",
            "INSERT INTO webhook_attempts \
               (id, endpoint_id, notification_id, attempt, status, http_status, error, at) \
             SELECT r->>0, r->>1, r->>2, (r->>3)::bigint, r->>4, (r->>5)::bigint, r->>6, \
               (r->>7)::bigint \
             FROM json_array_elements($1::json) AS t(r)",
        ),
        Dialect::Sqlite => (
            "UPDATE webhook_deliveries SET status = json_extract(r.value, '$[1]'), \
               attempts = attempts + 1, next_attempt_at = json_extract(r.value, '$[2]'), \
               leased_until = 0, finished_at = json_extract(r.value, '$[3]') \
             FROM json_each($1) AS r \
             WHERE webhook_deliveries.id = json_extract(r.value, '$[0]') \
               AND webhook_deliveries.status = 'pending'",
            "INSERT INTO webhook_attempts \
               (id, endpoint_id, notification_id, attempt, status, http_status, error, at) \
             SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), \
               json_extract(value, '$[2]'), json_extract(value, '$[3]'), \
               json_extract(value, '$[4]'), json_extract(value, '$[5]'), \
               json_extract(value, '$[6]'), json_extract(value, '$[7]') \
             FROM json_each($1)",
        ),
    }
}
