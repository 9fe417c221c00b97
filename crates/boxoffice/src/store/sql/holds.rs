//! Seat holds, a batch at a time (group commit): the lock requests of one event are decided
//! and written in one transaction, and each request gets the answer it would have got alone
//! (the rules themselves are in `domain::lock_batch`). A single request is a batch of one.
//!
//! The statements are set-based, so a batch costs as many round trips as one request: one
//! lookup of the idempotency keys (only when an answer may depend on it; see
//! `lock_event_batch_in`), one of the event with the users, one conditional UPDATE of
//! the counter for every seat granted, one multi-row INSERT (and BEGIN and COMMIT). Round trips
//! are what a batch costs on PostgreSQL, more than rows; and each statement has one text
//! whatever the batch size (`batch_sql.rs`), so it is prepared once per connection.

use std::sync::atomic::{AtomicBool, Ordering};

use sqlx::AssertSqlSafe;

use super::batch_sql::{self, BatchStatements, event_and_users, stored_locks};
use super::{Decision, SqlStore, Tx};
use crate::domain::notification::NotificationType;
use crate::domain::seating::HoldDetails;
use crate::domain::{
    AmountOverflow, Event, LockBatchFacts, LockRequest, LockStatus, LockVerdict, ObjectId,
    SeatLock, Timestamp, decide_lock_batch, granted_seats, short_of_seats,
};
use crate::store::{LockBatch, LockOutcome, StoreError, StoreResult};

/// One transaction's answers, and the seats of lapsed holds it reclaimed.
pub(super) type Decided = (Vec<Decision<LockOutcome>>, i64);

/// The most requests one transaction decides. It bounds the statements' parameters (eleven
/// per request in the INSERT; SQLite allows 32766, PostgreSQL 65535) and how long the event
/// row stays locked.
pub const LOCK_BATCH_MAX: usize = 256;

impl SqlStore {
    /// Decides the requests (in arrival order) one transaction per event and per
    /// `LOCK_BATCH_MAX` of them; the answers come back in the order of the requests.
    pub(super) async fn lock_seats_in_batches(&self, requests: Vec<LockRequest>) -> LockBatch {
        let one_event = requests
            .windows(2)
            .all(|pair| pair[0].event_id == pair[1].event_id);
        if one_event && requests.len() <= LOCK_BATCH_MAX {
            return self.lock_event_batch(requests).await;
        }
        let mut groups: Vec<(ObjectId, Vec<usize>)> = Vec::new();
        for (i, request) in requests.iter().enumerate() {
            match groups
                .iter_mut()
                .find(|(event, _)| *event == request.event_id)
            {
                Some((_, members)) => members.push(i),
                None => groups.push((request.event_id, vec![i])),
            }
        }
        let mut answers: Vec<Option<StoreResult<LockOutcome>>> = vec![None; requests.len()];
        let mut reclaimed_seats = 0;
        for (_, members) in groups {
            for chunk in members.chunks(LOCK_BATCH_MAX) {
                let batch = chunk.iter().map(|&i| requests[i].clone()).collect();
                let decided = self.lock_event_batch(batch).await;
                reclaimed_seats += decided.reclaimed_seats;
                for (&i, answer) in chunk.iter().zip(decided.answers) {
                    answers[i] = Some(answer);
                }
            }
        }
        LockBatch {
            answers: answers
                .into_iter()
                .map(|answer| answer.unwrap_or_else(|| Err(missing_answer())))
                .collect(),
            reclaimed_seats,
        }
    }

    /// One transaction for requests of one event. A request that makes the database fail
    /// outright (PostgreSQL refuses a NUL character in a key, say) must not fail its
    /// neighbours: then each request runs alone.
    async fn lock_event_batch(&self, requests: Vec<LockRequest>) -> LockBatch {
        let rejected = |answer: Decision<LockOutcome>| answer.map_err(StoreError::Rejected);
        match self.lock_event_batch_tx(&requests).await {
            Ok((answers, reclaimed_seats)) => LockBatch {
                answers: answers.into_iter().map(rejected).collect(),
                reclaimed_seats,
            },
            Err(StoreError::Internal(error)) if requests.len() > 1 => {
                tracing::warn!(
                    error = %error,
                    size = requests.len(),
                    "a batch of lock requests failed; running them one at a time"
                );
                let mut alone = LockBatch::default();
                for request in &requests {
                    let answer = self.lock_event_batch_tx(std::slice::from_ref(request));
                    alone
                        .answers
                        .push(answer.await.and_then(|(mut answers, reclaimed)| {
                            alone.reclaimed_seats += reclaimed;
                            answers
                                .pop()
                                .map_or_else(|| Err(missing_answer()), rejected)
                        }));
                }
                alone
            }
            Err(error) => LockBatch {
                answers: vec![Err(error); requests.len()],
                reclaimed_seats: 0,
            },
        }
    }

