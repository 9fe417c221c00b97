//! Durable state. Every method of [`Store`] is one use case and one transaction: the HTTP layer
//! asks, the domain rules decide, and the store makes the decision stick or not at all.
//!
//! One implementation, [`SqlStore`], serves SQLite and PostgreSQL through sqlx's `Any` driver:
//! the SQL is shared, and [`Dialect`] holds the few places where the two differ.

mod batch;
mod dialect;
mod error;
mod import;
mod logins;
mod rows;
mod sql;

use async_trait::async_trait;

use crate::domain::{
    Booking, BookingQuery, Event, EventChanges, EventQuery, Inventory, LockExtension, LockRequest,
    NewEvent, NewUser, ObjectId, Page, PaymentForce, SeatLock, Timestamp, User,
};

pub use batch::BatchingStore;
pub use dialect::{Dialect, PoolSettings};
pub use error::StoreError;
pub use import::Insertion;
pub use sql::{Expired, LOCK_BATCH_MAX, SWEEP_BATCH, SqlStore};

pub type StoreResult<T> = Result<T, StoreError>;

/// A lock as the lock request left it, and whether it was made by an earlier identical request.
#[derive(Clone, Debug)]
pub struct LockOutcome {
    pub lock: SeatLock,
    pub replayed: bool,
}

/// A booking as confirmation left it, and whether an earlier confirmation had made it.
#[derive(Clone, Debug)]
pub struct ConfirmOutcome {
    pub booking: Booking,
    pub replayed: bool,
}

/// Which failed logins to count.
#[derive(Clone, Copy, Debug)]
pub enum FailureScope<'a> {
    /// Those for one email key (the lower-cased email), from any client.
    Email(&'a str),
    /// Those from one client address, for any email.
    Client(&'a str),
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    async fn register_user(&self, user: NewUser, now: Timestamp) -> StoreResult<User>;
    async fn user(&self, id: ObjectId) -> StoreResult<Option<User>>;
    /// The user whose email, lower-cased, is `email_key`.
    async fn user_by_email_key(&self, email_key: &str) -> StoreResult<Option<User>>;
    /// Creates this admin, or makes the user with its email an admin with its password hash;
    /// true if it was created.
    async fn upsert_admin(&self, admin: NewUser, now: Timestamp) -> StoreResult<bool>;

    /// Records a failed login, and forgets failures from before `forget_before`.
    async fn record_login_failure(
        &self,
        email_key: &str,
        client: &str,
        at: Timestamp,
        forget_before: Timestamp,
    ) -> StoreResult<()>;
    /// When the `n`-th most recent failed login in `scope` after `since` happened, if there
    /// were that many (n counts from 1).
    async fn nth_login_failure(
        &self,
        scope: FailureScope<'_>,
        n: u32,
        since: Timestamp,
    ) -> StoreResult<Option<Timestamp>>;

    async fn create_event(&self, event: NewEvent, now: Timestamp) -> StoreResult<Event>;
    async fn event(&self, id: ObjectId) -> StoreResult<Option<Event>>;
    /// A page of events by date, then id.
    async fn list_events(&self, query: EventQuery) -> StoreResult<Page<Event>>;
    /// Applies the changes given; a new `totalSeats` moves `availableSeats` by as much, and is
    /// refused if that would leave fewer than none.
    async fn update_event(
        &self,
        id: ObjectId,
        changes: EventChanges,
        now: Timestamp,
    ) -> StoreResult<Event>;
    async fn inventory(&self, event_id: ObjectId) -> StoreResult<Option<Inventory>>;

    /// Holds seats; replays the earlier lock for a repeated `(user, idempotency key)`.
    /// A batch of one, unless the store coalesces concurrent requests ([`BatchingStore`]).
    async fn lock_seats(&self, request: LockRequest) -> StoreResult<LockOutcome> {
        self.lock_seats_batch(vec![request])
            .await
            .pop()
            .unwrap_or_else(|| Err(anyhow::anyhow!("a lock request got no answer").into()))
    }
    /// Decides lock requests in arrival order, in as few transactions as it can (one per
    /// event and per [`LOCK_BATCH_MAX`] requests), each exactly as if it had been made alone
    /// after the ones before it; one answer per request, in their order.
    async fn lock_seats_batch(&self, requests: Vec<LockRequest>) -> Vec<StoreResult<LockOutcome>>;
    async fn lock(&self, id: ObjectId) -> StoreResult<Option<SeatLock>>;
    /// Gives an ACTIVE lock without a booking up before it lapses: EXPIRED, seats back.
    async fn release_lock_early(&self, id: ObjectId, now: Timestamp) -> StoreResult<SeatLock>;
    /// Moves an ACTIVE lock's expiry (either way), within its maximum lifetime.
    async fn extend_lock(&self, extension: LockExtension) -> StoreResult<SeatLock>;

    /// Turns an ACTIVE lock into a PAYMENT_PENDING booking whose window closes at
    /// `payment_expires_at`; the lock then lives exactly as long.
    async fn confirm_booking(
        &self,
        lock_id: ObjectId,
        now: Timestamp,
        payment_expires_at: Timestamp,
    ) -> StoreResult<ConfirmOutcome>;
    async fn booking(&self, id: ObjectId) -> StoreResult<Option<Booking>>;
    /// A page of a user's bookings, newest first.
    async fn list_user_bookings(
        &self,
        user_id: ObjectId,
        query: BookingQuery,
    ) -> StoreResult<Page<Booking>>;
    /// Cancels a PAYMENT_PENDING or CONFIRMED booking before its event: its lock expires and
    /// its seats go back; a paid booking gets a refund recorded.
    async fn cancel_booking(&self, id: ObjectId, now: Timestamp) -> StoreResult<Booking>;

    /// Applies a simulated payment's outcome to a PAYMENT_PENDING booking and records it.
    async fn settle_payment(
        &self,
        booking_id: ObjectId,
        force: PaymentForce,
        now: Timestamp,
    ) -> StoreResult<Booking>;

    /// Whether the database answers.
    async fn ping(&self) -> StoreResult<()>;

    /// How many connections each pool has in use and idle, for the metrics; cheap (no I/O).
    fn pool_usage(&self) -> Vec<PoolUsage>;
}

/// Connections of one pool at one instant.
#[derive(Clone, Copy, Debug)]
pub struct PoolUsage {
    /// `writer` or `reader` on SQLite; `shared` on PostgreSQL, where one pool serves both.
    pub pool: &'static str,
    pub in_use: u32,
    pub idle: u32,
}
