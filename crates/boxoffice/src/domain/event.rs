use std::sync::Arc;

use super::seating::SeatingChart;
use super::{Integer, ObjectId, Price, Rejection, Timestamp, parse_date};

#[derive(Clone, Debug)]
pub struct Event {
    pub id: ObjectId,
    pub name: String,
    pub description: String,
    pub event_date: Timestamp,
    pub total_seats: i64,
    pub available_seats: i64,
    /// Seats kept back at creation (`totalSeats - availableSeats`), or blocked by an admin
    /// on a seated event: never sold.
    pub withheld_seats: i64,
    /// The seating chart of a seated event; `None` for general admission.
    pub seating: Option<Arc<SeatingChart>>,
    /// A general-admission event's price per seat, if it has one.
    pub price: Option<Price>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A field of a request body as the client sent it, before any rule is applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Field<T> {
    Missing,
    WrongType,
    Given(T),
}

/// An event that passed every creation rule.
#[derive(Clone, Debug)]
pub struct NewEvent {
    pub name: String,
    pub description: String,
    pub event_date: Timestamp,
    pub total_seats: i64,
    pub available_seats: i64,
    /// A seated event's chart (its seats are `total_seats`).
    pub seating: Option<Arc<SeatingChart>>,
    /// A general-admission event's price per seat.
    pub price: Option<Price>,
}

pub const MAX_EVENT_NAME_CHARS: usize = 200;
/// The most seats an event may have. CONTRACT.md is silent; a million is ten times the largest
/// seating chart (100,000 seats) and more than any venue or stream sells as one event, while
/// keeping every seat sum far from overflow (README, "Bounds at the edge").
pub const MAX_TOTAL_SEATS: i64 = 1_000_000;
pub const MAX_DESCRIPTION_CHARS: usize = 5000;

impl NewEvent {
    pub fn parse(
        name: Field<&str>,
        description: Field<&str>,
        event_date: Field<&str>,
        total_seats: Field<Integer>,
        available_seats: Field<Integer>,
        now: Timestamp,
    ) -> Result<Self, Rejection> {
        let name = parse_name(name)?;
        let description = parse_description(description)?;
        let event_date = parse_event_date(event_date, now)?;
        let total_seats = parse_total_seats(total_seats)?;
        let available_seats = match available_seats.map(Integer::saturating) {
            Field::Missing => total_seats,
            Field::Given(n) if n >= 0 && n <= total_seats => n,
            Field::Given(n) if n > total_seats => {
                return Err(Rejection::invalid("availableSeats must be ≤ totalSeats"));
            }
            _ => return Err(Rejection::invalid("availableSeats must be an integer ≥ 0")),
        };
        Ok(Self {
            name,
            description,
            event_date,
            total_seats,
            available_seats,
            seating: None,
            price: None,
        })
    }
}

impl NewEvent {
    /// The event with its chart or price ([`super::seating::EventSeating`]).
    pub fn with_seating(self, seating: super::seating::EventSeating) -> Self {
        Self {
            seating: seating.chart,
            price: seating.price,
            ..self
        }
    }

    /// The event this makes, created at `now`: seats below `totalSeats` are withheld
    /// (CONTRACT.md, "availableSeats at creation").
    pub fn into_event(self, id: ObjectId, now: Timestamp) -> Event {
        Event {
            id,
            withheld_seats: self.total_seats - self.available_seats,
            name: self.name,
            description: self.description,
            event_date: self.event_date,
            total_seats: self.total_seats,
            available_seats: self.available_seats,
            seating: self.seating,
            price: self.price,
            created_at: now,
            updated_at: now,
        }
    }
}

/// A PATCH of an event: only the fields given change, each under its creation rule.
#[derive(Clone, Debug, Default)]
pub struct EventChanges {
    pub name: Option<String>,
    pub description: Option<String>,
    pub event_date: Option<Timestamp>,
    pub total_seats: Option<i64>,
}

impl EventChanges {
    pub fn parse(
        name: Field<&str>,
        description: Field<&str>,
        event_date: Field<&str>,
        total_seats: Field<Integer>,
        now: Timestamp,
    ) -> Result<Self, Rejection> {
        Ok(Self {
            name: optional(name, parse_name)?,
            description: optional(description, parse_description)?,
            event_date: optional(event_date, |d| parse_event_date(d, now))?,
            total_seats: optional(total_seats, parse_total_seats)?,
        })
    }

    /// Whether nothing would change.
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.description.is_none()
            && self.event_date.is_none()
            && self.total_seats.is_none()
    }
}

fn optional<T, U>(
    field: Field<T>,
    parse: impl FnOnce(Field<T>) -> Result<U, Rejection>,
) -> Result<Option<U>, Rejection> {
    match field {
        Field::Missing => Ok(None),
        given => parse(given).map(Some),
    }
}

fn parse_name(name: Field<&str>) -> Result<String, Rejection> {
    match name {
        Field::Given(name) if !name.trim().is_empty() => {
            if name.trim().chars().count() > MAX_EVENT_NAME_CHARS {
                Err(Rejection::invalid("name must be at most 200 characters"))
            } else {
                Ok(name.trim().to_owned())
            }
        }
        _ => Err(Rejection::invalid("name is required")),
    }
}

