use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, patch, post};
use serde::Deserialize;

use super::views::{EventView, InventoryView, data, list};
use super::{Access, ApiError, AppState, JsonObject, QueryParams, parse_id};
use crate::domain::{EventChanges, EventQuery, NewEvent, Rejection, Timestamp};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/events", Access::Admin.on(post(create_event)))
        .route("/api/events", Access::Public.on(get(list_events)))
        .route("/api/events/{id}", Access::Public.on(get(event)))
        .route("/api/events/{id}", Access::Admin.on(patch(update_event)))
        .route(
            "/api/events/{id}/inventory",
            Access::Admin.on(get(inventory)),
        )
}

#[derive(Deserialize)]
struct ListParams {
    limit: Option<String>,
    cursor: Option<String>,
    from: Option<String>,
    to: Option<String>,
    q: Option<String>,
}

/// Upcoming events (or those from `from`, before `to`), by date then id, a page at a time;
/// `q` matches part of the name, whatever its case.
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
    )?;
    let page = app.store.list_events(query).await?;
    Ok(list::<_, EventView>(page))
}

/// Changes the fields given, each under its creation rule. A new `totalSeats` moves
/// `availableSeats` by the same amount; it cannot go below the seats already taken.
async fn update_event(
    State(app): State<AppState>,
    Path(id): Path<String>,
    body: JsonObject,
) -> Result<impl IntoResponse, ApiError> {
    let now = Timestamp::now();
    let changes = EventChanges::parse(
        body.text("name"),
        body.text("description"),
        body.text("eventDate"),
        body.integer("totalSeats"),
        now,
    )?;
    let id = parse_id(&id, Rejection::EventNotFound)?;
    let event = app.store.update_event(id, changes, now).await?;
    Ok(data(EventView::from(event)))
}

async fn create_event(
    State(app): State<AppState>,
    body: JsonObject,
) -> Result<impl IntoResponse, ApiError> {
    let now = Timestamp::now();
    let event = NewEvent::parse(
        body.text("name"),
        body.text("description"),
        body.text("eventDate"),
        body.integer("totalSeats"),
        body.integer("availableSeats"),
        now,
    )?;
    let event = app.store.create_event(event, now).await?;
    Ok((StatusCode::CREATED, data(EventView::from(event))))
}

async fn event(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let id = parse_id(&id, Rejection::EventNotFound)?;
    let event = app.store.event(id).await?.ok_or(Rejection::EventNotFound)?;
    Ok(data(EventView::from(event)))
}

/// Where every seat is, computed from the rows; `consistent` says the counter agrees.
async fn inventory(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let id = parse_id(&id, Rejection::EventNotFound)?;
    let inventory = app
        .store
        .inventory(id)
        .await?
        .ok_or(Rejection::EventNotFound)?;
    Ok(data(InventoryView::from(inventory)))
}
