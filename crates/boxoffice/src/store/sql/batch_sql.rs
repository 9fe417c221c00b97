//! The hold path's set-based statements (`holds.rs`), one text each whatever the batch size,
//! and the two reads a batch makes with them (its stored keys; its event and users).
//!
//! A batch names up to `LOCK_BATCH_MAX` keys, users and new locks. Spelling them as that many
//! placeholders gave every batch size its own statement text, so PostgreSQL parsed and planned
//! most batches afresh (sqlx caches 100 prepared statements per connection; 3 statements × 256
//! sizes do not fit). Here the rows travel as one JSON text parameter, unpacked by the
//! database (`json_array_elements` on PostgreSQL, `json_each` on SQLite): the text is fixed,
//! so each connection prepares it once. sqlx's `Any` driver has no array binds, which would be
//! PostgreSQL's usual way (`= ANY($1)`, `UNNEST`); JSON is the one set-valued parameter both
//! databases read, so the two dialects differ only in the unpacking function.
//!
//! The idempotency look-up probes the `(user_id, idempotency_key)` unique index once per key
//! (a LATERAL subquery with LIMIT 1 on PostgreSQL, a join driven by the JSON rows on SQLite):
//! a plan that does not depend on statistics. The earlier `(user_id = $1 AND idempotency_key = $2) OR …`
//! was planned, before PostgreSQL's first ANALYZE of `seat_locks`, as a scan of every lock of
//! the users named (15 ms per batch at 15,000 holds).

use std::sync::Arc;

use serde_json::{Value, json};

use std::collections::{HashMap, HashSet};

use sqlx::AssertSqlSafe;

use super::{Dialect, Tx};
use crate::domain::{LockRequest, ObjectId, Price, SeatLock, Timestamp};
use crate::store::StoreResult;

pub(super) struct BatchStatements {
    /// `$1`: `[[user_id, idempotency_key], …]`; returns the locks stored under those keys.
    pub(super) stored_locks: Arc<str>,
    /// `$1`: the event, `$2`: `[user_id, …]`; the event's date, seats, whether it is seated,
    /// price and currency, with one row per user found (or one without a user); none if there
    /// is no such event.
    pub(super) event_and_users: Arc<str>,
    /// `$1`: the event, `$2`: the ACTIVE status, `$3`: `[[id, user_id, seats, expires_at,
    /// idempotency_key, seat_labels, seat_request, next_to_each_other, amount, currency,
    /// created_at], …]` in insertion order; returns the ids inserted.
    pub(super) insert_locks: Arc<str>,
}

impl BatchStatements {
    pub(super) fn new(dialect: Dialect) -> Self {
        let insert = "INSERT INTO seat_locks (id, event_id, user_id, seats, status, expires_at, \
                      idempotency_key, booking_id, seat_labels, seat_request, next_to_each_other, \
                      amount, currency, created_at, updated_at) ";
        let event = "SELECT e.event_date, e.available_seats, \
                     CAST(CASE WHEN e.seating_chart IS NULL THEN 0 ELSE 1 END AS BIGINT), \
                     e.price, e.currency, u.id FROM events e LEFT JOIN users u ON u.id IN ";
        let on_conflict = " ON CONFLICT (user_id, idempotency_key) DO NOTHING RETURNING id";
        match dialect {
            Dialect::Postgres => Self {
                // `LIMIT 1` keeps the subquery a per-key probe: without it PostgreSQL may
                // flatten it into a hash join over all of `seat_locks`, which a plan made
                // while the table was small (and then cached) keeps choosing as it grows.
                stored_locks: "SELECT l.* FROM json_array_elements($1::json) AS k(pair) \
                     CROSS JOIN LATERAL (SELECT * FROM seat_locks \
                       WHERE user_id = k.pair->>0 AND idempotency_key = k.pair->>1 LIMIT 1) AS l"
                    .into(),
                event_and_users: format!(
                    "{event}(SELECT json_array_elements_text($2::json)) WHERE e.id = $1"
                )
                .into(),
                insert_locks: format!(
                    "{insert}SELECT r->>0, $1, r->>1, (r->>2)::bigint, $2, (r->>3)::bigint, \
                       r->>4, NULL, r->>5, r->>6, (r->>7)::bigint, (r->>8)::bigint, r->>9, \
                       (r->>10)::bigint, (r->>10)::bigint \
                     FROM json_array_elements($3::json) WITH ORDINALITY AS t(r, n) \
                     ORDER BY n{on_conflict}"
                )
                .into(),
            },
            Dialect::Sqlite => Self {
                stored_locks: "SELECT l.* FROM json_each($1) AS k \
                     JOIN seat_locks AS l ON l.user_id = json_extract(k.value, '$[0]') \
                       AND l.idempotency_key = json_extract(k.value, '$[1]')"
                    .into(),
                event_and_users: format!(
                    "{event}(SELECT value FROM json_each($2)) WHERE e.id = $1"
                )
                .into(),
                // `WHERE true`: SQLite's parser needs it between a SELECT and ON CONFLICT.
                insert_locks: format!(
                    "{insert}SELECT json_extract(value, '$[0]'), $1, json_extract(value, '$[1]'), \
                       json_extract(value, '$[2]'), $2, json_extract(value, '$[3]'), \
                       json_extract(value, '$[4]'), NULL, json_extract(value, '$[5]'), \
                       json_extract(value, '$[6]'), json_extract(value, '$[7]'), \
                       json_extract(value, '$[8]'), json_extract(value, '$[9]'), \
                       json_extract(value, '$[10]'), json_extract(value, '$[10]') \
                     FROM json_each($3) WHERE true ORDER BY key{on_conflict}"
                )
                .into(),
            },
        }
    }
}

