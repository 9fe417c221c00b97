//! Expiry of lapsed holds (the seed's "Epic 6"): every instance sweeps, on its interval and
//! once at start-up, in short transactions of at most `SWEEP_BATCH` rows each. Several
//! instances never return the same seats twice: PostgreSQL sweepers skip the rows another one
//! holds, SQLite ones take turns on the write lock, and a lock only moves to EXPIRED once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::domain::{KEPT_FOR_MILLIS, Timestamp};
use crate::store::{Expired, Store, StoreResult};
use crate::telemetry;

/// How many lapsed holds one sweep transaction expires at most, so that no sweep holds the
/// write lock for long.
pub const SWEEP_BATCH: i64 = 500;

/// What one sweep did, and how long its longest write transaction took.
#[derive(Clone, Copy, Debug, Default)]
pub struct Sweep {
    pub expired: Expired,
    pub batches: u32,
    pub elapsed: Duration,
    pub longest_batch: Duration,
}

/// Expires everything that has lapsed by `now`, batch after batch, unless told to stop
/// (checked between batches).
pub async fn sweep(
    store: &dyn Store,
    now: Timestamp,
    stop: Option<&watch::Receiver<bool>>,
) -> StoreResult<Sweep> {
    let started = Instant::now();
    let mut sweep = Sweep::default();
    loop {
        let batch_started = Instant::now();
        let batch = store.expire_lapsed(now, SWEEP_BATCH).await?;
        let batch_elapsed = batch_started.elapsed();
        telemetry::sweep_batch(batch_elapsed, batch.locks, batch.bookings, batch.seats);
        sweep.longest_batch = sweep.longest_batch.max(batch_elapsed);
        sweep.batches += 1;
        sweep.expired.locks += batch.locks;
        sweep.expired.bookings += batch.bookings;
        sweep.expired.seats += batch.seats;
        let drained = batch.locks < SWEEP_BATCH as u64 && batch.bookings < SWEEP_BATCH as u64;
        if drained || stop.is_some_and(|stop| *stop.borrow()) {
            sweep.elapsed = started.elapsed();
            return Ok(sweep);
        }
    }
}

/// Logs a sweep that expired anything.
pub fn report(what: &str, sweep: &Sweep) {
    if sweep.expired != Expired::default() {
        tracing::info!(
            locks = sweep.expired.locks,
            bookings = sweep.expired.bookings,
            seats = sweep.expired.seats,
            batches = sweep.batches,
            elapsed_ms = sweep.elapsed.as_millis() as u64,
            longest_batch_ms = sweep.longest_batch.as_millis() as u64,
            "{what}: expired lapsed holds"
        );
    }
}

/// Forgets the `Idempotency-Key` answers kept for more than 24 hours (CONTRACT.md, "Retrying
/// any write"); a key older than that is claimed afresh even before it is pruned.
pub async fn prune_idempotency_keys(store: &dyn Store, now: Timestamp) {
    let before = now.plus_millis(-KEPT_FOR_MILLIS);
    match store.prune_idempotency_keys(before).await {
        Ok(0) => {}
        Ok(pruned) => tracing::info!(pruned, "forgot idempotency keys older than 24 hours"),
        Err(error) => tracing::warn!(
            error = format!("{error:#}"),
            "pruning idempotency keys failed"
        ),
    }
}

/// Sweeps (and prunes old idempotency keys) every `interval` until `stop` turns true.
pub async fn run(store: Arc<dyn Store>, interval: Duration, mut stop: watch::Receiver<bool>) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = stop.wait_for(|stopped| *stopped) => return,
        }
        match sweep(store.as_ref(), Timestamp::now(), Some(&stop)).await {
            Ok(sweep) => report("sweep", &sweep),
            // The database may be down for a while; the next tick tries again.
            Err(error) => tracing::warn!(error = format!("{error:#}"), "sweep failed"),
        }
        prune_idempotency_keys(store.as_ref(), Timestamp::now()).await;
    }
}
