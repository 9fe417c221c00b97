//! The use cases as SQL, shared by SQLite and PostgreSQL: one file per resource, and one
//! dispatching `impl Store` (`dispatch.rs`).
//!
//! Seats only ever move in single conditional statements (`available_seats >= n` to take,
//! a status change from ACTIVE or CONSUMED to EXPIRED to give back, `expiry.rs`), inside the
//! transaction that changes the lock or booking they belong to: the counter and the rows agree
//! or nothing happened. The rules themselves are asked of `domain`; this writes the answers.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use sqlx::{Any, AnyPool, Transaction};

mod batch_sql;
mod bookings;
mod checkpoint;
mod dialect;
mod dispatch;
mod events;
mod expiry;
mod holds;
mod holds_seated;
mod idempotency;
mod import;
mod inventory;
mod lists;
mod locks;
mod logins;
mod notifications;
mod payments;
mod rekey;
mod replica;
mod rows;
mod seat_counts;
mod seats;
mod secrets;
mod unit_of_work;
mod users;
mod values;

pub use dialect::{Dialect, PoolSettings};
pub use holds::LOCK_BATCH_MAX;
pub use notifications::SEQUENCE_BATCH;
pub use unit_of_work::UnitOfWork;

use super::{StoreError, StoreResult};
use crate::domain::Rejection;
use crate::domain::notification::ShowResource;
use dialect::Pools;
use rows::{booking_columns, event_columns, lock_columns};

type Tx = Transaction<'static, Any>;

/// What a write transaction decided: a value, or a rule's refusal. Either way it commits
/// (a refusal may still have changed something, such as expiring a lapsed hold on the spot).
type Decision<T> = Result<T, Rejection>;

/// How often a transaction that lost a deadlock or serialization race is run again.
const MAX_ATTEMPTS: u32 = 8;

/// Runs `$work` (an expression using the transaction `$tx`) in a write transaction and commits
/// what it decided; runs it again from the start after a conflict. A macro rather than a
/// function taking a closure, because a closure over a borrowed transaction cannot yet be
/// proven `Send` for every lifetime.
///
/// The request's deadline (`crate::deadline`, CONTRACT.md rule 8) is asked before BEGIN and
/// right before COMMIT: past it, the transaction rolls back and the answer is
/// [`StoreError::TimedOut`]; once the COMMIT has begun, it is waited for, however long it takes.
macro_rules! in_write_tx {
    ($store:expr, |$tx:ident| $work:expr) => {{
        // A request that keeps its answer (an `Idempotency-Key`) opened a unit of work: join
        // its transaction, which its opener commits with the answer.
        let unit = $crate::store::UnitOfWork::current();
        let mut attempt = 1;
        loop {
            if !$crate::deadline::may_begin() {
                break Err($crate::store::StoreError::TimedOut);
            }
            let joined = unit.as_ref().and_then($crate::store::UnitOfWork::take);
            let mut $tx = match joined {
                Some(tx) => tx,
                None => {
                    $store
                        .writer
                        .begin_with($store.dialect.begin_write())
                        .await?
                }
            };
            let result = match $work.await {
                Ok(decision) => match &unit {
                    Some(unit) => {
                        unit.put($tx);
                        Ok(decision)
                    }
                    None if $crate::deadline::may_commit() => $tx
                        .commit()
                        .await
                        .map_err($crate::store::StoreError::from_commit)
                        .map(|()| decision),
                    None => {
                        // Too late: nothing of it may stand. A failed ROLLBACK still commits
                        // nothing (the connection is closed, and the server rolls back).
                        let _ = $tx.rollback().await;
                        Err($crate::store::StoreError::TimedOut)
                    }
                },
                Err(error) => Err(error),
            };
            if let Some(answer) = $store.after_attempt(result, &mut attempt).await {
                break answer;
            }
        }
    }};
}
use in_write_tx;

