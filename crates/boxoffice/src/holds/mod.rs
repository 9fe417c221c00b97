//! The hold queue: group commit for seat holds. A flash sale puts every buyer on one event
//! row, and one transaction per hold queues them all on that row's lock. Here, concurrent lock
//! requests for the same event are coalesced: while one transaction for an event is in flight,
//! newcomers wait in the event's queue, and when it finishes the next transaction takes
//! everything that queued (up to [`LOCK_BATCH_MAX`]) and hands it to the store's batch method
//! ([`Store::lock_seats_batch`]), which decides it in arrival order. Each caller still gets its
//! own answer.
//!
//! No timer: a request for an event with nothing in flight starts its transaction at once, so
//! an uncontended request waits for nothing; batches form only while the database is busy.
//! Every instance batches its own requests, and the database keeps batches of different
//! instances correct as it does single requests (conditional UPDATE, unique keys).
//!
//! One batch per event is in flight at a time, so an instance grants in strict arrival order.
//! Letting a second one read while the first holds the row (PostgreSQL) was tried and measured
//! no faster on the benchmark machine (2 shared cores: the round trips cost CPU, not idle
//! waiting), so it was left out.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::oneshot;

use crate::deadline::{self, Deadline};
use crate::domain::{LockRequest, ObjectId};
use crate::store::{LOCK_BATCH_MAX, LockBatch, LockOutcome, Store, StoreError, StoreResult};
use crate::telemetry;

/// Where the lock handler hands its requests. With batching on (`LOCK_BATCHING=on`, the
/// default), concurrent requests for one event share transactions; off, each request is a
/// transaction of its own.
pub struct HoldQueue {
    store: Arc<dyn Store>,
    batching: bool,
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
    /// The caller's request deadline, if it has one (`crate::deadline`).
    deadline: Option<Deadline>,
    answer: oneshot::Sender<StoreResult<LockOutcome>>,
}

impl Waiter {
    /// Whether a batch may still start for this caller: it has not gone, and its deadline has
    /// not passed (then it is given up, and its answer is a 503 that changed nothing).
    fn may_begin(&self) -> bool {
        !self.answer.is_closed() && self.deadline.as_ref().is_none_or(Deadline::may_begin)
    }
}

impl Queues {
    /// Never held across an await; a panic while held leaves a consistent map (every change
    /// is a single insert, push, drain or remove), so a poisoned lock is still usable.
    fn lock(&self) -> MutexGuard<'_, HashMap<ObjectId, Vec<Waiter>>> {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Runs one batch through the store and counts the lapsed seats it reclaimed.
async fn decide(store: &dyn Store, requests: Vec<LockRequest>) -> Vec<StoreResult<LockOutcome>> {
    let LockBatch {
        answers,
        reclaimed_seats,
    } = store.lock_seats_batch(requests).await;
    telemetry::seats_reclaimed(reclaimed_seats);
    answers
}

impl HoldQueue {
    pub fn new(store: Arc<dyn Store>, batching: bool) -> Self {
        Self {
            store,
            batching,
            queues: Arc::default(),
        }
    }

