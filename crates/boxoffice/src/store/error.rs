use std::sync::Arc;

use super::failover;
use crate::domain::{AmountOverflow, Rejection};

/// Cheap to clone (the causes are shared), so that one failed transaction that answered many
/// requests at once (a batch of seat holds) can give each of them the same error.
#[derive(Clone, Debug, thiserror::Error)]
pub enum StoreError {
    /// A booking rule said no; nothing changed.
    #[error(transparent)]
    Rejected(#[from] Rejection),
    /// The database cannot be reached or is overloaded; worth trying again later.
    #[error("database unavailable")]
    Unavailable(#[source] Arc<sqlx::Error>),
    /// The transaction lost a race that running it again resolves: PostgreSQL picked it as a
    /// deadlock or serialization victim, or an equal request committed first.
    #[error("transaction conflict")]
    Conflict(#[source] Option<Arc<sqlx::Error>>),
    /// The request's deadline passed before COMMIT began: the transaction rolled back, and
    /// nothing changed (CONTRACT.md rule 8).
    #[error("the request's deadline passed before its commit")]
    TimedOut,
    /// The connection was lost while COMMIT was in flight: the change may or may not have been
    /// made, and no one can tell (CONTRACT.md rule 8). A retry with the same idempotency key
    /// is safe.
    #[error("connection lost during commit")]
    OutcomeUnknown(#[source] Arc<sqlx::Error>),
    #[error("database error")]
    Internal(#[source] Arc<dyn std::error::Error + Send + Sync>),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        use sqlx::Error as E;
        // A dead, restarting or demoted leader is not a bug: the database is unavailable here
        // for now (see failover.rs).
        if failover::lost_connection(&error) || failover::not_the_leader(&error) {
            return Self::Unavailable(Arc::new(error));
        }
        match &error {
            E::PoolTimedOut | E::PoolClosed => Self::Unavailable(Arc::new(error)),
            E::Database(db) => match db.code().as_deref() {
                // serialization_failure, deadlock_detected
                Some("40001" | "40P01") => Self::Conflict(Some(Arc::new(error))),
                // SQLITE_BUSY after the busy timeout
                Some("5" | "517") => Self::Unavailable(Arc::new(error)),
                // insufficient resources (class 53: a full disk, out of memory, too many
                // connections, as on a new leader still full of its former clients): the
                // statement failed and rolled back; the server cannot take it now
                Some(code) if code.starts_with("53") => Self::Unavailable(Arc::new(error)),
                _ => Self::Internal(Arc::new(error)),
            },
            _ => Self::Internal(Arc::new(error)),
        }
    }
}

/// An amount beyond 64 bits: not a client's fault (prices are bounded where they enter), so
/// an internal error, answered 500, with nothing changed.
impl From<AmountOverflow> for StoreError {
    fn from(error: AmountOverflow) -> Self {
        Self::Internal(Arc::new(error))
    }
}

impl From<anyhow::Error> for StoreError {
    fn from(error: anyhow::Error) -> Self {
        let error: Box<dyn std::error::Error + Send + Sync> = error.into();
        Self::Internal(error.into())
    }
}

impl StoreError {
    /// The rule's refusal, if a rule refused; otherwise the error itself.
    pub fn into_rejection(self) -> Result<Rejection, Self> {
        match self {
            Self::Rejected(rejection) => Ok(rejection),
            other => Err(other),
        }
    }

    /// Whether the change may or may not have been made: the connection was lost during its
    /// COMMIT (CONTRACT.md rule 8, answered 503 `OUTCOME_UNKNOWN`).
    pub fn is_outcome_unknown(&self) -> bool {
        matches!(self, Self::OutcomeUnknown(_))
    }

    /// Whether trying again later may succeed: the database is unreachable or overloaded, or
    /// a transaction kept losing races (load, not a bug). Nothing changed (CONTRACT.md rule 8).
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unavailable(_) | Self::Conflict(_))
    }

    /// Whether the request's deadline passed before anything was committed for it.
    pub fn timed_out(&self) -> bool {
        matches!(self, Self::TimedOut)
    }

    /// The error of a COMMIT: a connection lost while it was in flight leaves the outcome
    /// unknown (rule 8); anything else is classified as any other error (a serialization
    /// failure at commit, say, rolled the transaction back).
    pub fn from_commit(error: sqlx::Error) -> Self {
        if failover::lost_connection(&error) {
            Self::OutcomeUnknown(Arc::new(error))
        } else {
            Self::from(error)
        }
    }

    pub fn corrupt(what: impl std::fmt::Display) -> Self {
        anyhow::anyhow!("corrupt row: {what}").into()
    }
}
