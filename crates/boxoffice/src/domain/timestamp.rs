//! Instants as milliseconds since the Unix epoch, shown as RFC 3339 UTC with milliseconds.
//!
//! Every instant the API reads must be one it can show: input dates are accepted from
//! [`Timestamp::EARLIEST`] to [`Timestamp::LATEST`] once in UTC (CONTRACT.md, Conventions), and
//! [`parse_date`] is the one function that reads a client's date, wherever it comes from.

use std::fmt;

use serde::{Serialize, Serializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

use super::Rejection;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Timestamp(i64);

impl Timestamp {
    /// `1970-01-01T00:00:00.000Z`, the earliest instant accepted or shown.
    pub const EARLIEST: Self = Self(0);
    /// `9999-12-31T23:59:59.999Z`, the latest: the last millisecond with a four-digit year.
    pub const LATEST: Self = Self(253_402_300_799_999);

    pub fn now() -> Self {
        let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos();
        Self(i64::try_from(nanos / 1_000_000).unwrap_or(i64::MAX))
    }

    pub const fn from_millis(millis: i64) -> Self {
        Self(millis)
    }

    pub const fn millis(self) -> i64 {
        self.0
    }

    pub const fn plus_millis(self, millis: i64) -> Self {
        Self(self.0.saturating_add(millis))
    }

    pub const fn plus_seconds(self, seconds: i64) -> Self {
        Self(self.0.saturating_add(seconds.saturating_mul(1000)))
    }

    /// The instant `millis` after the epoch if it lies from [`Self::EARLIEST`] to
    /// [`Self::LATEST`], the range the API accepts and can always show; else `None`.
    pub fn in_range(millis: i64) -> Option<Self> {
        (Self::EARLIEST.0..=Self::LATEST.0)
            .contains(&millis)
            .then_some(Self(millis))
    }

    /// Any RFC 3339 form: `2026-06-15T10:00:00Z`, offsets, fractions, that lies in the accepted
    /// range once in UTC. A fraction finer than a millisecond is rounded down (toward the past)
    /// to the millisecond, the precision every instant is kept and shown with
    /// (`…:00.123999Z` is `…:00.123Z`); that is the one difference between a date sent and the
    /// date answered, and README.md ("Bounds at the edge") documents it. A leap second
    /// (`23:59:60`, which RFC 3339 allows) is refused: Unix time, and so every instant kept
    /// here, has none, and turning it into `23:59:59.999` would change the date silently.
    pub fn parse_rfc3339(text: &str) -> Result<Self, DateError> {
        Self::parse_rfc3339_nanos(text).map(|(floor, _)| floor)
    }

    /// As [`Self::parse_rfc3339`], but a fraction finer than a millisecond is rounded up
    /// (toward the future) to the next millisecond: for a filter's bound compared with
    /// instants kept in milliseconds, where `from` (inclusive) and `to` (exclusive) must both
    /// round up to keep their meaning (`to=…:00.0001Z` includes an instant at `…:00.000Z`,
    /// `from=…:00.0009Z` excludes it). The range is checked on the date as sent, so a bound
    /// within a millisecond after [`Self::LATEST`] rounds to the millisecond past it.
    pub fn parse_rfc3339_rounding_up(text: &str) -> Result<Self, DateError> {
        Self::parse_rfc3339_nanos(text)
            .map(|(floor, rest)| if rest { floor.plus_millis(1) } else { floor })
    }

    /// The instant of `text` rounded down to the millisecond, and whether a finer fraction
    /// was dropped.
    fn parse_rfc3339_nanos(text: &str) -> Result<(Self, bool), DateError> {
        let parsed = OffsetDateTime::parse(text, &Rfc3339).map_err(|_| DateError::Malformed)?;
        // RFC 3339's fields up to the seconds have fixed widths: `YYYY-MM-DDTHH:MM:SS`.
        if text.get(17..19) == Some("60") {
            return Err(DateError::LeapSecond);
        }
        let nanos = parsed.unix_timestamp_nanos();
        let floor = i64::try_from(nanos.div_euclid(1_000_000))
            .ok()
            .and_then(Self::in_range)
            .ok_or(DateError::OutOfRange)?;
        Ok((floor, nanos.rem_euclid(1_000_000) != 0))
    }
}

/// Why a text is not an accepted date.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DateError {
    /// Not RFC 3339.
    Malformed,
    /// RFC 3339, but outside `1970-01-01T00:00:00Z` … `9999-12-31T23:59:59.999Z` in UTC.
    OutOfRange,
    /// RFC 3339 with a leap second (`:60`), which no instant kept here can be.
    LeapSecond,
}

/// A client's date, named `field` in its errors (a body field such as `eventDate`, or a query
/// parameter such as `from`): 400 `<field> must be a valid date` for anything that is not
/// RFC 3339, and 400 `<field> must be between 1970-01-01T00:00:00.000Z and
/// 9999-12-31T23:59:59.999Z` outside the accepted range (CONTRACT.md, Conventions), and 400
/// `<field> must not be a leap second` for a `:60` second ([`Timestamp::parse_rfc3339`]).
pub fn parse_date(field: &str, text: &str) -> Result<Timestamp, Rejection> {
    Timestamp::parse_rfc3339(text).map_err(|error| date_rejection(field, error))
}

/// A filter's date bound (`from`, `to`), as [`parse_date`] but with a sub-millisecond
/// fraction rounded up ([`Timestamp::parse_rfc3339_rounding_up`] says why).
pub fn parse_date_bound_up(field: &str, text: &str) -> Result<Timestamp, Rejection> {
    Timestamp::parse_rfc3339_rounding_up(text).map_err(|error| date_rejection(field, error))
}