    /// The batch's transaction, run again from the start after a conflict.
    async fn lock_event_batch_tx(&self, requests: &[LockRequest]) -> StoreResult<Decided> {
        // Not at first; from the attempt after one whose INSERT met a stored key, yes.
        let look_up = AtomicBool::new(false);
        super::in_write_tx!(self, |tx| self
            .lock_event_batch_in(&mut tx, requests, &look_up))
    }

    /// The batch's decisions and writes, in one transaction.
    ///
    /// The idempotency keys are looked up only when an answer may depend on them. A batch in
    /// which every request is granted as new, and whose INSERT finds every key free, had no
    /// stored key (the unique index says so as it inserts), so its look-up would have found
    /// nothing: that is the hot path, and it skips the statement. Any refusal might instead
    /// have been a replay or a 422, so a batch that refuses something looks the keys up and
    /// decides again; one whose INSERT meets a stored key is run again from the start, with
    /// the look-up (`look_up`).
    async fn lock_event_batch_in(
        &self,
        tx: &mut Tx,
        requests: &[LockRequest],
        look_up: &AtomicBool,
    ) -> StoreResult<Decision<Decided>> {
        let Some(first) = requests.first() else {
            return Ok(Ok((Vec::new(), 0)));
        };
        let event_id = first.event_id;
        let now = requests.iter().map(|r| r.now).max().unwrap_or(first.now);
        let sql = &self.sql.batch;
        let (event, user_exists) = event_and_users(tx, sql, requests).await?;
        let mut facts = LockBatchFacts {
            event_date: event.as_ref().map(|event| event.date),
            stored: vec![None; requests.len()],
            user_exists,
        };
        let seated = event.as_ref().is_some_and(|event| event.seated);
        if seated || look_up.load(Ordering::Relaxed) {
            facts.stored = stored_locks(tx, sql, requests).await?;
        }
        if seated {
            // Seated batches always look their keys up: a replay names its seats.
            return self.lock_seated_batch_in(tx, requests, facts, now).await;
        }
        // First as if seats were plenty. The counter just read is only a hint (PostgreSQL may
        // change it before the UPDATE below): when it shows enough, one conditional statement
        // tries to take every seat at once, and the database decides.
        let mut verdicts = decide_lock_batch(requests, &facts, i64::MAX);
        if verdicts.iter().any(|v| matches!(v, LockVerdict::Refuse(_)))
            && !look_up.swap(true, Ordering::Relaxed)
        {
            facts.stored = stored_locks(tx, sql, requests).await?;
            verdicts = decide_lock_batch(requests, &facts, i64::MAX);
        }
        let mut reclaimed = 0;
        let wanted = granted_seats(requests, &verdicts);
        let taken = wanted == 0
            || (event
                .as_ref()
                .is_some_and(|event| event.available_seats >= wanted)
                && take_seats(tx, event_id, wanted, now).await?);
        if !taken {
            // Some will be refused for want of seats: first, which keys were stored.
            if !look_up.swap(true, Ordering::Relaxed) {
                facts.stored = stored_locks(tx, sql, requests).await?;
            }
            (verdicts, reclaimed) = self
                .decide_on_locked_counter(tx, requests, &facts, now)
                .await?;
        }
        // General admission: a granted hold's details are its price, if the event has one.
        // An amount beyond 64 bits fails the batch as an internal error (its requests are
        // then run alone, so it fails only itself): prices within MAX_PRICE never get there.
        let price = event.as_ref().and_then(|event| event.price.as_ref());
        let details: Vec<HoldDetails> = requests
            .iter()
            .zip(&verdicts)
            .map(|(request, verdict)| match (price, verdict) {
                (Some(price), LockVerdict::Grant) => Ok(HoldDetails {
                    price: Some(price.times(request.seats)?),
                    ..HoldDetails::default()
                }),
                _ => Ok(HoldDetails::default()),
            })
            .collect::<Result<_, AmountOverflow>>()?;
        let answers = match insert_locks(tx, sql, requests, &verdicts, facts.stored, &details).await
        {
            Err(StoreError::Conflict(cause)) => {
                look_up.store(true, Ordering::Relaxed);
                return Err(StoreError::Conflict(cause));
            }
            answers => answers?,
        };
        // One `lock.created` per new hold, all in one statement; replays and refusals none.
        let granted = answers.iter().filter_map(|answer| match answer {
            Ok(outcome) if !outcome.replayed => Some(&outcome.lock),
            _ => None,
        });
        self.notify_locks(tx, NotificationType::LockCreated, granted, now)
            .await?;
        Ok(Ok((answers, reclaimed)))
    }

