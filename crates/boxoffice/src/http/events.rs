use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};

use super::views::{EventView, InventoryView, data};
use super::{Access, ApiError, AppState, JsonObject, parse_id};
use crate::domain::{NewEvent, Rejection, Timestamp};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/events", Access::Admin.on(post(create_event)))
        .route("/api/events/{id}", Access::Public.on(get(event)))
        .route(
            "/api/events/{id}/inventory",
            Access::Admin.on(get(inventory)),
        )
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
