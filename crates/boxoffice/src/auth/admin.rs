//! The admin that `ADMIN_EMAIL` and `ADMIN_PASSWORD` ask for. Registration never makes one.

use crate::config::ADMIN_NAME;
use crate::domain::{NewUser, Role, Timestamp, email_key, normalize_password};
use crate::password::{self, PasswordCheck};
use crate::store::{Store, StoreResult};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdminOutcome {
    /// The account was already an admin with this password: nothing changed.
    Unchanged,
    /// No account had this email: an admin was created.
    Created,
    /// An account with this email was made admin and given this password.
    Updated,
}

/// Makes sure an admin with these credentials exists: creates it, or makes the account with
/// this email an admin and sets its password to this one. The configuration is the truth, so
/// changing ADMIN_PASSWORD and restarting rotates the password, and ends the tokens issued
/// under the old one (on every instance within `CREDENTIALS_CACHE_MS`). The password is hashed
/// in NFC (CONTRACT.md rule 10); a hash stored before that rule, of the same password as typed,
/// counts as unchanged (the next login replaces it).
pub async fn ensure_admin(
    store: &dyn Store,
    email: &str,
    password: &str,
) -> anyhow::Result<AdminOutcome> {
    let (name, email) = NewUser::validate(ADMIN_NAME, email, password)?;
    if let Some(existing) = store.user_by_email_key(&email_key(&email)).await?
        && existing.role == Role::Admin
        && password::check(password, &existing.password_hash).await? != PasswordCheck::NoMatch
    {
        return Ok(AdminOutcome::Unchanged);
    }
    let admin = NewUser {
        name,
        email,
        role: Role::Admin,
        password_hash: password::hash(normalize_password(password)).await?,
    };
    let created: StoreResult<bool> = store.upsert_admin(admin, Timestamp::now()).await;
    Ok(if created? {
        AdminOutcome::Created
    } else {
        AdminOutcome::Updated
    })
}
