//! The record of failed logins that throttles password guessing (`auth::throttle` decides).

use super::SqlStore;
use crate::domain::{ObjectId, Timestamp};
use crate::store::{FailureScope, StoreResult};

impl SqlStore {
    pub(super) async fn record_login_failure_now(
        &self,
        email_key: &str,
        client: &str,
        at: Timestamp,
        forget_before: Timestamp,
    ) -> StoreResult<()> {
        // Pruning here keeps the table at one window's worth of failures without a job; the
        // index on failed_at makes it cheap when there is nothing to prune.
        sqlx::query("DELETE FROM login_failures WHERE failed_at < $1")
            .bind(forget_before)
            .execute(&self.writer)
            .await?;
        sqlx::query(
            "INSERT INTO login_failures (id, email_key, client, failed_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(ObjectId::generate())
        .bind(email_key.to_owned())
        .bind(client.to_owned())
        .bind(at)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    pub(super) async fn nth_failure(
        &self,
        scope: FailureScope<'_>,
        n: u32,
        since: Timestamp,
    ) -> StoreResult<Option<Timestamp>> {
        let (statement, client, email) = match scope {
            FailureScope::EmailFromClient { email, client } => (
                "SELECT failed_at FROM login_failures \
                 WHERE client = $1 AND failed_at > $2 AND email_key = $4 \
                 ORDER BY failed_at DESC LIMIT 1 OFFSET $3",
                client,
                Some(email),
            ),
            FailureScope::Client(client) => (
                "SELECT failed_at FROM login_failures WHERE client = $1 AND failed_at > $2 \
                 ORDER BY failed_at DESC LIMIT 1 OFFSET $3",
                client,
                None,
            ),
        };
        let mut query = sqlx::query_scalar(statement)
            .bind(client.to_owned())
            .bind(since)
            .bind(i64::from(n.saturating_sub(1)));
        if let Some(email) = email {
            query = query.bind(email.to_owned());
        }
        Ok(query.fetch_optional(&self.reader).await?)
    }
}