/// `[[user_id, idempotency_key], …]`
pub(super) fn key_pairs(keys: &[(ObjectId, &str)]) -> String {
    Value::from_iter(
        keys.iter()
            .map(|(user, key)| json!([user.to_string(), key])),
    )
    .to_string()
}

/// `[user_id, …]`
pub(super) fn user_ids(ids: &[ObjectId]) -> String {
    Value::from_iter(ids.iter().map(|id| Value::from(id.to_string()))).to_string()
}

/// `[[id, user_id, seats, expires_at, idempotency_key, seat_labels, seat_request,
/// next_to_each_other, amount, currency, created_at], …]` (`null` where a lock has none)
pub(super) fn lock_rows(locks: &[&SeatLock]) -> String {
    Value::from_iter(locks.iter().map(|lock| {
        let details = &lock.details;
        json!([
            lock.id.to_string(),
            lock.user_id.to_string(),
            lock.seats,
            lock.expires_at.millis(),
            lock.idempotency_key,
            super::seats::labels_json(details),
            details.seat_request,
            details.next_to_each_other.map(i64::from),
            details.price.as_ref().map(|p| p.amount),
            details.price.as_ref().map(|p| p.currency.clone()),
            lock.created_at.millis(),
        ])
    }))
    .to_string()
}

/// For each request, the lock stored under its `(user, idempotency key)`, in one statement.
pub(super) async fn stored_locks(
    tx: &mut Tx,
    sql: &BatchStatements,
    requests: &[LockRequest],
) -> StoreResult<Vec<Option<SeatLock>>> {
    let keys: Vec<(ObjectId, &str)> = distinct(
        requests
            .iter()
            .map(|r| (r.user_id, r.idempotency_key.as_str())),
    );
    let found: Vec<SeatLock> = sqlx::query_as(AssertSqlSafe(sql.stored_locks.clone()))
        .bind(key_pairs(&keys))
        .fetch_all(&mut **tx)
        .await?;
    let found: HashMap<(ObjectId, &str), &SeatLock> = found
        .iter()
        .map(|lock| ((lock.user_id, lock.idempotency_key.as_str()), lock))
        .collect();
    Ok(requests
        .iter()
        .map(|r| {
            found
                .get(&(r.user_id, r.idempotency_key.as_str()))
                .map(|&lock| lock.clone())
        })
        .collect())
}

/// What a batch needs of its event: whether it has started, and (as a hint) its seats.
#[derive(Clone)]
pub(super) struct EventGlance {
    pub(super) date: Timestamp,
    pub(super) available_seats: i64,
    pub(super) seated: bool,
    /// A general-admission event's price per seat.
    pub(super) price: Option<Price>,
}

/// The batch's event, and for each request whether its user exists: one statement, one row
/// per user found (or one row without a user). No row: no such event, and then whether the
/// users exist does not matter (a missing event is the first thing a request is told).
pub(super) async fn event_and_users(
    tx: &mut Tx,
    sql: &BatchStatements,
    requests: &[LockRequest],
) -> StoreResult<(Option<EventGlance>, Vec<bool>)> {
    let ids = distinct(requests.iter().map(|r| r.user_id));
    type Row = (
        Timestamp,
        i64,
        i64,
        Option<i64>,
        Option<String>,
        Option<ObjectId>,
    );
    let rows: Vec<Row> = sqlx::query_as(AssertSqlSafe(sql.event_and_users.clone()))
        .bind(requests[0].event_id)
        .bind(user_ids(&ids))
        .fetch_all(&mut **tx)
        .await?;
    let event =
        rows.first().map(
            |(date, available_seats, seated, price, currency, _)| EventGlance {
                date: *date,
                available_seats: *available_seats,
                seated: *seated != 0,
                price: price
                    .zip(currency.clone())
                    .map(|(amount, currency)| Price { amount, currency }),
            },
        );
    let found: HashSet<ObjectId> = rows.into_iter().filter_map(|row| row.5).collect();
    let user_exists = requests
        .iter()
        .map(|r| found.contains(&r.user_id))
        .collect();
    Ok((event, user_exists))
}

/// The values in order of first appearance, each once.
fn distinct<T: Eq + std::hash::Hash + Copy>(values: impl Iterator<Item = T>) -> Vec<T> {
    let mut seen = HashSet::new();
    values.filter(|value| seen.insert(*value)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{LockStatus, Timestamp};

    #[test]
    fn rows_travel_as_json_arrays() {
        let id = ObjectId::parse("697a00af215688d2a9fca5c8").unwrap();
        assert_eq!(
            key_pairs(&[(id, "k\"1")]),
            r#"[["697a00af215688d2a9fca5c8","k\"1"]]"#
        );
        assert_eq!(user_ids(&[id]), r#"["697a00af215688d2a9fca5c8"]"#);
        let lock = SeatLock {
            id,
            event_id: id,
            user_id: id,
            seats: 2,
            status: LockStatus::Active,
            expires_at: Timestamp::from_millis(300),
            idempotency_key: "k".to_owned(),
            booking_id: None,
            details: Default::default(),
            created_at: Timestamp::from_millis(1),
            updated_at: Timestamp::from_millis(1),
        };
        assert_eq!(
            lock_rows(&[&lock]),
            r#"[["697a00af215688d2a9fca5c8","697a00af215688d2a9fca5c8",2,300,"k",null,null,null,null,null,1]]"#
        );
    }
}
