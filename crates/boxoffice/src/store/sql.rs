//! The use cases as SQL, shared by SQLite and PostgreSQL.
//!
//! Seats only ever move in single conditional statements (`available_seats >= n` to take,
//! a status change from ACTIVE or CONSUMED to EXPIRED to give back), inside the transaction that
//! changes the lock or booking they belong to: the counter and the rows agree or nothing happened.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::{Any, AnyPool, AssertSqlSafe, Executor, Transaction};

use super::dialect::{Dialect, PoolSettings, Pools};
use super::rows::{
    BookingRow, EventRow, InventoryRow, LockRow, ReleasedRow, booking_columns, event_columns,
    lock_columns, user_columns,
};
use super::{ConfirmOutcome, FailureScope, LockOutcome, PoolUsage, Store, StoreError, StoreResult};
use crate::domain::{
    Booking, BookingQuery, BookingStatus, Event, EventChanges, EventQuery, Inventory,
    LockExtension, LockRequest, LockStatus, NewEvent, NewUser, ObjectId, Page, PaymentForce,
    Rejection, SeatLock, Timestamp, User, email_key,
};

type Tx = Transaction<'static, Any>;

/// What a write transaction decided: a value, or a rule's refusal. Either way it commits
/// (a refusal may still have changed something, such as expiring a lapsed hold on the spot).
type Decision<T> = Result<T, Rejection>;

/// How often a transaction that lost a deadlock or serialization race is run again.
const MAX_ATTEMPTS: u32 = 8;

/// How many lapsed holds one sweep transaction expires at most, so that no sweep holds the
/// write lock for long.
pub const SWEEP_BATCH: i64 = 500;

/// Counts of what one expiry pass released.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Expired {
    pub locks: u64,
    pub bookings: u64,
    pub seats: i64,
}

/// Runs `$work` (an expression using the transaction `$tx`) in a write transaction and commits
/// what it decided; runs it again from the start after a conflict. A macro rather than a
/// function taking a closure, because a closure over a borrowed transaction cannot yet be
/// proven `Send` for every lifetime.
macro_rules! in_write_tx {
    ($store:expr, |$tx:ident| $work:expr) => {{
        let mut attempt = 1;
        loop {
            let mut $tx = $store
                .writer
                .begin_with($store.dialect.begin_write())
                .await?;
            let result = match $work.await {
                Ok(decision) => $tx
                    .commit()
                    .await
                    .map_err(StoreError::from)
                    .map(|()| decision),
                Err(error) => Err(error),
            };
            if let Some(answer) = $store.after_attempt(result, &mut attempt).await {
                break answer;
            }
        }
    }};
}

/// Every seat of an event, from the rows; one statement, so one snapshot: the counter and the
/// rows are read at the same instant.
macro_rules! inventory_select {
    () => {
        "SELECT e.id, e.total_seats, e.available_seats, e.withheld_seats, \
           CAST(COALESCE((SELECT SUM(l.seats) FROM seat_locks l WHERE l.event_id = e.id \
             AND l.status = 'ACTIVE' AND l.booking_id IS NULL), 0) AS BIGINT) AS held_seats, \
           CAST(COALESCE((SELECT SUM(b.seats) FROM bookings b WHERE b.event_id = e.id \
             AND b.status = 'PAYMENT_PENDING'), 0) AS BIGINT) AS pending_payment_seats, \
           CAST(COALESCE((SELECT SUM(b.seats) FROM bookings b WHERE b.event_id = e.id \
             AND b.status = 'CONFIRMED'), 0) AS BIGINT) AS confirmed_seats \
         FROM events e"
    };
}
mod changes;
mod lists;
mod locks;

pub use locks::LOCK_BATCH_MAX;

pub struct SqlStore {
    dialect: Dialect,
    pub(super) writer: AnyPool,
    pub(super) reader: AnyPool,
    sql: Statements,
}

/// Statements whose text depends on the dialect, built once.
struct Statements {
    lapsed_locks: Arc<str>,
    lapsed_locks_of_event: Arc<str>,
    lapsed_bookings: Arc<str>,
    lapsed_bookings_of_event: Arc<str>,
    booking_for_update: Arc<str>,
    event_for_update: Arc<str>,
    lock_for_update: Arc<str>,
}

