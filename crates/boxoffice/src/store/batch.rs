//! Group commit for seat holds. A flash sale puts every buyer on one event row, and one
//! transaction per hold queues them all on that row's lock. Here, concurrent lock requests for
//! the same event are coalesced: while one transaction for an event is in flight, newcomers
//! wait in the event's queue, and when it finishes the next transaction takes everything that
//! queued (up to [`LOCK_BATCH_MAX`]) and decides it in arrival order. Each caller still gets
//! its own answer.
//!
//! No timer: a request for an event with nothing in flight starts its transaction at once, so
//! an uncontended request waits for nothing; batches form only while the database is busy.
//! Every instance batches its own requests, and the database keeps batches of different
//! instances correct as it does single requests (conditional UPDATE, unique keys).

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use tokio::sync::oneshot;

use super::{
    ConfirmOutcome, FailureScope, LOCK_BATCH_MAX, LockOutcome, Store, StoreError, StoreResult,
};
use crate::domain::{
    Booking, BookingQuery, Event, EventChanges, EventQuery, Inventory, LockExtension, LockRequest,
    NewEvent, NewUser, ObjectId, Page, PaymentForce, SeatLock, Timestamp, User,
};

/// A [`Store`] whose `lock_seats` coalesces concurrent requests per event; everything else
/// goes straight to the store it wraps.
pub struct BatchingStore<S> {
    store: Arc<S>,
    queues: Arc<Queues>,
}

/// An event has an entry while a batch of it is in flight: the requests that came since.
#[derive(Default)]
struct Queues {
    waiting: Mutex<HashMap<ObjectId, Vec<Waiter>>>,
    batches: AtomicU64,
}

struct Waiter {
    request: LockRequest,
    answer: oneshot::Sender<StoreResult<LockOutcome>>,
}

impl Queues {
    /// Never held across an await; a panic while held leaves a consistent map (every change
    /// is a single insert, push, drain or remove), so a poisoned lock is still usable.
    fn lock(&self) -> MutexGuard<'_, HashMap<ObjectId, Vec<Waiter>>> {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<S: Store> BatchingStore<S> {
    pub fn new(store: Arc<S>) -> Self {
        Self {
            store,
            queues: Arc::default(),
        }
    }

    /// How many batch transactions have been started (for tests and debugging).
    pub fn batches_run(&self) -> u64 {
        self.queues.batches.load(Ordering::Relaxed)
    }

    /// How many requests for `event` wait for the batch in flight to finish.
    pub fn queued(&self, event: ObjectId) -> usize {
        self.queues.lock().get(&event).map_or(0, Vec::len)
    }
}

/// Runs batches for one event until its queue is empty, then forgets the event. It runs in
/// its own task, so a caller that goes away (a client disconnect, a request timeout) strands
/// nobody who queued behind it.
async fn run_batches<S: Store>(store: Arc<S>, queues: Arc<Queues>, event: ObjectId, first: Waiter) {
    let mut in_flight = InFlight {
        queues: &queues,
        event,
        done: false,
    };
    let mut batch = vec![first];
    loop {
        // A caller that has already gone would not have started a transaction either.
        batch.retain(|waiter| !waiter.answer.is_closed());
        if !batch.is_empty() {
            let (requests, answers): (Vec<_>, Vec<_>) = batch
                .into_iter()
                .map(|waiter| (waiter.request, waiter.answer))
                .unzip();
            queues.batches.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(%event, size = requests.len(), "lock batch");
            let outcomes = store.lock_seats_batch(requests).await;
            for (answer, outcome) in answers.into_iter().zip(outcomes) {
                // The caller may have gone meanwhile; its lock stands, as it would have
                // had it been made alone.
                let _ = answer.send(outcome);
            }
        }
        let mut waiting = queues.lock();
        let Some(queue) = waiting.get_mut(&event) else {
            break;
        };
        if queue.is_empty() {
            waiting.remove(&event);
            break;
        }
        batch = if queue.len() <= LOCK_BATCH_MAX {
            std::mem::take(queue)
        } else {
            queue.drain(..LOCK_BATCH_MAX).collect()
        };
    }
    in_flight.done = true;
}

/// Forgets the event if its batch loop ends early (a panic): whoever queued then gets an error
/// rather than waiting forever, and the next request starts afresh.
struct InFlight<'a> {
    queues: &'a Queues,
    event: ObjectId,
    done: bool,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.queues.lock().remove(&self.event);
        }
    }
}