    /// Not every request fits: with the event row locked, grant those that fit in arrival
    /// order (after reclaiming the event's lapsed holds, if some do not), and take their seats.
    /// Also says how many seats of lapsed holds it reclaimed.
    async fn decide_on_locked_counter(
        &self,
        tx: &mut Tx,
        requests: &[LockRequest],
        facts: &LockBatchFacts,
        now: Timestamp,
    ) -> StoreResult<(Vec<LockVerdict>, i64)> {
        let event_id = requests[0].event_id;
        let event: Option<Event> = sqlx::query_as(AssertSqlSafe(self.sql.event_for_update.clone()))
            .bind(event_id)
            .fetch_optional(&mut **tx)
            .await?;
        let Some(event) = event else {
            // Gone since it was read (events are never deleted today): run again.
            return Err(StoreError::Conflict(None));
        };
        let mut available = event.available_seats;
        let mut verdicts = decide_lock_batch(requests, facts, available);
        let mut reclaimed_seats = 0;
        if short_of_seats(&verdicts) {
            // Holds that lapsed but were not swept yet still count against the event:
            // release them now rather than turn a buyer away.
            let reclaimed = self
                .expire_lapsed_in(tx, Some(event_id), now, i64::MAX)
                .await?;
            reclaimed_seats = reclaimed.seats;
            if reclaimed.seats > 0 {
                available += reclaimed.seats;
                verdicts = decide_lock_batch(requests, facts, available);
            }
        }
        // Still one conditional statement: the count read above chose who gets seats, but the
        // database checks that they are there.
        let taking = granted_seats(requests, &verdicts);
        if taking > 0 && !take_seats(tx, event_id, taking, now).await? {
            return Err(StoreError::Conflict(None));
        }
        Ok((verdicts, reclaimed_seats))
    }
}

/// Takes `seats` from the event if it still has them: one conditional statement.
pub(super) async fn take_seats(
    tx: &mut Tx,
    event_id: ObjectId,
    seats: i64,
    now: Timestamp,
) -> StoreResult<bool> {
    let taken = sqlx::query(
        "UPDATE events SET available_seats = available_seats - $2, updated_at = $3 \
         WHERE id = $1 AND available_seats >= $2",
    )
    .bind(event_id)
    .bind(seats)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(taken.rows_affected() == 1)
}

/// Writes the granted locks in one statement and pairs every request with its answer;
/// `details` are what each request's lock holds, if it is granted.
pub(super) async fn insert_locks(
    tx: &mut Tx,
    sql: &BatchStatements,
    requests: &[LockRequest],
    verdicts: &[LockVerdict],
    stored: Vec<Option<SeatLock>>,
    details: &[HoldDetails],
) -> StoreResult<Vec<Decision<LockOutcome>>> {
    let made: Vec<Option<SeatLock>> = requests
        .iter()
        .zip(verdicts)
        .zip(details)
        .map(|((request, verdict), details)| {
            (*verdict == LockVerdict::Grant).then(|| request.new_lock(details.clone()))
        })
        .collect();
    let mut new: Vec<&SeatLock> = made.iter().flatten().collect();
    if !new.is_empty() {
        // Every transaction inserts keys in the same order, so that two batches with keys in
        // common wait for each other instead of deadlocking.
        new.sort_by(|a, b| (a.user_id, &a.idempotency_key).cmp(&(b.user_id, &b.idempotency_key)));
        let inserted: Vec<ObjectId> = sqlx::query_scalar(AssertSqlSafe(sql.insert_locks.clone()))
            .bind(requests[0].event_id)
            .bind(LockStatus::Active)
            .bind(batch_sql::lock_rows(&new))
            .fetch_all(&mut **tx)
            .await?;
        if inserted.len() != new.len() {
            // One of these keys is taken: by an earlier request (its look-up was skipped), or
            // by a simultaneous one that committed first (on another instance, or for another
            // event). Undo everything and run the batch again: the next attempt looks the
            // keys up, finds that lock and replays it.
            return Err(StoreError::Conflict(None));
        }
    }
    verdicts
        .iter()
        .enumerate()
        .map(|(i, verdict)| {
            let (lock, replayed) = match verdict {
                LockVerdict::Grant => (&made[i], false),
                LockVerdict::ReplayStored => (&stored[i], true),
                LockVerdict::ReplayOf(first) => (&made[*first], true),
                LockVerdict::Refuse(rejection) => return Ok(Err(rejection.clone())),
            };
            let lock = lock.clone().ok_or_else(missing_answer)?;
            Ok(Ok(LockOutcome { lock, replayed }))
        })
        .collect()
}

fn missing_answer() -> StoreError {
    anyhow::anyhow!("a lock request of a batch was left without an answer").into()
}
