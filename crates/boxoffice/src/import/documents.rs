//! Reading the export files, and the fields of one document with errors worded for the summary.

use std::path::Path;

use anyhow::Context as _;
use serde_json::{Map, Value};

use super::ejson;
use crate::domain::{ObjectId, Timestamp};

/// Reads one export file; a missing file is an empty collection.
pub(super) fn read_collection(dir: &Path, name: &str) -> anyhow::Result<Vec<Value>> {
    let path = dir.join(format!("{name}.json"));
    if !path.exists() {
        eprintln!(
            "{name}: {} not found, treated as an empty collection",
            path.display()
        );
        return Ok(Vec::new());
    }
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let documents =
        ejson::documents(&text).map_err(|error| anyhow::anyhow!("{}: {error}", path.display()))?;
    eprintln!("{name}: {} document(s) read", documents.len());
    Ok(documents)
}

/// Fields of one document, with errors worded for the summary.
pub(super) struct Doc<'a>(pub(super) &'a Map<String, Value>);

impl Doc<'_> {
    pub(super) fn id(&self, name: &str) -> Result<ObjectId, String> {
        let value = ejson::field(self.0, name).ok_or_else(|| format!("no {name}"))?;
        ejson::object_id(value).map_err(|e| format!("{name}: {e}"))
    }

    pub(super) fn text(&self, name: &str) -> Result<Option<String>, String> {
        match ejson::field(self.0, name) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(other) => Err(format!("{name}: not a string: {other}")),
        }
    }

    pub(super) fn required_text(&self, name: &str) -> Result<String, String> {
        match self.text(name)? {
            Some(text) if !text.trim().is_empty() => Ok(text),
            _ => Err(format!("no {name}")),
        }
    }

    pub(super) fn integer(&self, name: &str) -> Result<i64, String> {
        let value = ejson::field(self.0, name).ok_or_else(|| format!("no {name}"))?;
        ejson::integer(value).map_err(|e| format!("{name}: {e}"))
    }

    pub(super) fn date(&self, name: &str) -> Result<Option<Timestamp>, String> {
        ejson::field(self.0, name)
            .map(|value| ejson::date(value).map_err(|e| format!("{name}: {e}")))
            .transpose()
    }

    pub(super) fn required_date(&self, name: &str) -> Result<Timestamp, String> {
        self.date(name)?.ok_or_else(|| format!("no {name}"))
    }

    /// `createdAt` and `updatedAt` (mongoose sets both; absent ones default sensibly).
    pub(super) fn times(&self, now: Timestamp) -> Result<(Timestamp, Timestamp), String> {
        let created = self.date("createdAt")?;
        let updated = self.date("updatedAt")?;
        let created = created.or(updated).unwrap_or(now);
        Ok((created, updated.unwrap_or(created)))
    }

    /// The seed's `seats: ["2"]` (a count cast to strings by mongoose), or seat labels, or a
    /// number.
    pub(super) fn seat_count(&self) -> Option<i64> {
        match ejson::field(self.0, "seats")? {
            Value::Array(items) => match items.as_slice() {
                [Value::String(only)] if only.trim().parse::<i64>().is_ok() => {
                    only.trim().parse().ok()
                }
                [only] if ejson::integer(only).is_ok() => ejson::integer(only).ok(),
                items => i64::try_from(items.len()).ok(),
            },
            other => ejson::integer(other).ok(),
        }
        .filter(|&count| count >= 1)
    }
}

/// How a document is named in the summary: its `_id`, or its position.
pub(super) fn describe(document: &Value, index: usize) -> String {
    match document.get("_id").map(ejson::object_id) {
        Some(Ok(id)) => id.to_string(),
        _ => format!("document #{}", index + 1),
    }
}
