//! Tokens end with their credentials (CONTRACT.md, "Authentication and roles"): a token issued
//! before its user's password or role last changed, or before the user logged out everywhere,
//! is refused.
//!
//! Each user row carries a `credentials_version` that those changes raise, in the database, so
//! every instance sees it; a token carries the version it was issued under (`ver`). Reading the
//! row on every request would put a database read in front of every call, so each instance
//! keeps what it last read for at most `CREDENTIALS_CACHE_MS` (≤ 10 s): a change made on another
//! instance takes effect here within that time, and a change made here at once (the instance
//! forgets what it had read). A token newer than what the cache says proves the cache stale and
//! is checked against the database.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::TokenClaims;
use crate::domain::ObjectId;
use crate::store::{Store, StoreResult};

/// The longest `CREDENTIALS_CACHE_MS` may be: the contract's bound on how long a token may
/// outlive its credentials on any instance.
pub const MAX_CREDENTIALS_CACHE: Duration = Duration::from_secs(10);

/// Above this many cached users, expired entries are dropped as new ones come in.
const PRUNE_ABOVE: usize = 10_000;

pub struct Sessions {
    store: Arc<dyn Store>,
    ttl: Duration,
    /// A user's credentials version (None: no such user) and when it was read.
    read: Mutex<HashMap<ObjectId, (Option<i64>, Instant)>>,
}

impl Sessions {
    /// `ttl` is capped at [`MAX_CREDENTIALS_CACHE`]; zero reads the database for every token.
    pub fn new(store: Arc<dyn Store>, ttl: Duration) -> Self {
        Self {
            store,
            ttl: ttl.min(MAX_CREDENTIALS_CACHE),
            read: Mutex::new(HashMap::new()),
        }
    }

    /// Whether the credentials a token was issued under still stand: its user exists and has
    /// not changed password or role, nor logged out everywhere, since.
    pub async fn still_valid(&self, claims: &TokenClaims) -> StoreResult<bool> {
        let now = Instant::now();
        let cached = self.cached(claims.user, now);
        let current = match cached {
            Some(None) => None,
            // A token newer than what was read proves the read stale.
            Some(Some(version)) if claims.credentials_version <= version => Some(version),
            _ => {
                let version = self.store.credentials_version(claims.user).await?;
                self.remember(claims.user, version, now);
                version
            }
        };
        Ok(current.is_some_and(|version| claims.credentials_version >= version))
    }

    /// Forgets what was read about `user`, after this instance changed their credentials, so
    /// that the change applies here at once.
    pub fn forget(&self, user: ObjectId) {
        if let Ok(mut read) = self.read.lock() {
            read.remove(&user);
        }
    }

    fn cached(&self, user: ObjectId, now: Instant) -> Option<Option<i64>> {
        let read = self.read.lock().ok()?;
        let (version, at) = read.get(&user)?;
        (now.duration_since(*at) < self.ttl).then_some(*version)
    }

    fn remember(&self, user: ObjectId, version: Option<i64>, at: Instant) {
        if self.ttl.is_zero() {
            return;
        }
        if let Ok(mut read) = self.read.lock() {
            if read.len() >= PRUNE_ABOVE {
                let ttl = self.ttl;
                read.retain(|_, (_, read_at)| at.duration_since(*read_at) < ttl);
            }
            read.insert(user, (version, at));
        }
    }
}