fn date_rejection(field: &str, error: DateError) -> Rejection {
    match error {
        DateError::Malformed => Rejection::invalid(format!("{field} must be a valid date")),
        DateError::OutOfRange => Rejection::invalid(format!(
            "{field} must be between {} and {}",
            Timestamp::EARLIEST,
            Timestamp::LATEST
        )),
        DateError::LeapSecond => Rejection::invalid(format!("{field} must not be a leap second")),
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let format = format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        );
        let instant = OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000_000)
            .map_err(|_| fmt::Error)?;
        let text = instant.format(&format).map_err(|_| fmt::Error)?;
        f.write_str(&text)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_utc_with_milliseconds() {
        let t = Timestamp::parse_rfc3339("2026-01-28T12:28:29.379Z").unwrap();
        assert_eq!(t.to_string(), "2026-01-28T12:28:29.379Z");
        let t = Timestamp::parse_rfc3339("2026-06-15T12:00:00+02:00").unwrap();
        assert_eq!(t.to_string(), "2026-06-15T10:00:00.000Z");
    }

    #[test]
    fn refuses_what_is_not_rfc3339() {
        for bad in ["", "tomorrow", "2026-06-15", "2026-13-01T00:00:00Z"] {
            assert_eq!(
                Timestamp::parse_rfc3339(bad),
                Err(DateError::Malformed),
                "{bad}"
            );
        }
    }

    #[test]
    fn accepts_exactly_the_range_it_can_show() {
        let first = Timestamp::parse_rfc3339("1970-01-01T00:00:00Z").unwrap();
        assert_eq!(first, Timestamp::EARLIEST);
        assert_eq!(first.to_string(), "1970-01-01T00:00:00.000Z");
        let last = Timestamp::parse_rfc3339("9999-12-31T23:59:59.999Z").unwrap();
        assert_eq!(last, Timestamp::LATEST);
        assert_eq!(last.to_string(), "9999-12-31T23:59:59.999Z");
        for outside in [
            // Year 10000 once in UTC.
            "9999-12-31T23:59:59-23:59",
            "9999-12-31T23:59:59.999-00:01",
            // 1969 once in UTC.
            "1970-01-01T00:00:00+00:01",
            "1969-12-31T23:59:59.999Z",
            "0000-01-01T00:00:00Z",
        ] {
            assert_eq!(
                Timestamp::parse_rfc3339(outside),
                Err(DateError::OutOfRange),
                "{outside}"
            );
        }
        assert_eq!(Timestamp::in_range(-1), None);
        assert_eq!(Timestamp::in_range(Timestamp::LATEST.millis() + 1), None);
    }

    #[test]
    fn a_leap_second_is_refused_and_finer_fractions_round_down() {
        for leap in [
            "2030-06-30T23:59:60Z",
            "2016-12-31T23:59:60.5Z",
            "2030-07-01T01:59:60+02:00",
        ] {
            assert_eq!(
                Timestamp::parse_rfc3339(leap),
                Err(DateError::LeapSecond),
                "{leap}"
            );
        }
        assert_eq!(
            parse_date("eventDate", "2030-06-30T23:59:60Z")
                .unwrap_err()
                .to_string(),
            "eventDate must not be a leap second"
        );
        for (sent, kept) in [
            ("2030-06-30T12:00:00.123999Z", "2030-06-30T12:00:00.123Z"),
            (
                "2030-06-30T12:00:00.1239999999Z",
                "2030-06-30T12:00:00.123Z",
            ),
            ("2030-06-30T12:00:00.0009Z", "2030-06-30T12:00:00.000Z"),
            ("2030-06-30T23:59:59.9999Z", "2030-06-30T23:59:59.999Z"),
            ("9999-12-31T23:59:59.999999Z", "9999-12-31T23:59:59.999Z"),
        ] {
            let parsed = Timestamp::parse_rfc3339(sent).unwrap();
            assert_eq!(parsed.to_string(), kept, "{sent}");
        }
    }

    #[test]
    fn filter_bounds_round_finer_fractions_up() {
        for (sent, bound) in [
            ("2030-06-30T10:00:00.0001Z", "2030-06-30T10:00:00.001Z"),
            ("2030-06-30T10:00:00.0009Z", "2030-06-30T10:00:00.001Z"),
            ("2030-06-30T10:00:00.123000Z", "2030-06-30T10:00:00.123Z"),
            ("2030-06-30T10:00:00Z", "2030-06-30T10:00:00.000Z"),
            ("2030-06-30T23:59:59.9999Z", "2030-07-01T00:00:00.000Z"),
            ("2030-06-30T12:00:00.0001+02:00", "2030-06-30T10:00:00.001Z"),
        ] {
            let parsed = Timestamp::parse_rfc3339_rounding_up(sent).unwrap();
            assert_eq!(parsed.to_string(), bound, "{sent}");
        }
        // Within the last millisecond of the range: one past it, an exclusive `to` of it all.
        assert_eq!(
            Timestamp::parse_rfc3339_rounding_up("9999-12-31T23:59:59.9991Z"),
            Ok(Timestamp::from_millis(Timestamp::LATEST.millis() + 1))
        );
        assert_eq!(
            parse_date_bound_up("to", "1969-12-31T23:59:59.9999Z")
                .unwrap_err()
                .to_string(),
            "to must be between 1970-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z"
        );
    }

    #[test]
    fn a_date_error_names_its_field() {
        assert_eq!(
            parse_date("from", "soon").unwrap_err().to_string(),
            "from must be a valid date"
        );
        assert_eq!(
            parse_date("eventDate", "9999-12-31T23:59:59-23:59")
                .unwrap_err()
                .to_string(),
            "eventDate must be between 1970-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z"
        );
    }
}
