//! Reads that scale: the public reads that a flash sale multiplies (an event, the event list,
//! an event's seats and seat map) may be answered by a streaming replica
//! (`DATABASE_REPLICA_URL`, e.g. HAProxy's replica port in front of Patroni's replicas) instead
//! of the leader.
//!
//! What may go there is what anybody may see and what may be a moment old: a replica replays
//! the leader's changes with a lag (milliseconds, or more while replay is held up). Everything a
//! user reads about their own holds, bookings and profile, every read inside a write, and every
//! write go to the leader, so a user never misses their own change. A replica that does not
//! answer is left alone for a few seconds and the leader answers instead.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;

use super::dialect::{Dialect, PoolSettings};
use super::{SqlStore, StoreError, StoreResult};

/// The longest a public read waits for a replica connection before the leader answers instead
/// (a replica that refuses connections is otherwise retried until the acquire timeout).
const ACQUIRE_TIMEOUT: Duration = Duration::from_millis(500);

/// How long a replica that failed is left alone before it is tried again.
const PAUSE_AFTER_FAILURE: Duration = Duration::from_secs(5);

pub(super) struct Replica {
    pool: AnyPool,
    /// Until when (ms since the Unix epoch) reads skip the replica.
    paused_until_ms: AtomicU64,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
        })
}

impl Replica {
    /// A pool that connects when first used, so that a replica that is down at start-up
    /// delays nothing.
    fn connect_lazy(url: &str, settings: &PoolSettings) -> anyhow::Result<Self> {
        sqlx::any::install_default_drivers();
        let pool = AnyPoolOptions::new()
            .max_connections(settings.max_connections)
            .acquire_timeout(settings.acquire_timeout.min(ACQUIRE_TIMEOUT))
            .connect_lazy(url)
            .context("DATABASE_REPLICA_URL is not a valid PostgreSQL URL")?;
        Ok(Self {
            pool,
            paused_until_ms: AtomicU64::new(0),
        })
    }

    fn available(&self) -> Option<&AnyPool> {
        (self.paused_until_ms.load(Ordering::Relaxed) <= now_ms()).then_some(&self.pool)
    }

    fn failed(&self) {
        let pause = u64::try_from(PAUSE_AFTER_FAILURE.as_millis()).unwrap_or(u64::MAX);
        self.paused_until_ms
            .store(now_ms().saturating_add(pause), Ordering::Relaxed);
    }

    pub(super) async fn close(&self) {
        self.pool.close().await;
    }
}

impl SqlStore {
    /// Sends the public reads (`event`, `list_events`, `event_seats`) to the replica at `url`,
    /// if one is given. PostgreSQL only: a SQLite file has no replicas.
    pub fn with_replica(
        mut self,
        url: Option<&str>,
        settings: &PoolSettings,
    ) -> anyhow::Result<Self> {
        if let Some(url) = url {
            if self.dialect() != Dialect::Postgres || Dialect::of_url(url)? != Dialect::Postgres {
                anyhow::bail!(
                    "DATABASE_REPLICA_URL needs a postgres:// URL, and a postgres:// DATABASE_URL"
                );
            }
            self.replica = Some(Replica::connect_lazy(url, settings)?);
        }
        Ok(self)
    }

    /// Runs a public read on the replica if there is one that answers, else on the leader.
    pub(super) async fn public_read<'a, T, F, Fut>(&'a self, read: F) -> StoreResult<T>
    where
        F: Fn(&'a AnyPool) -> Fut,
        Fut: Future<Output = StoreResult<T>>,
    {
        if let Some(replica) = &self.replica
            && let Some(pool) = replica.available()
        {
            match read(pool).await {
                Err(StoreError::Unavailable(error)) => {
                    tracing::warn!(error = %error, "the replica does not answer; reading from the leader");
                    replica.failed();
                }
                answer => return answer,
            }
        }
        read(&self.reader).await
    }
}
