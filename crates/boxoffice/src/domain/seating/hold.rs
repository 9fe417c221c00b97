//! Which seats a hold on a seated event takes (CONTRACT.md, "Holding seats"): the seats named,
//! all or nothing, or the best available ones. Decided on a [`SeatPlan`], so that the requests
//! of one batch are decided in arrival order, each seeing the seats the earlier ones took.

use serde_json::{Map, Value, json};

use super::best_available::SeatPlan;
use super::request::{BestAvailableRequest, parse_seat_labels};
use super::status::SeatStatus;
use crate::domain::{Field, Price, Rejection};

/// What a hold asks for beyond a number of seats.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum SeatSelection {
    /// Only a number: general admission, or on a seated event the best available seats with
    /// the default preferences (a seed client's `seats: N`).
    #[default]
    Count,
    /// These seats, by label (1 to 100 distinct), all or nothing.
    Named(Vec<String>),
    /// The best available seats with these preferences.
    Best(BestAvailableRequest),
}

/// What a hold on a seated (or priced) event carries beyond its count, and the booking made
/// from it after it: empty for an unpriced general-admission hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HoldDetails {
    /// The seats' labels, in chart order (seated events).
    pub seat_labels: Option<Vec<String>>,
    /// The request's canonical form ([`SeatSelection::canonical`]), to tell a replay from
    /// another request under the same idempotency key.
    pub seat_request: Option<String>,
    /// Best available only: whether the seats are one block.
    pub next_to_each_other: Option<bool>,
    /// The sum of the seats' prices, when the event has prices.
    pub price: Option<Price>,
}

/// The seats a granted hold took.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeldSeats {
    /// Seat indexes, in chart order.
    pub seats: Vec<usize>,
    /// Their labels, in chart order.
    pub labels: Vec<String>,
    /// For best available: whether the seats are one block (rules 1 and 2).
    pub next_to_each_other: Option<bool>,
}

impl SeatSelection {
    /// Reads `seatLabels` and `bestAvailable` beside `seats` (already checked to be 1–100 when
    /// given). Returns the selection and the number of seats it holds. Errors: 400
    /// `seatLabels must be 1 to 100 distinct seat labels`, `seats must match seatLabels`,
    /// `seatLabels and bestAvailable cannot be combined`, the `bestAvailable` field rules, and
    /// `seats must be an integer between 1 and 100` when no labels give the number.
    pub fn parse(
        seat_labels: Option<&Value>,
        best_available: Option<&Value>,
        seats: Field<i64>,
    ) -> Result<(Self, i64), Rejection> {
        let seat_labels = seat_labels.filter(|v| !v.is_null());
        let best_available = best_available.filter(|v| !v.is_null());
        if let Some(labels) = seat_labels {
            if best_available.is_some() {
                return Err(Rejection::invalid(
                    "seatLabels and bestAvailable cannot be combined",
                ));
            }
            let labels = parse_seat_labels(labels)?;
            let count = labels.len() as i64;
            return match seats {
                Field::Missing => Ok((Self::Named(labels), count)),
                Field::Given(n) if n == count => Ok((Self::Named(labels), count)),
                _ => Err(Rejection::invalid("seats must match seatLabels")),
            };
        }
        let Field::Given(n) = seats else {
            return Err(Rejection::invalid(
                "seats must be an integer between 1 and 100",
            ));
        };
        match best_available {
            None => Ok((Self::Count, n)),
            Some(value) => {
                let request = BestAvailableRequest::parse(Some(value))?;
                Ok((Self::Best(request), n))
            }
        }
    }

    /// Whether only a seated event can serve this (general admission answers 400
    /// `Event has no seating chart`).
    pub fn needs_chart(&self) -> bool {
        !matches!(self, Self::Count)
    }

    /// The request in a canonical form, kept with the lock so that a repeated idempotency key
    /// can be told to be the same request (labels in any order; an empty `bestAvailable` is
    /// a plain count) or another one (a 422). `None` for a plain count.
    pub fn canonical(&self) -> Option<String> {
        match self {
            Self::Count => None,
            Self::Best(best) if best.is_default() => None,
            Self::Named(labels) => {
                let mut labels = labels.clone();
                labels.sort_unstable();
                Some(json!({ "seatLabels": labels }).to_string())
            }
            Self::Best(best) => {
                let mut fields = Map::new();
                if let Some(category) = &best.category {
                    fields.insert("category".into(), category.clone().into());
                }
                if let Some(section) = &best.section {
                    fields.insert("section".into(), section.clone().into());
                }
                fields.insert("accessible".into(), best.accessible.into());
                fields.insert("together".into(), best.together.into());
                Some(json!({ "bestAvailable": fields }).to_string())
            }
        }
    }
}