impl Statements {
    fn new(dialect: Dialect) -> Self {
        // $1 = now, $2 = batch size, $3 = event (when scoped to one).
        let lapsed_locks = |scope: &str| {
            dialect.statement(&format!(
                "UPDATE seat_locks SET status = 'EXPIRED', updated_at = $1 \
                 WHERE id IN (SELECT id FROM seat_locks \
                     WHERE status = 'ACTIVE' AND booking_id IS NULL AND expires_at <= $1{scope} \
                     ORDER BY expires_at LIMIT $2{{skip_locked}}) \
                 AND status = 'ACTIVE' AND booking_id IS NULL \
                 RETURNING event_id, seats"
            ))
        };
        let lapsed_bookings = |scope: &str| {
            dialect.statement(&format!(
                "UPDATE bookings SET status = 'EXPIRED', updated_at = $1 \
                 WHERE id IN (SELECT id FROM bookings \
                     WHERE status = 'PAYMENT_PENDING' AND payment_expires_at <= $1{scope} \
                     ORDER BY payment_expires_at LIMIT $2{{skip_locked}}) \
                 AND status = 'PAYMENT_PENDING' \
                 RETURNING seat_lock_id"
            ))
        };
        Self {
            lapsed_locks: lapsed_locks(""),
            lapsed_locks_of_event: lapsed_locks(" AND event_id = $3"),
            lapsed_bookings: lapsed_bookings(""),
            lapsed_bookings_of_event: lapsed_bookings(" AND event_id = $3"),
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
        }
    }
}

impl SqlStore {
    pub async fn connect(url: &str, settings: &PoolSettings) -> anyhow::Result<Self> {
        let dialect = Dialect::of_url(url)?;
        let Pools { writer, reader } = dialect.connect(url, settings).await?;
        Ok(Self {
            dialect,
            writer,
            reader,
            sql: Statements::new(dialect),
        })
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    pub async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
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

    /// The inventory of every event, in event-date order (what `boxoffice check` compares).
    pub async fn inventories(&self) -> StoreResult<Vec<Inventory>> {
        let rows: Vec<InventoryRow> =
            sqlx::query_as(concat!(inventory_select!(), " ORDER BY e.event_date, e.id"))
                .fetch_all(&self.reader)
                .await?;
        rows.into_iter().map(Inventory::try_from).collect()
    }

    /// Sets an event's counter to what its rows say, and returns the inventory after.
    ///
    /// Every transaction that moves seats holds the event row, so once this transaction holds
    /// it, the rows cannot change under the recount.
    pub async fn repair_counter(
        &self,
        event_id: ObjectId,
        now: Timestamp,
    ) -> StoreResult<Inventory> {
        in_write_tx!(self, |tx| async {
            let id = event_id.to_string();
            let held: Option<EventRow> =
                sqlx::query_as(AssertSqlSafe(self.sql.event_for_update.clone()))
                    .bind(id.clone())
                    .fetch_optional(&mut *tx)
                    .await?;
            if held.is_none() {
                return Ok(Err(Rejection::EventNotFound));
            }
            let row: InventoryRow =
                sqlx::query_as(concat!(inventory_select!(), " WHERE e.id = $1"))
                    .bind(id.clone())
                    .fetch_one(&mut *tx)
                    .await?;
            let mut inventory = Inventory::try_from(row)?;
            inventory.available_seats = inventory.expected_available();
            sqlx::query("UPDATE events SET available_seats = $2, updated_at = $3 WHERE id = $1")
                .bind(id)
                .bind(inventory.available_seats)
                .bind(now.millis())
                .execute(&mut *tx)
                .await?;
            Ok(Ok(inventory))
        })
    }

    /// Expires, in one transaction, up to `limit` lapsed plain locks and `limit` lapsed unpaid
    /// bookings (with their locks), and gives their seats back.
    pub async fn expire_lapsed(&self, now: Timestamp, limit: i64) -> StoreResult<Expired> {
        in_write_tx!(self, |tx| async {
            Ok(Ok(self.expire_lapsed_in(&mut tx, None, now, limit).await?))
        })
    }

    async fn expire_lapsed_in(
        &self,
        tx: &mut Tx,
        event: Option<ObjectId>,
        now: Timestamp,
        limit: i64,
    ) -> StoreResult<Expired> {
        let event = event.map(|e| e.to_string());
        let (locks_sql, bookings_sql) = match event {
            None => (&self.sql.lapsed_locks, &self.sql.lapsed_bookings),
            Some(_) => (
                &self.sql.lapsed_locks_of_event,
                &self.sql.lapsed_bookings_of_event,
            ),
        };
        let mut credits = BTreeMap::new();
        let mut expired = Expired::default();

        let lock_ids: Vec<String> = sqlx::query_scalar(AssertSqlSafe(bookings_sql.clone()))
            .bind(now.millis())
            .bind(limit)
            .bind(event.clone())
            .fetch_all(&mut **tx)
            .await?;
        expired.bookings = lock_ids.len() as u64;
        for lock_id in lock_ids {
            let released: Option<ReleasedRow> = sqlx::query_as(RELEASE_LOCK)
                .bind(lock_id)
                .bind(LockStatus::Active.as_str())
                .bind(now.millis())
                .fetch_optional(&mut **tx)
                .await?;
            add_credit(&mut credits, released);
        }

        let released: Vec<ReleasedRow> = sqlx::query_as(AssertSqlSafe(locks_sql.clone()))
            .bind(now.millis())
            .bind(limit)
            .bind(event)
            .fetch_all(&mut **tx)
            .await?;
        expired.locks = released.len() as u64;
        for row in released {
            add_credit(&mut credits, Some(row));
        }

        expired.seats = credits.values().sum();
        credit_events(tx, credits, now).await?;
        Ok(expired)
    }
}

/// Writes an event row as given; false if its id is already there (imports run twice).
pub(super) async fn insert_event<'c>(
    db: impl Executor<'c, Database = Any>,
    event: &Event,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "INSERT INTO events (id, name, description, event_date, total_seats, available_seats, \
         withheld_seats, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT DO NOTHING",
    )
    .bind(event.id.to_string())
    .bind(event.name.clone())
    .bind(event.description.clone())
    .bind(event.event_date.millis())
    .bind(event.total_seats)
    .bind(event.available_seats)
    .bind(event.withheld_seats)
    .bind(event.created_at.millis())
    .bind(event.updated_at.millis())
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

