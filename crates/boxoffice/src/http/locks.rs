use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ErrorBody;
use super::seats::{Refusal, event_of_lock, refused, seats_changed};
use super::views::{Data, LockView, bodies, data};
use super::{
    Access, ApiError, AppState, JsonObject, PathId, ensure_owns_lock, parse_id, replayed_header,
};
use crate::auth::Caller;
use crate::domain::seating::SeatSelection;
use crate::domain::{Field, LockExtension, LockRequest, ObjectId, Rejection, Timestamp};
use crate::store::LockOutcome;
use crate::telemetry;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(Access::Authenticated.routes(routes!(lock_seats)))
        .routes(Access::Authenticated.routes(routes!(lock)))
        .routes(Access::Authenticated.routes(routes!(release)))
        .routes(Access::Authenticated.routes(routes!(extend)))
}

const ID: &str = "The lock's id";

/// Holds seats for `LOCK_TTL_SECONDS`. A repeated `(userId, idempotencyKey)` with the same
/// event and seat count (and, on a seated event, the same labels or preferences) replays the
/// first answer, marked `Idempotent-Replayed: true`. A user holds seats only in their own name.
/// On a seated event, seats are held by name (`seatLabels`, all or nothing) or as the best
/// available (`seats`, with optional `bestAvailable`), deterministically (CONTRACT.md,
/// "Reserved seating").
#[utoipa::path(post, path = "/api/locks", tag = "locks",
    request_body = bodies::LockBody,
    responses(
        (status = 201, description = "Held (or the earlier hold of the same key, replayed)",
            body = Data<LockView>,
            headers(("Idempotent-Replayed" = String, description = "`true` on a replay"))),
        (status = 400, description = "`eventId is required`, `userId is required`, `seats must \
            be an integer between 1 and 100`, `idempotencyKey is required`, `Event has already \
            taken place`, `Not enough available seats`; seated events: `Seats not available` \
            (with `unavailable`), `Unknown seat: <label>`, `seatLabels must be 1 to 100 \
            distinct seat labels`, `seats must match seatLabels`; `Event has no seating chart` \
            for seatLabels or bestAvailable on general admission", body = ErrorBody),
        (status = 403, description = "`userId` is not the caller (jwt mode, not an admin)", body = ErrorBody),
        (status = 404, description = "`Event not found`, `User not found`", body = ErrorBody),
        (status = 422, description = "`idempotencyKey was already used with a different request`", body = ErrorBody),
    ))]
async fn lock_seats(
    State(app): State<AppState>,
    caller: Caller,
    body: JsonObject,
) -> Result<impl IntoResponse, Refusal> {
    let outcome = hold(&app, &caller, &body).await;
    match &outcome {
        Ok(outcome) if outcome.replayed => telemetry::hold_replayed(),
        Ok(_) => telemetry::hold_granted(),
        Err(error) => telemetry::hold_refused(error.code()),
    }
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(error) => {
            // A hold refused for want of seats has reclaimed the event's lapsed holds.
            let event = body
                .0
                .get("eventId")
                .and_then(|id| id.as_str())
                .and_then(ObjectId::parse);
            return Err(refused(&app, error, async { event }).await);
        }
    };
    let changed = seats_changed(&app, outcome.lock.event_id);
    let replayed = outcome.replayed.then(replayed_header);
    Ok((
        StatusCode::CREATED,
        replayed,
        changed,
        data(LockView::from(outcome.lock)),
    ))
}

async fn hold(app: &AppState, caller: &Caller, body: &JsonObject) -> Result<LockOutcome, ApiError> {
    let event_id = body
        .required_text("eventId")?
        .ok_or_else(|| Rejection::invalid("eventId is required"))?;
    let user_id = body
        .required_text("userId")?
        .ok_or_else(|| Rejection::invalid("userId is required"))?;
    // A count, given or implied by `seatLabels` (CONTRACT.md, "Holding seats").
    let seats = match body.integer("seats") {
        Field::Missing => Field::Missing,
        given => Field::Given(LockRequest::check_seats(given.given())?),
    };
    let (selection, seats) =
        SeatSelection::parse(body.0.get("seatLabels"), body.0.get("bestAvailable"), seats)?;
    let idempotency_key = LockRequest::check_idempotency_key(body.text("idempotencyKey")?.given())?;
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
        selection,
        now,
        expires_at: app.lifetimes.lock_expires_at(now),
    };
    Ok(app.holds.hold(request).await?)
}

/// A lock. Someone else's lock is not found, as if it did not exist.
#[utoipa::path(get, path = "/api/locks/{id}", tag = "locks",
    params(("id" = String, Path, description = ID)),
    responses(
        (status = 200, description = "The lock", body = Data<LockView>),
        (status = 404, description = "`Lock not found`", body = ErrorBody),
    ))]
async fn lock(
    State(app): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
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
#[utoipa::path(delete, path = "/api/locks/{id}", tag = "locks",
    params(("id" = String, Path, description = ID)),
    responses(
        (status = 200, description = "Released: the lock, EXPIRED", body = Data<LockView>),
        (status = 400, description = "`Lock cannot be released in <STATUS> state`, `Lock backs \
            a booking; cancel the booking instead`", body = ErrorBody),
        (status = 404, description = "`Lock not found`", body = ErrorBody),
    ))]
async fn release(
    State(app): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
) -> Result<impl IntoResponse, Refusal> {
    let id = parse_id(&id, Rejection::LockNotFound)?;
    ensure_owns_lock(&app, &caller, id, Rejection::LockNotFound).await?;
    let lock = match app.store.release_lock_early(id, Timestamp::now()).await {
        Ok(lock) => lock,
        Err(error) => return Err(refused(&app, error.into(), event_of_lock(&app, id)).await),
    };
    Ok((
        seats_changed(&app, lock.event_id),
        data(LockView::from(lock)),
    ))
}

/// Moves a hold's expiry to `seconds` from now (shorter or longer), never beyond
/// `LOCK_MAX_LIFETIME_SECONDS` after its creation. The body is checked before the lock.
#[utoipa::path(post, path = "/api/locks/{id}/extend", tag = "locks",
    params(("id" = String, Path, description = ID)),
    request_body = bodies::ExtendBody,
    responses(
        (status = 200, description = "The lock with its new `expiresAt`", body = Data<LockView>),
        (status = 400, description = "`seconds must be an integer between 1 and 3600`", body = ErrorBody),
        (status = 404, description = "`INVALID_OR_EXPIRED_LOCK`: lapsed, not ACTIVE, or backing \
            a booking", body = ErrorBody),
    ))]
async fn extend(
    State(app): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    body: JsonObject,
) -> Result<impl IntoResponse, Refusal> {
    let seconds = LockExtension::check_seconds(body.integer("seconds").given())?;
    let lock_id = parse_id(&id, Rejection::InvalidOrExpiredLock)?;
    ensure_owns_lock(&app, &caller, lock_id, Rejection::InvalidOrExpiredLock).await?;
    let extension = app.lifetimes.extension(lock_id, Timestamp::now(), seconds);
    // A lapsed lock is expired on the spot before the refusal: its seats went back.
    let lock = match app.store.extend_lock(extension).await {
        Ok(lock) => lock,
        Err(error) => return Err(refused(&app, error.into(), event_of_lock(&app, lock_id)).await),
    };
    Ok(data(LockView::from(lock)))
}
