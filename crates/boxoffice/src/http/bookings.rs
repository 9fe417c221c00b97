use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;

use super::views::{BookingView, data};
use super::{
    Access, ApiError, AppState, JsonObject, ensure_owns_booking, parse_id, replayed_header,
};
use crate::auth::Caller;
use crate::domain::{ObjectId, Rejection, Timestamp};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/bookings/confirm",
            Access::Authenticated.on(post(confirm)),
        )
        .route("/api/bookings/{id}", Access::Authenticated.on(get(booking)))
        .route(
            "/api/bookings/{id}/cancel",
            Access::Authenticated.on(post(cancel)),
        )
}

/// The seed's shape for confirmation: `booking` instead of `data`.
#[derive(Serialize)]
struct Confirmed {
    success: bool,
    booking: BookingView,
}

/// Turns a lock into a booking awaiting payment within `PAYMENT_TTL_SECONDS`. Confirming the
/// same lock again returns the same booking (200, replayed) while it awaits payment. A user
/// confirms only their own locks; someone else's is invalid, as if it did not exist.
async fn confirm(
    State(app): State<AppState>,
    caller: Caller,
    body: JsonObject,
) -> Result<impl IntoResponse, ApiError> {
    let lock_id = body
        .required_text("lockId")
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
    let outcome = app
        .store
        .confirm_booking(lock_id, now, now.plus_seconds(app.payment_ttl_seconds))
        .await?;
    let (status, replayed) = if outcome.replayed {
        (StatusCode::OK, Some(replayed_header()))
    } else {
        (StatusCode::CREATED, None)
    };
    let body = Confirmed {
        success: true,
        booking: outcome.booking.into(),
    };
    Ok((status, replayed, Json(body)))
}

/// Someone else's booking is not found, as if it did not exist.
async fn booking(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
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
async fn cancel(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let id = parse_id(&id, Rejection::BookingNotFound)?;
    ensure_owns_booking(&app, &caller, id).await?;
    let booking = app.store.cancel_booking(id, Timestamp::now()).await?;
    Ok(data(BookingView::from(booking)))
}
