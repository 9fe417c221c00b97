use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ErrorBody;
use super::views::{Data, EventView, InventoryView, List, bodies, data};
use super::{Access, ApiError, AppState, JsonObject, PathId, QueryParams, parse_id};
use crate::domain::seating::{EventSeating, SeatCounts};
use crate::domain::{Event, EventChanges, EventQuery, NewEvent, Rejection, Timestamp};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(Access::Admin.routes(routes!(create_event)))
        .routes(Access::Public.routes(routes!(list_events)))
        .routes(Access::Public.routes(routes!(event)))
        .routes(Access::Admin.routes(routes!(update_event)))
        .routes(Access::Admin.routes(routes!(inventory)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListParams {
    /// Page size, 1 to 100 (default 20), in digits.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// Where the page starts: a previous page's `nextCursor`, with the same `from`, `to`
    /// and `q` (another listing's cursor, or one the server did not issue, is a 400).
    #[param(pattern = "^[0-9a-f]{56}$")]
    cursor: Option<String>,
    /// Events from this date on (RFC 3339, 1970 to 9999 in UTC; default: now, so upcoming
    /// events only).
    #[param(value_type = Option<String>, format = DateTime, pattern = "^[^\\u0000]*$")]
    from: Option<String>,
    /// Events before this date (RFC 3339, 1970 to 9999 in UTC).
    #[param(value_type = Option<String>, format = DateTime, pattern = "^[^\\u0000]*$")]
    to: Option<String>,
    /// Part of the name, whatever its case.
    #[param(pattern = "^[^\\u0000]*$")]
    q: Option<String>,
}

const ID: &str = "The event's id";

/// Upcoming events (or those from `from`, before `to`), by date then id, a page at a time;
/// `q` matches part of the name, whatever its case.
#[utoipa::path(get, path = "/api/events", tag = "events",
    params(ListParams),
    responses(
        (status = 200, description = "A page of events", body = List<EventView>),
        (status = 400, description = "A bad limit, cursor or date", body = ErrorBody),
    ))]
async fn list_events(
    State(app): State<AppState>,
    QueryParams(params): QueryParams<ListParams>,
) -> Result<impl IntoResponse, ApiError> {
    let query = EventQuery::parse(
        params.limit.as_deref(),
        params.cursor.as_deref(),
        params.from.as_deref(),
        params.to.as_deref(),
        params.q.as_deref(),
        Timestamp::now(),
        &app.cursors,
    )?;
    let scope = query.scope.clone();
    let page = app.store.list_events(query).await?;
    // One statement counts the seats of every seated event of the page.
    let counts = app.store.category_seat_counts(&page.items).await?;
    let views = page
        .items
        .into_iter()
        .map(|event| {
            let of_event = counts.get(&event.id).map(Vec::as_slice);
            EventView::with_counts(event, of_event)
        })
        .collect();
    Ok(axum::Json(List {
        success: true,
        data: views,
        next_cursor: page.next.map(|cursor| cursor.seal(&app.cursors, &scope)),
    }))
}

/// An event's view; a seated event's categories count their FREE seats in the database (an
/// aggregate over its seat rows, not a read of every seat: no whole-chart bound needed).
async fn event_view(app: &AppState, event: Event) -> Result<EventView, ApiError> {
    if event.seating.is_none() {
        return Ok(EventView::from(event));
    }
    let counts = app
        .store
        .category_seat_counts(std::slice::from_ref(&event))
        .await?;
    let of_event = counts.get(&event.id).map(Vec::as_slice);
    Ok(EventView::with_counts(event, of_event))
}

/// Changes the fields given, each under its creation rule. A new `totalSeats` moves
/// `availableSeats` by the same amount; it cannot go below the seats already taken.
#[utoipa::path(patch, path = "/api/events/{id}", tag = "events",
    params(("id" = String, Path, description = ID)),
    request_body = bodies::EventChangesBody,
    responses(
        (status = 200, description = "The event as changed", body = Data<EventView>),
        (status = 400, description = "`totalSeats cannot be below seats already taken`, `totalSeats of a seated event follows its seating chart`, or a \
            creation rule broken", body = ErrorBody),
        (status = 404, description = "`Event not found`", body = ErrorBody),
    ))]
