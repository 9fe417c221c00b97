//! Passwords are kept only as Argon2id hashes (the seed stored them in plain text).
//! Hashing is deliberately slow, so it runs on the blocking pool, off the async workers.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};

/// An Argon2id PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`) with a fresh random salt,
/// using the crate's defaults, which follow OWASP's current recommendation.
pub async fn hash(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|hash| hash.to_string())
            .map_err(|e| anyhow::anyhow!("password hashing failed: {e}"))
    })
    .await?
}

/// Whether `password` matches `hash`; a malformed hash matches nothing.
pub async fn verify(password: String, hash: String) -> anyhow::Result<bool> {
    tokio::task::spawn_blocking(move || {
        let Ok(parsed) = PasswordHash::new(&hash) else {
            return false;
        };
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
    .await
    .map_err(Into::into)
}
