//! What the views of seated events show of their seats: each price category's seats by
//! status, counted by the database (CONTRACT.md, "Reserved seating": a category's
//! `availableSeats` is its FREE seats), so that an event view or a page of the event list
//! never reads a chart's seat rows one by one.
//!
//! A seat row knows its event and index, not its category; a chart's categories are runs of
//! consecutive indexes ([`SeatingChart::category_runs`]). One statement counts every run of
//! every event asked about: the runs are a `VALUES` list joined to `seats` on the primary key
//! `(event_id, seat_index)` of migration 0006 (an index range per run), grouped by event,
//! category and status. It answers at most 5 × categories rows per event, whatever its seats.
//!
//! The same count runs inside a change's transaction for the `event.created` and
//! `event.updated` notifications of a seated event (`notifications/outbox.rs`), so that their
//! `data` shows the categories as GET does right after the change.

use std::collections::HashMap;
use std::fmt::Write as _;

use sqlx::{AnyConnection, AnyPool, AssertSqlSafe};

use crate::domain::seating::{SeatCounts, SeatStatus, SeatingChart};
use crate::domain::{Event, ObjectId};
use crate::store::{StoreError, StoreResult};

/// Runs per statement: 4 parameters a run stays far below SQLite's 32766. A page of the event
/// list (at most 100 events) fits in one statement unless its charts alternate categories row
/// after row.
const RUNS_PER_STATEMENT: usize = 1000;

/// For each seated event among `events`, its categories' seats by status, in the chart's order
/// of categories; general-admission events are left out (and cost nothing: no connection is
/// taken and no statement runs when none is seated).
pub(super) async fn category_seat_counts(
    db: &AnyPool,
    events: &[Event],
) -> StoreResult<HashMap<ObjectId, Vec<SeatCounts>>> {
    if events.iter().all(|event| event.seating.is_none()) {
        return Ok(HashMap::new());
    }
    category_seat_counts_in(&mut *db.acquire().await?, events).await
}

/// [`category_seat_counts`] on `db`, a connection or a transaction (what the transaction has
/// written so far is counted).
pub(super) async fn category_seat_counts_in(
    db: &mut AnyConnection,
    events: &[Event],
) -> StoreResult<HashMap<ObjectId, Vec<SeatCounts>>> {
    let charts: Vec<(ObjectId, &SeatingChart)> = events
        .iter()
        .filter_map(|event| Some((event.id, event.seating.as_deref()?)))
        .collect();
    let mut counts: HashMap<ObjectId, Vec<SeatCounts>> = charts
        .iter()
        .map(|(id, chart)| (*id, vec![SeatCounts::default(); chart.categories().len()]))
        .collect();
    let runs: Vec<(String, i64, i64, i64)> = charts
        .iter()
        .flat_map(|(id, chart)| {
            chart
                .category_runs()
                .into_iter()
                .map(move |(run, category)| {
                    (
                        id.to_string(),
                        run.start as i64,
                        run.end as i64,
                        category as i64,
                    )
                })
        })
        .collect();
    for chunk in runs.chunks(RUNS_PER_STATEMENT) {
        let mut values = String::new();
        for i in 0..chunk.len() {
            let comma = if i == 0 { "" } else { ", " };
            let p = 4 * i;
            let _ = write!(
                values,
                "{comma}(${}, ${}, ${}, ${})",
                p + 1,
                p + 2,
                p + 3,
                p + 4
            );
        }
        let sql = format!(
            "WITH runs (event_id, first_seat, end_seat, category) AS (VALUES {values}) \
             SELECT runs.event_id, runs.category, seats.status, COUNT(*) \
             FROM runs JOIN seats ON seats.event_id = runs.event_id \
               AND seats.seat_index >= runs.first_seat AND seats.seat_index < runs.end_seat \
             GROUP BY runs.event_id, runs.category, seats.status"
        );
        let mut query = sqlx::query_as(AssertSqlSafe(sql));
        for (event, first, end, category) in chunk {
            query = query
                .bind(event.clone())
                .bind(*first)
                .bind(*end)
                .bind(*category);
        }
        let rows: Vec<(String, i64, String, i64)> = query.fetch_all(&mut *db).await?;
        for (event, category, status, n) in rows {
            let corrupt = || StoreError::corrupt(format!("seat count {event} {category} {status}"));
            let event = ObjectId::parse(&event).ok_or_else(corrupt)?;
            let status = SeatStatus::parse(&status).ok_or_else(corrupt)?;
            let slot = counts
                .get_mut(&event)
                .and_then(|categories| categories.get_mut(usize::try_from(category).ok()?))
                .ok_or_else(corrupt)?;
            *slot.get_mut(status) += n;
        }
    }
    Ok(counts)
}
