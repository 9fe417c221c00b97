//! Expiry of lapsed holds (the seed's "Epic 6"): every instance sweeps, on its interval and
//! once at start-up, in short transactions of at most `SWEEP_BATCH` rows each. Several
//! instances never return the same seats twice: PostgreSQL sweepers skip the rows another one
//! holds, SQLite ones take turns on the write lock, and a lock only moves to EXPIRED once.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::domain::Timestamp;
use crate::store::{Expired, SWEEP_BATCH, SqlStore, StoreResult};

/// Expires everything that has lapsed by `now`, batch after batch, unless told to stop
/// (checked between batches).
pub async fn sweep(
    store: &SqlStore,
    now: Timestamp,
    stop: Option<&watch::Receiver<bool>>,
) -> StoreResult<Expired> {
    let mut total = Expired::default();
    loop {
        let batch = store.expire_lapsed(now, SWEEP_BATCH).await?;
        total.locks += batch.locks;
        total.bookings += batch.bookings;
        total.seats += batch.seats;
        let drained = batch.locks < SWEEP_BATCH as u64 && batch.bookings < SWEEP_BATCH as u64;
        if drained || stop.is_some_and(|stop| *stop.borrow()) {
            return Ok(total);
        }
    }
}

/// Sweeps every `interval` until `stop` turns true.
pub async fn run(store: Arc<SqlStore>, interval: Duration, mut stop: watch::Receiver<bool>) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = stop.wait_for(|stopped| *stopped) => return,
        }
        match sweep(&store, Timestamp::now(), Some(&stop)).await {
            Ok(expired) if expired != Expired::default() => tracing::info!(
                locks = expired.locks,
                bookings = expired.bookings,
                seats = expired.seats,
                "expired lapsed holds"
            ),
            Ok(_) => {}
            // The database may be down for a while; the next tick tries again.
            Err(error) => tracing::warn!(error = format!("{error:#}"), "sweep failed"),
        }
    }
}
