//! Expiry (CONTRACT.md rules 6 and 7): lapsed holds and unpaid bookings become EXPIRED and
//! their seats go back, exactly once. `release_lock` is the only way seats come back; the
//! sweeper, a shortage that reclaims lapsed holds, and every release or cancellation use it.
//! On a seated event the lock's seat rows are freed with it, after the event's counter, so
//! that every path takes row locks event first, then seats.

use std::collections::BTreeMap;
use std::sync::Arc;

use sqlx::AssertSqlSafe;

use super::rows::{booking_columns, lock_columns};
use super::{Dialect, SqlStore, Tx};
use crate::domain::notification::NotificationType;
use crate::domain::{Booking, BookingStatus, LockStatus, ObjectId, SeatLock, Timestamp};
use crate::store::{Expired, StoreResult};

/// The sweep of lapsed plain locks, everywhere and for one event: $1 = now, $2 = batch size,
/// $3 = event. PostgreSQL skips rows another sweeper holds.
pub(super) fn lapsed_locks(dialect: Dialect) -> (Arc<str>, Arc<str>) {
    let statement = |scope: &str| {
        lapsed_rows(
            dialect,
            "seat_locks",
            &format!(
                "status = 'ACTIVE' AND booking_id IS NULL AND expires_at <= $1{scope} \
                 ORDER BY expires_at"
            ),
            lock_columns!(),
        )
    };
    (statement(""), statement(" AND event_id = $3"))
}

/// The same for unpaid bookings past their window; returns the bookings as expired.
pub(super) fn lapsed_bookings(dialect: Dialect) -> (Arc<str>, Arc<str>) {
    let statement = |scope: &str| {
        lapsed_rows(
            dialect,
            "bookings",
            &format!(
                "status = 'PAYMENT_PENDING' AND payment_expires_at <= $1{scope} \
                 ORDER BY payment_expires_at"
            ),
            booking_columns!(),
        )
    };
    (statement(""), statement(" AND event_id = $3"))
}

/// `UPDATE table SET status = 'EXPIRED'` for at most $2 rows that `lapsed` selects.
///
/// On PostgreSQL the rows are chosen and locked (`FOR UPDATE SKIP LOCKED`, which re-checks
/// them) in an `ARRAY(…)` subquery and updated by primary key. Written as `id IN (SELECT …)
/// AND <lapsed again>`, PostgreSQL planned the outer scan on the partial index of lapsing
/// rows and walked every ACTIVE hold (22 ms a sweep at 27,000 holds, finding none). On SQLite
/// the statement runs whole under the write lock, and the condition is simply repeated.
fn lapsed_rows(dialect: Dialect, table: &str, lapsed: &str, returning: &str) -> Arc<str> {
    let condition = lapsed.split(" ORDER BY").next().unwrap_or(lapsed);
    let rows = match dialect {
        Dialect::Postgres => format!(
            "id = ANY(ARRAY(SELECT id FROM {table} WHERE {lapsed} LIMIT $2 FOR UPDATE SKIP LOCKED))"
        ),
        Dialect::Sqlite => {
            format!("id IN (SELECT id FROM {table} WHERE {lapsed} LIMIT $2) AND {condition}")
        }
    };
    format!(
        "UPDATE {table} SET status = 'EXPIRED', updated_at = $1 WHERE {rows} RETURNING {returning}"
    )
    .into()
}

const RELEASE_LOCK: &str = "UPDATE seat_locks SET status = 'EXPIRED', updated_at = $3 \
     WHERE id = $1 AND status = $2 RETURNING event_id, seats";

/// Seats to give back, by event, in id order so that concurrent sweeps lock rows in the same
/// order; and the locks whose seat rows (seated events) are freed.
#[derive(Default)]
struct Credits {
    seats: BTreeMap<ObjectId, i64>,
    locks: Vec<ObjectId>,
}

impl Credits {
    fn add(&mut self, lock_id: ObjectId, event_id: ObjectId, seats: i64) {
        *self.seats.entry(event_id).or_default() += seats;
        self.locks.push(lock_id);
    }
}

impl SqlStore {
    pub(super) async fn expire_lapsed_tx(
        &self,
        now: Timestamp,
        limit: i64,
    ) -> StoreResult<Expired> {
        super::in_write_tx!(self, |tx| async {
            Ok(Ok(self.expire_lapsed_in(&mut tx, None, now, limit).await?))
        })
    }

