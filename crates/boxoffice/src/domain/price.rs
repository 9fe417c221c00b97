//! Prices (CONTRACT.md, "Reserved seating"): integers in minor units (cents for EUR) of one
//! currency, three capital letters. A seated event's prices are its chart's categories; a
//! general-admission event may carry one price for every seat.

use super::{Field, Integer, Rejection, above_64_bits};

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
    /// `price must be an integer ≥ 0`, `price must be at most 9223372036854775807` (an integer
    /// beyond 64 bits), `currency must be three capital letters`, `price and currency must be
    /// given together`.
    pub fn parse(price: Field<Integer>, currency: Field<&str>) -> Result<Option<Self>, Rejection> {
        let amount = match price {
            Field::Missing => None,
            Field::Given(Integer::Within(n)) if n >= 0 => Some(n),
            Field::Given(Integer::Above) => return Err(above_64_bits("price")),
            _ => return Err(Rejection::invalid("price must be an integer ≥ 0")),
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

    /// This price for `seats` seats (saturating: a chart's prices times 100 seats cannot
    /// overflow in practice, but a total is never allowed to wrap).
    pub fn times(&self, seats: i64) -> Self {
        Self {
            amount: self.amount.saturating_mul(seats),
            currency: self.currency.clone(),
        }
    }
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
        assert_eq!(price.times(3).amount, 7500);
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
        // Beyond 64 bits: too large for any price, or below zero.
        assert_eq!(
            message(Field::Given(Integer::Above), Field::Given("EUR")),
            "price must be at most 9223372036854775807"
        );
        assert_eq!(
            message(Field::Given(Integer::Below), Field::Given("EUR")),
            "price must be an integer ≥ 0"
        );
        let most = Price::parse(Field::Given(i64::MAX.into()), Field::Given("EUR"));
        assert_eq!(most.unwrap().unwrap().amount, i64::MAX);
    }
}