fn parse_description(description: Field<&str>) -> Result<String, Rejection> {
    match description {
        Field::Missing => Ok(String::new()),
        Field::Given(text) if text.chars().count() <= MAX_DESCRIPTION_CHARS => Ok(text.to_owned()),
        Field::Given(_) => Err(Rejection::invalid(
            "description must be at most 5000 characters",
        )),
        Field::WrongType => Err(Rejection::invalid("description must be a string")),
    }
}

fn parse_event_date(date: Field<&str>, now: Timestamp) -> Result<Timestamp, Rejection> {
    let Field::Given(date) = date else {
        return Err(Rejection::invalid("eventDate must be a valid date"));
    };
    let date = parse_date("eventDate", date)?;
    if date <= now {
        return Err(Rejection::invalid("eventDate must be in the future"));
    }
    Ok(date)
}

/// `totalSeats`: an integer from 1 (`totalSeats must be an integer ≥ 1`, the seed's message)
/// to [`MAX_TOTAL_SEATS`] (`totalSeats must be at most 1000000`), however far beyond.
fn parse_total_seats(total: Field<Integer>) -> Result<i64, Rejection> {
    match total.map(Integer::saturating) {
        Field::Given(n) if n > MAX_TOTAL_SEATS => Err(total_seats_too_many()),
        Field::Given(n) if n >= 1 => Ok(n),
        _ => Err(Rejection::invalid("totalSeats must be an integer ≥ 1")),
    }
}

/// The refusal of a `totalSeats` above [`MAX_TOTAL_SEATS`].
pub fn total_seats_too_many() -> Rejection {
    Rejection::invalid(format!("totalSeats must be at most {MAX_TOTAL_SEATS}"))
}

impl<T> Field<T> {
    /// The value, if one of the right type was given.
    pub fn given(self) -> Option<T> {
        match self {
            Field::Given(value) => Some(value),
            Field::Missing | Field::WrongType => None,
        }
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Field<U> {
        match self {
            Field::Missing => Field::Missing,
            Field::WrongType => Field::WrongType,
            Field::Given(v) => Field::Given(f(v)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(total: Field<i64>, available: Field<i64>) -> Result<NewEvent, Rejection> {
        parse_integers(total.map(Integer::from), available.map(Integer::from))
    }

    fn parse_integers(
        total: Field<Integer>,
        available: Field<Integer>,
    ) -> Result<NewEvent, Rejection> {
        let now = Timestamp::parse_rfc3339("2026-01-01T00:00:00Z").unwrap();
        NewEvent::parse(
            Field::Given("Summit"),
            Field::Missing,
            Field::Given("2026-06-15T10:00:00Z"),
            total,
            available,
            now,
        )
    }

    #[test]
    fn available_defaults_to_total_and_may_withhold() {
        assert_eq!(
            parse(Field::Given(100), Field::Missing)
                .unwrap()
                .available_seats,
            100
        );
        assert_eq!(
            parse(Field::Given(100), Field::Given(90))
                .unwrap()
                .available_seats,
            90
        );
    }

    #[test]
    fn seat_rules() {
        let msg = |r: Result<NewEvent, Rejection>| r.unwrap_err().to_string();
        assert_eq!(
            msg(parse(Field::Given(0), Field::Missing)),
            "totalSeats must be an integer ≥ 1"
        );
        assert_eq!(
            msg(parse(Field::WrongType, Field::Missing)),
            "totalSeats must be an integer ≥ 1"
        );
        assert_eq!(
            parse(Field::Given(MAX_TOTAL_SEATS), Field::Missing)
                .unwrap()
                .total_seats,
            1_000_000
        );
        for too_many in [MAX_TOTAL_SEATS + 1, i64::MAX] {
            assert_eq!(
                msg(parse(Field::Given(too_many), Field::Missing)),
                "totalSeats must be at most 1000000"
            );
        }
        assert_eq!(
            msg(parse(Field::Given(10), Field::Given(11))),
            "availableSeats must be ≤ totalSeats"
        );
        assert_eq!(
            msg(parse(Field::Given(10), Field::Given(-1))),
            "availableSeats must be an integer ≥ 0"
        );
        assert_eq!(
            msg(parse(Field::Given(10), Field::WrongType)),
            "availableSeats must be an integer ≥ 0"
        );
    }

    #[test]
    fn integers_beyond_64_bits_get_the_range_refusals() {
        let msg = |total, available| {
            parse_integers(Field::Given(total), available)
                .unwrap_err()
                .to_string()
        };
        let ten = Integer::Within(10);
        assert_eq!(
            msg(Integer::Above, Field::Missing),
            "totalSeats must be at most 1000000"
        );
        assert_eq!(
            msg(Integer::Below, Field::Missing),
            "totalSeats must be an integer ≥ 1"
        );
        assert_eq!(
            msg(ten, Field::Given(Integer::Above)),
            "availableSeats must be ≤ totalSeats"
        );
        assert_eq!(
            msg(ten, Field::Given(Integer::Below)),
            "availableSeats must be an integer ≥ 0"
        );
        let changes = |total| {
            let now = Timestamp::parse_rfc3339("2026-01-01T00:00:00Z").unwrap();
            let missing = || Field::Missing;
            EventChanges::parse(missing(), missing(), missing(), Field::Given(total), now)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            changes(Integer::Above),
            "totalSeats must be at most 1000000"
        );
        assert_eq!(changes(Integer::Below), "totalSeats must be an integer ≥ 1");
    }
}
