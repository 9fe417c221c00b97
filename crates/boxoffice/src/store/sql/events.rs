//! Events: creating, reading and changing them. A new `totalSeats` moves `availableSeats` in
//! one conditional statement, never from a count read earlier.

use sqlx::{Any, Executor};

use super::rows::event_columns;
use super::{Decision, SqlStore, Tx};
use crate::domain::notification::NotificationType;
use crate::domain::seating::SeatCounts;
use crate::domain::{Event, EventChanges, NewEvent, ObjectId, Rejection, Timestamp, caseless_key};
use crate::store::{StoreError, StoreResult};

/// Writes an event row as given; false if its id is already there (imports run twice).
pub(super) async fn insert_event<'c>(
    db: impl Executor<'c, Database = Any>,
    event: &Event,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "INSERT INTO events (id, name, description, event_date, total_seats, available_seats, \
         withheld_seats, created_at, updated_at, seating_chart, price, currency, name_key) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT DO NOTHING",
    )
    .bind(event.id)
    .bind(event.name.clone())
    .bind(event.description.clone())
    .bind(event.event_date)
    .bind(event.total_seats)
    .bind(event.available_seats)
    .bind(event.withheld_seats)
    .bind(event.created_at)
    .bind(event.updated_at)
    .bind(
        event
            .seating
            .as_ref()
            .map(|chart| chart.to_json().to_string()),
    )
    .bind(event.price.as_ref().map(|price| price.amount))
    .bind(event.price.as_ref().map(|price| price.currency.clone()))
    // The caseless key the name search compares (the listing's `q`; `lists.rs`).
    .bind(caseless_key(&event.name))
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn event_by_id<'c>(
    db: impl Executor<'c, Database = Any>,
    id: ObjectId,
) -> StoreResult<Option<Event>> {
    Ok(sqlx::query_as(concat!(
        "SELECT ",
        event_columns!(),
        " FROM events WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(db)
    .await?)
}

impl SqlStore {
    pub(super) async fn create_event_now(
        &self,
        event: NewEvent,
        now: Timestamp,
    ) -> StoreResult<Event> {
        let event = event.into_event(ObjectId::generate(), now);
        // One transaction, so that the request's deadline decides before COMMIT, and a seated
        // event, its seat rows and its notification are written together or not at all.
        super::in_write_tx!(self, |tx| async {
            insert_event(&mut *tx, &event).await?;
            if let Some(chart) = &event.seating {
                super::seats::insert_seat_rows(&mut tx, event.id, chart).await?;
            }
            // A new seated event's seats are all FREE: no need to count them.
            let seat_counts = event.seating.as_deref().map(SeatCounts::all_free);
            self.notify_event(
                &mut tx,
                NotificationType::EventCreated,
                &event,
                seat_counts,
                now,
            )
            .await?;
            Ok::<Decision<Event>, StoreError>(Ok(event.clone()))
        })
    }

    pub(super) async fn update_event_in(
        &self,
        tx: &mut Tx,
        id: ObjectId,
        changes: &EventChanges,
        now: Timestamp,
    ) -> StoreResult<Decision<Event>> {
        if changes.is_empty() {
            return Ok(event_by_id(&mut **tx, id)
                .await?
                .ok_or(Rejection::EventNotFound));
        }
        if changes.total_seats.is_some() {
            // A seated event's seats are its chart's (CONTRACT.md, "Reserved seating").
            match event_by_id(&mut **tx, id).await? {
                None => return Ok(Err(Rejection::EventNotFound)),
                Some(event) if event.seating.is_some() => {
                    return Ok(Err(Rejection::SeatedTotalSeats));
                }
                Some(_) => {}
            }
        }
        // One conditional statement: the seats taken meanwhile are those the database sees,
        // never a count read earlier. Every SET expression reads the row as it was.
        let updated: Option<Event> = sqlx::query_as(concat!(
            "UPDATE events SET name = COALESCE($2, name), name_key = COALESCE($7, name_key), \
                 description = COALESCE($3, description), \
                 event_date = COALESCE($4, event_date), \
                 total_seats = COALESCE($5, total_seats), \
                 available_seats = available_seats + (COALESCE($5, total_seats) - total_seats), \
                 updated_at = $6 \
             WHERE id = $1 AND available_seats + (COALESCE($5, total_seats) - total_seats) >= 0 \
             RETURNING ",
            event_columns!()
        ))
        .bind(id)
        .bind(changes.name.clone())
        .bind(changes.description.clone())
        .bind(changes.event_date)
        .bind(changes.total_seats)
        .bind(now)
        .bind(changes.name.as_deref().map(caseless_key))
        .fetch_optional(&mut **tx)
        .await?;
        match updated {
            Some(event) => {
                self.notify_event(tx, NotificationType::EventUpdated, &event, None, now)
                    .await?;
                Ok(Ok(event))
            }
            None if event_by_id(&mut **tx, id).await?.is_some() => {
                Ok(Err(Rejection::SeatsAlreadyTaken))
            }
            None => Ok(Err(Rejection::EventNotFound)),
        }
    }
}
