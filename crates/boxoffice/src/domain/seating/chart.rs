//! The seating chart of a seated event (CONTRACT.md, "Reserved seating"): categories with
//! prices, sections, rows of numbered seats, aisles and accessible seats, read from the JSON a
//! client sends and checked so that the first fault is named in the 400's message.
//!
//! Seats are kept flat, in chart order (sections in order, rows in order, seats in the row's
//! order): a seat's *index* in that order is how the rest of the code names it, and
//! [`SeatingChart::label`] turns it into the `section-row-number` label clients see.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use serde_json::{Map, Value};

use super::keys::{check_key, fault};
use crate::domain::Rejection;

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

/// A validated seating chart. Built only by [`SeatingChart::parse`], so it always holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeatingChart {
    categories: Vec<Category>,
    sections: Vec<Section>,
    rows: Vec<Row>,
    seats: Vec<Seat>,
    /// `"section-row"` → row index, to find a seat by its label.
    row_index: HashMap<String, usize>,
}

impl SeatingChart {
    /// Reads a chart as `POST /api/events` gives it in `seatingChart`. Unknown fields are
    /// ignored. Errors: 400 (`Rejection::Invalid`) naming the first fault in document order,
    /// e.g. `seatingChart: row stalls-B repeats seat 4`.
    pub fn parse(value: &Value) -> Result<Self, Rejection> {
        let chart = value
            .as_object()
            .ok_or_else(|| fault("must be an object"))?;
        let categories = parse_categories(chart.get("categories"))?;
        let mut builder = Builder {
            categories,
            sections: Vec::new(),
            rows: Vec::new(),
            seats: Vec::new(),
            row_index: HashMap::new(),
        };
        let sections = match chart.get("sections") {
            Some(Value::Array(sections)) if !sections.is_empty() => sections,
            _ => return Err(fault("sections must be a non-empty list")),
        };
        for (i, section) in sections.iter().enumerate() {
            builder.add_section(i, section)?;
        }
        let Builder {
            categories,
            sections,
            rows,
            seats,
            row_index,
        } = builder;
        Ok(Self {
            categories,
            sections,
            rows,
            seats,
            row_index,
        })
    }

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

fn parse_categories(value: Option<&Value>) -> Result<Vec<Category>, Rejection> {
    let list = match value {
        Some(Value::Array(list)) if !list.is_empty() => list,
        _ => return Err(fault("categories must be a non-empty list")),
    };
    if list.len() > MAX_CATEGORIES {
        return Err(fault("at most 50 categories"));
    }
    let mut categories: Vec<Category> = Vec::with_capacity(list.len());
    for (i, value) in list.iter().enumerate() {
        let what = format!("categories[{i}]");
        let object = value
            .as_object()
            .ok_or_else(|| fault(format!("{what} must be an object")))?;
        let key = check_key(object.get("key"), &what)?;
        let what = format!("category {key}");
        if categories.iter().any(|c| c.key == key) {
            return Err(fault(format!("{what} is repeated")));
        }
        let name = parse_name(object.get("name"), &key, &what)?;
        let price = match object.get("price") {
            Some(Value::Number(n)) => n.as_i64().filter(|p| *p >= 0),
            _ => None,
        }
        .ok_or_else(|| fault(format!("{what} price must be an integer ≥ 0")))?;
        let currency = match object.get("currency") {
            Some(Value::String(c)) if c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()) => {
                c.clone()
            }
            _ => {
                return Err(fault(format!(
                    "{what} currency must be three capital letters"
                )));
            }
        };
        if let Some(first) = categories.first()
            && first.currency != currency
        {
            return Err(fault(format!(
                "{what} currency must be {}: one currency per event",
                first.currency
            )));
        }
        categories.push(Category {
            key,
            name,
            price,
            currency,
        });
    }
    Ok(categories)
}

/// A display name: a non-empty string of at most 200 characters; missing means the key.
fn parse_name(value: Option<&Value>, key: &str, what: &str) -> Result<String, Rejection> {
    match value {
        None | Some(Value::Null) => Ok(key.to_owned()),
        Some(Value::String(name))
            if !name.trim().is_empty() && name.trim().chars().count() <= MAX_NAME_CHARS =>
        {
            Ok(name.trim().to_owned())
        }
        Some(_) => Err(fault(format!(
            "{what} name must be a non-empty string of at most 200 characters"
        ))),
    }
}

struct Builder {
    categories: Vec<Category>,
    sections: Vec<Section>,
    rows: Vec<Row>,
    seats: Vec<Seat>,
    row_index: HashMap<String, usize>,
}

