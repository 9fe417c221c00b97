//! What a PostgreSQL failover looks like from a connection, and what the pool does about it
//! (CONTRACT.md, "High availability on PostgreSQL", and rule 8).
//!
//! Behind HAProxy and Patroni, the server at the end of a connection can die (closed socket,
//! `admin shutdown`), or be demoted to a read-only replica while the connection stays open
//! (SQLSTATE 25006, `cannot execute … in a read-only transaction`). None of that is a bug: the
//! request is answered 503 and the connection is not used again. A connection lost while its
//! COMMIT was in flight is different: the transaction may have committed (it may even have
//! reached the synchronous standby that is now the leader), so the answer is 503
//! `OUTCOME_UNKNOWN` rather than a 503 that promises nothing changed.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::any::AnyPoolOptions;
use sqlx::{AnyConnection, Error};

/// How long, after a sign of a failover, the pool checks that a connection still leads to the
/// leader before handing it out and before keeping it. A switchover takes a few seconds and
/// HAProxy's checks (Patroni's example timing) up to about ten more; outside such a window the
/// check costs nothing.
const WATCH: Duration = Duration::from_secs(30);

/// Until when (milliseconds since the Unix epoch) connections are checked. Process-wide: a sign
/// of a failover on one pool is a reason to look at every pool of the same cluster, and checking
/// a pool of another database for a while costs one cheap query per connection use.
static WATCH_UNTIL_MS: AtomicU64 = AtomicU64::new(0);

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
        })
}

/// Notes a sign of a failover: connections are checked for [`WATCH`] from now.
fn watch() {
    let until = now_ms().saturating_add(u64::try_from(WATCH.as_millis()).unwrap_or(u64::MAX));
    WATCH_UNTIL_MS.fetch_max(until, Ordering::Relaxed);
}

fn watching() -> bool {
    WATCH_UNTIL_MS.load(Ordering::Relaxed) > now_ms()
}

/// The connection or its server went away: a closed or reset socket, a server shutting down
/// (57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now) or any connection
/// exception (class 08). sqlx does not give such a connection back to the pool (its ping on
/// release fails).
pub(super) fn lost_connection(error: &Error) -> bool {
    let lost = match error {
        Error::Io(_) | Error::Tls(_) | Error::WorkerCrashed => true,
        Error::Database(db) => db.code().is_some_and(|code| {
            matches!(&*code, "57P01" | "57P02" | "57P03") || code.starts_with("08")
        }),
        _ => false,
    };
    if lost {
        watch();
    }
    lost
}

/// The server is not (or no longer) the leader: SQLSTATE 25006, read_only_sql_transaction, is
/// what a write gets from a demoted leader or a replica. The pool then closes connections to it
/// (see [`leader_only`]).
pub(super) fn not_the_leader(error: &Error) -> bool {
    let demoted = matches!(error, Error::Database(db) if db.code().as_deref() == Some("25006"));
    if demoted {
        watch();
    }
    demoted
}

/// A PostgreSQL pool whose connections lead to the leader: while a failover is suspected (for
/// [`WATCH`] after a lost connection or a read-only error), a connection is asked whether its
/// server is in recovery before it is handed out and when it comes back; one that is, is
/// closed instead, so that the pool connects again (through HAProxy, to the new leader).
pub(super) fn leader_only(options: AnyPoolOptions) -> AnyPoolOptions {
    options
        .before_acquire(|conn, _| Box::pin(async move { leads(conn).await }))
        .after_release(|conn, _| Box::pin(async move { leads(conn).await }))
}

/// Whether to keep this connection: yes outside a failover window; inside one, only if its
/// server is not in recovery. An error closes it too.
async fn leads(conn: &mut AnyConnection) -> Result<bool, Error> {
    if !watching() {
        return Ok(true);
    }
    let in_recovery: bool = sqlx::query_scalar("SELECT pg_is_in_recovery()")
        .fetch_one(conn)
        .await?;
    Ok(!in_recovery)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_are_lost_connections_and_open_a_watch() {
        let error = Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        assert!(lost_connection(&error));
        assert!(watching());
        assert!(!not_the_leader(&error));
    }

    #[test]
    fn other_errors_are_neither() {
        assert!(!lost_connection(&Error::RowNotFound));
        assert!(!not_the_leader(&Error::RowNotFound));
        assert!(!lost_connection(&Error::PoolTimedOut));
    }
}
