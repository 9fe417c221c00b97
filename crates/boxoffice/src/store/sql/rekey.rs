//! Keys computed by Unicode rules (`domain::folding`) for rows written before migration 0003:
//! users' `email_key` (it was the lower-cased email) and events' `name_key` (it did not exist).
//! Neither database can compute them in SQL whatever its locale, so this runs once per row, at
//! connection, before anything reads them. Several instances starting together may both run it:
//! every statement is idempotent.

use sqlx::AssertSqlSafe;

use super::SqlStore;
use crate::domain::{caseless_key, email_key};
use crate::store::StoreResult;

/// Rows re-keyed per statement batch.
const REKEY_BATCH: i64 = 500;

/// What re-keying did.
#[derive(Debug, Default)]
pub struct Rekeyed {
    pub users: u64,
    pub events: u64,
    /// Accounts whose new key another account already has: two spellings of one address that
    /// the old rule told apart (`Straße@…` and `strasse@…`). Each keeps its old key, so it is not
    /// found by logins until an operator merges or renames one of them.
    pub conflicts: Vec<(String, String)>,
}

impl SqlStore {
    pub(super) async fn rekey_old_rows(&self) -> StoreResult<Rekeyed> {
        let mut rekeyed = Rekeyed::default();
        loop {
            let rows: Vec<(String, String, String)> = sqlx::query_as(
                "SELECT id, email, email_key FROM users WHERE email_key_pending = 1 \
                 ORDER BY id LIMIT $1",
            )
            .bind(REKEY_BATCH)
            .fetch_all(&self.writer)
            .await?;
            if rows.is_empty() {
                break;
            }
            let mut unchanged = Vec::new();
            for (id, email, old_key) in rows {
                let key = email_key(&email);
                if key == old_key {
                    unchanged.push(id);
                    continue;
                }
                let done = sqlx::query(
                    "UPDATE users SET email_key = $2, email_key_pending = 0 WHERE id = $1 \
                     AND NOT EXISTS (SELECT 1 FROM users other WHERE other.email_key = $2)",
                )
                .bind(id.clone())
                .bind(key)
                .execute(&self.writer)
                .await?;
                if done.rows_affected() == 1 {
                    rekeyed.users += 1;
                } else {
                    rekeyed.conflicts.push((id.clone(), email));
                    unchanged.push(id);
                }
            }
            if !unchanged.is_empty() {
                let placeholders: Vec<String> =
                    (1..=unchanged.len()).map(|n| format!("${n}")).collect();
                let statement = format!(
                    "UPDATE users SET email_key_pending = 0 WHERE id IN ({})",
                    placeholders.join(", ")
                );
                let mut query = sqlx::query(AssertSqlSafe(statement));
                for id in unchanged {
                    query = query.bind(id);
                }
                query.execute(&self.writer).await?;
            }
        }
        loop {
            let rows: Vec<(String, String)> = sqlx::query_as(
                "SELECT id, name FROM events WHERE name_key IS NULL ORDER BY id LIMIT $1",
            )
            .bind(REKEY_BATCH)
            .fetch_all(&self.writer)
            .await?;
            if rows.is_empty() {
                break;
            }
            for (id, name) in rows {
                sqlx::query("UPDATE events SET name_key = $2 WHERE id = $1")
                    .bind(id)
                    .bind(caseless_key(&name))
                    .execute(&self.writer)
                    .await?;
                rekeyed.events += 1;
            }
        }
        Ok(rekeyed)
    }
}
