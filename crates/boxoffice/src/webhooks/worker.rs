//! The delivery worker: every instance runs one. It claims due deliveries through the
//! database (`FOR UPDATE SKIP LOCKED` and a lease, so a notification is in flight from one
//! instance at a time), sends each on its own task, at most [`MAX_IN_FLIGHT`] at once, and
//! records the outcomes in batches: delivered, retried later on the backoff schedule, or dead
//! after `WEBHOOK_RETRY_HOURS` (CONTRACT.md, "Delivery").
//!
//! It never touches a hold, a confirmation or a payment: those only insert their notification;
//! a slow or dead receiver costs this worker's tasks and nothing else.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, Semaphore, mpsc, watch};
use url::Url;

use super::{SignedHeaders, WebhookClient, WebhookSecret};
use crate::domain::Timestamp;
use crate::domain::notification::{RetryDecision, RetrySchedule};
use crate::store::{DeliveryOutcome, DeliveryResult, DueDelivery, Notifications};
use crate::telemetry;

/// Deliveries in flight from one instance at most.
pub const MAX_IN_FLIGHT: usize = 128;
/// Deliveries claimed per transaction at most.
const CLAIM_BATCH: usize = 64;
/// Outcomes recorded per transaction at most.
const RECORD_BATCH: usize = 256;
/// How long the recorder waits for more outcomes after the first, unless the batch fills: one
/// transaction then records a burst of deliveries rather than one each (on SQLite every
/// transaction takes the one write lock that holds also need).
const RECORD_GATHER: Duration = Duration::from_millis(10);
/// How often an idle worker looks for due deliveries that nobody woke it for (another
/// instance's notifications, retries coming due).
const IDLE_POLL: Duration = Duration::from_millis(100);
/// How often the pending gauge is counted.
const PENDING_GAUGE_EVERY: Duration = Duration::from_secs(5);
/// A claim's lease lasts the attempt's timeout plus this, to leave time to record it.
const LEASE_MARGIN: Duration = Duration::from_secs(5);

pub struct DeliveryWorker {
    pub store: Arc<dyn Notifications>,
    pub client: Arc<WebhookClient>,
    pub schedule: RetrySchedule,
    pub timeout: Duration,
    /// Notified when there may be something to deliver (new notifications were numbered).
    pub wake: Arc<Notify>,
}

