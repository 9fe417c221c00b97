use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ErrorBody;
use super::seats::{Refusal, event_of_booking, event_of_lock, refused, seats_changed};
use super::views::{BookingView, Data, bodies, data};
use super::{
    Access, ApiError, AppState, JsonObject, PathId, ensure_owns_booking, parse_id, replayed_header,
};
use crate::auth::Caller;
use crate::domain::{ObjectId, Rejection, Timestamp};
use crate::telemetry;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(Access::Authenticated.routes(routes!(confirm)))
        .routes(Access::Authenticated.routes(routes!(booking)))
        .routes(Access::Authenticated.routes(routes!(cancel)))
}

const ID: &str = "The booking's id";

/// The seed's shape for confirmation: `booking` instead of `data`.
#[derive(Serialize, ToSchema)]
pub struct Confirmed {
    success: bool,
    booking: BookingView,
}

/// Turns a lock into a booking awaiting payment within `PAYMENT_TTL_SECONDS`. Confirming the
/// same lock again returns the same booking (200, replayed) while it awaits payment. A user
/// confirms only their own locks; someone else's is invalid, as if it did not exist.
#[utoipa::path(post, path = "/api/bookings/confirm", tag = "bookings",
    request_body = bodies::ConfirmBody,
    responses(
        (status = 201, description = "A booking awaiting payment", body = Confirmed),
        (status = 200, description = "The booking this lock already made, while it awaits \
            payment (replayed)", body = Confirmed,
            headers(("Idempotent-Replayed" = String, description = "`true`"))),
        (status = 400, description = "`lockId is required`, `Event has already taken place` \
            (rule 9: from the event's date on, nothing changes)", body = ErrorBody),
        (status = 404, description = "`INVALID_OR_EXPIRED_LOCK`", body = ErrorBody),
    ))]
async fn confirm(
    State(app): State<AppState>,
    caller: Caller,
    body: JsonObject,
) -> Result<impl IntoResponse, Refusal> {
    let lock_id = body
        .required_text("lockId")?
        .ok_or_else(|| Rejection::invalid("lockId is required"))?;
    let lock_id = ObjectId::parse(lock_id).ok_or(Rejection::InvalidOrExpiredLock)?;
    // A lock's owner never changes, so checking it before the transaction is as good as in it.
    if !caller.is_admin() {
        app.store
            .lock(lock_id)
            .await?
            .filter(|lock| caller.may_act_for(lock.user_id))
            .ok_or(Rejection::InvalidOrExpiredLock)?;
    }
    let now = Timestamp::now();
    // A lapsed lock is expired on the spot before the 404: its seats went back.
    let outcome = match app
        .store
        .confirm_booking(lock_id, now, app.lifetimes.payment_expires_at(now))
        .await
    {
        Ok(outcome) => outcome,
        Err(error) => return Err(refused(&app, error.into(), event_of_lock(&app, lock_id)).await),
    };
    let changed = seats_changed(&app, outcome.booking.event_id);
    let (status, replayed) = if outcome.replayed {
        (StatusCode::OK, Some(replayed_header()))
    } else {
        telemetry::booking_confirmed();
        (StatusCode::CREATED, None)
    };
    let body = Confirmed {
        success: true,
        booking: outcome.booking.into(),
    };
    Ok((status, replayed, changed, Json(body)))
}

/// A booking. Someone else's booking is not found, as if it did not exist.
#[utoipa::path(get, path = "/api/bookings/{id}", tag = "bookings",
    params(("id" = String, Path, description = ID)),
    responses(
        (status = 200, description = "The booking", body = Data<BookingView>),
        (status = 404, description = "`Booking not found`", body = ErrorBody),
    ))]
async fn booking(
    State(app): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
) -> Result<impl IntoResponse, ApiError> {
    let id = parse_id(&id, Rejection::BookingNotFound)?;
    let booking = app
        .store
        .booking(id)
        .await?
        .filter(|booking| caller.may_act_for(booking.user_id))
        .ok_or(Rejection::BookingNotFound)?;
    Ok(data(BookingView::from(booking)))
}

/// Cancels a booking awaiting payment or paid, before its event starts: its seats go back,
/// and a paid one is refunded. Needs no body.
#[utoipa::path(post, path = "/api/bookings/{id}/cancel", tag = "bookings",
    params(("id" = String, Path, description = ID)),
    responses(
        (status = 200, description = "The booking, CANCELLED", body = Data<BookingView>),
        (status = 400, description = "`Cancellation not allowed in <STATUS> state`, `Event has \
            already taken place`", body = ErrorBody),
        (status = 404, description = "`Booking not found`", body = ErrorBody),
    ))]
async fn cancel(
    State(app): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
) -> Result<impl IntoResponse, Refusal> {
    let id = parse_id(&id, Rejection::BookingNotFound)?;
    ensure_owns_booking(&app, &caller, id).await?;
    // A lapsed booking is expired on the spot before the refusal: its seats went back.
    let booking = match app.store.cancel_booking(id, Timestamp::now()).await {
        Ok(booking) => booking,
        Err(error) => return Err(refused(&app, error.into(), event_of_booking(&app, id)).await),
    };
    Ok((
        seats_changed(&app, booking.event_id),
        data(BookingView::from(booking)),
    ))
}
