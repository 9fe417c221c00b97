use crate::domain::Rejection;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A booking rule said no; nothing changed.
    #[error(transparent)]
    Rejected(#[from] Rejection),
    /// The database cannot be reached or is overloaded; worth trying again later.
    #[error("database unavailable")]
    Unavailable(#[source] sqlx::Error),
    /// PostgreSQL chose this transaction as a deadlock or serialization victim; run it again.
    /// The transaction lost a race that running it again resolves: PostgreSQL picked it as a
    /// deadlock or serialization victim, or an equal request committed first.
    #[error("transaction conflict")]
    Conflict(#[source] Option<sqlx::Error>),
    #[error("database error")]
    Internal(#[source] anyhow::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        use sqlx::Error as E;
        match &error {
            E::PoolTimedOut | E::PoolClosed | E::Io(_) | E::Tls(_) | E::WorkerCrashed => {
                Self::Unavailable(error)
            }
            E::Database(db) => match db.code().as_deref() {
                // serialization_failure, deadlock_detected
                Some("40001" | "40P01") => Self::Conflict(Some(error)),
                // SQLITE_BUSY after the busy timeout; admin shutdown, crash shutdown, cannot
                // connect now; connection exceptions
                Some("5" | "517" | "57P01" | "57P02" | "57P03") => Self::Unavailable(error),
                Some(code) if code.starts_with("08") => Self::Unavailable(error),
                _ => Self::Internal(error.into()),
            },
            _ => Self::Internal(error.into()),
        }
    }
}

impl StoreError {
    pub fn corrupt(what: impl std::fmt::Display) -> Self {
        Self::Internal(anyhow::anyhow!("corrupt row: {what}"))
    }
}
