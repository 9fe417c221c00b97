//! The seating chart of a seated event (CONTRACT.md, "Reserved seating"): categories with
//! prices, sections, rows of numbered seats, aisles and accessible seats, read from the JSON a
//! client sends and checked so that the first fault is named in the 400's message.
//!
//! Seats are kept flat, in chart order (sections in order, rows in order, seats in the row's
//! order): a seat's *index* in that order is how the rest of the code names it, and
//! [`SeatingChart::label`] turns it into the `section-row-number` label clients see.

use std::collections::HashMap;
use std::ops::Range;

use serde_json::{Map, Value};

use crate::domain::{AmountOverflow, Price, total_amount};

/// At most this many seats in one chart.
pub const MAX_SEATS: usize = 100_000;
/// At most this many categories in one chart.
pub const MAX_CATEGORIES: usize = 50;
/// Seat numbers run from 1 to this.
pub const MAX_SEAT_NUMBER: i64 = 9999;
/// Names of categories and sections are at most this many characters.
pub const MAX_NAME_CHARS: usize = 200;

/// A price category: every seat of a row that names it costs `price` minor units of `currency`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Category {
    pub key: String,
    pub name: String,
    /// Minor units (cents for EUR), ≥ 0.
    pub price: i64,
    /// Three capital letters (ISO 4217 style); one currency per chart.
    pub currency: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    pub key: String,
    pub name: String,
    /// Indexes into [`SeatingChart::rows`].
    pub rows: Range<usize>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub key: String,
    /// Index into [`SeatingChart::sections`].
    pub section: usize,
    /// Index into [`SeatingChart::categories`].
    pub category: usize,
    /// Indexes into [`SeatingChart::seats`], in the row's order.
    pub seats: Range<usize>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seat {
    /// 1 to 9999, distinct in its row.
    pub number: u16,
    /// Index into [`SeatingChart::rows`].
    pub row: u32,
    /// A wheelchair place.
    pub accessible: bool,
    /// The row is broken by an aisle after this seat: the next seat is not next to it.
    pub aisle_after: bool,
}

/// A validated seating chart. Built only by [`SeatingChart::parse`] (in `parse.rs`), so it
/// always holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeatingChart {
    pub(super) categories: Vec<Category>,
    pub(super) sections: Vec<Section>,
    pub(super) rows: Vec<Row>,
    pub(super) seats: Vec<Seat>,
    /// `"section-row"` → row index, to find a seat by its label.
    pub(super) row_index: HashMap<String, usize>,
}

impl SeatingChart {
    pub fn categories(&self) -> &[Category] {
        &self.categories
    }

    pub fn sections(&self) -> &[Section] {
        &self.sections
    }

    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// Every seat, in chart order.
    pub fn seats(&self) -> &[Seat] {
        &self.seats
    }

    /// The number of seats (the event's `totalSeats`).
    pub fn seat_count(&self) -> usize {
        self.seats.len()
    }

    /// The chart's seats by price category, as runs of consecutive seat indexes in chart
    /// order, each with its category's index: rows next to each other with one category make
    /// one run. A seat row knows its index, not its category, so this is what the store counts
    /// seat rows by (`store/sql/seat_counts.rs`).
    pub fn category_runs(&self) -> Vec<(Range<usize>, usize)> {
        let mut runs: Vec<(Range<usize>, usize)> = Vec::new();
        for row in &self.rows {
            match runs.last_mut() {
                Some((run, category))
                    if *category == row.category && run.end == row.seats.start =>
                {
                    run.end = row.seats.end;
                }
                _ => runs.push((row.seats.clone(), row.category)),
            }
        }
        runs
    }

    /// The one currency of the chart's prices.
    pub fn currency(&self) -> &str {
        &self.categories[0].currency
    }

    pub fn category_of(&self, seat: usize) -> &Category {
        &self.categories[self.rows[self.seats[seat].row as usize].category]
    }

    /// The price of a seat, in minor units of [`Self::currency`].
    pub fn price_of(&self, seat: usize) -> i64 {
        self.category_of(seat).price
    }

    /// What `seats` (indexes) cost together: the sum of their prices, exactly (CONTRACT.md,
    /// "Holding seats": a hold's `amount`). Errors: [`AmountOverflow`] beyond 64 bits, which
    /// a chart's prices (at most [`crate::domain::MAX_PRICE`]) never reach in a hold of at
    /// most 100 seats.
    pub fn price_of_seats(&self, seats: &[usize]) -> Result<Price, AmountOverflow> {
        Ok(Price {
            amount: total_amount(seats.iter().map(|&seat| self.price_of(seat)))?,
            currency: self.currency().to_owned(),
        })
    }

    /// A seat's label, `section-row-number` (`stalls-A-7`), unique in its chart.
    pub fn label(&self, seat: usize) -> String {
        let s = &self.seats[seat];
        let row = &self.rows[s.row as usize];
        format!(
            "{}-{}-{}",
            self.sections[row.section].key, row.key, s.number
        )
    }

    /// The seat a label names, if any. Labels are exact: `stalls-A-07` names nothing.
    pub fn seat_index(&self, label: &str) -> Option<usize> {
        let (row_label, number) = label.rsplit_once('-')?;
        let row = &self.rows[*self.row_index.get(row_label)?];
        if number.is_empty()
            || number.starts_with('0')
            || !number.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let number: u16 = number.parse().ok()?;
        row.seats
            .clone()
            .find(|&seat| self.seats[seat].number == number)
    }

    /// The chart as JSON, in the shape [`Self::parse`] reads (rows numbered 1…n as
    /// `seats: n`, others as `numbers`), so that it can be stored and read back.
    pub fn to_json(&self) -> Value {
        let categories = self
            .categories
            .iter()
            .map(|c| {
                serde_json::json!({"key": c.key, "name": c.name, "price": c.price,
                    "currency": c.currency})
            })
            .collect::<Vec<_>>();
        let sections = self
            .sections
            .iter()
            .map(|section| {
                let rows = self.rows[section.rows.clone()]
                    .iter()
                    .map(|row| self.row_json(row))
                    .collect::<Vec<_>>();
                serde_json::json!({"key": section.key, "name": section.name, "rows": rows})
            })
            .collect::<Vec<_>>();
        serde_json::json!({"categories": categories, "sections": sections})
    }

    fn row_json(&self, row: &Row) -> Value {
        let seats = &self.seats[row.seats.clone()];
        let numbers: Vec<u16> = seats.iter().map(|s| s.number).collect();
        let mut json = Map::new();
        json.insert("key".into(), row.key.clone().into());
        if numbers
            .iter()
            .enumerate()
            .all(|(i, &n)| usize::from(n) == i + 1)
        {
            json.insert("seats".into(), numbers.len().into());
        } else {
            json.insert("numbers".into(), numbers.into());
        }
        json.insert(
            "category".into(),
            self.categories[row.category].key.clone().into(),
        );
        let pick = |f: fn(&Seat) -> bool| -> Vec<u16> {
            seats.iter().filter(|s| f(s)).map(|s| s.number).collect()
        };
        let aisles = pick(|s| s.aisle_after);
        if !aisles.is_empty() {
            json.insert("aisleAfter".into(), aisles.into());
        }
        let accessible = pick(|s| s.accessible);
        if !accessible.is_empty() {
            json.insert("accessible".into(), accessible.into());
        }
        Value::Object(json)
    }
}
