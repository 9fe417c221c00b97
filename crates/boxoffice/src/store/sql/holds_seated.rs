//! Holds on a seated event, a batch at a time (CONTRACT.md, "Reserved seating", "Rules"): with
//! the event row locked, the seats' statuses are read once, every request is decided in
//! arrival order on them (`domain::seating::SeatPlan::hold`: by name, or best available), and
//! the granted seats are taken by one conditional write on the seat rows (`status = 'FREE'`)
//! in the transaction that writes the locks and moves the event's counter. Should a write find
//! a seat no longer FREE, everything is undone and the batch decided again.

use sqlx::AssertSqlSafe;

use super::holds::{Decided, insert_locks, take_seats};
use super::{Decision, SqlStore, Tx};
use crate::domain::notification::NotificationType;
use crate::domain::seating::{HeldSeats, HoldDetails, SeatPlan, SeatingChart};
use crate::domain::{
    AmountOverflow, Event, LockBatchFacts, LockRequest, LockVerdict, ObjectId, Timestamp,
    decide_lock_batch_with, granted_seats, short_of_seats,
};
use crate::store::{StoreError, StoreResult};

impl SqlStore {
    pub(super) async fn lock_seated_batch_in(
        &self,
        tx: &mut Tx,
        requests: &[LockRequest],
        facts: LockBatchFacts,
        now: Timestamp,
    ) -> StoreResult<Decision<Decided>> {
        let event_id = requests[0].event_id;
        // The event row first, as on every path: batches of this event on other instances
        // wait here, so each decides on the seats as the one before it left them.
        let event: Option<Event> = sqlx::query_as(AssertSqlSafe(self.sql.event_for_update.clone()))
            .bind(event_id)
            .fetch_optional(&mut **tx)
            .await?;
        let Some(chart) = event.as_ref().and_then(|event| event.seating.clone()) else {
            return Err(StoreError::Conflict(None));
        };
        let available = event.map_or(0, |event| event.available_seats);
        let (mut verdicts, mut held) =
            decide(tx, &chart, event_id, available, requests, &facts).await?;
        let mut reclaimed_seats = 0;
        if short_of_seats(&verdicts) {
            // Seats of holds that lapsed unswept are not FREE yet: free them, then decide again.
            let reclaimed = self
                .expire_lapsed_in(tx, Some(event_id), now, i64::MAX)
                .await?;
            reclaimed_seats = reclaimed.seats;
            if reclaimed.seats > 0 {
                (verdicts, held) = decide(
                    tx,
                    &chart,
                    event_id,
                    available + reclaimed.seats,
                    requests,
                    &facts,
                )
                .await?;
            }
        }
        let taking = granted_seats(requests, &verdicts);
        if taking > 0 && !take_seats(tx, event_id, taking, now).await? {
            return Err(StoreError::Conflict(None));
        }
        // An amount beyond 64 bits fails the batch as an internal error (its requests are
        // then run alone): prices within MAX_PRICE never get there.
        let details: Vec<HoldDetails> = requests
            .iter()
            .zip(&held)
            .map(|(request, held)| match held {
                Some(held) => Ok(HoldDetails {
                    seat_labels: Some(held.labels.clone()),
                    seat_request: request.selection.canonical(),
                    next_to_each_other: held.next_to_each_other,
                    price: Some(chart.price_of_seats(&held.seats)?),
                }),
                None => Ok(HoldDetails::default()),
            })
            .collect::<Result<_, AmountOverflow>>()?;
        let answers = insert_locks(
            tx,
            &self.sql.batch,
            requests,
            &verdicts,
            facts.stored,
            &details,
        )
        .await?;
        // The seat rows name their locks, so they are written once the locks exist.
        let holds: Vec<(ObjectId, &[usize])> = verdicts
            .iter()
            .zip(&answers)
            .zip(&held)
            .filter(|((verdict, _), _)| **verdict == LockVerdict::Grant)
            .filter_map(|((_, answer), held)| {
                let lock = answer.as_ref().ok()?.lock.id;
                Some((lock, held.as_ref()?.seats.as_slice()))
            })
            .collect();
        if !super::seats::hold_seats(tx, event_id, &holds).await? {
            return Err(StoreError::Conflict(None));
        }
        // One `lock.created` per new hold, all in one statement; replays and refusals none.
        let granted = answers.iter().filter_map(|answer| match answer {
            Ok(outcome) if !outcome.replayed => Some(&outcome.lock),
            _ => None,
        });
        self.notify_locks(tx, NotificationType::LockCreated, granted, now)
            .await?;
        Ok(Ok((answers, reclaimed_seats)))
    }
}

/// Decides the batch on the seats as they are now: each request's verdict and, when granted,
/// its seats.
async fn decide(
    tx: &mut Tx,
    chart: &SeatingChart,
    event_id: ObjectId,
    available: i64,
    requests: &[LockRequest],
    facts: &LockBatchFacts,
) -> StoreResult<(Vec<LockVerdict>, Vec<Option<HeldSeats>>)> {
    let statuses =
        super::seats::seats_for_decision(tx, event_id, chart.seat_count(), available).await?;
    let mut plan = SeatPlan::new(chart, statuses);
    let mut held = vec![None; requests.len()];
    let verdicts = decide_lock_batch_with(requests, facts, |i, request| {
        held[i] = Some(plan.hold(&request.selection, request.seats as usize)?);
        Ok(())
    });
    Ok((verdicts, held))
}