#[async_trait]
impl<S: Store> Store for BatchingStore<S> {
    async fn lock_seats(&self, request: LockRequest) -> StoreResult<LockOutcome> {
        let event = request.event_id;
        let (answer, answered) = oneshot::channel();
        let waiter = Waiter { request, answer };
        let first = match self.queues.lock().entry(event) {
            Entry::Occupied(mut queue) => {
                queue.get_mut().push(waiter);
                None
            }
            Entry::Vacant(slot) => {
                slot.insert(Vec::new());
                Some(waiter)
            }
        };
        if let Some(first) = first {
            tokio::spawn(run_batches(
                self.store.clone(),
                self.queues.clone(),
                event,
                first,
            ));
        }
        answered.await.unwrap_or_else(|_| {
            Err(StoreError::from(anyhow::anyhow!(
                "the batch of this lock request ended without an answer"
            )))
        })
    }

    async fn lock_seats_batch(&self, requests: Vec<LockRequest>) -> Vec<StoreResult<LockOutcome>> {
        self.store.lock_seats_batch(requests).await
    }

    async fn register_user(&self, user: NewUser, now: Timestamp) -> StoreResult<User> {
        self.store.register_user(user, now).await
    }

    async fn user(&self, id: ObjectId) -> StoreResult<Option<User>> {
        self.store.user(id).await
    }

    async fn user_by_email_key(&self, email_key: &str) -> StoreResult<Option<User>> {
        self.store.user_by_email_key(email_key).await
    }

    async fn upsert_admin(&self, admin: NewUser, now: Timestamp) -> StoreResult<bool> {
        self.store.upsert_admin(admin, now).await
    }

    async fn record_login_failure(
        &self,
        email_key: &str,
        client: &str,
        at: Timestamp,
        forget_before: Timestamp,
    ) -> StoreResult<()> {
        self.store
            .record_login_failure(email_key, client, at, forget_before)
            .await
    }

    async fn nth_login_failure(
        &self,
        scope: FailureScope<'_>,
        n: u32,
        since: Timestamp,
    ) -> StoreResult<Option<Timestamp>> {
        self.store.nth_login_failure(scope, n, since).await
    }

    async fn create_event(&self, event: NewEvent, now: Timestamp) -> StoreResult<Event> {
        self.store.create_event(event, now).await
    }

    async fn event(&self, id: ObjectId) -> StoreResult<Option<Event>> {
        self.store.event(id).await
    }

    async fn list_events(&self, query: EventQuery) -> StoreResult<Page<Event>> {
        self.store.list_events(query).await
    }

    async fn update_event(
        &self,
        id: ObjectId,
        changes: EventChanges,
        now: Timestamp,
    ) -> StoreResult<Event> {
        self.store.update_event(id, changes, now).await
    }

    async fn inventory(&self, event_id: ObjectId) -> StoreResult<Option<Inventory>> {
        self.store.inventory(event_id).await
    }

    async fn lock(&self, id: ObjectId) -> StoreResult<Option<SeatLock>> {
        self.store.lock(id).await
    }

    async fn release_lock_early(&self, id: ObjectId, now: Timestamp) -> StoreResult<SeatLock> {
        self.store.release_lock_early(id, now).await
    }

    async fn extend_lock(&self, extension: LockExtension) -> StoreResult<SeatLock> {
        self.store.extend_lock(extension).await
    }

    async fn confirm_booking(
        &self,
        lock_id: ObjectId,
        now: Timestamp,
        payment_expires_at: Timestamp,
    ) -> StoreResult<ConfirmOutcome> {
        self.store
            .confirm_booking(lock_id, now, payment_expires_at)
            .await
    }

    async fn booking(&self, id: ObjectId) -> StoreResult<Option<Booking>> {
        self.store.booking(id).await
    }

    async fn list_user_bookings(
        &self,
        user_id: ObjectId,
        query: BookingQuery,
    ) -> StoreResult<Page<Booking>> {
        self.store.list_user_bookings(user_id, query).await
    }

    async fn cancel_booking(&self, id: ObjectId, now: Timestamp) -> StoreResult<Booking> {
        self.store.cancel_booking(id, now).await
    }

    async fn settle_payment(
        &self,
        booking_id: ObjectId,
        force: PaymentForce,
        now: Timestamp,
    ) -> StoreResult<Booking> {
        self.store.settle_payment(booking_id, force, now).await
    }

    async fn ping(&self) -> StoreResult<()> {
        self.store.ping().await
    }
}
