//! Secrets shared by every instance on one database (`server_secrets`, migration 0010): the
//! first instance to ask for one keeps its candidate; every later one reads that.

use super::SqlStore;
use crate::store::StoreResult;

impl SqlStore {
    pub(super) async fn shared_secret_now(
        &self,
        name: &str,
        candidate: &str,
    ) -> StoreResult<String> {
        // Two statements, no transaction needed: the insert either keeps the candidate or finds
        // the row another instance committed, and the read then sees the row that stays.
        sqlx::query(
            "INSERT INTO server_secrets (name, secret) VALUES ($1, $2) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(candidate)
        .execute(&self.writer)
        .await?;
        Ok(
            sqlx::query_scalar("SELECT secret FROM server_secrets WHERE name = $1")
                .bind(name)
                .fetch_one(&self.writer)
                .await?,
        )
    }
}
