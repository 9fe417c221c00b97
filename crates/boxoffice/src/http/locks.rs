use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};

use super::views::{LockView, data};
use super::{Access, ApiError, AppState, JsonObject, parse_id, replayed_header};
use crate::auth::Caller;
use crate::domain::{LockRequest, ObjectId, Rejection, Timestamp};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/locks", Access::Authenticated.on(post(lock_seats)))
        .route("/api/locks/{id}", Access::Authenticated.on(get(lock)))
}

/// Holds seats for `LOCK_TTL_SECONDS`. A repeated `(userId, idempotencyKey)` with the same
/// event and seat count replays the first answer, marked `Idempotent-Replayed: true`.
/// A user holds seats only in their own name.
async fn lock_seats(
    State(app): State<AppState>,
    caller: Caller,
    body: JsonObject,
) -> Result<impl IntoResponse, ApiError> {
    let event_id = body
        .required_text("eventId")
        .ok_or_else(|| Rejection::invalid("eventId is required"))?;
    let user_id = body
        .required_text("userId")
        .ok_or_else(|| Rejection::invalid("userId is required"))?;
    let seats = LockRequest::check_seats(body.integer("seats").given())?;
    let idempotency_key = LockRequest::check_idempotency_key(body.text("idempotencyKey").given())?;
    if !caller.may_act_for_text(user_id) {
        return Err(ApiError::Forbidden);
    }
    let event_id = ObjectId::parse(event_id).ok_or(Rejection::EventNotFound)?;
    let user_id = ObjectId::parse(user_id).ok_or(Rejection::UserNotFound)?;

    let now = Timestamp::now();
    let request = LockRequest {
        event_id,
        user_id,
        seats,
        idempotency_key,
        now,
        expires_at: now.plus_seconds(app.lock_ttl_seconds),
    };
    let outcome = app.store.lock_seats(request).await?;
    let replayed = outcome.replayed.then(replayed_header);
    Ok((
        StatusCode::CREATED,
        replayed,
        data(LockView::from(outcome.lock)),
    ))
}

/// Someone else's lock is not found, as if it did not exist.
async fn lock(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let id = parse_id(&id, Rejection::LockNotFound)?;
    let lock = app
        .store
        .lock(id)
        .await?
        .filter(|lock| caller.may_act_for(lock.user_id))
        .ok_or(Rejection::LockNotFound)?;
    Ok(data(LockView::from(lock)))
}
