//! Request deadlines, so that a 503 means nothing changed (CONTRACT.md rule 8).
//!
//! Every request gets a [`Deadline`] `REQUEST_TIMEOUT_MS` ahead (`http::middleware`). A write
//! decides against it at one moment only, right before its COMMIT ([`may_commit`]): past the
//! deadline it rolls back and is answered `503 Request timed out`; before it, the COMMIT begins
//! and the request waits for it and answers its true outcome, however long that takes. The
//! middleware, when the time is up, answers 503 only if it can [`Deadline::abandon`] the request
//! first; a request whose commit has begun cannot be abandoned.
//!
//! The two sides agree through one atomic state per request (open → committing, or open →
//! abandoned, never both), so a request answered 503 never has a change committed for it, and
//! a change that committed is never answered 503.
//!
//! The deadline reaches the store without a parameter: it is a task-local value, in scope
//! around the request's handler ([`within`]). The hold queue decides other requests' holds in
//! a task of its own; it puts all of their deadlines in scope for the batch, and a batch commits
//! only if every one of its callers may still have a change committed for it.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

const OPEN: u8 = 0;
const COMMITTING: u8 = 1;
const ABANDONED: u8 = 2;

/// When a request must have its answer, and whether a commit for it has begun. Clones share
/// the state.
#[derive(Clone, Debug)]
pub struct Deadline {
    at: Instant,
    state: Arc<AtomicU8>,
}

impl Deadline {
    /// A deadline `bound` from now.
    pub fn after(bound: Duration) -> Self {
        Self {
            at: Instant::now() + bound,
            state: Arc::new(AtomicU8::new(OPEN)),
        }
    }

    /// The instant the deadline falls.
    pub fn at(&self) -> Instant {
        self.at
    }

    /// Called right before a COMMIT on this request's behalf: whether it may begin. Before the
    /// deadline it may, and from then on the request is answered with the commit's outcome;
    /// once a commit has begun, later ones may too (the request has changed something, so its
    /// answer must say what). Past the deadline, with no commit begun, the request is
    /// abandoned: roll back.
    pub fn begin_commit(&self) -> bool {
        if Instant::now() >= self.at {
            return !self.abandon();
        }
        match self
            .state
            .compare_exchange(OPEN, COMMITTING, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => true,
            Err(state) => state == COMMITTING,
        }
    }

    /// Gives the request up (its answer will be a 503), unless a commit for it has begun;
    /// true if it is given up (now or before).
    pub fn abandon(&self) -> bool {
        match self
            .state
            .compare_exchange(OPEN, ABANDONED, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => true,
            Err(state) => state == ABANDONED,
        }
    }

    /// Whether the request may still start work: not given up, and either before the deadline
    /// or with a commit already begun. Past the deadline, an open request is given up here.
    pub fn may_begin(&self) -> bool {
        if Instant::now() >= self.at {
            return !self.abandon();
        }
        self.state.load(Ordering::Acquire) != ABANDONED
    }
}

tokio::task_local! {
    /// The deadlines of the requests that the current task's writes are made for.
    static DEADLINES: Arc<[Deadline]>;
}

/// Runs `work` with `deadlines` in scope: its writes commit only if each of them may
/// ([`may_commit`]).
pub async fn within<F: Future>(deadlines: Arc<[Deadline]>, work: F) -> F::Output {
    DEADLINES.scope(deadlines, work).await
}

/// The deadline of the one request the current task works for, if there is one.
pub fn current() -> Option<Deadline> {
    DEADLINES
        .try_with(|deadlines| match &**deadlines {
            [one] => Some(one.clone()),
            _ => None,
        })
        .ok()
        .flatten()
}

/// Whether a write may begin now: every request it is for may still start work. Outside any
/// request (the sweeper, start-up, `check`) there is no deadline.
pub fn may_begin() -> bool {
    DEADLINES
        .try_with(|deadlines| deadlines.iter().all(Deadline::may_begin))
        .unwrap_or(true)
}

/// Whether a write may COMMIT now (see [`Deadline::begin_commit`]); when this says no, the
/// caller rolls back and answers that the request timed out.
pub fn may_commit() -> bool {
    DEADLINES
        .try_with(|deadlines| deadlines.iter().all(Deadline::begin_commit))
        .unwrap_or(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_either_committed_for_or_abandoned_never_both() {
        let deadline = Deadline::after(Duration::from_secs(60));
        assert!(deadline.may_begin());
        assert!(deadline.begin_commit());
        assert!(
            !deadline.abandon(),
            "a commit has begun: wait for its outcome"
        );
        assert!(
            deadline.begin_commit(),
            "a second write of the same request"
        );

        let late = Deadline::after(Duration::from_secs(60));
        assert!(late.abandon());
        assert!(!late.begin_commit());
        assert!(!late.may_begin());
    }

    #[test]
    fn past_the_deadline_an_open_request_is_given_up() {
        let passed = Deadline::after(Duration::ZERO);
        assert!(!passed.may_begin());
        assert!(!passed.begin_commit());
        assert!(passed.abandon());

        let committed = Deadline::after(Duration::from_millis(20));
        assert!(committed.begin_commit());
        std::thread::sleep(Duration::from_millis(30));
        assert!(
            committed.begin_commit(),
            "committing: its outcome is the answer"
        );
        assert!(committed.may_begin());
        assert!(!committed.abandon());
    }

    #[tokio::test]
    async fn writes_see_the_deadlines_in_scope() {
        assert!(may_commit(), "no request, no deadline");
        let passed = Deadline::after(Duration::ZERO);
        let open = Deadline::after(Duration::from_secs(60));
        let both: Arc<[Deadline]> = vec![open.clone(), passed].into();
        assert!(!within(both, async { may_commit() }).await);
        let one: Arc<[Deadline]> = vec![open.clone()].into();
        assert!(within(one, async { current().is_some() && may_commit() }).await);
        assert!(!open.abandon());
    }
}
