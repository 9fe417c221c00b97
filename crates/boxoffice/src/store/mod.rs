//! Durable state. Every method of [`Store`] is one use case and one transaction: the HTTP layer
//! asks, the domain decides, and the store makes the decision stick or not at all.
//!
//! One implementation, [`SqlStore`] (`sql/`, one file per resource), serves SQLite and
//! PostgreSQL through sqlx's `Any` driver: the SQL is shared, and [`Dialect`] holds the few
//! places where the two differ. Everything outside `store/` (the HTTP layer, the hold queue,
//! the sweeper, `check`, the importer) uses it through this trait.

mod error;
mod failover;
mod notifications;
mod sql;

use std::collections::HashMap;

use async_trait::async_trait;

use crate::domain::seating::{SeatCounts, SeatStatus};
use crate::domain::{
    Booking, BookingQuery, Event, EventChanges, EventQuery, Inventory, KeptAnswer, KeyClaim,
    LockExtension, LockRequest, NewEvent, NewUser, ObjectId, Page, PaymentForce, Repeat, SeatLock,
    Timestamp, User,
};

pub use error::StoreError;
pub use notifications::{
    DeliveryOutcome, DeliveryResult, DueDelivery, EndpointSecrets, Notifications, PruneStep,
    StoredEndpoint,
};
pub use sql::{Dialect, LOCK_BATCH_MAX, PoolSettings, SEQUENCE_BATCH, SqlStore, UnitOfWork};

pub type StoreResult<T> = Result<T, StoreError>;

/// A lock as the lock request left it, and whether it was made by an earlier identical request.
#[derive(Clone, Debug)]
pub struct LockOutcome {
    pub lock: SeatLock,
    pub replayed: bool,
}

/// The answers to a batch of lock requests, one per request in their order, and how many
/// seats of lapsed, unswept holds the batch released to make room (rule 4).
#[derive(Debug, Default)]
pub struct LockBatch {
    pub answers: Vec<StoreResult<LockOutcome>>,
    pub reclaimed_seats: i64,
}

/// A booking as confirmation left it, and whether an earlier confirmation had made it.
#[derive(Clone, Debug)]
pub struct ConfirmOutcome {
    pub booking: Booking,
    pub replayed: bool,
}

/// Counts of what one expiry pass released.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Expired {
    pub locks: u64,
    pub bookings: u64,
    pub seats: i64,
}

/// What became of one row offered for import.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Insertion {
    Inserted,
    /// A row with this id is already there (an earlier import): left as it is.
    AlreadyThere,
    /// Another row holds one of its unique keys (email, idempotency key, lock): not inserted.
    Conflicts,
}

/// An event with its seats' statuses (empty for general admission), in chart order.
#[derive(Clone, Debug)]
pub struct EventSeats {
    pub event: Event,
    pub statuses: Vec<SeatStatus>,
}

/// Which failed logins to count.
#[derive(Clone, Copy, Debug)]
pub enum FailureScope<'a> {
    /// Those for one email key (the normalised email) from one client address, so that an
    /// attacker's failures lock only the attacker out of that account (CONTRACT.md,
    /// Authentication and roles).
    EmailFromClient { email: &'a str, client: &'a str },
    /// Those from one client address, for any email.
    Client(&'a str),
}

/// Connections of one pool at one instant.
#[derive(Clone, Copy, Debug)]
pub struct PoolUsage {
    /// `writer` or `reader` on SQLite; `shared` on PostgreSQL, where one pool serves both.
    pub pool: &'static str,
    pub in_use: u32,
    pub idle: u32,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    // Users (`sql/users.rs`) and logins (`sql/logins.rs`).

    /// Registers a user; `User with this email already exists` if its email key is taken.
    async fn register_user(&self, user: NewUser, now: Timestamp) -> StoreResult<User>;
    async fn user(&self, id: ObjectId) -> StoreResult<Option<User>>;
    /// The user whose email, lower-cased, is `email_key`.
    async fn user_by_email_key(&self, email_key: &str) -> StoreResult<Option<User>>;
    /// Creates this admin, or makes the user with its email an admin with its password hash;
    /// true if it was created. A change of password or role raises the credentials version.
    async fn upsert_admin(&self, admin: NewUser, now: Timestamp) -> StoreResult<bool>;
    /// The user's credentials version, which a change of password or role and a logout
    /// everywhere raise (tokens issued under a lower one are refused); None for no such user.
    async fn credentials_version(&self, user: ObjectId) -> StoreResult<Option<i64>>;
    /// Ends every token issued so far for the user (raises the credentials version); the user,
    /// or None if there is none.
    async fn end_sessions(&self, user: ObjectId) -> StoreResult<Option<User>>;
    /// Replaces `old_hash`, a hash of the password as typed stored before CONTRACT.md rule 10,
    /// by `new_hash`, of its NFC form, unless the hash changed meanwhile. The password is the
    /// same, so tokens stay valid.
    async fn upgrade_password_hash(
        &self,
        user: ObjectId,
        old_hash: &str,
        new_hash: String,
    ) -> StoreResult<()>;

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

    // Events (`sql/events.rs`) and their inventory (`sql/inventory.rs`).

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
    /// Where every seat of the event is, from its rows (one snapshot).
    async fn inventory(&self, event_id: ObjectId) -> StoreResult<Option<Inventory>>;
    /// The inventory of every event, in event-date order (what `boxoffice check` compares).
    async fn inventories(&self) -> StoreResult<Vec<Inventory>>;
    /// Sets an event's counter to what its rows say, under its row lock; the inventory after.
    async fn repair_counter(&self, event_id: ObjectId, now: Timestamp) -> StoreResult<Inventory>;