const RELEASE_LOCK: &str = "UPDATE seat_locks SET status = 'EXPIRED', updated_at = $3 \
     WHERE id = $1 AND status = $2 RETURNING event_id, seats";

fn add_credit(credits: &mut BTreeMap<String, i64>, released: Option<ReleasedRow>) {
    if let Some(row) = released {
        *credits.entry(row.event_id).or_default() += row.seats;
    }
}

/// Gives seats back to their events, in id order so that concurrent sweeps lock rows in the
/// same order.
async fn credit_events(
    tx: &mut Tx,
    credits: BTreeMap<String, i64>,
    now: Timestamp,
) -> StoreResult<()> {
    for (event_id, seats) in credits {
        sqlx::query(
            "UPDATE events SET available_seats = available_seats + $2, updated_at = $3 \
             WHERE id = $1",
        )
        .bind(event_id)
        .bind(seats)
        .bind(now.millis())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Moves a lock from `from` to EXPIRED and returns its seats to the event; does nothing if the
/// lock is no longer in `from`. This is the only way seats come back, so they come back once.
async fn release_lock(
    tx: &mut Tx,
    lock_id: ObjectId,
    from: LockStatus,
    now: Timestamp,
) -> StoreResult<bool> {
    let released: Option<ReleasedRow> = sqlx::query_as(RELEASE_LOCK)
        .bind(lock_id.to_string())
        .bind(from.as_str())
        .bind(now.millis())
        .fetch_optional(&mut **tx)
        .await?;
    let done = released.is_some();
    let mut credits = BTreeMap::new();
    add_credit(&mut credits, released);
    credit_events(tx, credits, now).await?;
    Ok(done)
}

/// Moves a booking from one status to another; false if it was no longer in `from`.
async fn change_booking_status(
    tx: &mut Tx,
    booking_id: ObjectId,
    from: BookingStatus,
    to: BookingStatus,
    now: Timestamp,
) -> StoreResult<bool> {
    let changed = sqlx::query(
        "UPDATE bookings SET status = $3, updated_at = $4 WHERE id = $1 AND status = $2",
    )
    .bind(booking_id.to_string())
    .bind(from.as_str())
    .bind(to.as_str())
    .bind(now.millis())
    .execute(&mut **tx)
    .await?;
    Ok(changed.rows_affected() == 1)
}

/// A PAYMENT_PENDING booking whose window closed: it and its lock expire, its seats return.
async fn expire_booking(tx: &mut Tx, booking: &Booking, now: Timestamp) -> StoreResult<()> {
    if change_booking_status(
        tx,
        booking.id,
        BookingStatus::PaymentPending,
        BookingStatus::Expired,
        now,
    )
    .await?
    {
        release_lock(tx, booking.seat_lock_id, LockStatus::Active, now).await?;
    }
    Ok(())
}

async fn record_payment(
    tx: &mut Tx,
    booking_id: ObjectId,
    outcome: &str,
    now: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO payments (id, booking_id, outcome, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(ObjectId::generate().to_string())
    .bind(booking_id.to_string())
    .bind(outcome.to_owned())
    .bind(now.millis())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn lock_by_id<'c>(
    db: impl Executor<'c, Database = Any>,
    id: ObjectId,
) -> StoreResult<Option<SeatLock>> {
    let row: Option<LockRow> = sqlx::query_as(concat!(
        "SELECT ",
        lock_columns!(),
        " FROM seat_locks WHERE id = $1"
    ))
    .bind(id.to_string())
    .fetch_optional(db)
    .await?;
    row.map(SeatLock::try_from).transpose()
}

async fn booking_by_id<'c>(
    db: impl Executor<'c, Database = Any>,
    id: ObjectId,
) -> StoreResult<Option<Booking>> {
    let row: Option<BookingRow> = sqlx::query_as(concat!(
        "SELECT ",
        booking_columns!(),
        " FROM bookings WHERE id = $1"
    ))
    .bind(id.to_string())
    .fetch_optional(db)
    .await?;
    row.map(Booking::try_from).transpose()
}

async fn event_by_id<'c>(
    db: impl Executor<'c, Database = Any>,
    id: ObjectId,
) -> StoreResult<Option<Event>> {
    let row: Option<EventRow> = sqlx::query_as(concat!(
        "SELECT ",
        event_columns!(),
        " FROM events WHERE id = $1"
    ))
    .bind(id.to_string())
    .fetch_optional(db)
    .await?;
    row.map(Event::try_from).transpose()
}

#[async_trait]
impl Store for SqlStore {
    async fn register_user(&self, user: NewUser, now: Timestamp) -> StoreResult<User> {
        let user = User {
            id: ObjectId::generate(),
            name: user.name,
            email: user.email,
            role: user.role,
            password_hash: user.password_hash,
            created_at: now,
            updated_at: now,
        };
        let inserted = sqlx::query(
            "INSERT INTO users (id, name, email, email_key, password_hash, role, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT (email_key) DO NOTHING",
        )
        .bind(user.id.to_string())
        .bind(user.name.clone())
        .bind(user.email.clone())
        .bind(email_key(&user.email))
        .bind(user.password_hash.clone())
        .bind(user.role.as_str())
        .bind(now.millis())
        .execute(&self.writer)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(Rejection::EmailTaken.into());
        }
        Ok(user)
    }

    async fn user(&self, id: ObjectId) -> StoreResult<Option<User>> {
        self.user_where(
            concat!("SELECT ", user_columns!(), " FROM users WHERE id = $1"),
            id.to_string(),
        )
        .await
    }

    async fn user_by_email_key(&self, email_key: &str) -> StoreResult<Option<User>> {
        self.user_by_email_key_in(email_key).await
    }

    async fn upsert_admin(&self, admin: NewUser, now: Timestamp) -> StoreResult<bool> {
        self.upsert_admin_in(admin, now).await
    }

    async fn record_login_failure(
        &self,
        email_key: &str,
        client: &str,
        at: Timestamp,
        forget_before: Timestamp,
    ) -> StoreResult<()> {
        self.record_login_failure_in(email_key, client, at, forget_before)
            .await
    }

    async fn nth_login_failure(
        &self,
        scope: FailureScope<'_>,
        n: u32,
        since: Timestamp,
    ) -> StoreResult<Option<Timestamp>> {
        self.nth_login_failure_in(scope, n, since).await
    }

    async fn create_event(&self, event: NewEvent, now: Timestamp) -> StoreResult<Event> {
        let event = Event {
            id: ObjectId::generate(),
            withheld_seats: event.total_seats - event.available_seats,
            name: event.name,
            description: event.description,
            event_date: event.event_date,
            total_seats: event.total_seats,
            available_seats: event.available_seats,
            created_at: now,
            updated_at: now,
        };
        insert_event(&self.writer, &event).await?;
        Ok(event)
    }

    async fn event(&self, id: ObjectId) -> StoreResult<Option<Event>> {
        event_by_id(&self.reader, id).await
    }

    async fn list_events(&self, query: EventQuery) -> StoreResult<Page<Event>> {
        lists::event_page(&self.reader, query).await
    }

    async fn update_event(
        &self,
        id: ObjectId,
        changes: EventChanges,
        now: Timestamp,
    ) -> StoreResult<Event> {
        in_write_tx!(self, |tx| self.update_event_in(&mut tx, id, &changes, now))
    }

    async fn inventory(&self, event_id: ObjectId) -> StoreResult<Option<Inventory>> {
        let row: Option<InventoryRow> =
            sqlx::query_as(concat!(inventory_select!(), " WHERE e.id = $1"))
                .bind(event_id.to_string())
                .fetch_optional(&self.reader)
                .await?;
        row.map(Inventory::try_from).transpose()
    }

    async fn lock_seats_batch(&self, requests: Vec<LockRequest>) -> Vec<StoreResult<LockOutcome>> {
        self.lock_seats_in_batches(requests).await
    }

    async fn lock(&self, id: ObjectId) -> StoreResult<Option<SeatLock>> {
        lock_by_id(&self.reader, id).await
    }

    async fn release_lock_early(&self, id: ObjectId, now: Timestamp) -> StoreResult<SeatLock> {
        in_write_tx!(self, |tx| self.release_lock_early_in(&mut tx, id, now))
    }

    async fn extend_lock(&self, extension: LockExtension) -> StoreResult<SeatLock> {
        in_write_tx!(self, |tx| self.extend_lock_in(&mut tx, extension))
    }

    async fn confirm_booking(
        &self,
        lock_id: ObjectId,
        now: Timestamp,
        payment_expires_at: Timestamp,
    ) -> StoreResult<ConfirmOutcome> {
        in_write_tx!(self, |tx| confirm_booking_in(
            &mut tx,
            lock_id,
            now,
            payment_expires_at
        ))
    }

    async fn booking(&self, id: ObjectId) -> StoreResult<Option<Booking>> {
        booking_by_id(&self.reader, id).await
    }

    async fn list_user_bookings(
        &self,
        user_id: ObjectId,
        query: BookingQuery,
    ) -> StoreResult<Page<Booking>> {
        lists::booking_page(&self.reader, user_id, query).await
    }

    async fn cancel_booking(&self, id: ObjectId, now: Timestamp) -> StoreResult<Booking> {
        in_write_tx!(self, |tx| self.cancel_booking_in(&mut tx, id, now))
    }

    async fn settle_payment(
        &self,
        booking_id: ObjectId,
        force: PaymentForce,
        now: Timestamp,
    ) -> StoreResult<Booking> {
        in_write_tx!(self, |tx| self
            .settle_payment_in(&mut tx, booking_id, force, now))
    }

    async fn ping(&self) -> StoreResult<()> {
        self.reader.execute("SELECT 1").await?;
        Ok(())
    }

    fn pool_usage(&self) -> Vec<PoolUsage> {
        let usage = |pool, of: &AnyPool| {
            let idle = u32::try_from(of.num_idle()).unwrap_or(u32::MAX);
            PoolUsage {
                pool,
                in_use: of.size().saturating_sub(idle),
                idle,
            }
        };
        match self.dialect {
            Dialect::Sqlite => vec![usage("writer", &self.writer), usage("reader", &self.reader)],
            Dialect::Postgres => vec![usage("shared", &self.reader)],
        }
    }
}

