//! Reading a seating chart from the JSON of `POST /api/events`, checking every rule of
//! CONTRACT.md ("Reserved seating", "The chart") in document order, so that the 400 names the
//! first fault: `seatingChart: row stalls-B repeats seat 4`.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::chart::{
    Category, MAX_CATEGORIES, MAX_NAME_CHARS, MAX_SEAT_NUMBER, MAX_SEATS, Row, Seat, SeatingChart,
    Section,
};
use super::keys::{check_key, fault};
use crate::domain::{Integer, Rejection, check_price};

/// How far a category's price may go.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Prices {
    /// A request's: at most [`crate::domain::MAX_PRICE`].
    Bounded,
    /// A stored chart's: any 64-bit price ≥ 0, as charts were accepted before the bound.
    AsStored,
}

impl SeatingChart {
    /// Reads a chart as `POST /api/events` gives it in `seatingChart`. Unknown fields are
    /// ignored. Errors: 400 (`Rejection::Invalid`) naming the first fault in document order,
    /// e.g. `seatingChart: row stalls-B repeats seat 4`, or `seatingChart: category front
    /// price must be at most 10000000000000` ([`crate::domain::MAX_PRICE`]).
    pub fn parse(value: &Value) -> Result<Self, Rejection> {
        Self::parse_with(value, Prices::Bounded)
    }

    /// Reads a chart as the database keeps it ([`Self::to_json`]): the rules of
    /// [`Self::parse`] but the price bound, so that an event created before the bound, with a
    /// price above it, can still be read (its holds' amounts stay checked: a sum beyond 64
    /// bits is an internal error, never a wrong amount).
    pub fn parse_stored(value: &Value) -> Result<Self, Rejection> {
        Self::parse_with(value, Prices::AsStored)
    }

    fn parse_with(value: &Value, prices: Prices) -> Result<Self, Rejection> {
        let object = value
            .as_object()
            .ok_or_else(|| fault("must be an object"))?;
        let categories = parse_categories(object.get("categories"), prices)?;
        let mut chart = Self {
            categories,
            sections: Vec::new(),
            rows: Vec::new(),
            seats: Vec::new(),
            row_index: HashMap::new(),
        };
        let sections = match object.get("sections") {
            Some(Value::Array(sections)) if !sections.is_empty() => sections,
            _ => return Err(fault("sections must be a non-empty list")),
        };
        for (i, section) in sections.iter().enumerate() {
            chart.add_section(i, section)?;
        }
        Ok(chart)
    }
}

fn parse_categories(value: Option<&Value>, prices: Prices) -> Result<Vec<Category>, Rejection> {
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
            Some(Value::Number(n)) => Integer::from_json(n),
            _ => None,
        };
        let price = match price {
            Some(Integer::Within(price)) if price >= 0 && prices == Prices::AsStored => price,
            price => check_price(&format!("{what} price"), price).map_err(fault)?,
        };
        let currency = match object.get("currency") {
            Some(Value::String(c)) if crate::domain::is_currency(c) => c.clone(),
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

/// Building a chart: sections, rows and seats are added in document order.
impl SeatingChart {
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
