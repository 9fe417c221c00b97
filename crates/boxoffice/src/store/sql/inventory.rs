//! Inventories (CONTRACT.md "Inventory", `boxoffice check`): every seat of an event, from its
//! rows. Which rows count as held, pending or confirmed is `domain::SeatUse`; the statement is
//! built from it, so the endpoint, `check` and the importer's recount agree by construction.

use std::sync::Arc;

use sqlx::AssertSqlSafe;

use super::{Decision, SqlStore};
use crate::domain::{Inventory, ObjectId, Rejection, SeatUse, Timestamp};
use crate::store::{StoreError, StoreResult};

/// A seated event's seat rows, counted for the inventory (`domain::SeatRows`): FREE and
/// BLOCKED rows, taken rows that no live lock explains, live locks short of seat rows.
const SEAT_ROWS: &str = "\
    CAST(CASE WHEN e.seating_chart IS NULL THEN 0 ELSE 1 END AS BIGINT) AS seated, \
    CAST((SELECT COUNT(*) FROM seats s WHERE s.event_id = e.id AND s.status = 'FREE') \
      AS BIGINT) AS free_seat_rows, \
    CAST((SELECT COUNT(*) FROM seats s WHERE s.event_id = e.id AND s.status = 'BLOCKED') \
      AS BIGINT) AS blocked_seat_rows, \
    CAST((SELECT COUNT(*) FROM seats s WHERE s.event_id = e.id AND s.lock_id IS NOT NULL) \
      - (SELECT COUNT(*) FROM seats s JOIN seat_locks l ON l.id = s.lock_id \
         WHERE s.event_id = e.id AND ((s.status = 'HELD' AND l.status = 'ACTIVE' \
           AND l.booking_id IS NULL) OR (s.status = 'PENDING_PAYMENT' AND l.status = 'ACTIVE' \
           AND l.booking_id IS NOT NULL) OR (s.status = 'SOLD' AND l.status = 'CONSUMED'))) \
      AS BIGINT) AS stray_seat_rows, \
    CAST((SELECT COUNT(*) FROM seat_locks l WHERE l.event_id = e.id \
      AND e.seating_chart IS NOT NULL AND l.status IN ('ACTIVE', 'CONSUMED') \
      AND l.seats <> (SELECT COUNT(*) FROM seats s WHERE s.lock_id = l.id)) AS BIGINT) \
      AS short_locks";

pub(super) struct Statements {
    one: Arc<str>,
    all: Arc<str>,
}

impl Statements {
    pub(super) fn new() -> Self {
        // One statement, so one snapshot: the counter and the rows are read at one instant.
        let select = format!(
            "SELECT e.id, e.total_seats, e.available_seats, e.withheld_seats, \
               CAST(COALESCE((SELECT SUM(l.seats) FROM seat_locks l WHERE l.event_id = e.id \
                 AND l.status = '{held}' AND l.booking_id IS NULL), 0) AS BIGINT) AS held_seats, \
               CAST(COALESCE((SELECT SUM(b.seats) FROM bookings b WHERE b.event_id = e.id \
                 AND b.status = '{pending}'), 0) AS BIGINT) AS pending_payment_seats, \
               CAST(COALESCE((SELECT SUM(b.seats) FROM bookings b WHERE b.event_id = e.id \
                 AND b.status = '{confirmed}'), 0) AS BIGINT) AS confirmed_seats, \
               {seat_rows} \
             FROM events e",
            seat_rows = SEAT_ROWS,
            held = SeatUse::HELD_LOCK,
            pending = SeatUse::PENDING_BOOKING,
            confirmed = SeatUse::CONFIRMED_BOOKING,
        );
        Self {
            one: format!("{select} WHERE e.id = $1").into(),
            all: format!("{select} ORDER BY e.event_date, e.id").into(),
        }
    }
}

impl SqlStore {
    pub(super) async fn inventory_of(&self, event_id: ObjectId) -> StoreResult<Option<Inventory>> {
        Ok(
            sqlx::query_as(AssertSqlSafe(self.sql.inventory.one.clone()))
                .bind(event_id)
                .fetch_optional(&self.reader)
                .await?,
        )
    }

    pub(super) async fn all_inventories(&self) -> StoreResult<Vec<Inventory>> {
        Ok(
            sqlx::query_as(AssertSqlSafe(self.sql.inventory.all.clone()))
                .fetch_all(&self.reader)
                .await?,
        )
    }

    /// Every transaction that moves seats holds the event row, so once this transaction holds
    /// it, the rows cannot change under the recount.
    pub(super) async fn repair_counter_tx(
        &self,
        event_id: ObjectId,
        now: Timestamp,
    ) -> StoreResult<Inventory> {
        super::in_write_tx!(self, |tx| async {
            let held: Option<crate::domain::Event> =
                sqlx::query_as(AssertSqlSafe(self.sql.event_for_update.clone()))
                    .bind(event_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            if held.is_none() {
                return Ok::<Decision<Inventory>, StoreError>(Err(Rejection::EventNotFound));
            }
            let mut inventory: Inventory =
                sqlx::query_as(AssertSqlSafe(self.sql.inventory.one.clone()))
                    .bind(event_id)
                    .fetch_one(&mut *tx)
                    .await?;
            if inventory.seat_rows.is_some() {
                // The locks are the truth: seats no live lock holds are freed, the others take
                // the status their lock gives, and BLOCKED rows are what is withheld.
                super::seats::repair_seat_rows(&mut tx, event_id).await?;
                inventory = sqlx::query_as(AssertSqlSafe(self.sql.inventory.one.clone()))
                    .bind(event_id)
                    .fetch_one(&mut *tx)
                    .await?;
                if let Some(rows) = inventory.seat_rows {
                    inventory.withheld_seats = rows.blocked;
                }
            }
            inventory.available_seats = inventory.expected_available();
            sqlx::query(
                "UPDATE events SET available_seats = $2, withheld_seats = $4, updated_at = $3 \
                 WHERE id = $1",
            )
            .bind(event_id)
            .bind(inventory.available_seats)
            .bind(now)
            .bind(inventory.withheld_seats)
            .execute(&mut *tx)
            .await?;
            // As the rows now say (a live lock that lost seat rows stays a mismatch: no
            // repair can guess which seats it held).
            let inventory: Inventory =
                sqlx::query_as(AssertSqlSafe(self.sql.inventory.one.clone()))
                    .bind(event_id)
                    .fetch_one(&mut *tx)
                    .await?;
            Ok(Ok(inventory))
        })
    }
}