impl SeatPlan<'_> {
    /// Decides one hold of `n` seats and, if granted, marks its seats HELD in the plan.
    /// Errors: `Unknown seat: <label>` (the first unknown label, in the request's order),
    /// `Seats not available` (the labels not FREE, in chart order), a `bestAvailable` key that
    /// names nothing in the chart, or `Not enough available seats`.
    pub fn hold(&mut self, selection: &SeatSelection, n: usize) -> Result<HeldSeats, Rejection> {
        let chart = self.chart();
        let (seats, next_to_each_other) = match selection {
            SeatSelection::Named(labels) => {
                let mut seats = labels
                    .iter()
                    .map(|label| {
                        chart
                            .seat_index(label)
                            .ok_or_else(|| Rejection::UnknownSeat(label.clone()))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                seats.sort_unstable();
                let unavailable = self.unavailable(&seats);
                if !unavailable.is_empty() {
                    let labels = unavailable.iter().map(|&s| chart.label(s)).collect();
                    return Err(Rejection::SeatsUnavailable(labels));
                }
                (seats, None)
            }
            SeatSelection::Count | SeatSelection::Best(_) => {
                let filter = match selection {
                    SeatSelection::Best(best) => best.resolve(chart)?,
                    _ => Default::default(),
                };
                let pick = self
                    .best_available(n, &filter)
                    .ok_or(Rejection::NotEnoughSeats)?;
                (pick.seats, Some(pick.next_to_each_other))
            }
        };
        self.set(&seats, SeatStatus::Held);
        Ok(HeldSeats {
            labels: seats.iter().map(|&s| chart.label(s)).collect(),
            seats,
            next_to_each_other,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::seating::SeatingChart;

    fn chart() -> SeatingChart {
        SeatingChart::parse(&json!({
            "categories": [{"key": "front", "price": 8900, "currency": "EUR"},
                           {"key": "back", "price": 4900, "currency": "EUR"}],
            "sections": [{"key": "stalls", "rows": [
                {"key": "A", "seats": 6, "category": "front"},
                {"key": "B", "seats": 6, "category": "back"}]}]
        }))
        .unwrap()
    }

    fn named(labels: &[&str]) -> SeatSelection {
        SeatSelection::Named(labels.iter().map(|l| l.to_string()).collect())
    }

    #[test]
    fn named_seats_all_or_nothing() {
        let chart = chart();
        let mut plan = SeatPlan::new(&chart, vec![SeatStatus::Free; 12]);
        let held = plan.hold(&named(&["stalls-B-1", "stalls-A-2"]), 2).unwrap();
        assert_eq!(held.labels, ["stalls-A-2", "stalls-B-1"]);
        assert_eq!(
            chart.price_of_seats(&held.seats),
            Ok(Price {
                amount: 13800,
                currency: "EUR".into()
            })
        );
        assert_eq!(held.next_to_each_other, None);
        let refused = plan.hold(&named(&["stalls-B-2", "stalls-B-1", "stalls-A-2"]), 3);
        assert_eq!(
            refused,
            Err(Rejection::SeatsUnavailable(vec![
                "stalls-A-2".into(),
                "stalls-B-1".into()
            ]))
        );
        assert_eq!(
            plan.unavailable(&[7]),
            Vec::<usize>::new(),
            "nothing held on refusal"
        );
        let unknown = plan.hold(&named(&["stalls-B-2", "stalls-C-1", "x"]), 3);
        assert_eq!(unknown, Err(Rejection::UnknownSeat("stalls-C-1".into())));
    }

    #[test]
    fn best_available_holds_and_prices() {
        let chart = chart();
        let mut plan = SeatPlan::new(&chart, vec![SeatStatus::Free; 12]);
        let back = SeatSelection::Best(BestAvailableRequest {
            category: Some("back".into()),
            ..Default::default()
        });
        let held = plan.hold(&back, 2).unwrap();
        assert_eq!(held.labels, ["stalls-B-3", "stalls-B-4"]);
        assert_eq!(held.next_to_each_other, Some(true));
        assert_eq!(chart.price_of_seats(&held.seats).unwrap().amount, 9800);
        let held = plan.hold(&SeatSelection::Count, 2).unwrap();
        assert_eq!(held.labels, ["stalls-A-3", "stalls-A-4"]);
        assert_eq!(
            plan.hold(&SeatSelection::Count, 9),
            Err(Rejection::NotEnoughSeats)
        );
    }

    #[test]
    fn selections_are_read_and_compared() {
        let parse = |labels: Option<Value>, best: Option<Value>, seats: Field<i64>| {
            SeatSelection::parse(labels.as_ref(), best.as_ref(), seats)
        };
        let (selection, n) = parse(Some(json!(["b", "a"])), None, Field::Missing).unwrap();
        assert_eq!(
            (selection.canonical().unwrap(), n),
            (r#"{"seatLabels":["a","b"]}"#.into(), 2)
        );
        assert_eq!(
            named(&["a", "b"]).canonical(),
            named(&["b", "a"]).canonical()
        );
        let message = |r: Result<(SeatSelection, i64), Rejection>| r.unwrap_err().to_string();
        assert_eq!(
            message(parse(Some(json!(["a"])), None, Field::Given(2))),
            "seats must match seatLabels"
        );
        assert_eq!(
            message(parse(Some(json!(["a"])), Some(json!({})), Field::Missing)),
            "seatLabels and bestAvailable cannot be combined"
        );
        assert_eq!(
            message(parse(None, Some(json!({})), Field::Missing)),
            "seats must be an integer between 1 and 100"
        );
        let (empty, _) = parse(None, Some(json!({})), Field::Given(2)).unwrap();
        assert_eq!(
            empty.canonical(),
            None,
            "an empty bestAvailable is a plain count"
        );
        assert!(empty.needs_chart() && !SeatSelection::Count.needs_chart());
        let (together, _) = parse(None, Some(json!({"together": true})), Field::Given(2)).unwrap();
        assert_eq!(
            together.canonical().unwrap(),
            r#"{"bestAvailable":{"accessible":false,"together":true}}"#
        );
    }
}