    /// Expires up to `limit` lapsed plain locks and `limit` lapsed unpaid bookings (with
    /// their locks), of one event or of all, and gives their seats back.
    pub(super) async fn expire_lapsed_in(
        &self,
        tx: &mut Tx,
        event: Option<ObjectId>,
        now: Timestamp,
        limit: i64,
    ) -> StoreResult<Expired> {
        let (locks_sql, bookings_sql) = match event {
            None => (&self.sql.lapsed_locks, &self.sql.lapsed_bookings),
            Some(_) => (
                &self.sql.lapsed_locks_of_event,
                &self.sql.lapsed_bookings_of_event,
            ),
        };
        let mut credits = Credits::default();
        let mut expired = Expired::default();

        let bookings: Vec<Booking> = sqlx::query_as(AssertSqlSafe(bookings_sql.clone()))
            .bind(now)
            .bind(limit)
            .bind(event)
            .fetch_all(&mut **tx)
            .await?;
        expired.bookings = bookings.len() as u64;
        for booking in &bookings {
            release_into(
                tx,
                booking.seat_lock_id,
                LockStatus::Active,
                now,
                &mut credits,
            )
            .await?;
        }
        // One `booking.expired` each, the lock's change being part of it (CONTRACT.md).
        self.notify_bookings(
            tx,
            NotificationType::BookingExpired,
            bookings.iter().map(|booking| (booking, None)),
            now,
        )
        .await?;

        let locks: Vec<SeatLock> = sqlx::query_as(AssertSqlSafe(locks_sql.clone()))
            .bind(now)
            .bind(limit)
            .bind(event)
            .fetch_all(&mut **tx)
            .await?;
        expired.locks = locks.len() as u64;
        for lock in &locks {
            credits.add(lock.id, lock.event_id, lock.seats);
        }
        self.notify_locks(tx, NotificationType::LockExpired, &locks, now)
            .await?;

        expired.seats = credits.seats.values().sum();
        credit_events(tx, credits, now).await?;
        Ok(expired)
    }
}

/// Moves a lock from `from` to EXPIRED and notes its seats in `credits`; does nothing if the
/// lock is no longer in `from`.
async fn release_into(
    tx: &mut Tx,
    lock_id: ObjectId,
    from: LockStatus,
    now: Timestamp,
    credits: &mut Credits,
) -> StoreResult<bool> {
    let released: Option<(ObjectId, i64)> = sqlx::query_as(RELEASE_LOCK)
        .bind(lock_id)
        .bind(from)
        .bind(now)
        .fetch_optional(&mut **tx)
        .await?;
    if let Some((event_id, seats)) = released {
        credits.add(lock_id, event_id, seats);
    }
    Ok(released.is_some())
}

/// Gives seats back to their events, then frees the seat rows of the locks.
async fn credit_events(tx: &mut Tx, credits: Credits, now: Timestamp) -> StoreResult<()> {
    for (event_id, seats) in credits.seats {
        sqlx::query(
            "UPDATE events SET available_seats = available_seats + $2, updated_at = $3 \
             WHERE id = $1",
        )
        .bind(event_id)
        .bind(seats)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    super::seats::free_seats_of_locks(tx, &credits.locks).await?;
    Ok(())
}

/// Moves a lock from `from` to EXPIRED and returns its seats to the event; does nothing if the
/// lock is no longer in `from`. This is the only way seats come back, so they come back once.
pub(super) async fn release_lock(
    tx: &mut Tx,
    lock_id: ObjectId,
    from: LockStatus,
    now: Timestamp,
) -> StoreResult<bool> {
    let mut credits = Credits::default();
    let done = release_into(tx, lock_id, from, now, &mut credits).await?;
    credit_events(tx, credits, now).await?;
    Ok(done)
}

impl SqlStore {
    /// A PAYMENT_PENDING booking whose window closed: it and its lock expire, its seats
    /// return, and it makes its `booking.expired`.
    pub(super) async fn expire_booking(
        &self,
        tx: &mut Tx,
        booking: &Booking,
        now: Timestamp,
    ) -> StoreResult<()> {
        if super::bookings::change_booking_status(
            tx,
            booking.id,
            BookingStatus::PaymentPending,
            BookingStatus::Expired,
            now,
        )
        .await?
        {
            release_lock(tx, booking.seat_lock_id, LockStatus::Active, now).await?;
            let expired = Booking {
                status: BookingStatus::Expired,
                updated_at: now,
                ..booking.clone()
            };
            self.notify_bookings(
                tx,
                NotificationType::BookingExpired,
                [(&expired, None)],
                now,
            )
            .await?;
        }
        Ok(())
    }
}
