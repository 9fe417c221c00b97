//! A unit of work: one write transaction that a request's change and its kept answer share
//! (CONTRACT.md, "Retrying any write": the answer to an `Idempotency-Key` is written in the
//! same transaction as the change).
//!
//! Whoever answers the request opens a [`UnitOfWork`] and runs the request in its scope; the
//! write use cases (`in_write_tx!`) then join its transaction instead of beginning and
//! committing their own, and the opener completes it with the answer
//! (`Store::keep_answer`) or rolls it back (`Store::release_idempotency_key`). No use case
//! takes a parameter for it: the unit is a task-local value, like the request's deadline.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use super::Tx;

/// The transaction of one request's writes, begun by its first write, if any yet. Clones
/// share it.
#[derive(Clone, Default)]
pub struct UnitOfWork {
    tx: Arc<Mutex<Option<Tx>>>,
}

tokio::task_local! {
    static CURRENT: UnitOfWork;
}

impl UnitOfWork {
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs `work` with this unit in scope: its writes join the unit's transaction.
    pub async fn scope<F: Future>(&self, work: F) -> F::Output {
        CURRENT.scope(self.clone(), work).await
    }

    /// The unit in scope, if any.
    pub(super) fn current() -> Option<Self> {
        CURRENT.try_with(Self::clone).ok()
    }

    /// The unit's transaction, taken out to work in (the slot is never held across an await).
    pub(super) fn take(&self) -> Option<Tx> {
        self.tx
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    /// Gives the transaction back, to be joined by the next write or completed by the opener.
    pub(super) fn put(&self, tx: Tx) {
        *self.tx.lock().unwrap_or_else(PoisonError::into_inner) = Some(tx);
    }
}
