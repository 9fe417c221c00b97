//! Accounts: registration, reading by id or by email key, and the admin of `ADMIN_EMAIL`.
//! Emails are unique by their key (`domain::email_key`), which a unique index enforces.

use super::rows::user_columns;
use super::{Decision, SqlStore};
use crate::domain::{NewUser, ObjectId, Rejection, Role, Timestamp, User, email_key};
use crate::store::{StoreError, StoreResult};

impl SqlStore {
    pub(super) async fn register_user_now(
        &self,
        user: NewUser,
        now: Timestamp,
    ) -> StoreResult<User> {
        let user = User {
            id: ObjectId::generate(),
            name: user.name,
            email: user.email,
            role: user.role,
            password_hash: user.password_hash,
            credentials_version: 0,
            created_at: now,
            updated_at: now,
        };
        // A transaction of its own, so that the request's deadline decides before COMMIT.
        super::in_write_tx!(self, |tx| async {
            let inserted = sqlx::query(
                "INSERT INTO users (id, name, email, email_key, password_hash, role, created_at, \
                 updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
                 ON CONFLICT (email_key) DO NOTHING",
            )
            .bind(user.id)
            .bind(user.name.clone())
            .bind(user.email.clone())
            .bind(email_key(&user.email))
            .bind(user.password_hash.clone())
            .bind(user.role)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            Ok::<Decision<User>, StoreError>(if inserted.rows_affected() == 0 {
                Err(Rejection::EmailTaken)
            } else {
                Ok(user.clone())
            })
        })
    }

    pub(super) async fn user_by_id(&self, id: ObjectId) -> StoreResult<Option<User>> {
        Ok(sqlx::query_as(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.reader)
        .await?)
    }

    pub(super) async fn user_by_key(&self, email_key: &str) -> StoreResult<Option<User>> {
        Ok(sqlx::query_as(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE email_key = $1"
        ))
        .bind(email_key.to_owned())
        .fetch_optional(&self.reader)
        .await?)
    }

    /// Replaces a hash stored before CONTRACT.md rule 10 by one of the NFC password, unless the
    /// stored hash changed meanwhile (a rotation at start-up wins).
    pub(super) async fn upgrade_hash(
        &self,
        user: ObjectId,
        old_hash: &str,
        new_hash: String,
    ) -> StoreResult<()> {
        sqlx::query("UPDATE users SET password_hash = $3 WHERE id = $1 AND password_hash = $2")
            .bind(user)
            .bind(old_hash.to_owned())
            .bind(new_hash)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    pub(super) async fn credentials_version_of(&self, user: ObjectId) -> StoreResult<Option<i64>> {
        Ok(
            sqlx::query_scalar("SELECT credentials_version FROM users WHERE id = $1")
                .bind(user)
                .fetch_optional(&self.reader)
                .await?,
        )
    }

    /// Raises the credentials version in one statement; the user as it now is.
    pub(super) async fn end_sessions_now(&self, user: ObjectId) -> StoreResult<Option<User>> {
        Ok(sqlx::query_as(concat!(
            "UPDATE users SET credentials_version = credentials_version + 1 WHERE id = $1 \
             RETURNING ",
            user_columns!()
        ))
        .bind(user)
        .fetch_optional(&self.writer)
        .await?)
    }

    /// One statement, so two instances starting at once cannot both insert. A new password or
    /// role raises the credentials version, so tokens issued before it end.
    pub(super) async fn upsert_admin_now(
        &self,
        admin: NewUser,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let id = ObjectId::generate();
        let stored: ObjectId = sqlx::query_scalar(
            "INSERT INTO users (id, name, email, email_key, password_hash, role, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
             ON CONFLICT (email_key) DO UPDATE SET role = excluded.role, \
             password_hash = excluded.password_hash, updated_at = excluded.updated_at, \
             credentials_version = users.credentials_version + 1 \
             RETURNING id",
        )
        .bind(id)
        .bind(admin.name)
        .bind(admin.email.clone())
        .bind(email_key(&admin.email))
        .bind(admin.password_hash)
        .bind(Role::Admin)
        .bind(now)
        .fetch_one(&self.writer)
        .await?;
        Ok(stored == id)
    }
}