async fn update_event(
    State(app): State<AppState>,
    PathId(id): PathId,
    body: JsonObject,
) -> Result<impl IntoResponse, ApiError> {
    let now = Timestamp::now();
    let changes = EventChanges::parse(
        body.text("name")?,
        body.text("description")?,
        body.text("eventDate")?,
        body.integer("totalSeats"),
        now,
    )?;
    let id = parse_id(&id, Rejection::EventNotFound)?;
    let event = app.store.update_event(id, changes, now).await?;
    Ok(data(event_view(&app, event).await?))
}

/// Creates an event; `availableSeats` below `totalSeats` withholds the difference.
#[utoipa::path(post, path = "/api/events", tag = "events",
    request_body = bodies::NewEventBody,
    responses(
        (status = 201, description = "Created", body = Data<EventView>),
        (status = 400, description = "`name is required`, `eventDate must be a valid date`, \
            `eventDate must be in the future`, `totalSeats must be an integer ≥ 1`, \
            `availableSeats must be ≤ totalSeats`, `availableSeats must be an integer ≥ 0`, \
            `seatingChart: …` naming the chart's first fault, `totalSeats must equal the seats \
            of the seating chart`, `price and currency must be given together`, `price must be \
            at most 10000000000000`",
            body = ErrorBody),
    ))]
async fn create_event(
    State(app): State<AppState>,
    body: JsonObject,
) -> Result<impl IntoResponse, ApiError> {
    let now = Timestamp::now();
    let (seating, total_seats, available_seats) = EventSeating::parse(
        body.0.get("seatingChart"),
        body.integer("totalSeats"),
        body.integer("availableSeats"),
        body.integer("price"),
        body.text("currency")?,
    )?;
    let event = NewEvent::parse(
        body.text("name")?,
        body.text("description")?,
        body.text("eventDate")?,
        total_seats,
        available_seats,
        now,
    )?
    .with_seating(seating);
    let event = app.store.create_event(event, now).await?;
    // A new event's seats are all FREE.
    let counts = event.seating.as_deref().map(SeatCounts::all_free);
    let view = EventView::with_counts(event, counts.as_deref());
    Ok((StatusCode::CREATED, data(view)))
}

/// An event and its seat count.
#[utoipa::path(get, path = "/api/events/{id}", tag = "events",
    params(("id" = String, Path, description = ID)),
    responses(
        (status = 200, description = "The event", body = Data<EventView>),
        (status = 404, description = "`Event not found`", body = ErrorBody),
    ))]
async fn event(
    State(app): State<AppState>,
    PathId(id): PathId,
) -> Result<impl IntoResponse, ApiError> {
    let id = parse_id(&id, Rejection::EventNotFound)?;
    let event = app.store.event(id).await?.ok_or(Rejection::EventNotFound)?;
    Ok(data(event_view(&app, event).await?))
}

/// Where every seat is, computed from the rows; `consistent` says the counter agrees.
#[utoipa::path(get, path = "/api/events/{id}/inventory", tag = "events",
    params(("id" = String, Path, description = ID)),
    responses(
        (status = 200, description = "The event's seats", body = Data<InventoryView>),
        (status = 404, description = "`Event not found`", body = ErrorBody),
    ))]
async fn inventory(
    State(app): State<AppState>,
    PathId(id): PathId,
) -> Result<impl IntoResponse, ApiError> {
    let id = parse_id(&id, Rejection::EventNotFound)?;
    let inventory = app
        .store
        .inventory(id)
        .await?
        .ok_or(Rejection::EventNotFound)?;
    Ok(data(InventoryView::from(inventory)))
}
