use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{delete, get, post};

use super::views::{LockView, data};
use super::{Access, ApiError, AppState, JsonObject, ensure_owns_lock, parse_id, replayed_header};
use crate::auth::Caller;
use crate::domain::{LockExtension, LockRequest, ObjectId, Rejection, Timestamp};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/locks", Access::Authenticated.on(post(lock_seats)))
        .route("/api/locks/{id}", Access::Authenticated.on(get(lock)))
        .route("/api/locks/{id}", Access::Authenticated.on(delete(release)))
        .route(
            "/api/locks/{id}/extend",
            Access::Authenticated.on(post(extend)),
        )
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

/// Gives a hold up before it lapses: the lock becomes EXPIRED and its seats go back.
async fn release(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let id = parse_id(&id, Rejection::LockNotFound)?;
    ensure_owns_lock(&app, &caller, id, Rejection::LockNotFound).await?;
    let lock = app.store.release_lock_early(id, Timestamp::now()).await?;
    Ok(data(LockView::from(lock)))
}

/// Moves a hold's expiry to `seconds` from now (shorter or longer), never beyond
/// `LOCK_MAX_LIFETIME_SECONDS` after its creation. The body is checked before the lock.
async fn extend(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: JsonObject,
) -> Result<impl IntoResponse, ApiError> {
    let seconds = LockExtension::check_seconds(body.integer("seconds").given())?;
    let lock_id = parse_id(&id, Rejection::InvalidOrExpiredLock)?;
    ensure_owns_lock(&app, &caller, lock_id, Rejection::InvalidOrExpiredLock).await?;
    let now = Timestamp::now();
    let extension = LockExtension {
        lock_id,
        now,
        expires_at: now.plus_seconds(seconds),
        max_lifetime_seconds: app.lock_max_lifetime_seconds,
    };
    let lock = app.store.extend_lock(extension).await?;
    Ok(data(LockView::from(lock)))
}
