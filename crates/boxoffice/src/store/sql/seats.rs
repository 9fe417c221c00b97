//! Seat rows of seated events (migration 0006): one row per seat and event, with its status
//! and the lock holding it. Seats change by conditional statements (`status = 'FREE'` to take,
//! `lock_id = …` to follow or free a lock), each inside the transaction that changes the
//! lock, the booking or the event counter they go with. Row locks are taken event row first,
//! then seat rows, on every path.

use std::fmt::Write as _;

use sqlx::{AnyConnection, AnyPool, AssertSqlSafe};

use super::rows::event_columns;
use super::{Decision, SqlStore, Tx};
use crate::domain::notification::NotificationType;
use crate::domain::seating::{HoldDetails, SeatCounts, SeatStatus, SeatingChart};
use crate::domain::{Event, ObjectId, Rejection, Timestamp};
use crate::store::{EventSeats, StoreError, StoreResult};

/// Rows per multi-row statement: 4 parameters a row stays far below SQLite's 32766.
const ROWS_PER_STATEMENT: usize = 1000;

/// Writes one FREE row per seat of a new seated event.
pub(super) async fn insert_seat_rows(
    tx: &mut Tx,
    event_id: ObjectId,
    chart: &SeatingChart,
) -> StoreResult<()> {
    let event = event_id.to_string();
    let indexes: Vec<usize> = (0..chart.seat_count()).collect();
    for chunk in indexes.chunks(ROWS_PER_STATEMENT) {
        let mut sql =
            String::from("INSERT INTO seats (event_id, seat_index, label, status) VALUES ");
        for (i, _) in chunk.iter().enumerate() {
            let comma = if i == 0 { "" } else { ", " };
            let _ = write!(sql, "{comma}($1, ${}, ${}, 'FREE')", 2 * i + 2, 2 * i + 3);
        }
        let mut query = sqlx::query(AssertSqlSafe(sql)).bind(event.clone());
        for &seat in chunk {
            query = query.bind(seat as i64).bind(chart.label(seat));
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// The status of every seat of an event, in chart order (`seat_count` seats). When fewer than
/// half are FREE (`free_hint`, the event's counter), only the FREE rows are read and the
/// others are shown HELD: enough for best available, which only tells FREE from taken.
pub(super) async fn seats_for_decision(
    conn: &mut AnyConnection,
    event_id: ObjectId,
    seat_count: usize,
    free_hint: i64,
) -> StoreResult<Vec<SeatStatus>> {
    let few_free = (free_hint as usize) * 2 < seat_count;
    let (sql, rest, found) = if few_free {
        (
            "SELECT seat_index FROM seats WHERE event_id = $1 AND status = 'FREE'",
            SeatStatus::Held,
            SeatStatus::Free,
        )
    } else {
        (
            "SELECT seat_index FROM seats WHERE event_id = $1 AND status <> 'FREE'",
            SeatStatus::Free,
            SeatStatus::Held,
        )
    };
    let mut statuses = vec![rest; seat_count];
    let rows: Vec<i64> = sqlx::query_scalar(sql)
        .bind(event_id.to_string())
        .fetch_all(conn)
        .await?;
    for index in rows {
        if let Some(status) = statuses.get_mut(index as usize) {
            *status = found;
        }
    }
    Ok(statuses)
}

/// Every seat's status, in chart order, as stored.
pub(super) async fn seat_statuses(
    conn: &mut AnyConnection,
    event_id: ObjectId,
    seat_count: usize,
) -> StoreResult<Vec<SeatStatus>> {
    let rows: Vec<(i64, String)> =
        sqlx::query_as("SELECT seat_index, status FROM seats WHERE event_id = $1")
            .bind(event_id.to_string())
            .fetch_all(conn)
            .await?;
    let mut statuses = vec![SeatStatus::Free; seat_count];
    for (index, status) in rows {
        let status = SeatStatus::parse(&status)
            .ok_or_else(|| StoreError::corrupt(format!("seat status {status:?}")))?;
        if let Some(slot) = statuses.get_mut(index as usize) {
            *slot = status;
        }
    }
    Ok(statuses)
}

/// Takes FREE seats for locks just inserted: `holds` pairs each lock with its seat indexes.
/// One conditional statement per chunk; false when some seat was not FREE any more (the
/// caller rolls back and decides again).
pub(super) async fn hold_seats(
    tx: &mut Tx,
    event_id: ObjectId,
    holds: &[(ObjectId, &[usize])],
) -> StoreResult<bool> {
    let pairs: Vec<(String, i64)> = holds
        .iter()
        .flat_map(|(lock, seats)| seats.iter().map(move |&s| (lock.to_string(), s as i64)))
        .collect();
    for chunk in pairs.chunks(ROWS_PER_STATEMENT) {
        let mut cases = String::new();
        let mut list = String::new();
        for i in 0..chunk.len() {
            let (index, lock) = (2 * i + 2, 2 * i + 3);
            let _ = write!(cases, " WHEN ${index} THEN ${lock}");
            let comma = if i == 0 { "" } else { ", " };
            let _ = write!(list, "{comma}${index}");
        }
        let sql = format!(
            "UPDATE seats SET status = 'HELD', lock_id = CASE seat_index{cases} END \
             WHERE event_id = $1 AND seat_index IN ({list}) AND status = 'FREE'"
        );
        let mut query = sqlx::query(AssertSqlSafe(sql)).bind(event_id.to_string());
        for (lock, index) in chunk {
            query = query.bind(*index).bind(lock.clone());
        }
        if query.execute(&mut **tx).await?.rows_affected() != chunk.len() as u64 {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The seats of a lock follow it: PENDING_PAYMENT once confirmed, SOLD once paid. A lock of
/// a general-admission event has no seat rows: nothing changes.
pub(super) async fn follow_lock(
    tx: &mut Tx,
    lock_id: ObjectId,
    status: SeatStatus,
) -> StoreResult<u64> {
    let done = sqlx::query("UPDATE seats SET status = $2 WHERE lock_id = $1")
        .bind(lock_id.to_string())
        .bind(status.as_str())
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected())
}

/// Frees the seats of locks that have just become EXPIRED, exactly once: a second call finds
/// no row naming them. Returns how many seats were freed.
pub(super) async fn free_seats_of_locks(tx: &mut Tx, lock_ids: &[ObjectId]) -> StoreResult<u64> {
    let mut freed = 0;
    for chunk in lock_ids.chunks(ROWS_PER_STATEMENT) {
        let list = (1..=chunk.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql =
            format!("UPDATE seats SET status = 'FREE', lock_id = NULL WHERE lock_id IN ({list})");
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for id in chunk {
            query = query.bind(id.to_string());
        }
        freed += query.execute(&mut **tx).await?.rows_affected();
    }
    Ok(freed)
}

/// Moves seats from one status to another (FREE → BLOCKED, BLOCKED → FREE), all or nothing:
/// false if some seat was not in `from` (the caller rolls back).
pub(super) async fn move_seats(
    tx: &mut Tx,
    event_id: ObjectId,
    seats: &[usize],
    from: SeatStatus,
    to: SeatStatus,
) -> StoreResult<bool> {
    let list = (0..seats.len())
        .map(|i| format!("${}", i + 4))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "UPDATE seats SET status = $3 WHERE event_id = $1 AND status = $2 \
         AND seat_index IN ({list})"
    );
    let mut query = sqlx::query(AssertSqlSafe(sql))
        .bind(event_id.to_string())
        .bind(from.as_str())
        .bind(to.as_str());
    for &seat in seats {
        query = query.bind(seat as i64);
    }
    Ok(query.execute(&mut **tx).await?.rows_affected() == seats.len() as u64)
}

/// A hold's labels as the JSON array stored in `seat_labels`.
pub(super) fn labels_json(details: &HoldDetails) -> Option<String> {
    details
        .seat_labels
        .as_ref()
        .map(|labels| serde_json::Value::from(labels.clone()).to_string())
}

impl SqlStore {
    /// An event and its seats' statuses, read from `pool` (the replica for public reads).
    pub(super) async fn event_seats_now(
        &self,
        pool: &AnyPool,
        event_id: ObjectId,
    ) -> StoreResult<Option<EventSeats>> {
        let mut conn = pool.acquire().await?;
        let Some(event) = super::events::event_by_id(&mut *conn, event_id).await? else {
            return Ok(None);
        };
        let statuses = match &event.seating {
            Some(chart) => seat_statuses(&mut conn, event_id, chart.seat_count()).await?,
            None => Vec::new(),
        };
        Ok(Some(EventSeats { event, statuses }))
    }

    pub(super) async fn block_seats_in(
        &self,
        tx: &mut Tx,
        event_id: ObjectId,
        labels: &[String],
        block: bool,
        now: Timestamp,
    ) -> StoreResult<Decision<Vec<String>>> {
        let event: Option<Event> = sqlx::query_as(AssertSqlSafe(self.sql.event_for_update.clone()))
            .bind(event_id)
            .fetch_optional(&mut **tx)
            .await?;
        let Some(event) = event else {
            return Ok(Err(Rejection::EventNotFound));
        };
        let Some(chart) = event.seating else {
            return Ok(Err(Rejection::NoSeatingChart));
        };
        let mut seats = Vec::with_capacity(labels.len());
        for label in labels {
            match chart.seat_index(label) {
                Some(seat) => seats.push(seat),
                None => return Ok(Err(Rejection::UnknownSeat(label.clone()))),
            }
        }
        seats.sort_unstable();
        let (from, to) = if block {
            (SeatStatus::Free, SeatStatus::Blocked)
        } else {
            (SeatStatus::Blocked, SeatStatus::Free)
        };
        // Under the event's row lock no seat enters or leaves FREE: the statuses read are
        // current, and the conditional write below only confirms them.
        let mut statuses = seat_statuses(tx, event_id, chart.seat_count()).await?;
        let wrong: Vec<String> = seats
            .iter()
            .filter(|&&seat| statuses[seat] != from)
            .map(|&seat| chart.label(seat))
            .collect();
        if !wrong.is_empty() {
            return Ok(Err(Rejection::SeatsUnavailable(wrong)));
        }
        if !move_seats(tx, event_id, &seats, from, to).await? {
            return Err(StoreError::Conflict(None));
        }
        let n = seats.len() as i64;
        let (from_column, to_column) = if block {
            ("available_seats", "withheld_seats")
        } else {
            ("withheld_seats", "available_seats")
        };
        let sql = format!(
            "UPDATE events SET {from_column} = {from_column} - $2, {to_column} = {to_column} + $2, \
             updated_at = $3 WHERE id = $1 AND {from_column} >= $2 RETURNING {}",
            event_columns!()
        );
        let moved: Option<Event> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(event_id)
            .bind(n)
            .bind(now)
            .fetch_optional(&mut **tx)
            .await?;
        let Some(moved) = moved else {
            return Err(StoreError::corrupt(format!(
                "event {event_id}: its counters disagree with its seat rows"
            )));
        };
        // The counts changed: `event.updated` with the event as it now is, in this transaction
        // (CONTRACT.md, "Notifications": one change, one notification, iff it committed). Its
        // categories' FREE seats (all the view shows) are the statuses read above with this
        // move made: under the row lock no seat entered or left FREE meanwhile, so no second
        // read of every seat.
        for &seat in &seats {
            statuses[seat] = to;
        }
        let seat_counts = SeatCounts::by_category(&chart, &statuses);
        self.notify_event(
            tx,
            NotificationType::EventUpdated,
            &moved,
            Some(seat_counts),
            now,
        )
        .await?;
        Ok(Ok(seats.iter().map(|&seat| chart.label(seat)).collect()))
    }
}

/// `boxoffice check --repair` on a seated event (under its row lock): frees every seat no live
/// lock holds, and gives every other taken seat the status its lock gives it.
pub(super) async fn repair_seat_rows(tx: &mut Tx, event_id: ObjectId) -> StoreResult<()> {
    sqlx::query(
        "UPDATE seats SET status = 'FREE', lock_id = NULL WHERE event_id = $1 \
         AND lock_id IS NOT NULL AND lock_id NOT IN (SELECT id FROM seat_locks \
           WHERE event_id = $1 AND status IN ('ACTIVE', 'CONSUMED'))",
    )
    .bind(event_id)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "UPDATE seats SET status = (SELECT CASE WHEN l.status = 'CONSUMED' THEN 'SOLD' \
           WHEN l.booking_id IS NULL THEN 'HELD' ELSE 'PENDING_PAYMENT' END \
           FROM seat_locks l WHERE l.id = seats.lock_id) \
         WHERE event_id = $1 AND lock_id IS NOT NULL",
    )
    .bind(event_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
