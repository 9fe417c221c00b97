use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde::Serialize;

use super::{Access, ApiError, AppState, JsonObject, ensure_owns_booking};
use crate::auth::Caller;
use crate::domain::{BookingStatus, ObjectId, PaymentForce, Rejection, Timestamp};

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/api/payments/intent",
        Access::Authenticated.on(post(payment_intent)),
    )
}

/// The seed's payment answer: `paymentStatus`, `message`, and a short `booking` with `id`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PaymentAnswer {
    success: bool,
    payment_status: &'static str,
    message: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    booking: Option<PaidBooking>,
}

#[derive(Serialize)]
struct PaidBooking {
    id: ObjectId,
    status: BookingStatus,
    event: ObjectId,
    user: ObjectId,
    #[serde(skip_serializing_if = "Option::is_none")]
    seats: Option<Vec<String>>,
}

/// Simulates a payment whose outcome the client forces. The body is checked before the
/// booking is looked up. A user pays only for their own bookings; someone else's is not found.
async fn payment_intent(
    State(app): State<AppState>,
    caller: Caller,
    body: JsonObject,
) -> Result<Json<PaymentAnswer>, ApiError> {
    let force = PaymentForce::parse(body.text("force").given())?;
    let booking_id = body
        .required_text("bookingId")
        .ok_or_else(|| Rejection::invalid("bookingId is required"))?;
    let booking_id = ObjectId::parse(booking_id).ok_or(Rejection::BookingNotFound)?;
    ensure_owns_booking(&app, &caller, booking_id).await?;
    let booking = app
        .store
        .settle_payment(booking_id, force, Timestamp::now())
        .await?;
    let short = |seats| PaidBooking {
        id: booking.id,
        status: booking.status,
        event: booking.event_id,
        user: booking.user_id,
        seats,
    };
    let answer = match force {
        PaymentForce::Success => PaymentAnswer {
            success: true,
            payment_status: "SUCCESS",
            message: "Payment successful and booking confirmed",
            booking: Some(short(Some(booking.seat_labels()))),
        },
        PaymentForce::Failure => PaymentAnswer {
            success: true,
            payment_status: "FAILED",
            message: "Payment failed and seats have been released",
            booking: Some(short(None)),
        },
        PaymentForce::Timeout => PaymentAnswer {
            success: true,
            payment_status: "TIMEOUT",
            message: "Payment timed out (simulated)",
            booking: None,
        },
    };
    Ok(Json(answer))
}
