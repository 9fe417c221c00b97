//! Deciding many lock requests for one event at once (group commit). The rules are those of a
//! single request, applied in arrival order, so that each request gets the answer it would have
//! got had the requests run one after another: a batch changes how many transactions there
//! are, never what anyone is told.

use std::collections::HashMap;

use super::{LockRequest, ObjectId, Rejection, SeatLock, Timestamp};

/// What the database said about a batch's requests, read once for all of them.
#[derive(Clone, Debug, Default)]
pub struct LockBatchFacts {
    /// The event's date, if the event exists.
    pub event_date: Option<Timestamp>,
    /// For each request, the lock already stored under its `(user, idempotency key)`, if any.
    pub stored: Vec<Option<SeatLock>>,
    /// For each request, whether its user exists.
    pub user_exists: Vec<bool>,
}

/// The answer to one request of a batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LockVerdict {
    /// Hold its seats under a new lock.
    Grant,
    /// An earlier transaction made this very lock: replay the stored one.
    ReplayStored,
    /// The request at this (earlier) index of the same batch was granted under the same key
    /// with the same event and seats: replay that lock.
    ReplayOf(usize),
    Refuse(Rejection),
}

/// Decides every request for a general-admission event in arrival order, with `available`
/// seats to give: a request that fits is granted, and a later, smaller one may still fit after
/// a bigger one did not. Seats by name or best available need a seating chart: 400
/// `Event has no seating chart`.
///
/// The checks, in order, are those of a single request: a repeated key (replay, or 422 if it
/// was used for a different request), the event, the user, the event's date, the seats. A
/// key repeated within the batch replays the first request that was granted under it; a
/// request refused earlier in the batch made no lock, so a repeat of it is decided afresh.
pub fn decide_lock_batch(
    requests: &[LockRequest],
    facts: &LockBatchFacts,
    available: i64,
) -> Vec<LockVerdict> {
    let mut left = available;
    decide_lock_batch_with(requests, facts, |_, request| {
        if request.selection.needs_chart() {
            Err(Rejection::NoSeatingChart)
        } else if request.seats <= left {
            left -= request.seats;
            Ok(())
        } else {
            Err(Rejection::NotEnoughSeats)
        }
    })
}

/// [`decide_lock_batch`] with the seats given out by `take`, called in arrival order for
/// each request (by index) that passed every other check: `Ok` grants it (and `take` keeps
/// what it gave), an error refuses it. A seated event's holds take named or best available
/// seats this way (`domain::seating::SeatPlan::hold`).
pub fn decide_lock_batch_with(
    requests: &[LockRequest],
    facts: &LockBatchFacts,
    mut take: impl FnMut(usize, &LockRequest) -> Result<(), Rejection>,
) -> Vec<LockVerdict> {
    let mut granted: HashMap<(ObjectId, &str), usize> = HashMap::new();
    let mut verdicts = Vec::with_capacity(requests.len());
    for (i, request) in requests.iter().enumerate() {
        let key = (request.user_id, request.idempotency_key.as_str());
        let verdict = if let Some(Some(stored)) = facts.stored.get(i) {
            if request.matches(stored) {
                LockVerdict::ReplayStored
            } else {
                LockVerdict::Refuse(Rejection::IdempotencyKeyReused)
            }
        } else if let Some(&first) = granted.get(&key) {
            let original = &requests[first];
            if original.event_id == request.event_id && original.seats == request.seats {
                LockVerdict::ReplayOf(first)
            } else {
                LockVerdict::Refuse(Rejection::IdempotencyKeyReused)
            }
        } else if let Some(refusal) = refusal(request, facts, i) {
            LockVerdict::Refuse(refusal)
        } else {
            match take(i, request) {
                Ok(()) => {
                    granted.insert(key, i);
                    LockVerdict::Grant
                }
                Err(rejection) => LockVerdict::Refuse(rejection),
            }
        };
        verdicts.push(verdict);
    }
    verdicts
}

/// Why a new lock cannot be made for this request whatever the seats, if it cannot.
fn refusal(request: &LockRequest, facts: &LockBatchFacts, i: usize) -> Option<Rejection> {
    let Some(event_date) = facts.event_date else {
        return Some(Rejection::EventNotFound);
    };
    if !facts.user_exists.get(i).copied().unwrap_or(false) {
        Some(Rejection::UserNotFound)
    } else if event_date <= request.now {
        Some(Rejection::EventStarted)
    } else {
        None
    }
}

/// The seats the granted requests hold together.
pub fn granted_seats(requests: &[LockRequest], verdicts: &[LockVerdict]) -> i64 {
    requests
        .iter()
        .zip(verdicts)
        .filter(|(_, verdict)| **verdict == LockVerdict::Grant)
        .map(|(request, _)| request.seats)
        .sum()
}

