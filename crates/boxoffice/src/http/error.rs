//! One error type for every handler: the seed's envelope `{"success": false, "message": …}`,
//! plus a stable `code`. Internal errors are logged with their cause and answered generically.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::http::header::{RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::domain::Rejection;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Rejected(#[from] Rejection),
    #[error("{0}")]
    BadBody(&'static str),
    #[error("Request body is too large (the limit is 1 MiB)")]
    PayloadTooLarge,
    #[error("Content-Type must be application/json")]
    UnsupportedMediaType,
    #[error("Route not found")]
    RouteNotFound,
    #[error("Method not allowed")]
    MethodNotAllowed,
    #[error("Request timed out")]
    Timeout,
    /// No usable `Authorization: Bearer` header on a route that needs one.
    #[error("Authentication required")]
    Unauthenticated,
    /// A bearer token that is malformed, tampered with, expired, or not HS256.
    #[error("Invalid or expired token")]
    InvalidToken,
    /// A valid token whose role or owner may not do this.
    #[error("Forbidden")]
    Forbidden,
    /// A wrong password and an unknown email get the same answer.
    #[error("Invalid email or password")]
    InvalidCredentials,
    #[error("Too many failed login attempts; try again later")]
    TooManyLoginAttempts { retry_after_seconds: u64 },
    #[error("Too many requests; slow down")]
    RateLimited { retry_after_seconds: u64 },
    #[error("Service temporarily unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// The database connection was lost while the change was being committed: it may or may
    /// not have been made (CONTRACT.md rule 8). Retrying with the same idempotency key is safe.
    #[error("The outcome of this request is unknown; retry it with the same idempotency key")]
    OutcomeUnknown(#[source] anyhow::Error),
    #[error("Internal server error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    /// A 503 that changed nothing for sure (CONTRACT.md rule 8): the time bound ran out before
    /// COMMIT, or the database could not be reached. Every other answer may follow a commit.
    pub fn changed_nothing(&self) -> bool {
        matches!(self, Self::Timeout | Self::Unavailable(_))
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Rejected(rejection) => rejection_status(rejection),
            Self::BadBody(_) => StatusCode::BAD_REQUEST,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::RouteNotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Timeout | Self::Unavailable(_) | Self::OutcomeUnknown(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::Unauthenticated | Self::InvalidToken | Self::InvalidCredentials => {
                StatusCode::UNAUTHORIZED
            }
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::TooManyLoginAttempts { .. } | Self::RateLimited { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::Rejected(rejection) => rejection.code(),
            Self::BadBody(_) => "BAD_REQUEST",
            Self::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            Self::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            Self::RouteNotFound => "ROUTE_NOT_FOUND",
            Self::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            Self::Timeout => "TIMEOUT",
            Self::Unauthenticated => "AUTHENTICATION_REQUIRED",
            Self::InvalidToken => "INVALID_TOKEN",
            Self::Forbidden => "FORBIDDEN",
            Self::InvalidCredentials => "INVALID_CREDENTIALS",
            Self::TooManyLoginAttempts { .. } => "TOO_MANY_LOGIN_ATTEMPTS",
            Self::RateLimited { .. } => "RATE_LIMITED",
            Self::Unavailable(_) => "UNAVAILABLE",
            Self::OutcomeUnknown(_) => "OUTCOME_UNKNOWN",
            Self::Internal(_) => "INTERNAL",
        }
    }
}

fn rejection_status(rejection: &Rejection) -> StatusCode {
    use Rejection as R;
    match rejection {
        R::UserNotFound
        | R::EventNotFound
        | R::LockNotFound
        | R::BookingNotFound
        | R::WebhookNotFound
        | R::InvalidOrExpiredLock => StatusCode::NOT_FOUND,
        R::IdempotencyKeyReused | R::IdempotencyHeaderReused => StatusCode::UNPROCESSABLE_ENTITY,
        R::IdempotencyInProgress => StatusCode::CONFLICT,
        R::Invalid(_)
        | R::IdempotencyKeysDiffer
        | R::EmailTaken
        | R::NotEnoughSeats
        | R::EventStarted
        | R::PaymentNotAllowed(_)
        | R::CancellationNotAllowed(_)
        | R::ReleaseNotAllowed(_)
        | R::LockBacksBooking
        | R::SeatsAlreadyTaken
        | R::UnknownSeat(_)
        | R::SeatsUnavailable(_)
        | R::NoSeatingChart
        | R::SeatedTotalSeats => StatusCode::BAD_REQUEST,
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error.into_rejection() {
            Ok(rejection) => Self::Rejected(rejection),
            Err(error) if error.timed_out() => Self::Timeout,
            Err(error) if error.is_outcome_unknown() => Self::OutcomeUnknown(error.into()),
            Err(error) if error.is_transient() => Self::Unavailable(error.into()),
            Err(error) => Self::Internal(error.into()),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => Self::UnsupportedMediaType,
            JsonRejection::JsonDataError(_) => Self::BadBody("Request body must be a JSON object"),
            JsonRejection::JsonSyntaxError(_) => Self::BadBody("Request body is not valid JSON"),
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => Self::PayloadTooLarge,
            _ => Self::BadBody("Request body could not be read"),
        }
    }
}

/// `{"success": false, "message": …, "code": …}`
#[derive(Serialize, utoipa::ToSchema)]
#[schema(examples(json!({"success": false, "message": "Not enough available seats", "code": "NOT_ENOUGH_SEATS"})))]
pub struct ErrorBody {
    /// Always `false`.
    success: bool,
    /// The seed's text (for people, and for clients of the seed that compare it).
    message: String,
    /// A stable, machine-readable name of the error.
    #[schema(value_type = String, examples("NOT_ENOUGH_SEATS"))]
    code: &'static str,
    /// With `SEATS_UNAVAILABLE`: the labels of the seats that are not available.
    #[serde(skip_serializing_if = "Option::is_none")]
    unavailable: Option<Vec<String>>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            Self::Internal(cause) => {
                tracing::error!(error = format!("{cause:#}"), "internal error")
            }
            Self::Unavailable(cause) => {
                tracing::warn!(error = format!("{cause:#}"), "database unavailable");
            }
            Self::OutcomeUnknown(cause) => {
                tracing::warn!(
                    error = format!("{cause:#}"),
                    "connection lost during commit"
                );
            }
            _ => {}
        }
        let body = ErrorBody {
            success: false,
            message: self.to_string(),
            code: self.code(),
            unavailable: match &self {
                Self::Rejected(Rejection::SeatsUnavailable(labels)) => Some(labels.clone()),
                _ => None,
            },
        };
        let mut response = (self.status(), Json(body)).into_response();
        let headers = response.headers_mut();
        match self {
            Self::TooManyLoginAttempts {
                retry_after_seconds,
            }
            | Self::RateLimited {
                retry_after_seconds,
            } => {
                headers.insert(RETRY_AFTER, HeaderValue::from(retry_after_seconds));
            }
            Self::Rejected(Rejection::IdempotencyInProgress) => {
                headers.insert(RETRY_AFTER, HeaderValue::from(1));
            }
            // RFC 6750: a 401 names the scheme it wants, and says why a token failed.
            Self::Unauthenticated => {
                headers.insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            Self::InvalidToken => {
                headers.insert(
                    WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer error=\"invalid_token\""),
                );
            }
            _ => {}
        }
        response
    }
}
