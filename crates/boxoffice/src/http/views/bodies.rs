#![allow(dead_code)]

use utoipa::ToSchema;

// Text rules as schema constraints, so that a request is valid by the description if and
// only if the handlers' rules let it through: see `text_schemas`.
use super::super::text_schemas::{email, event_name, event_name_change, user_name};

#[derive(ToSchema)]
pub struct RegisterBody {
    /// 1 to 100 characters once trimmed.
    #[schema(schema_with = user_name)]
    name: String,
    /// Compared after NFC normalisation and case folding; at most 254 bytes once trimmed.
    #[schema(schema_with = email)]
    email: String,
    /// 6 to 128 characters.
    #[schema(min_length = 6, max_length = 128, pattern = "^[^\\u0000]*$")]
    password: String,
}

#[derive(ToSchema)]
pub struct LoginBody {
    #[schema(min_length = 1, pattern = "^[^\\u0000]*$")]
    email: String,
    #[schema(min_length = 1, pattern = "^[^\\u0000]*$")]
    password: String,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct NewEventBody {
    /// 1 to 200 characters once trimmed.
    #[schema(schema_with = event_name)]
    name: String,
    #[schema(max_length = 5000, pattern = "^[^\\u0000]*$")]
    description: Option<String>,
    /// Any RFC 3339 date from 1970 to 9999 in UTC, in the future; kept to the millisecond
    /// (finer fractions are rounded down); a leap second (`:60`) is a 400.
    #[schema(format = DateTime, pattern = "^[^\\u0000]*$")]
    event_date: String,
    /// Required unless `seatingChart` is given; then, if given, equal to its seats. At most
    /// 1,000,000 (`totalSeats must be at most 1000000`).
    #[schema(minimum = 1, maximum = 1_000_000)]
    total_seats: Option<i64>,
    /// At most `totalSeats` (the default); the difference is withheld, never sold. With a
    /// `seatingChart`, if given, equal to its seats.
    #[schema(minimum = 0)]
    available_seats: Option<i64>,
    /// A seated event's chart (CONTRACT.md, "Reserved seating"); at most 100,000 seats.
    seating_chart: Option<SeatingChartBody>,
    /// General admission only: the price of every seat, in minor units (with `currency`),
    /// at most 10,000,000,000,000 (`price must be at most 10000000000000`).
    #[schema(minimum = 0, maximum = 10_000_000_000_000_i64)]
    price: Option<i64>,
    /// Three capital letters (with `price`).
    #[schema(pattern = "^[A-Z]{3}$")]
    currency: Option<String>,
}

#[derive(ToSchema)]
pub struct SeatingChartBody {
    /// 1 to 50 categories, one currency.
    categories: Vec<CategoryBody>,
    sections: Vec<SectionBody>,
}

#[derive(ToSchema)]
pub struct CategoryBody {
    #[schema(pattern = "^[A-Za-z0-9_]{1,32}$")]
    key: String,
    /// Defaults to the key.
    name: Option<String>,
    /// Minor units, at most 10,000,000,000,000.
    #[schema(minimum = 0, maximum = 10_000_000_000_000_i64)]
    price: i64,
    #[schema(pattern = "^[A-Z]{3}$")]
    currency: String,
}

#[derive(ToSchema)]
pub struct SectionBody {
    #[schema(pattern = "^[A-Za-z0-9_]{1,32}$")]
    key: String,
    /// Defaults to the key.
    name: Option<String>,
    rows: Vec<RowBody>,
}

/// `seats: n` (numbers 1…n) or `numbers`, not both.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct RowBody {
    #[schema(pattern = "^[A-Za-z0-9_]{1,32}$")]
    key: String,
    #[schema(minimum = 1, maximum = 9999)]
    seats: Option<i64>,
    /// Distinct seat numbers (1…9999), in the row's order.
    numbers: Option<Vec<i64>>,
    /// A category key of the chart.
    category: String,
    /// Seat numbers after which an aisle breaks the row.
    aisle_after: Option<Vec<i64>>,
    /// Wheelchair seats.
    accessible: Option<Vec<i64>>,
}

/// Best available preferences; each defaults to "any".
#[derive(ToSchema)]
pub struct BestAvailableBody {
    /// A category key.
    category: Option<String>,
    /// A section key.
    section: Option<String>,
    /// Only accessible seats.
    accessible: Option<bool>,
    /// Refuse rather than split the seats.
    together: Option<bool>,
}

/// Only the fields given change.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct EventChangesBody {
    /// 1 to 200 characters once trimmed.
    #[schema(schema_with = event_name_change)]
    name: Option<String>,
    #[schema(max_length = 5000, pattern = "^[^\\u0000]*$")]
    description: Option<String>,
    /// Any RFC 3339 date from 1970 to 9999 in UTC, in the future; kept to the millisecond
    /// (finer fractions are rounded down); a leap second (`:60`) is a 400.
    #[schema(format = DateTime, pattern = "^[^\\u0000]*$")]
    event_date: Option<String>,
    /// Moves `availableSeats` by the same amount; not below the seats already taken; at most
    /// 1,000,000.
    #[schema(minimum = 1, maximum = 1_000_000)]
    total_seats: Option<i64>,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct LockBody {
    #[schema(pattern = "^[0-9a-f]{24}$")]
    event_id: String,
    /// In jwt mode, a user may only hold seats for themselves.
    #[schema(pattern = "^[0-9a-f]{24}$")]
    user_id: String,
    /// Required unless `seatLabels` gives the number.
    #[schema(minimum = 1, maximum = 100)]
    seats: Option<i64>,
    /// Seated events: these seats by label, all or nothing (1 to 100 distinct).
    seat_labels: Option<Vec<String>>,
    /// Seated events: the best available seats with these preferences.
    best_available: Option<BestAvailableBody>,
    /// Per user: the same key with the same request replays the first answer.
    #[schema(min_length = 1, max_length = 255, pattern = "^[^\\u0000]*$")]
    idempotency_key: String,
}

/// `seatLabels` of a block or unblock.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct SeatLabelsBody {
    /// 1 to 100 distinct labels (`section-row-number`).
    seat_labels: Vec<String>,
}

#[derive(ToSchema)]
pub struct ExtendBody {
    /// The hold's new expiry, from now.
    #[schema(minimum = 1, maximum = 3600)]
    seconds: i64,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct ConfirmBody {
    #[schema(pattern = "^[0-9a-f]{24}$")]
    lock_id: String,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct PaymentBody {
    #[schema(pattern = "^[0-9a-f]{24}$")]
    booking_id: String,
    /// The outcome the simulated payment takes.
    force: PaymentForce,
}

#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum PaymentForce {
    Success,
    Failure,
    Timeout,
}
