//! Every way a booking rule can say no. The HTTP layer maps each to a status code; the
//! messages are the seed's, word for word, because clients match on them.

use super::{BookingStatus, LockStatus};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// Input that breaks a validation rule; the message says which.
    #[error("{0}")]
    Invalid(String),
    #[error("User not found")]
    UserNotFound,
    #[error("Event not found")]
    EventNotFound,
    #[error("Lock not found")]
    LockNotFound,
    #[error("Booking not found")]
    BookingNotFound,
    #[error("User with this email already exists")]
    EmailTaken,
    #[error("Not enough available seats")]
    NotEnoughSeats,
    #[error("Event has already taken place")]
    EventStarted,
    #[error("idempotencyKey was already used with a different request")]
    IdempotencyKeyReused,
    /// The `Idempotency-Key` header of another request (method, path or body).
    #[error("Idempotency-Key was already used with a different request")]
    IdempotencyHeaderReused,
    /// The first request with this `Idempotency-Key` is still running.
    #[error("A request with this Idempotency-Key is in progress")]
    IdempotencyInProgress,
    #[error("Idempotency-Key must equal idempotencyKey")]
    IdempotencyKeysDiffer,
    #[error("INVALID_OR_EXPIRED_LOCK")]
    InvalidOrExpiredLock,
    #[error("Payment not allowed in {0} state")]
    PaymentNotAllowed(BookingStatus),
    #[error("Cancellation not allowed in {0} state")]
    CancellationNotAllowed(BookingStatus),
    #[error("Lock cannot be released in {0} state")]
    ReleaseNotAllowed(LockStatus),
    #[error("Lock backs a booking; cancel the booking instead")]
    LockBacksBooking,
    #[error("totalSeats cannot be below seats already taken")]
    SeatsAlreadyTaken,
    /// A seat label that names no seat of the event (CONTRACT.md, "Reserved seating").
    #[error("Unknown seat: {0}")]
    UnknownSeat(String),
    /// Some of the seats asked for are not FREE (or, to unblock, not BLOCKED): their labels,
    /// in chart order, go in the error body's `unavailable`.
    #[error("Seats not available")]
    SeatsUnavailable(Vec<String>),
    #[error("Event has no seating chart")]
    NoSeatingChart,
    #[error("totalSeats of a seated event follows its seating chart")]
    SeatedTotalSeats,
    #[error("Webhook not found")]
    WebhookNotFound,
}

impl Rejection {
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::Invalid(message.into())
    }

    /// A stable machine-readable name, added beside the seed's message.
    pub const fn code(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "VALIDATION_FAILED",
            Self::UserNotFound => "USER_NOT_FOUND",
            Self::EventNotFound => "EVENT_NOT_FOUND",
            Self::LockNotFound => "LOCK_NOT_FOUND",
            Self::BookingNotFound => "BOOKING_NOT_FOUND",
            Self::EmailTaken => "EMAIL_TAKEN",
            Self::NotEnoughSeats => "NOT_ENOUGH_SEATS",
            Self::EventStarted => "EVENT_STARTED",
            Self::IdempotencyKeyReused | Self::IdempotencyHeaderReused => "IDEMPOTENCY_KEY_REUSED",
            Self::IdempotencyInProgress => "IDEMPOTENCY_IN_PROGRESS",
            Self::IdempotencyKeysDiffer => "VALIDATION_FAILED",
            Self::InvalidOrExpiredLock => "INVALID_OR_EXPIRED_LOCK",
            Self::PaymentNotAllowed(_) => "PAYMENT_NOT_ALLOWED",
            Self::CancellationNotAllowed(_) => "CANCELLATION_NOT_ALLOWED",
            Self::ReleaseNotAllowed(_) => "RELEASE_NOT_ALLOWED",
            Self::LockBacksBooking => "LOCK_BACKS_BOOKING",
            Self::SeatsAlreadyTaken => "SEATS_ALREADY_TAKEN",
            Self::UnknownSeat(_) => "UNKNOWN_SEAT",
            Self::SeatsUnavailable(_) => "SEATS_UNAVAILABLE",
            Self::NoSeatingChart => "NO_SEATING_CHART",
            Self::SeatedTotalSeats => "SEATED_TOTAL_SEATS",
            Self::WebhookNotFound => "WEBHOOK_NOT_FOUND",
        }
    }
}