impl SqlStore {
    /// A booking, locked until the transaction ends (PostgreSQL) or under the write lock
    /// (SQLite): payments and cancellations of one booking take turns.
    async fn booking_for_update(
        &self,
        tx: &mut Tx,
        booking_id: ObjectId,
    ) -> StoreResult<Option<Booking>> {
        let row: Option<BookingRow> =
            sqlx::query_as(AssertSqlSafe(self.sql.booking_for_update.clone()))
                .bind(booking_id.to_string())
                .fetch_optional(&mut **tx)
                .await?;
        row.map(Booking::try_from).transpose()
    }

    async fn settle_payment_in(
        &self,
        tx: &mut Tx,
        booking_id: ObjectId,
        force: PaymentForce,
        now: Timestamp,
    ) -> StoreResult<Decision<Booking>> {
        {
            let Some(booking) = self.booking_for_update(tx, booking_id).await? else {
                return Ok(Err(Rejection::BookingNotFound));
            };
            if booking.status != BookingStatus::PaymentPending {
                return Ok(Err(Rejection::PaymentNotAllowed(booking.status)));
            }
            if booking.payment_window_closed(now) {
                expire_booking(tx, &booking, now).await?;
                return Ok(Err(Rejection::PaymentNotAllowed(BookingStatus::Expired)));
            }
            let status = match force {
                PaymentForce::Timeout => BookingStatus::PaymentPending,
                PaymentForce::Success => BookingStatus::Confirmed,
                PaymentForce::Failure => BookingStatus::Failed,
            };
            if status != booking.status {
                // The row is locked (PostgreSQL) or the database is (SQLite): the status read
                // above is current, so this cannot miss.
                if !change_booking_status(tx, booking.id, booking.status, status, now).await? {
                    return Err(StoreError::Conflict(None));
                }
                match force {
                    PaymentForce::Success => {
                        sqlx::query(
                            "UPDATE seat_locks SET status = 'CONSUMED', updated_at = $2 \
                             WHERE id = $1 AND status = 'ACTIVE'",
                        )
                        .bind(booking.seat_lock_id.to_string())
                        .bind(now.millis())
                        .execute(&mut **tx)
                        .await?;
                    }
                    PaymentForce::Failure => {
                        release_lock(tx, booking.seat_lock_id, LockStatus::Active, now).await?;
                    }
                    PaymentForce::Timeout => {}
                }
            }
            record_payment(tx, booking.id, force.outcome(), now).await?;
            let updated_at = if status == booking.status {
                booking.updated_at
            } else {
                now
            };
            Ok(Ok(Booking {
                status,
                updated_at,
                ..booking
            }))
        }
    }
}

