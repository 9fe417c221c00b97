//! Integers as requests write them. JSON sets no limit on the size of a number (RFC 8259,
//! section 6), nor does a query string, while boxoffice keeps integers in 64 bits. An integer
//! beyond them is still an integer, only out of every field's range: it gets the field's range
//! refusal (`seats must be an integer between 1 and 100`, `totalSeats must be at most
//! 1000000`), never the refusal of a value that is not an integer at all (`"2"`, `2.5`, `2.0`,
//! `true`: CONTRACT.md, Conventions).

use serde_json::Number;

use super::Rejection;

/// An integer given in a request: within 64 bits, or beyond them on one side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Integer {
    Within(i64),
    /// Above `i64::MAX` (9223372036854775807).
    Above,
    /// Below `i64::MIN` (-9223372036854775808).
    Below,
}

/// 2^63 as a float: the smallest magnitude that no `i64` reaches on the positive side (and
/// `-2^63` is `i64::MIN`, which a JSON parser gives as an integer).
const TWO_TO_THE_63: f64 = 9_223_372_036_854_775_808.0;

impl Integer {
    /// A JSON number read as an integer; `None` when it is not one (`2.5`, `2.0`, `1e3`).
    ///
    /// Beyond 64 bits (`u64` included) the JSON parser keeps only a float, so a whole number
    /// of magnitude 2^63 or more counts as an integer beyond 64 bits, whether written as
    /// digits (`100000000000000000000`) or with an exponent (`1e20`); a float below that
    /// magnitude stays not an integer. A number beyond about 1.8e308 is refused by the parser
    /// itself, as a body that is not valid JSON.
    pub fn from_json(number: &Number) -> Option<Self> {
        if let Some(n) = number.as_i64() {
            return Some(Self::Within(n));
        }
        if number.is_u64() {
            return Some(Self::Above);
        }
        let float = number.as_f64()?;
        if float.fract() != 0.0 {
            None
        } else if float >= TWO_TO_THE_63 {
            Some(Self::Above)
        } else if float <= -TWO_TO_THE_63 {
            Some(Self::Below)
        } else {
            None
        }
    }

    /// A query string's integer: ASCII digits only (no sign, no spaces, no `1e3`), as many
    /// as given; `None` for anything else.
    pub fn from_digits(text: &str) -> Option<Self> {
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some(text.parse().map_or(Self::Above, Self::Within))
    }

    /// The value, or the 64-bit value nearest to it (`i64::MAX` above, `i64::MIN` below): for
    /// a rule whose bounds lie inside 64 bits, which then refuses an integer beyond them as it
    /// refuses any other value past its bound.
    pub const fn saturating(self) -> i64 {
        match self {
            Self::Within(n) => n,
            Self::Above => i64::MAX,
            Self::Below => i64::MIN,
        }
    }
}

/// The refusal of an integer above 64 bits in a field whose rule sets no upper bound of its
/// own (a notification's sequence): `<field> must be at most 9223372036854775807`,
/// the most boxoffice stores (and what the API description's `int64` says).
pub fn above_64_bits(field: &str) -> Rejection {
    Rejection::invalid(format!("{field} must be at most {}", i64::MAX))
}

impl From<i64> for Integer {
    fn from(n: i64) -> Self {
        Self::Within(n)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    fn read(json: &str) -> Option<Integer> {
        let Ok(Value::Number(number)) = serde_json::from_str(json) else {
            panic!("{json} is not a JSON number");
        };
        Integer::from_json(&number)
    }

    #[test]
    fn json_integers_of_any_size() {
        assert_eq!(read("0"), Some(Integer::Within(0)));
        assert_eq!(read("-5"), Some(Integer::Within(-5)));
        assert_eq!(read("9223372036854775807"), Some(Integer::Within(i64::MAX)));
        assert_eq!(
            read("-9223372036854775808"),
            Some(Integer::Within(i64::MIN))
        );
        for above in [
            "9223372036854775808",
            "18446744073709551615",
            "18446744073709551616",
            "1000000000000000000000000000000",
            "1e30",
            &format!("1{}", "0".repeat(300)),
        ] {
            assert_eq!(read(above), Some(Integer::Above), "{above}");
        }
        for below in [
            "-9223372036854775809",
            "-1000000000000000000000000000000",
            "-1e30",
        ] {
            assert_eq!(read(below), Some(Integer::Below), "{below}");
        }
        for not_integer in ["1.5", "2.0", "1e3", "-0.5", "100000000000000000.5"] {
            assert_eq!(read(not_integer), None, "{not_integer}");
        }
    }

    #[test]
    fn query_digits_of_any_size() {
        assert_eq!(Integer::from_digits("0"), Some(Integer::Within(0)));
        assert_eq!(Integer::from_digits("0042"), Some(Integer::Within(42)));
        assert_eq!(
            Integer::from_digits("9223372036854775807"),
            Some(Integer::Within(i64::MAX))
        );
        for above in ["9223372036854775808", "1000000000000000000000000000000"] {
            assert_eq!(Integer::from_digits(above), Some(Integer::Above), "{above}");
        }
        for bad in ["", "-1", "+1", " 1", "1.0", "1e3", "x"] {
            assert_eq!(Integer::from_digits(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn saturating_keeps_the_side() {
        assert_eq!(Integer::Within(7).saturating(), 7);
        assert_eq!(Integer::Above.saturating(), i64::MAX);
        assert_eq!(Integer::Below.saturating(), i64::MIN);
    }
}
