//! What a hold on a seated event asks for (CONTRACT.md, "Holding seats"): seats by name
//! (`seatLabels`) or the best available (`bestAvailable`), read from the request body.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::best_available::SeatFilter;
use super::chart::SeatingChart;
use crate::domain::Rejection;
use crate::domain::lock::MAX_SEATS_PER_LOCK;

/// `bestAvailable` as the client sent it: keys not yet looked up in a chart. Missing fields
/// take the defaults: any category, any section, any seat, `together: false`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BestAvailableRequest {
    pub category: Option<String>,
    pub section: Option<String>,
    pub accessible: bool,
    pub together: bool,
}

impl BestAvailableRequest {
    /// Reads `bestAvailable` (absent or `null`: the defaults). Errors: 400 naming the field.
    pub fn parse(value: Option<&Value>) -> Result<Self, Rejection> {
        let object = match value {
            None | Some(Value::Null) => return Ok(Self::default()),
            Some(Value::Object(object)) => object,
            Some(_) => return Err(Rejection::invalid("bestAvailable must be an object")),
        };
        Ok(Self {
            category: key(object, "category")?,
            section: key(object, "section")?,
            accessible: flag(object, "accessible")?,
            together: flag(object, "together")?,
        })
    }

    /// Looks the keys up in the event's chart. Errors: 400 when a key names nothing there.
    pub fn resolve(&self, chart: &SeatingChart) -> Result<SeatFilter, Rejection> {
        let keys = chart.categories().iter().map(|c| c.key.as_str());
        let category = find_key(self.category.as_deref(), keys, "category")?;
        let keys = chart.sections().iter().map(|s| s.key.as_str());
        let section = find_key(self.section.as_deref(), keys, "section")?;
        Ok(SeatFilter {
            category,
            section,
            accessible: self.accessible,
            together: self.together,
        })
    }

    /// Whether the request is the default one (no `bestAvailable`, or an empty one).
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// The index of `key` among `keys`, if a key was asked for.
fn find_key<'a>(
    key: Option<&str>,
    mut keys: impl Iterator<Item = &'a str>,
    what: &str,
) -> Result<Option<usize>, Rejection> {
    let Some(key) = key else { return Ok(None) };
    keys.position(|k| k == key).map(Some).ok_or_else(|| {
        Rejection::invalid(format!(
            "bestAvailable.{what} {key} is not a {what} of this event"
        ))
    })
}

fn key(object: &Map<String, Value>, field: &str) -> Result<Option<String>, Rejection> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(key)) => Ok(Some(key.clone())),
        Some(_) => Err(Rejection::invalid(format!(
            "bestAvailable.{field} must be a string"
        ))),
    }
}

fn flag(object: &Map<String, Value>, field: &str) -> Result<bool, Rejection> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(flag)) => Ok(*flag),
        Some(_) => Err(Rejection::invalid(format!(
            "bestAvailable.{field} must be true or false"
        ))),
    }
}

/// Reads `seatLabels`: 1 to 100 distinct strings, in the order given. Whether they name seats
/// is for [`SeatingChart::seat_index`] to say. Errors: 400
/// `seatLabels must be 1 to 100 distinct seat labels`.
pub fn parse_seat_labels(value: &Value) -> Result<Vec<String>, Rejection> {
    let refuse = || Rejection::invalid("seatLabels must be 1 to 100 distinct seat labels");
    let list = value.as_array().ok_or_else(refuse)?;
    if list.is_empty() || list.len() > MAX_SEATS_PER_LOCK as usize {
        return Err(refuse());
    }
    let mut seen = HashSet::with_capacity(list.len());
    let mut labels = Vec::with_capacity(list.len());
    for label in list {
        let label = label.as_str().ok_or_else(refuse)?;
        if !seen.insert(label) {
            return Err(refuse());
        }
        labels.push(label.to_owned());
    }
    Ok(labels)
}