async fn confirm_booking_in(
    tx: &mut Tx,
    lock_id: ObjectId,
    now: Timestamp,
    payment_expires_at: Timestamp,
) -> StoreResult<Decision<ConfirmOutcome>> {
    {
        let booking_id = ObjectId::generate();
        // The lock now lives exactly as long as the booking's payment window, so it never
        // lapses on its own while a payment may still succeed.
        let claimed: Option<LockRow> = sqlx::query_as(concat!(
            "UPDATE seat_locks SET booking_id = $2, expires_at = $3, updated_at = $4 \
                 WHERE id = $1 AND status = 'ACTIVE' AND booking_id IS NULL AND expires_at > $4 \
                 RETURNING ",
            lock_columns!()
        ))
        .bind(lock_id.to_string())
        .bind(booking_id.to_string())
        .bind(payment_expires_at.millis())
        .bind(now.millis())
        .fetch_optional(&mut **tx)
        .await?;

        let Some(lock) = claimed.map(SeatLock::try_from).transpose()? else {
            return confirmed_earlier(tx, lock_id, now).await;
        };
        let booking = Booking {
            id: booking_id,
            user_id: lock.user_id,
            event_id: lock.event_id,
            seats: lock.seats,
            status: BookingStatus::PaymentPending,
            seat_lock_id: lock.id,
            payment_expires_at,
            created_at: now,
            updated_at: now,
        };
        sqlx::query(
            "INSERT INTO bookings (id, user_id, event_id, seats, status, seat_lock_id, \
                 payment_expires_at, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, 'PAYMENT_PENDING', $5, $6, $7, $7)",
        )
        .bind(booking.id.to_string())
        .bind(booking.user_id.to_string())
        .bind(booking.event_id.to_string())
        .bind(booking.seats)
        .bind(booking.seat_lock_id.to_string())
        .bind(booking.payment_expires_at.millis())
        .bind(now.millis())
        .execute(&mut **tx)
        .await?;
        Ok(Ok(ConfirmOutcome {
            booking,
            replayed: false,
        }))
    }
}

/// The answer to confirming a lock that could not be claimed: the booking an earlier
/// confirmation made, while it still awaits payment; otherwise the lock is invalid or expired
/// (and a lapsed one is expired on the spot).
async fn confirmed_earlier(
    tx: &mut Tx,
    lock_id: ObjectId,
    now: Timestamp,
) -> StoreResult<Decision<ConfirmOutcome>> {
    let Some(lock) = lock_by_id(&mut **tx, lock_id).await? else {
        return Ok(Err(Rejection::InvalidOrExpiredLock));
    };
    if lock.has_lapsed(now) {
        release_lock(tx, lock.id, LockStatus::Active, now).await?;
        return Ok(Err(Rejection::InvalidOrExpiredLock));
    }
    if let Some(booking_id) = lock.booking_id
        && let Some(booking) = booking_by_id(&mut **tx, booking_id).await?
        && booking.status == BookingStatus::PaymentPending
        && !booking.payment_window_closed(now)
    {
        return Ok(Ok(ConfirmOutcome {
            booking,
            replayed: true,
        }));
    }
    Ok(Err(Rejection::InvalidOrExpiredLock))
}