/// Whether some request was refused only for want of seats (a count, or named seats that
/// are taken: a lapsed hold may be what takes them).
pub fn short_of_seats(verdicts: &[LockVerdict]) -> bool {
    verdicts.iter().any(|verdict| {
        matches!(
            verdict,
            LockVerdict::Refuse(Rejection::NotEnoughSeats | Rejection::SeatsUnavailable(_))
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000;

    fn request(user: ObjectId, event: ObjectId, seats: i64, key: &str) -> LockRequest {
        LockRequest {
            event_id: event,
            user_id: user,
            seats,
            idempotency_key: key.to_owned(),
            selection: Default::default(),
            now: Timestamp::from_millis(NOW),
            expires_at: Timestamp::from_millis(NOW + 300_000),
        }
    }

    fn facts(n: usize) -> LockBatchFacts {
        LockBatchFacts {
            event_date: Some(Timestamp::from_millis(NOW + 86_400_000)),
            stored: vec![None; n],
            user_exists: vec![true; n],
        }
    }

    fn stored_lock(request: &LockRequest) -> SeatLock {
        request.new_lock(Default::default())
    }

    use LockVerdict::{Grant, Refuse, ReplayOf, ReplayStored};
    const SHORT: LockVerdict = Refuse(Rejection::NotEnoughSeats);

    #[test]
    fn grants_in_arrival_order_while_seats_last_and_lets_smaller_ones_through() {
        let (user, event) = (ObjectId::generate(), ObjectId::generate());
        let requests: Vec<_> = [3, 4, 2, 1, 1]
            .iter()
            .enumerate()
            .map(|(i, &seats)| request(user, event, seats, &format!("k{i}")))
            .collect();
        let verdicts = decide_lock_batch(&requests, &facts(5), 6);
        assert_eq!(verdicts, [Grant, SHORT, Grant, Grant, SHORT]);
        assert_eq!(granted_seats(&requests, &verdicts), 6);
        assert!(short_of_seats(&verdicts));

        let plenty = decide_lock_batch(&requests, &facts(5), i64::MAX);
        assert_eq!(plenty, vec![Grant; 5]);
        assert_eq!(granted_seats(&requests, &plenty), 11);
        assert!(!short_of_seats(&plenty));

        assert_eq!(decide_lock_batch(&requests, &facts(5), 0), vec![SHORT; 5]);
    }

    #[test]
    fn a_repeated_key_replays_the_first_grant_or_is_refused_if_it_differs() {
        let (user, event) = (ObjectId::generate(), ObjectId::generate());
        let other_user = ObjectId::generate();
        let requests = [
            request(user, event, 2, "same"),
            request(user, event, 2, "same"),
            request(user, event, 3, "same"),
            request(other_user, event, 3, "same"),
            request(user, ObjectId::generate(), 2, "same"),
        ];
        let verdicts = decide_lock_batch(&requests, &facts(5), 100);
        assert_eq!(
            verdicts,
            [
                Grant,
                ReplayOf(0),
                Refuse(Rejection::IdempotencyKeyReused),
                Grant,
                Refuse(Rejection::IdempotencyKeyReused),
            ]
        );
        assert_eq!(granted_seats(&requests, &verdicts), 5);
    }

    #[test]
    fn a_repeat_of_a_refused_request_is_decided_afresh() {
        let (user, event) = (ObjectId::generate(), ObjectId::generate());
        let requests = [
            request(user, event, 5, "k"),
            request(user, event, 5, "k"),
            request(user, event, 2, "k"),
            request(user, event, 2, "k"),
        ];
        assert_eq!(
            decide_lock_batch(&requests, &facts(4), 3),
            [SHORT, SHORT, Grant, ReplayOf(2)]
        );
    }

    #[test]
    fn a_stored_lock_is_replayed_before_any_other_check() {
        let (user, event) = (ObjectId::generate(), ObjectId::generate());
        let requests = [
            request(user, event, 2, "old"),
            request(user, event, 4, "old"),
            request(user, event, 2, "old"),
        ];
        let earlier = stored_lock(&requests[0]);
        let mut facts = facts(3);
        facts.stored = vec![Some(earlier.clone()), Some(earlier.clone()), Some(earlier)];
        facts.user_exists = vec![false; 3];
        assert_eq!(
            decide_lock_batch(&requests, &facts, 0),
            [
                ReplayStored,
                Refuse(Rejection::IdempotencyKeyReused),
                ReplayStored
            ]
        );
    }

    #[test]
    fn unknown_users_and_missing_or_past_events_are_refused_without_taking_seats() {
        let (user, event) = (ObjectId::generate(), ObjectId::generate());
        let mut requests = vec![
            request(user, event, 1, "a"),
            request(ObjectId::generate(), event, 1, "b"),
            request(user, event, 1, "c"),
        ];
        let mut facts = facts(3);
        facts.user_exists[1] = false;
        assert_eq!(
            decide_lock_batch(&requests, &facts, 2),
            [Grant, Refuse(Rejection::UserNotFound), Grant]
        );

        requests[2].now = Timestamp::from_millis(NOW + 2 * 86_400_000);
        assert_eq!(
            decide_lock_batch(&requests, &facts, 2),
            [
                Grant,
                Refuse(Rejection::UserNotFound),
                Refuse(Rejection::EventStarted)
            ]
        );

        facts.event_date = None;
        assert_eq!(
            decide_lock_batch(&requests, &facts, 2),
            vec![Refuse(Rejection::EventNotFound); 3]
        );
    }
}
