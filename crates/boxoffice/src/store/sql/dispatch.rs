//! The one `impl Store`: each use case names the file that does it. Write use cases run in
//! `in_write_tx!` (one transaction, run again after a lost race); reads go to the reader pool.

use std::collections::HashMap;

use async_trait::async_trait;
use sqlx::{AnyPool, Executor as _};

use super::{Dialect, SqlStore, in_write_tx, lists};
use super::{bookings, events, locks, seat_counts};
use crate::domain::seating::SeatCounts;
use crate::domain::{
    Booking, BookingQuery, Event, EventChanges, EventQuery, Inventory, KeptAnswer, KeyClaim,
    LockExtension, LockRequest, NewEvent, NewUser, ObjectId, Page, PaymentForce, Repeat, SeatLock,
    Timestamp, User,
};
use crate::store::{
    ConfirmOutcome, EventSeats, Expired, FailureScope, Insertion, LockBatch, PoolUsage, Store,
    StoreResult, UnitOfWork,
};

#[async_trait]
impl Store for SqlStore {
    // users.rs, logins.rs
    async fn register_user(&self, user: NewUser, now: Timestamp) -> StoreResult<User> {
        self.register_user_now(user, now).await
    }
    async fn user(&self, id: ObjectId) -> StoreResult<Option<User>> {
        self.user_by_id(id).await
    }
    async fn user_by_email_key(&self, email_key: &str) -> StoreResult<Option<User>> {
        self.user_by_key(email_key).await
    }
    async fn upsert_admin(&self, admin: NewUser, now: Timestamp) -> StoreResult<bool> {
        self.upsert_admin_now(admin, now).await
    }
    async fn credentials_version(&self, user: ObjectId) -> StoreResult<Option<i64>> {
        self.credentials_version_of(user).await
    }
    async fn end_sessions(&self, user: ObjectId) -> StoreResult<Option<User>> {
        self.end_sessions_now(user).await
    }
    async fn upgrade_password_hash(
        &self,
        user: ObjectId,
        old_hash: &str,
        new_hash: String,
    ) -> StoreResult<()> {
        self.upgrade_hash(user, old_hash, new_hash).await
    }
    async fn record_login_failure(
        &self,
        email_key: &str,
        client: &str,
        at: Timestamp,
        forget_before: Timestamp,
    ) -> StoreResult<()> {
        self.record_login_failure_now(email_key, client, at, forget_before)
            .await
    }
    async fn nth_login_failure(
        &self,
        scope: FailureScope<'_>,
        n: u32,
        since: Timestamp,
    ) -> StoreResult<Option<Timestamp>> {
        self.nth_failure(scope, n, since).await
    }

    // events.rs, lists.rs, inventory.rs
    async fn create_event(&self, event: NewEvent, now: Timestamp) -> StoreResult<Event> {
        self.create_event_now(event, now).await
    }
    async fn event(&self, id: ObjectId) -> StoreResult<Option<Event>> {
        self.public_read(|pool| events::event_by_id(pool, id)).await
    }
    async fn list_events(&self, query: EventQuery) -> StoreResult<Page<Event>> {
        self.public_read(|pool| lists::event_page(pool, self.dialect, query.clone()))
            .await
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
        self.inventory_of(event_id).await
    }
    async fn inventories(&self) -> StoreResult<Vec<Inventory>> {
        self.all_inventories().await
    }
    async fn repair_counter(&self, event_id: ObjectId, now: Timestamp) -> StoreResult<Inventory> {
        self.repair_counter_tx(event_id, now).await
    }

    // seats.rs, seat_counts.rs
    async fn event_seats(&self, event_id: ObjectId) -> StoreResult<Option<EventSeats>> {
        self.public_read(|pool| self.event_seats_now(pool, event_id))
            .await
    }
    async fn category_seat_counts(
        &self,
        events: &[Event],
    ) -> StoreResult<HashMap<ObjectId, Vec<SeatCounts>>> {
        self.public_read(|pool| seat_counts::category_seat_counts(pool, events))
            .await
    }
    async fn block_seats(
        &self,
        event_id: ObjectId,
        labels: Vec<String>,
        block: bool,
        now: Timestamp,
    ) -> StoreResult<Vec<String>> {
        in_write_tx!(self, |tx| self
            .block_seats_in(&mut tx, event_id, &labels, block, now))
    }

    // holds.rs, locks.rs
    async fn lock_seats_batch(&self, requests: Vec<LockRequest>) -> LockBatch {
        self.lock_seats_in_batches(requests).await
    }
    async fn lock(&self, id: ObjectId) -> StoreResult<Option<SeatLock>> {
        locks::lock_by_id(&self.reader, id).await
    }
    async fn release_lock_early(&self, id: ObjectId, now: Timestamp) -> StoreResult<SeatLock> {
        in_write_tx!(self, |tx| self.release_lock_early_in(&mut tx, id, now))
    }
    async fn extend_lock(&self, extension: LockExtension) -> StoreResult<SeatLock> {
        in_write_tx!(self, |tx| self.extend_lock_in(&mut tx, extension))
    }

    // bookings.rs, payments.rs
    async fn confirm_booking(
        &self,
        lock_id: ObjectId,
        now: Timestamp,
        payment_expires_at: Timestamp,
    ) -> StoreResult<ConfirmOutcome> {
        in_write_tx!(self, |tx| self.confirm_booking_in(
            &mut tx,
            lock_id,
            now,
            payment_expires_at
        ))
    }
    async fn booking(&self, id: ObjectId) -> StoreResult<Option<Booking>> {
        bookings::booking_by_id(&self.reader, id).await
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

    // expiry.rs
    async fn expire_lapsed(&self, now: Timestamp, limit: i64) -> StoreResult<Expired> {
        self.expire_lapsed_tx(now, limit).await
    }

    // idempotency.rs
    async fn claim_idempotency_key(&self, claim: &KeyClaim) -> StoreResult<Option<Repeat>> {
        self.claim_key(claim).await
    }
    async fn keep_answer(
        &self,
        unit: &UnitOfWork,
        claim: &KeyClaim,
        answer: &KeptAnswer,
    ) -> StoreResult<()> {
        self.keep_answer_in_unit(unit, claim, answer).await
    }
    async fn release_idempotency_key(
        &self,
        unit: &UnitOfWork,
        claim: &KeyClaim,
    ) -> StoreResult<()> {
        self.release_key(unit, claim).await
    }
    async fn prune_idempotency_keys(&self, before: Timestamp) -> StoreResult<u64> {
        self.prune_keys(before).await
    }

    // import.rs
    async fn import_users(&self, users: &[User]) -> StoreResult<Vec<Insertion>> {
        self.insert_imported_users(users).await
    }
    async fn import_events(&self, events: &[Event]) -> StoreResult<Vec<Insertion>> {
        self.insert_imported_events(events).await
    }
    async fn import_locks(&self, locks: &[SeatLock]) -> StoreResult<Vec<Insertion>> {
        self.insert_imported_locks(locks).await
    }
    async fn import_bookings(&self, bookings: &[Booking]) -> StoreResult<Vec<Insertion>> {
        self.insert_imported_bookings(bookings).await
    }

    // secrets.rs
    async fn shared_secret(&self, name: &str, candidate: &str) -> StoreResult<String> {
        self.shared_secret_now(name, candidate).await
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
