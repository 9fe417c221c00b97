//! The seating part of `POST /api/events` (CONTRACT.md, "Reserved seating", "The chart"): a
//! seating chart, with `totalSeats` and `availableSeats` agreeing with it when given, or, for
//! general admission, one price for every seat.

use std::sync::Arc;

use serde_json::Value;

use super::chart::SeatingChart;
use crate::domain::{Field, Integer, Price, Rejection};

/// How an event's seats are sold: a chart (seated) or a count, with an optional price.
#[derive(Clone, Debug, Default)]
pub struct EventSeating {
    pub chart: Option<Arc<SeatingChart>>,
    /// General admission only: the price of every seat.
    pub price: Option<Price>,
}

impl EventSeating {
    /// Reads `seatingChart`, `price` and `currency`, and returns with them the `totalSeats`
    /// and `availableSeats` the event's other rules should check (a chart's seat count when
    /// the client gave none). Errors: the chart's faults, `totalSeats must equal the seats of
    /// the seating chart`, `availableSeats must equal the seats of the seating chart`, the
    /// price rules ([`Price::parse`]), and `price and currency of a seated event come from its
    /// seating chart`.
    pub fn parse(
        chart: Option<&Value>,
        total_seats: Field<Integer>,
        available_seats: Field<Integer>,
        price: Field<Integer>,
        currency: Field<&str>,
    ) -> Result<(Self, Field<Integer>, Field<Integer>), Rejection> {
        let Some(chart) = chart.filter(|v| !v.is_null()) else {
            let price = Price::parse(price, currency)?;
            return Ok((Self { chart: None, price }, total_seats, available_seats));
        };
        let chart = SeatingChart::parse(chart)?;
        if price != Field::Missing || currency != Field::Missing {
            return Err(Rejection::invalid(
                "price and currency of a seated event come from its seating chart",
            ));
        }
        let seats = Integer::Within(chart.seat_count() as i64);
        let agrees = |field: &Field<Integer>| {
            matches!(field, Field::Missing) || *field == Field::Given(seats)
        };
        if !agrees(&total_seats) {
            return Err(Rejection::invalid(
                "totalSeats must equal the seats of the seating chart",
            ));
        }
        if !agrees(&available_seats) {
            return Err(Rejection::invalid(
                "availableSeats must equal the seats of the seating chart",
            ));
        }
        let seating = Self {
            chart: Some(Arc::new(chart)),
            price: None,
        };
        Ok((seating, Field::Given(seats), Field::Given(seats)))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn chart() -> Value {
        json!({"categories": [{"key": "c", "price": 1000, "currency": "EUR"}],
               "sections": [{"key": "S", "rows": [{"key": "A", "seats": 10, "category": "c"}]}]})
    }

    #[test]
    fn totals_follow_the_chart() {
        let chart = chart();
        let (seating, total, available) = EventSeating::parse(
            Some(&chart),
            Field::Missing,
            Field::Missing,
            Field::Missing,
            Field::Missing,
        )
        .unwrap();
        let ten = Field::Given(Integer::Within(10));
        assert_eq!((total, available), (ten.clone(), ten));
        assert_eq!(seating.chart.unwrap().seat_count(), 10);
        let message = |total, available, price| {
            EventSeating::parse(Some(&chart), total, available, price, Field::Missing)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            message(Field::Given(11.into()), Field::Missing, Field::Missing),
            "totalSeats must equal the seats of the seating chart"
        );
        assert_eq!(
            message(
                Field::Given(10.into()),
                Field::Given(9.into()),
                Field::Missing
            ),
            "availableSeats must equal the seats of the seating chart"
        );
        assert_eq!(
            message(Field::Missing, Field::Missing, Field::Given(5.into())),
            "price and currency of a seated event come from its seating chart"
        );
    }

    #[test]
    fn general_admission_may_carry_a_price() {
        let (seating, total, _) = EventSeating::parse(
            None,
            Field::Given(5.into()),
            Field::Missing,
            Field::Given(2500.into()),
            Field::Given("EUR"),
        )
        .unwrap();
        assert_eq!(total, Field::Given(5.into()));
        assert!(seating.chart.is_none());
        assert_eq!(seating.price.unwrap().amount, 2500);
    }
}