    /// Holds seats (CONTRACT.md endpoint 6, rules 1 and 2): the answer this request gets,
    /// exactly as if it had been decided alone after the requests that arrived before it.
    pub async fn hold(&self, request: LockRequest) -> StoreResult<LockOutcome> {
        if !self.batching {
            self.queues.batches.fetch_add(1, Ordering::Relaxed);
            return decide(self.store.as_ref(), vec![request])
                .await
                .pop()
                .unwrap_or_else(|| Err(no_answer()));
        }
        let event = request.event_id;
        let (answer, answered) = oneshot::channel();
        let waiter = Waiter {
            request,
            deadline: deadline::current(),
            answer,
        };
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
        answered.await.unwrap_or_else(|_| Err(no_answer()))
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

fn no_answer() -> StoreError {
    anyhow::anyhow!("the batch of this lock request ended without an answer").into()
}

/// Runs batches for one event until its queue is empty, then forgets the event. It runs in
/// its own task, so a caller that goes away (a client disconnect, a request timeout) strands
/// nobody who queued behind it.
async fn run_batches(store: Arc<dyn Store>, queues: Arc<Queues>, event: ObjectId, first: Waiter) {
    let mut in_flight = InFlight {
        queues: &queues,
        event,
        done: false,
    };
    let mut batch = vec![first];
    loop {
        while !batch.is_empty() {
            batch = run_batch(store.as_ref(), &queues, event, batch).await;
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

/// Runs one batch and answers its callers; returns those to run again. A caller whose deadline
/// passed before the batch starts is not run (it is answered 503, and no lock is ever made for
/// it). The batch commits only if every caller in it may still have a change committed for it
/// (`deadline::may_commit`); when one was given up meanwhile, the transaction rolls back and
/// the others run again without it, so each gets its true answer.
async fn run_batch(
    store: &dyn Store,
    queues: &Queues,
    event: ObjectId,
    batch: Vec<Waiter>,
) -> Vec<Waiter> {
    let (batch, late): (Vec<_>, Vec<_>) = batch.into_iter().partition(Waiter::may_begin);
    for waiter in late {
        let _ = waiter.answer.send(Err(StoreError::TimedOut));
    }
    if batch.is_empty() {
        return batch;
    }
    let requests = batch.iter().map(|waiter| waiter.request.clone()).collect();
    let deadlines = batch.iter().filter_map(|waiter| waiter.deadline.clone());
    queues.batches.fetch_add(1, Ordering::Relaxed);
    tracing::debug!(%event, size = batch.len(), "lock batch");
    let outcomes = deadline::within(deadlines.collect(), decide(store, requests)).await;
    let mut again = Vec::new();
    for (waiter, outcome) in batch.into_iter().zip(outcomes) {
        match outcome {
            // Rolled back for someone else's deadline: this caller's may not have passed.
            Err(error) if error.timed_out() && waiter.may_begin() => again.push(waiter),
            // The caller may have gone meanwhile; its lock stands, as it would have had it
            // been made alone.
            outcome => {
                let _ = waiter.answer.send(outcome);
            }
        }
    }
    again
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use sqlx::{Connection as _, Executor as _};

    use super::*;
    use crate::domain::Role;
    use crate::domain::{NewEvent, NewUser, Timestamp};
    use crate::store::{PoolSettings, SqlStore};

    fn request(event: ObjectId, user: ObjectId, seats: i64, key: &str) -> LockRequest {
        let now = Timestamp::now();
        LockRequest {
            event_id: event,
            user_id: user,
            seats,
            idempotency_key: key.to_owned(),
            selection: Default::default(),
            now,
            expires_at: now.plus_seconds(300),
        }
    }

    /// Lets the spawned tasks run until `done` holds (no clock involved).
    async fn until(done: impl Fn() -> bool) {
        while !done() {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test]
    async fn requests_that_arrive_during_a_batch_share_the_next_one_in_arrival_order() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("batch.db").display());
        let settings = PoolSettings {
            max_connections: 2,
            acquire_timeout: Duration::from_secs(60),
        };
        let store = Arc::new(SqlStore::connect(&url, &settings).await.unwrap());
        let now = Timestamp::now();
        let user = NewUser {
            name: "Ada".to_owned(),
            email: "ada@example.com".to_owned(),
            role: Role::User,
            password_hash: "not a hash".to_owned(),
        };
        let user = store.register_user(user, now).await.unwrap().id;
        let event = NewEvent {
            name: "Hot".to_owned(),
            description: String::new(),
            event_date: now.plus_seconds(86_400),
            total_seats: 6,
            available_seats: 6,
            seating: None,
            price: None,
        };
        let event = store.create_event(event, now).await.unwrap().id;
        let batching = Arc::new(HoldQueue::new(store.clone(), true));

        // Hold SQLite's write lock from another connection, so that the first batch waits
        // for it (in SQLite's busy handler, up to its busy timeout).
        let mut blocker = sqlx::AnyConnection::connect(&url).await.unwrap();
        blocker.execute("BEGIN IMMEDIATE").await.unwrap();
        let lock = |seats, key: &str| {
            let (batching, request) = (batching.clone(), request(event, user, seats, key));
            tokio::spawn(async move { batching.hold(request).await })
        };
        let first = lock(1, "first");
        until(|| batching.batches_run() == 1).await;

        // Each one queued before the next is sent, so the arrival order is known.
        let mut queued = Vec::new();
        let mut gone = None;
        let plan = [
            (2, "a"),
            (2, "a"),
            (4, "b"),
            (1, "gone"),
            (1, "c"),
            (3, "a"),
            (2, "d"),
            (1, "e"),
        ];
        for (n, (seats, key)) in plan.into_iter().enumerate() {
            let task = lock(seats, key);
            until(|| batching.queued(event) == n + 1).await;
            if key == "gone" {
                // This caller leaves before its batch starts: it is not run at all (had it
                // been, d would not fit and e would).
                task.abort();
                gone = Some(task);
            } else {
                queued.push(task);
            }
        }
        blocker.execute("ROLLBACK").await.unwrap();

        let first = first.await.unwrap().unwrap();
        assert!(!first.replayed);
        let mut answers = Vec::new();
        for task in queued {
            answers.push(task.await.unwrap());
        }
        assert!(gone.unwrap().await.unwrap_err().is_cancelled());
        assert_eq!(
            batching.batches_run(),
            2,
            "one batch, then everything that queued"
        );

        // 5 seats after the first: a (2) fits, its repeat replays it, b (4) does not, c (1)
        // fits, a with 3 seats is another request under a's key, d (2) fits, e (1) does not.
        let refusal = |answer: &StoreResult<LockOutcome>| match answer {
            Err(StoreError::Rejected(rejection)) => rejection.to_string(),
            other => panic!("a refusal, not {other:?}"),
        };
        let a = answers[0].as_ref().unwrap();
        assert!(!a.replayed);
        let again = answers[1].as_ref().unwrap();
        assert!(again.replayed);
        assert_eq!(again.lock.id, a.lock.id);
        assert_eq!(refusal(&answers[2]), "Not enough available seats");
        assert!(!answers[3].as_ref().unwrap().replayed);
        assert_eq!(
            refusal(&answers[4]),
            "idempotencyKey was already used with a different request"
        );
        assert_eq!(answers[5].as_ref().unwrap().lock.seats, 2);
        assert_eq!(refusal(&answers[6]), "Not enough available seats");
        assert_eq!(
            store.event(event).await.unwrap().unwrap().available_seats,
            0
        );
        assert!(
            batching.queues.lock().is_empty(),
            "an event is forgotten once its queue is empty"
        );
        store.close().await;
    }
}
