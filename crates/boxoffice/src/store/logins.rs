//! Accounts as logins see them, and the record of failed logins that throttles guessing.

use super::rows::{UserRow, user_columns};
use super::{FailureScope, SqlStore, StoreResult};
use crate::domain::{NewUser, ObjectId, Timestamp, User, email_key};

impl SqlStore {
    pub(super) async fn user_by_email_key_in(&self, email_key: &str) -> StoreResult<Option<User>> {
        self.user_where(
            concat!(
                "SELECT ",
                user_columns!(),
                " FROM users WHERE email_key = $1"
            ),
            email_key.to_owned(),
        )
        .await
    }

    /// The user a one-parameter query names, if any.
    pub(super) async fn user_where(
        &self,
        query: &'static str,
        key: String,
    ) -> StoreResult<Option<User>> {
        let row: Option<UserRow> = sqlx::query_as(query)
            .bind(key)
            .fetch_optional(&self.reader)
            .await?;
        row.map(User::try_from).transpose()
    }

    /// One statement, so two instances starting at once cannot both insert.
    pub(super) async fn upsert_admin_in(
        &self,
        admin: NewUser,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let id = ObjectId::generate().to_string();
        let stored: String = sqlx::query_scalar(
            "INSERT INTO users (id, name, email, email_key, password_hash, role, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, 'admin', $6, $6) \
             ON CONFLICT (email_key) DO UPDATE SET role = 'admin', \
             password_hash = excluded.password_hash, updated_at = excluded.updated_at \
             RETURNING id",
        )
        .bind(id.clone())
        .bind(admin.name)
        .bind(admin.email.clone())
        .bind(email_key(&admin.email))
        .bind(admin.password_hash)
        .bind(now.millis())
        .fetch_one(&self.writer)
        .await?;
        Ok(stored == id)
    }

    pub(super) async fn record_login_failure_in(
        &self,
        email_key: &str,
        client: &str,
        at: Timestamp,
        forget_before: Timestamp,
    ) -> StoreResult<()> {
        // Pruning here keeps the table at one window's worth of failures without a job; the
        // index on failed_at makes it cheap when there is nothing to prune.
        sqlx::query("DELETE FROM login_failures WHERE failed_at < $1")
            .bind(forget_before.millis())
            .execute(&self.writer)
            .await?;
        sqlx::query(
            "INSERT INTO login_failures (id, email_key, client, failed_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(ObjectId::generate().to_string())
        .bind(email_key.to_owned())
        .bind(client.to_owned())
        .bind(at.millis())
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    pub(super) async fn nth_login_failure_in(
        &self,
        scope: FailureScope<'_>,
        n: u32,
        since: Timestamp,
    ) -> StoreResult<Option<Timestamp>> {
        let (statement, key) = match scope {
            FailureScope::Email(key) => (
                "SELECT failed_at FROM login_failures WHERE email_key = $1 AND failed_at > $2 \
                 ORDER BY failed_at DESC LIMIT 1 OFFSET $3",
                key,
            ),
            FailureScope::Client(key) => (
                "SELECT failed_at FROM login_failures WHERE client = $1 AND failed_at > $2 \
                 ORDER BY failed_at DESC LIMIT 1 OFFSET $3",
                key,
            ),
        };
        let failed_at: Option<i64> = sqlx::query_scalar(statement)
            .bind(key.to_owned())
            .bind(since.millis())
            .bind(i64::from(n.saturating_sub(1)))
            .fetch_optional(&self.reader)
            .await?;
        Ok(failed_at.map(Timestamp::from_millis))
    }
}
