//! The outbox's background work, on every instance: numbering committed notifications (the
//! sequencer, see `store::notifications::sequencer` for why numbers are given after commit)
//! and pruning old ones (`NOTIFICATION_RETENTION_DAYS`).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};

use crate::domain::Timestamp;
use crate::store::{Notifications, SEQUENCE_BATCH, StoreResult};

/// How often an instance looks for committed notifications without a number. The look is a
/// read of a partial index; the numbering transaction only runs when there is work.
const SEQUENCE_POLL: Duration = Duration::from_millis(20);
/// How often old notifications are pruned.
const PRUNE_INTERVAL: Duration = Duration::from_secs(600);

/// Numbers committed notifications as they appear, and wakes `delivered` (the delivery
/// worker) when it did; until `stop` turns true.
pub async fn run_sequencer(
    store: Arc<dyn Notifications>,
    delivered: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        match sequence_all(store.as_ref()).await {
            Ok(0) => {}
            Ok(_) => delivered.notify_one(),
            // The database may be down for a while; the next poll tries again.
            Err(error) => tracing::warn!(
                error = format!("{error:#}"),
                "numbering notifications failed"
            ),
        }
        tokio::select! {
            () = tokio::time::sleep(SEQUENCE_POLL) => {}
            _ = stop.wait_for(|stopped| *stopped) => return,
        }
    }
}

/// Numbers the committed notifications waiting for their number; how many.
///
/// A batch short of [`SEQUENCE_BATCH`] numbered everything committed when it ran; what
/// commits after it waits for the next poll, at most [`SEQUENCE_POLL`] later. Under a steady
/// stream of writes there is always something new, and numbering it at once, again and
/// again, would take SQLite's only write lock (or PostgreSQL's sequencer row and a commit)
/// back to back with the writes themselves: measured, hot-lock holds/s fell to 0.6× of the
/// build without notifications (docs/performance.md). Only a full batch runs again at once.
pub async fn sequence_all(store: &dyn Notifications) -> StoreResult<u64> {
    let mut total = 0;
    if !store.has_unsequenced().await? {
        return Ok(0);
    }
    loop {
        // 0 as well when another instance's sequencer has the turn; it numbers them.
        let numbered = store.sequence_pending(Timestamp::now()).await?;
        total += numbered;
        if numbered < SEQUENCE_BATCH.unsigned_abs() {
            return Ok(total);
        }
    }
}

/// Prunes notifications older than `retention`, at start and every ten minutes, until `stop`.
pub async fn run_pruner(
    store: Arc<dyn Notifications>,
    retention: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut ticks = tokio::time::interval(PRUNE_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = stop.wait_for(|stopped| *stopped) => return,
        }
        let retention_millis = i64::try_from(retention.as_millis()).unwrap_or(i64::MAX);
        let before = Timestamp::now().plus_millis(-retention_millis);
        let mut after = 0;
        loop {
            match store.prune_notifications(before, after).await {
                Ok(step) => {
                    if step.deleted > 0 {
                        tracing::info!(deleted = step.deleted, "pruned old notifications");
                    }
                    match step.next {
                        Some(next) if !*stop.borrow() => after = next,
                        Some(_) => return,
                        None => break,
                    }
                }
                Err(error) => {
                    tracing::warn!(error = format!("{error:#}"), "pruning notifications failed");
                    break;
                }
            }
        }
    }
}
