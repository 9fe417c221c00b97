//! Prices (CONTRACT.md, "Reserved seating"): integers in minor units (cents for EUR) of one
//! currency, three capital letters. A seated event's prices are its chart's categories; a
//! general-admission event may carry one price for every seat.
//!
//! Every amount the server computes from prices (a hold's, and so its booking's) is exact:
//! a price is at most [`MAX_PRICE`] and a hold at most [`MAX_SEATS_PER_LOCK`] seats, and the
//! arithmetic is checked all the same ([`Price::times`], [`total_amount`]), so that a path which
//! forgets the bound fails with [`AmountOverflow`] instead of wrapping or saturating.

use super::lock::MAX_SEATS_PER_LOCK;
use super::{Field, Integer, Rejection};

/// The most a price may be, in minor units: 10,000,000,000,000 (10^13; 100 billion euros,
/// 10 trillion yen). CONTRACT.md sets no bound; this one is far beyond any seat ever sold
/// and keeps every amount exact: a hold of [`MAX_SEATS_PER_LOCK`] seats at this price is
/// 10^15, far inside 64 bits (`i64::MAX / 100` would be the most 64 bits allow) and below
/// 2^53, so that a client reading JSON numbers as doubles (JavaScript, jq) reads every amount
/// exactly too (README, "Bounds at the edge").
pub const MAX_PRICE: i64 = 10_000_000_000_000;

// Every amount of a hold fits in 64 bits (or this would not compile) and in a double.
const _: () = assert!(MAX_PRICE * MAX_SEATS_PER_LOCK <= 1 << 53);

/// An amount of money computed from prices went beyond 64 bits. Prices within [`MAX_PRICE`]
/// and holds within [`MAX_SEATS_PER_LOCK`] seats never get here: the server answers it as an
/// internal error (a JSON 500 that changed nothing), never a wrapped or saturated amount.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("an amount of money computed from prices is beyond 64 bits")]
pub struct AmountOverflow;

/// An amount in minor units of a currency.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Price {
    /// Minor units, ≥ 0.
    pub amount: i64,
    /// Three capital letters.
    pub currency: String,
}

impl Price {
    /// A general-admission event's `price` and `currency`: both or neither. Errors: 400
    /// `price must be an integer ≥ 0`, `price must be at most 10000000000000` ([`MAX_PRICE`],
    /// an integer beyond 64 bits included), `currency must be three capital letters`, `price
    /// and currency must be given together`.
    pub fn parse(price: Field<Integer>, currency: Field<&str>) -> Result<Option<Self>, Rejection> {
        let amount = match price {
            Field::Missing => None,
            Field::Given(price) => Some(check_price("price", Some(price))?),
            Field::WrongType => Some(check_price("price", None)?),
        };
        let currency = match currency {
            Field::Missing => None,
            Field::Given(c) if is_currency(c) => Some(c.to_owned()),
            _ => return Err(Rejection::invalid("currency must be three capital letters")),
        };
        match (amount, currency) {
            (None, None) => Ok(None),
            (Some(amount), Some(currency)) => Ok(Some(Self { amount, currency })),
            _ => Err(Rejection::invalid(
                "price and currency must be given together",
            )),
        }
    }

    /// This price for `seats` seats, exactly. Errors: [`AmountOverflow`] beyond 64 bits (not
    /// for a price within [`MAX_PRICE`] and at most [`MAX_SEATS_PER_LOCK`] seats).
    pub fn times(&self, seats: i64) -> Result<Self, AmountOverflow> {
        Ok(Self {
            amount: self.amount.checked_mul(seats).ok_or(AmountOverflow)?,
            currency: self.currency.clone(),
        })
    }
}

/// The sum of `amounts` (minor units), exactly. Errors: [`AmountOverflow`] beyond 64 bits.
pub fn total_amount(amounts: impl IntoIterator<Item = i64>) -> Result<i64, AmountOverflow> {
    amounts
        .into_iter()
        .try_fold(0_i64, |sum, amount| sum.checked_add(amount))
        .ok_or(AmountOverflow)
}

/// A price as a request gives it, under `name` (`price`, `category front price`): an integer
/// from 0 to [`MAX_PRICE`]; `None` when it is not an integer at all. Errors: 400 `<name> must
/// be an integer ≥ 0`, `<name> must be at most 10000000000000` (an integer beyond 64 bits
/// included).
pub fn check_price(name: &str, price: Option<Integer>) -> Result<i64, Rejection> {
    match price {
        Some(Integer::Within(n)) if (0..=MAX_PRICE).contains(&n) => Ok(n),
        Some(Integer::Within(n)) if n > MAX_PRICE => Err(price_too_large(name)),
        Some(Integer::Above) => Err(price_too_large(name)),
        _ => Err(Rejection::invalid(format!("{name} must be an integer ≥ 0"))),
    }
}

