//! Writing rows that come with their own ids (`boxoffice import-mongo`): one transaction per
//! batch, each row inserted unless a row with its id (or another unique key) is already there.

use sqlx::{Any, Transaction};

use super::{SqlStore, StoreResult};
use crate::domain::{Booking, Event, SeatLock, User, email_key};

/// What became of one row offered for import.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Insertion {
    Inserted,
    /// A row with this id is already there (an earlier import): left as it is.
    AlreadyThere,
    /// Another row holds one of its unique keys (email, idempotency key, lock): not inserted.
    Conflicts,
}

type Tx = Transaction<'static, Any>;

/// After `INSERT … ON CONFLICT DO NOTHING`: inserted, or whether the id was the conflict.
async fn classify(tx: &mut Tx, table: &str, id: String, affected: u64) -> StoreResult<Insertion> {
    if affected == 1 {
        return Ok(Insertion::Inserted);
    }
    // Table names come from this module only.
    let sql = format!("SELECT id FROM {table} WHERE id = $1");
    let found: Option<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
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
        Ok(self.writer.begin_with(self.dialect().begin_write()).await?)
    }

    /// Users with their password hashes; one transaction.
    pub async fn import_users(&self, users: &[User]) -> StoreResult<Vec<Insertion>> {
        let mut tx = self.begin_import().await?;
        let mut outcomes = Vec::with_capacity(users.len());
        for user in users {
            let done = sqlx::query(
                "INSERT INTO users (id, name, email, email_key, password_hash, role, created_at, \
                 updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
            )
            .bind(user.id.to_string())
            .bind(user.name.clone())
            .bind(user.email.clone())
            .bind(email_key(&user.email))
            .bind(user.password_hash.clone())
            .bind(user.role.as_str())
            .bind(user.created_at.millis())
            .bind(user.updated_at.millis())
            .execute(&mut *tx)
            .await?;
            outcomes
                .push(classify(&mut tx, "users", user.id.to_string(), done.rows_affected()).await?);
        }
        tx.commit().await?;
        Ok(outcomes)
    }

    /// Events with the counter and withheld seats given; one transaction.
    pub async fn import_events(&self, events: &[Event]) -> StoreResult<Vec<Insertion>> {
        let mut tx = self.begin_import().await?;
        let mut outcomes = Vec::with_capacity(events.len());
        for event in events {
            let inserted = super::sql::insert_event(&mut *tx, event).await?;
            outcomes.push(
                classify(&mut tx, "events", event.id.to_string(), u64::from(inserted)).await?,
            );
        }
        tx.commit().await?;
        Ok(outcomes)
    }

    /// Locks, their users and events already there; one transaction.
    pub async fn import_locks(&self, locks: &[SeatLock]) -> StoreResult<Vec<Insertion>> {
        let mut tx = self.begin_import().await?;
        let mut outcomes = Vec::with_capacity(locks.len());
        for lock in locks {
            let done = sqlx::query(
                "INSERT INTO seat_locks (id, event_id, user_id, seats, status, expires_at, \
                 idempotency_key, booking_id, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
            )
            .bind(lock.id.to_string())
            .bind(lock.event_id.to_string())
            .bind(lock.user_id.to_string())
            .bind(lock.seats)
            .bind(lock.status.as_str())
            .bind(lock.expires_at.millis())
            .bind(lock.idempotency_key.clone())
            .bind(lock.booking_id.map(|id| id.to_string()))
            .bind(lock.created_at.millis())
            .bind(lock.updated_at.millis())
            .execute(&mut *tx)
            .await?;
            outcomes.push(
                classify(
                    &mut tx,
                    "seat_locks",
                    lock.id.to_string(),
                    done.rows_affected(),
                )
                .await?,
            );
        }
        tx.commit().await?;
        Ok(outcomes)
    }

    /// Bookings, their users, events and locks already there; one transaction.
    pub async fn import_bookings(&self, bookings: &[Booking]) -> StoreResult<Vec<Insertion>> {
        let mut tx = self.begin_import().await?;
        let mut outcomes = Vec::with_capacity(bookings.len());
        for booking in bookings {
            let done = sqlx::query(
                "INSERT INTO bookings (id, user_id, event_id, seats, status, seat_lock_id, \
                 payment_expires_at, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
            )
            .bind(booking.id.to_string())
            .bind(booking.user_id.to_string())
            .bind(booking.event_id.to_string())
            .bind(booking.seats)
            .bind(booking.status.as_str())
            .bind(booking.seat_lock_id.to_string())
            .bind(booking.payment_expires_at.millis())
            .bind(booking.created_at.millis())
            .bind(booking.updated_at.millis())
            .execute(&mut *tx)
            .await?;
            outcomes.push(
                classify(
                    &mut tx,
                    "bookings",
                    booking.id.to_string(),
                    done.rows_affected(),
                )
                .await?,
            );
        }
        tx.commit().await?;
        Ok(outcomes)
    }
}