impl Builder {
    fn add_section(&mut self, i: usize, value: &Value) -> Result<(), Rejection> {
        let what = format!("sections[{i}]");
        let object = value
            .as_object()
            .ok_or_else(|| fault(format!("{what} must be an object")))?;
        let key = check_key(object.get("key"), &what)?;
        let what = format!("section {key}");
        if self.sections.iter().any(|s| s.key == key) {
            return Err(fault(format!("{what} is repeated")));
        }
        let name = parse_name(object.get("name"), &key, &what)?;
        let rows = match object.get("rows") {
            Some(Value::Array(rows)) if !rows.is_empty() => rows,
            _ => return Err(fault(format!("{what} rows must be a non-empty list"))),
        };
        let section = self.sections.len();
        let first_row = self.rows.len();
        self.sections.push(Section {
            key,
            name,
            rows: first_row..first_row,
        });
        for (j, row) in rows.iter().enumerate() {
            self.add_row(section, j, row)?;
        }
        self.sections[section].rows.end = self.rows.len();
        Ok(())
    }

    fn add_row(&mut self, section: usize, j: usize, value: &Value) -> Result<(), Rejection> {
        let section_key = &self.sections[section].key;
        let what = format!("section {section_key} rows[{j}]");
        let object = value
            .as_object()
            .ok_or_else(|| fault(format!("{what} must be an object")))?;
        let key = check_key(object.get("key"), &what)?;
        let label = format!("{section_key}-{key}");
        let what = format!("row {label}");
        if self.row_index.contains_key(&label) {
            return Err(fault(format!("{what} is repeated")));
        }
        let numbers = self.row_numbers(object, &what)?;
        let category = match object.get("category") {
            Some(Value::String(c)) => self
                .categories
                .iter()
                .position(|cat| &cat.key == c)
                .ok_or_else(|| fault(format!("{what} names an unknown category {c}")))?,
            _ => return Err(fault(format!("{what} must name a category of the chart"))),
        };
        let mut sorted = numbers.clone();
        sorted.sort_unstable();
        let aisles = seat_list(object.get("aisleAfter"), &sorted, &what, "aisleAfter")?;
        let accessible = seat_list(object.get("accessible"), &sorted, &what, "accessible")?;
        let row = self.rows.len();
        let first_seat = self.seats.len();
        self.seats.extend(numbers.iter().map(|&number| Seat {
            number,
            row: row as u32,
            accessible: accessible.binary_search(&number).is_ok(),
            aisle_after: aisles.binary_search(&number).is_ok(),
        }));
        self.rows.push(Row {
            key,
            section,
            category,
            seats: first_seat..self.seats.len(),
        });
        self.row_index.insert(label, row);
        Ok(())
    }

    /// The row's seat numbers in its order: `seats: n` (1…n) or distinct `numbers`. The seat
    /// limit is checked before anything is built, so a huge row costs nothing.
    fn row_numbers(&self, row: &Map<String, Value>, what: &str) -> Result<Vec<u16>, Rejection> {
        let room = MAX_SEATS - self.seats.len();
        let too_many = || fault("at most 100000 seats");
        let numbers = match (row.get("seats"), row.get("numbers")) {
            (Some(seats), None) => {
                let n = seats
                    .as_i64()
                    .filter(|n| (1..=MAX_SEAT_NUMBER).contains(n))
                    .ok_or_else(|| {
                        fault(format!(
                            "{what} seats must be an integer between 1 and 9999"
                        ))
                    })?;
                if n as usize > room {
                    return Err(too_many());
                }
                (1..=n as u16).collect()
            }
            (None, Some(Value::Array(list))) if !list.is_empty() => {
                if list.len() > room {
                    return Err(too_many());
                }
                let mut numbers = Vec::with_capacity(list.len());
                let mut seen = HashSet::with_capacity(list.len());
                for value in list {
                    let n = seat_number(value).ok_or_else(|| {
                        fault(format!(
                            "{what} numbers must be integers between 1 and 9999"
                        ))
                    })?;
                    if !seen.insert(n) {
                        return Err(fault(format!("{what} repeats seat {n}")));
                    }
                    numbers.push(n);
                }
                numbers
            }
            (None, Some(_)) => {
                return Err(fault(format!(
                    "{what} numbers must be a non-empty list of seat numbers"
                )));
            }
            _ => {
                return Err(fault(format!("{what} must give either seats or numbers")));
            }
        };
        Ok(numbers)
    }
}

fn seat_number(value: &Value) -> Option<u16> {
    value
        .as_i64()
        .filter(|n| (1..=MAX_SEAT_NUMBER).contains(n))
        .map(|n| n as u16)
}

/// `aisleAfter` or `accessible`: a list of seat numbers of the row (absent means none),
/// returned sorted. `numbers` is the row's seat numbers, sorted.
fn seat_list(
    value: Option<&Value>,
    numbers: &[u16],
    what: &str,
    field: &str,
) -> Result<Vec<u16>, Rejection> {
    let list = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(list)) => list,
        Some(_) => {
            return Err(fault(format!(
                "{what} {field} must be a list of seat numbers"
            )));
        }
    };
    let mut seats = Vec::with_capacity(list.len());
    for value in list {
        let n = seat_number(value)
            .ok_or_else(|| fault(format!("{what} {field} must be a list of seat numbers")))?;
        if numbers.binary_search(&n).is_err() {
            return Err(fault(format!(
                "{what} {field} names no seat {n} of the row"
            )));
        }
        seats.push(n);
    }
    seats.sort_unstable();
    Ok(seats)
}
