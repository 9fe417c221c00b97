//! Keys of categories, sections and rows, and the shape of the chart's error messages.

use serde_json::Value;

use crate::domain::Rejection;

/// A key is 1 to 32 characters of `A-Z a-z 0-9 _` (CONTRACT.md, "Reserved seating"). Without
/// `-` in keys, a label `section-row-number` splits back into its parts one way only.
pub fn is_valid_key(key: &str) -> bool {
    (1..=32).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// The `key` field of the chart element `what` (e.g. `categories[2]`).
pub(super) fn check_key(value: Option<&Value>, what: &str) -> Result<String, Rejection> {
    match value {
        Some(Value::String(key)) if is_valid_key(key) => Ok(key.clone()),
        _ => Err(fault(format!(
            "{what} key must be 1 to 32 characters of A-Z a-z 0-9 _"
        ))),
    }
}

/// A 400 naming a fault of the chart: `seatingChart: row stalls-B repeats seat 4`.
pub(super) fn fault(message: impl std::fmt::Display) -> Rejection {
    Rejection::invalid(format!("seatingChart: {message}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        for good in ["A", "stalls", "row_12", &"x".repeat(32)] {
            assert!(is_valid_key(good), "{good}");
        }
        for bad in ["", "a-b", "é", "a b", &"x".repeat(33)] {
            assert!(!is_valid_key(bad), "{bad}");
        }
    }
}