pub struct SqlStore {
    dialect: Dialect,
    writer: AnyPool,
    reader: AnyPool,
    /// Where public reads go when `DATABASE_REPLICA_URL` is set (see replica.rs).
    replica: Option<replica::Replica>,
    sql: Statements,
    /// How a notification shows its resource (the HTTP layer's views), once the server has
    /// said; until then no notification is written (`notifications/outbox.rs`).
    show: OnceLock<Arc<dyn ShowResource>>,
}

/// Statements whose text depends on the dialect or on the domain, built once.
struct Statements {
    lapsed_locks: Arc<str>,
    lapsed_locks_of_event: Arc<str>,
    lapsed_bookings: Arc<str>,
    lapsed_bookings_of_event: Arc<str>,
    booking_for_update: Arc<str>,
    event_for_update: Arc<str>,
    lock_for_update: Arc<str>,
    inventory: inventory::Statements,
    batch: batch_sql::BatchStatements,
}

impl Statements {
    fn new(dialect: Dialect) -> Self {
        let (lapsed_locks, lapsed_locks_of_event) = expiry::lapsed_locks(dialect);
        let (lapsed_bookings, lapsed_bookings_of_event) = expiry::lapsed_bookings(dialect);
        Self {
            lapsed_locks,
            lapsed_locks_of_event,
            lapsed_bookings,
            lapsed_bookings_of_event,
            booking_for_update: dialect.statement(concat!(
                "SELECT ",
                booking_columns!(),
                " FROM bookings WHERE id = $1{for_update}"
            )),
            event_for_update: dialect.statement(concat!(
                "SELECT ",
                event_columns!(),
                " FROM events WHERE id = $1{for_update}"
            )),
            lock_for_update: dialect.statement(concat!(
                "SELECT ",
                lock_columns!(),
                " FROM seat_locks WHERE id = $1{for_update}"
            )),
            inventory: inventory::Statements::new(),
            batch: batch_sql::BatchStatements::new(dialect),
        }
    }
}

impl SqlStore {
    /// Connects to `url` (`sqlite://PATH` or `postgres://…`), brings the schema up to date, and
    /// computes the Unicode keys of rows written before migration 0003 (`rekey.rs`).
    pub async fn connect(url: &str, settings: &PoolSettings) -> anyhow::Result<Self> {
        let dialect = Dialect::of_url(url)?;
        let Pools { writer, reader } = dialect.connect(url, settings).await?;
        let store = Self {
            dialect,
            writer,
            reader,
            replica: None,
            sql: Statements::new(dialect),
            show: OnceLock::new(),
        };
        let rekeyed = store
            .rekey_old_rows()
            .await
            .map_err(|error| anyhow::anyhow!("re-keying emails and event names: {error}"))?;
        if rekeyed.users + rekeyed.events > 0 {
            tracing::info!(
                users = rekeyed.users,
                events = rekeyed.events,
                "emails and event names re-keyed by Unicode rules (CONTRACT.md rule 10)"
            );
        }
        for (id, email) in &rekeyed.conflicts {
            tracing::warn!(
                user = %id, %email,
                "another account has this email once normalised and case-folded; this one \
                 keeps its old key and cannot log in until one of the two is changed"
            );
        }
        Ok(store)
    }

    /// From now on every change writes its notification (the outbox), showing its resource
    /// with `show`. The server calls this once, before it serves.
    pub fn record_notifications(&self, show: Arc<dyn ShowResource>) {
        let _ = self.show.set(show);
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    pub async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
        if let Some(replica) = &self.replica {
            replica.close().await;
        }
    }

    /// What to do after one attempt of a write transaction: `Some` answer, or `None` to run it
    /// again (it lost a deadlock or serialization race, or an equal request won).
    async fn after_attempt<T>(
        &self,
        result: StoreResult<Decision<T>>,
        attempt: &mut u32,
    ) -> Option<StoreResult<T>> {
        match result {
            Ok(decision) => Some(decision.map_err(StoreError::Rejected)),
            Err(StoreError::Conflict(_)) if *attempt < MAX_ATTEMPTS => {
                *attempt += 1;
                tokio::time::sleep(Duration::from_millis(u64::from(*attempt))).await;
                None
            }
            Err(error) => Some(Err(error)),
        }
    }
}
