//! Writing rows that come with their own ids (`boxoffice import-mongo`): one transaction per
//! call, each row inserted unless a row with its id (or another unique key) is already there.

use super::{SqlStore, Tx};
use crate::domain::{Booking, Event, ObjectId, SeatLock, User, email_key};
use crate::store::{Insertion, StoreResult};

/// After `INSERT … ON CONFLICT DO NOTHING`: inserted, or whether the id was the conflict.
async fn classify(
    tx: &mut Tx,
    table: &str,
    id: ObjectId,
    inserted: bool,
) -> StoreResult<Insertion> {
    if inserted {
        return Ok(Insertion::Inserted);
    }
    // Table names come from this module only.
    let sql = format!("SELECT id FROM {table} WHERE id = $1");
    let found: Option<(ObjectId,)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(if found.is_some() {
        Insertion::AlreadyThere
    } else {
        Insertion::Conflicts
    })
}

impl SqlStore {
    async fn begin_import(&self) -> StoreResult<Tx> {
        Ok(self.writer.begin_with(self.dialect.begin_write()).await?)
    }

    pub(super) async fn insert_imported_users(
        &self,
        users: &[User],
    ) -> StoreResult<Vec<Insertion>> {
        let mut tx = self.begin_import().await?;
        let mut outcomes = Vec::with_capacity(users.len());
        for user in users {
            let done = sqlx::query(
                "INSERT INTO users (id, name, email, email_key, password_hash, role, created_at, \
                 updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
            )
            .bind(user.id)
            .bind(user.name.clone())
            .bind(user.email.clone())
            .bind(email_key(&user.email))
            .bind(user.password_hash.clone())
            .bind(user.role)
            .bind(user.created_at)
            .bind(user.updated_at)
            .execute(&mut *tx)
            .await?;
            let inserted = done.rows_affected() == 1;
            outcomes.push(classify(&mut tx, "users", user.id, inserted).await?);
        }
        tx.commit().await?;
        Ok(outcomes)
    }

    pub(super) async fn insert_imported_events(
        &self,
        events: &[Event],
    ) -> StoreResult<Vec<Insertion>> {
        let mut tx = self.begin_import().await?;
        let mut outcomes = Vec::with_capacity(events.len());
        for event in events {
            let inserted = super::events::insert_event(&mut *tx, event).await?;
            outcomes.push(classify(&mut tx, "events", event.id, inserted).await?);
        }
        tx.commit().await?;
        Ok(outcomes)
    }

    pub(super) async fn insert_imported_locks(
        &self,
        locks: &[SeatLock],
    ) -> StoreResult<Vec<Insertion>> {
        let mut tx = self.begin_import().await?;
        let mut outcomes = Vec::with_capacity(locks.len());
        for lock in locks {
            let done = sqlx::query(
                "INSERT INTO seat_locks (id, event_id, user_id, seats, status, expires_at, \
                 idempotency_key, booking_id, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
            )
            .bind(lock.id)
            .bind(lock.event_id)
            .bind(lock.user_id)
            .bind(lock.seats)
            .bind(lock.status)
            .bind(lock.expires_at)
            .bind(lock.idempotency_key.clone())
            .bind(lock.booking_id)
            .bind(lock.created_at)
            .bind(lock.updated_at)
            .execute(&mut *tx)
            .await?;
            let inserted = done.rows_affected() == 1;
            outcomes.push(classify(&mut tx, "seat_locks", lock.id, inserted).await?);
        }
        tx.commit().await?;
        Ok(outcomes)
    }

    pub(super) async fn insert_imported_bookings(
        &self,
        bookings: &[Booking],
    ) -> StoreResult<Vec<Insertion>> {
        let mut tx = self.begin_import().await?;
        let mut outcomes = Vec::with_capacity(bookings.len());
        for booking in bookings {
            let inserted = super::bookings::insert_booking(&mut *tx, booking).await?;
            outcomes.push(classify(&mut tx, "bookings", booking.id, inserted).await?);
        }
        tx.commit().await?;
        Ok(outcomes)
    }
}