impl DeliveryWorker {
    /// Delivers until `stop` turns true; deliveries in flight then are left to their lease
    /// (another instance, or this one after a restart, sends them again).
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let worker = Arc::new(self);
        let permits = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
        let (results, mut outcomes) = mpsc::unbounded_channel::<DeliveryResult>();
        let recorder = {
            let worker = worker.clone();
            tokio::spawn(async move {
                let mut batch = Vec::with_capacity(RECORD_BATCH);
                while outcomes.recv_many(&mut batch, RECORD_BATCH).await > 0 {
                    gather(&mut outcomes, &mut batch).await;
                    worker.record(&batch).await;
                    batch.clear();
                    // A delivery that finished may let the next of its purchase go.
                    worker.wake.notify_one();
                }
            })
        };
        let lease = i64::try_from((worker.timeout + LEASE_MARGIN).as_millis()).unwrap_or(i64::MAX);
        let mut counted = tokio::time::Instant::now() - PENDING_GAUGE_EVERY;
        loop {
            if *stop.borrow() {
                break;
            }
            if counted.elapsed() >= PENDING_GAUGE_EVERY {
                counted = tokio::time::Instant::now();
                if let Ok(pending) = worker.store.pending_deliveries().await {
                    telemetry::webhook_pending(pending);
                }
            }
            let free = permits.available_permits().min(CLAIM_BATCH);
            let claimed = if free == 0 {
                Vec::new()
            } else {
                match worker
                    .store
                    .claim_deliveries(Timestamp::now(), free as i64, lease)
                    .await
                {
                    Ok(claimed) => claimed,
                    Err(error) => {
                        tracing::warn!(
                            error = format!("{error:#}"),
                            "claiming webhook deliveries failed"
                        );
                        Vec::new()
                    }
                }
            };
            let full = claimed.len() == CLAIM_BATCH;
            for due in claimed {
                let Ok(permit) = permits.clone().acquire_owned().await else {
                    break;
                };
                let worker = worker.clone();
                let results = results.clone();
                tokio::spawn(async move {
                    let result = worker.attempt(due).await;
                    let _ = results.send(result);
                    drop(permit);
                });
            }
            if full {
                continue;
            }
            tokio::select! {
                () = worker.wake.notified() => {}
                () = tokio::time::sleep(IDLE_POLL) => {}
                _ = stop.wait_for(|stopped| *stopped) => break,
            }
        }
        drop(results);
        recorder.abort();
    }

    /// One attempt of one delivery, and what to record.
    async fn attempt(&self, due: DueDelivery) -> DeliveryResult {
        let now = Timestamp::now();
        let sent = match signed_request(&due, now) {
            Ok((url, headers, body)) => Some(self.client.deliver(&url, &headers, body).await),
            Err(error) => {
                tracing::error!(endpoint = %due.endpoint_id, %error, "a webhook endpoint cannot be delivered to");
                None
            }
        };
        let at = Timestamp::now();
        let (outcome, http_status, error) = match &sent {
            Some(attempt) if attempt.is_delivered() => {
                let latency = at.millis() - due.notification.notification.created_at.millis();
                telemetry::webhook_delivered(Duration::from_millis(
                    u64::try_from(latency).unwrap_or(0),
                ));
                (DeliveryOutcome::Delivered, attempt.http_status(), None)
            }
            _ => {
                // Failures since the delivery was (re)queued: a redeliver starts afresh.
                let failures = u32::try_from(due.attempts_since_queued + 1).unwrap_or(u32::MAX);
                let outcome =
                    match self
                        .schedule
                        .after_failure(failures, due.queued_at, at, jitter())
                    {
                        RetryDecision::RetryAt(next) => DeliveryOutcome::RetryAt(next),
                        RetryDecision::Dead => DeliveryOutcome::Dead,
                    };
                telemetry::webhook_failed(outcome == DeliveryOutcome::Dead);
                let error = sent.as_ref().map_or_else(
                    || Some("the endpoint's URL or secret is unusable".to_owned()),
                    super::Attempt::error,
                );
                (
                    outcome,
                    sent.as_ref().and_then(super::Attempt::http_status),
                    error,
                )
            }
        };
        DeliveryResult {
            delivery: due,
            outcome,
            http_status,
            error,
            at,
        }
    }

    /// Records a batch of outcomes; on failure, tries a few times, then leaves them to their
    /// leases (the deliveries are sent again: at least once).
    async fn record(&self, batch: &[DeliveryResult]) {
        for attempt in 1..=5u64 {
            match self.store.record_deliveries(batch).await {
                Ok(()) => return,
                Err(error) => {
                    tracing::warn!(
                        error = format!("{error:#}"),
                        attempt,
                        "recording webhook deliveries failed"
                    );
                    tokio::time::sleep(Duration::from_millis(200 * attempt)).await;
                }
            }
        }
    }
}

/// The URL, headers and body of one attempt: the notification's JSON, signed at `now` with
/// the endpoint's current secret and, during a rotation, its previous one.
fn signed_request(
    due: &DueDelivery,
    now: Timestamp,
) -> Result<(Url, SignedHeaders, Vec<u8>), String> {
    let url = Url::parse(&due.url).map_err(|error| format!("url: {error}"))?;
    let body = serde_json::to_vec(&due.notification).map_err(|error| error.to_string())?;
    let current = WebhookSecret::parse(&due.secrets.current).map_err(|e| e.to_string())?;
    let previous = match &due.secrets.previous {
        Some(text) => Some(WebhookSecret::parse(text).map_err(|e| e.to_string())?),
        None => None,
    };
    let secrets: Vec<&WebhookSecret> = std::iter::once(&current).chain(previous.as_ref()).collect();
    let headers = SignedHeaders::sign(
        &due.notification.notification.id.to_string(),
        now.millis().div_euclid(1000),
        &body,
        &secrets,
    );
    Ok((url, headers, body))
}

/// A uniform sample in `[0, 1)` for the backoff's jitter.
fn jitter() -> f64 {
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        return 0.5;
    }
    // 53 random bits: every f64 in [0, 1) with that many significant bits, evenly.
    (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64
}

/// Adds to `batch` the outcomes that arrive within [`RECORD_GATHER`], up to [`RECORD_BATCH`].
async fn gather(
    outcomes: &mut mpsc::UnboundedReceiver<DeliveryResult>,
    batch: &mut Vec<DeliveryResult>,
) {
    let until = tokio::time::Instant::now() + RECORD_GATHER;
    while batch.len() < RECORD_BATCH {
        let room = RECORD_BATCH - batch.len();
        match tokio::time::timeout_at(until, outcomes.recv_many(batch, room)).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}