    // Seats of seated events (`sql/seats.rs`).

    /// An event and, if it is seated, every seat's status in chart order; `None` if there is
    /// no such event.
    async fn event_seats(&self, event_id: ObjectId) -> StoreResult<Option<EventSeats>>;
    /// For each seated event among `events`, its price categories' seats (in the chart's order
    /// of categories) counted by status from the seat rows, in one aggregate statement for
    /// them all (`sql/seat_counts.rs`); general-admission events are left out. What the event
    /// views show of their seats, without reading them one by one.
    async fn category_seat_counts(
        &self,
        events: &[Event],
    ) -> StoreResult<HashMap<ObjectId, Vec<SeatCounts>>>;
    /// Blocks (FREE → BLOCKED) or unblocks (BLOCKED → FREE) the seats named, all or nothing;
    /// the seats move between the event's `availableSeats` and `withheldSeats`. Returns their
    /// labels in chart order. Refusals: `Event not found`, `Event has no seating chart`,
    /// `Unknown seat: <label>`, `Seats not available` (with the labels not in the `from`
    /// status).
    async fn block_seats(
        &self,
        event_id: ObjectId,
        labels: Vec<String>,
        block: bool,
        now: Timestamp,
    ) -> StoreResult<Vec<String>>;

    // Holds (`sql/holds.rs` for making them, `sql/locks.rs` for what follows).

    /// Holds seats; replays the earlier lock for a repeated `(user, idempotency key)`.
    /// A batch of one: the hold queue (`crate::holds`) is what batches concurrent requests.
    async fn lock_seats(&self, request: LockRequest) -> StoreResult<LockOutcome> {
        self.lock_seats_batch(vec![request])
            .await
            .answers
            .pop()
            .unwrap_or_else(|| Err(anyhow::anyhow!("a lock request got no answer").into()))
    }
    /// Decides lock requests in arrival order, in as few transactions as it can (one per
    /// event and per [`LOCK_BATCH_MAX`] requests), each exactly as if it had been made alone
    /// after the ones before it; one answer per request, in their order.
    async fn lock_seats_batch(&self, requests: Vec<LockRequest>) -> LockBatch;
    async fn lock(&self, id: ObjectId) -> StoreResult<Option<SeatLock>>;
    /// Gives an ACTIVE lock without a booking up before it lapses: EXPIRED, seats back.
    async fn release_lock_early(&self, id: ObjectId, now: Timestamp) -> StoreResult<SeatLock>;
    /// Moves an ACTIVE lock's expiry (either way), within its maximum lifetime.
    async fn extend_lock(&self, extension: LockExtension) -> StoreResult<SeatLock>;

    // Bookings (`sql/bookings.rs`) and payments (`sql/payments.rs`).

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

    // Expiry (`sql/expiry.rs`).

    /// Expires, in one transaction, up to `limit` lapsed plain locks and `limit` lapsed unpaid
    /// bookings (with their locks), and gives their seats back (rule 7).
    async fn expire_lapsed(&self, now: Timestamp, limit: i64) -> StoreResult<Expired>;

    // Idempotency keys of the `Idempotency-Key` header (`sql/idempotency.rs`; CONTRACT.md,
    // "Retrying any write").

    /// Claims `claim.key` for the request it describes (`None`), or says what the key already
    /// holds: the kept answer to replay, another request's key, or a first use still running.
    async fn claim_idempotency_key(&self, claim: &KeyClaim) -> StoreResult<Option<Repeat>>;
    /// Completes the claim with `answer` in the transaction of `unit` (the request's change,
    /// if it made one) and commits the two together; [`StoreError::TimedOut`] and nothing
    /// committed if the request's deadline has passed or the claim is no longer this run's.
    async fn keep_answer(
        &self,
        unit: &UnitOfWork,
        claim: &KeyClaim,
        answer: &KeptAnswer,
    ) -> StoreResult<()>;
    /// Rolls `unit` back and gives the claim up (an answer that is not kept: nothing changed).
    async fn release_idempotency_key(&self, unit: &UnitOfWork, claim: &KeyClaim)
    -> StoreResult<()>;
    /// Forgets the keys first used before `before` (kept 24 hours); how many.
    async fn prune_idempotency_keys(&self, before: Timestamp) -> StoreResult<u64>;

    // Rows that come with their own ids (`sql/import.rs`): one transaction per call, each row
    // inserted unless a row with its id (or another unique key) is already there.

    async fn import_users(&self, users: &[User]) -> StoreResult<Vec<Insertion>>;
    async fn import_events(&self, events: &[Event]) -> StoreResult<Vec<Insertion>>;
    async fn import_locks(&self, locks: &[SeatLock]) -> StoreResult<Vec<Insertion>>;
    async fn import_bookings(&self, bookings: &[Booking]) -> StoreResult<Vec<Insertion>>;

    /// The secret named `name` that every instance on this database shares (`sql/secrets.rs`):
    /// `candidate` if none was kept yet, else the one kept first. Never changes once kept.
    async fn shared_secret(&self, name: &str, candidate: &str) -> StoreResult<String>;

    /// Whether the database answers.
    async fn ping(&self) -> StoreResult<()>;
    /// How many connections each pool has in use and idle, for the metrics; cheap (no I/O).
    fn pool_usage(&self) -> Vec<PoolUsage>;
}
