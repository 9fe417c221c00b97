use axum::Json;
use axum::extract::State;
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ErrorBody;
use super::seats::{Refusal, event_of_booking, refused, seats_changed};
use super::views::bodies;
use super::{Access, AppState, JsonObject, ensure_owns_booking};
use crate::auth::Caller;
use crate::domain::{BookingStatus, ObjectId, PaymentForce, Rejection, Timestamp};
use crate::telemetry;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(Access::Authenticated.routes(routes!(payment_intent)))
}

/// The seed's payment answer: `paymentStatus`, `message`, and a short `booking` with `id`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentAnswer {
    success: bool,
    /// `SUCCESS`, `FAILED` or `TIMEOUT`.
    #[schema(value_type = String, examples("SUCCESS", "FAILED", "TIMEOUT"))]
    payment_status: &'static str,
    #[schema(value_type = String)]
    message: &'static str,
    /// Absent after a timeout.
    #[serde(skip_serializing_if = "Option::is_none")]
    booking: Option<PaidBooking>,
}

#[derive(Serialize, ToSchema)]
pub struct PaidBooking {
    id: ObjectId,
    status: BookingStatus,
    event: ObjectId,
    user: ObjectId,
    #[serde(skip_serializing_if = "Option::is_none")]
    seats: Option<Vec<String>>,
    /// The sum of the seats' prices in minor units, when the event has prices.
    #[serde(skip_serializing_if = "Option::is_none")]
    amount: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    currency: Option<String>,
}

/// Simulates a payment whose outcome the client forces. The body is checked before the
/// booking is looked up. A user pays only for their own bookings; someone else's is not found.
#[utoipa::path(post, path = "/api/payments/intent", tag = "payments",
    request_body = bodies::PaymentBody,
    responses(
        (status = 200, description = "The payment's outcome: `success` confirms the booking, \
            `failure` fails it and releases its seats, `timeout` changes nothing", body = PaymentAnswer),
        (status = 400, description = "`force must be success | failure | timeout`, `bookingId \
            is required`, `Payment not allowed in <STATUS> state`, `Event has already taken \
            place` (a `success` from the event's date on; nothing changes)", body = ErrorBody),
        (status = 404, description = "`Booking not found`", body = ErrorBody),
    ))]
async fn payment_intent(
    State(app): State<AppState>,
    caller: Caller,
    body: JsonObject,
) -> Result<impl IntoResponse, Refusal> {
    let force = PaymentForce::parse(body.text("force")?.given())?;
    let booking_id = body
        .required_text("bookingId")?
        .ok_or_else(|| Rejection::invalid("bookingId is required"))?;
    let booking_id = ObjectId::parse(booking_id).ok_or(Rejection::BookingNotFound)?;
    ensure_owns_booking(&app, &caller, booking_id).await?;
    // A lapsed booking is expired on the spot before `Payment not allowed in EXPIRED state`.
    let booking = match app
        .store
        .settle_payment(booking_id, force, Timestamp::now())
        .await
    {
        Ok(booking) => booking,
        Err(error) => {
            return Err(refused(&app, error.into(), event_of_booking(&app, booking_id)).await);
        }
    };
    let changed = seats_changed(&app, booking.event_id);
    let short = |seats| PaidBooking {
        id: booking.id,
        status: booking.status,
        event: booking.event_id,
        user: booking.user_id,
        seats,
        amount: booking.details.price.as_ref().map(|price| price.amount),
        currency: booking
            .details
            .price
            .as_ref()
            .map(|price| price.currency.clone()),
    };
    telemetry::payment(match force {
        PaymentForce::Success => "success",
        PaymentForce::Failure => "failure",
        PaymentForce::Timeout => "timeout",
    });
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
    Ok((changed, Json(answer)))
}