fn price_too_large(name: &str) -> Rejection {
    Rejection::invalid(format!("{name} must be at most {MAX_PRICE}"))
}

/// Three capital letters, like ISO 4217 codes (`EUR`, `USD`).
pub fn is_currency(code: &str) -> bool {
    code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_or_neither() {
        assert_eq!(Price::parse(Field::Missing, Field::Missing), Ok(None));
        let price = Price::parse(Field::Given(2500.into()), Field::Given("EUR"))
            .unwrap()
            .unwrap();
        assert_eq!(price.times(3).unwrap().amount, 7500);
        let message = |p, c| Price::parse(p, c).unwrap_err().to_string();
        assert_eq!(
            message(Field::Given((-1).into()), Field::Given("EUR")),
            "price must be an integer ≥ 0"
        );
        assert_eq!(
            message(Field::WrongType, Field::Missing),
            "price must be an integer ≥ 0"
        );
        assert_eq!(
            message(Field::Given(1.into()), Field::Given("eur")),
            "currency must be three capital letters"
        );
        assert_eq!(
            message(Field::Given(1.into()), Field::Missing),
            "price and currency must be given together"
        );
        // At most MAX_PRICE; beyond it, and beyond 64 bits, too large; below zero, negative.
        let too_large = "price must be at most 10000000000000";
        for above in [
            Integer::Within(MAX_PRICE + 1),
            Integer::Within(i64::MAX),
            Integer::Above,
        ] {
            assert_eq!(message(Field::Given(above), Field::Given("EUR")), too_large);
        }
        assert_eq!(
            message(Field::Given(Integer::Below), Field::Given("EUR")),
            "price must be an integer ≥ 0"
        );
        let most = Price::parse(Field::Given(MAX_PRICE.into()), Field::Given("EUR"));
        assert_eq!(most.unwrap().unwrap().amount, 10_000_000_000_000);
        let free = Price::parse(Field::Given(0.into()), Field::Given("EUR"));
        assert_eq!(free.unwrap().unwrap().amount, 0);
    }

    #[test]
    fn a_chart_category_price_is_named() {
        assert_eq!(
            check_price("category c price", Some(MAX_PRICE.into())),
            Ok(MAX_PRICE)
        );
        assert_eq!(
            check_price("category c price", Some((MAX_PRICE + 1).into()))
                .unwrap_err()
                .to_string(),
            "category c price must be at most 10000000000000"
        );
        assert_eq!(
            check_price("category c price", None)
                .unwrap_err()
                .to_string(),
            "category c price must be an integer ≥ 0"
        );
    }

    #[test]
    fn amounts_are_exact_or_an_error() {
        let eur = |amount| Price {
            amount,
            currency: "EUR".into(),
        };
        // The largest hold at the largest price: exact.
        assert_eq!(
            eur(MAX_PRICE).times(MAX_SEATS_PER_LOCK),
            Ok(eur(1_000_000_000_000_000))
        );
        assert_eq!(eur(i64::MAX).times(1), Ok(eur(i64::MAX)));
        assert_eq!(eur(0).times(i64::MAX), Ok(eur(0)));
        // Beyond 64 bits: an error, never a wrapped or saturated amount.
        assert_eq!(eur(i64::MAX).times(2), Err(AmountOverflow));
        assert_eq!(eur(i64::MAX / 100 + 1).times(100), Err(AmountOverflow));
        assert_eq!(
            eur(i64::MAX / 100).times(100).map(|p| p.amount),
            Ok(i64::MAX / 100 * 100)
        );
        assert_eq!(eur(-1).times(i64::MIN), Err(AmountOverflow));

        assert_eq!(total_amount([]), Ok(0));
        assert_eq!(total_amount([MAX_PRICE; 100]), Ok(100 * MAX_PRICE));
        assert_eq!(total_amount([i64::MAX, 0]), Ok(i64::MAX));
        assert_eq!(total_amount([i64::MAX, 1]), Err(AmountOverflow));
        assert_eq!(
            total_amount([i64::MAX, i64::MAX, -i64::MAX]),
            Err(AmountOverflow)
        );
        assert_eq!(total_amount([1, 2, 3]), Ok(6));
    }
}
