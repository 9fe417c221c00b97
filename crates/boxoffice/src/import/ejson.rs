//! What `mongoexport` writes: one document per line, or a JSON array (`--jsonArray`), in
//! relaxed or canonical MongoDB Extended JSON (v2). Only the types the seed's collections use
//! are understood: ObjectIds, dates, and integers (32-bit, 64-bit, or integral doubles).

use serde_json::{Map, Value};

use crate::domain::{ObjectId, Timestamp};

/// The documents of one export file, in file order. An error names the line that is not JSON.
pub fn documents(text: &str) -> Result<Vec<Value>, String> {
    let trimmed = text.trim_start_matches('\u{feff}').trim();
    if trimmed.starts_with('[') {
        return match serde_json::from_str::<Value>(trimmed) {
            Ok(Value::Array(documents)) => Ok(documents),
            Ok(_) => Err("not a JSON array".to_owned()),
            Err(error) => Err(format!("not JSON: {error}")),
        };
    }
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(number, line)| {
            serde_json::from_str(line.trim().trim_start_matches('\u{feff}'))
                .map_err(|error| format!("line {}: not JSON: {error}", number + 1))
        })
        .collect()
}

/// The one `$`-key of a wrapper object such as `{"$oid": "…"}`.
fn wrapped<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    match value {
        Value::Object(map) if map.len() == 1 => map.get(key),
        _ => None,
    }
}

/// An ObjectId: `{"$oid": "…"}` or a bare 24-hex string.
pub fn object_id(value: &Value) -> Result<ObjectId, String> {
    let text = match wrapped(value, "$oid").unwrap_or(value) {
        Value::String(text) => text,
        _ => return Err(format!("not an ObjectId: {value}")),
    };
    ObjectId::parse(&text.to_ascii_lowercase()).ok_or_else(|| format!("not an ObjectId: {value}"))
}

/// An integer: a JSON number (integral), `{"$numberInt": "…"}`, `{"$numberLong": "…"}`, or
/// `{"$numberDouble": "…"}` with an integral value.
pub fn integer(value: &Value) -> Result<i64, String> {
    let bad = || format!("not an integer: {value}");
    if let Some(number) = value.as_i64() {
        return Ok(number);
    }
    if let Some(number) = value.as_f64() {
        return integral(number).ok_or_else(bad);
    }
    let Value::Object(map) = value else {
        return Err(bad());
    };
    let text = |key: &str| map.get(key).and_then(Value::as_str);
    if map.len() != 1 {
        return Err(bad());
    }
    if let Some(text) = text("$numberInt") {
        return text.parse::<i32>().map(i64::from).map_err(|_| bad());
    }
    if let Some(text) = text("$numberLong") {
        return text.parse::<i64>().map_err(|_| bad());
    }
    if let Some(text) = text("$numberDouble") {
        return text.parse::<f64>().ok().and_then(integral).ok_or_else(bad);
    }
    Err(bad())
}

fn integral(number: f64) -> Option<i64> {
    // ±2^63 are exact in f64; NaN and the infinities are outside the range.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    (number.fract() == 0.0 && (-LIMIT..LIMIT).contains(&number)).then_some(number as i64)
}

/// An instant: `{"$date": "2026-…Z"}` (relaxed), `{"$date": {"$numberLong": "…"}}` (canonical),
/// `{"$date": <millis>}` (legacy), or a bare RFC 3339 string.
pub fn date(value: &Value) -> Result<Timestamp, String> {
    let bad = || format!("not a date: {value}");
    match wrapped(value, "$date").unwrap_or(value) {
        Value::String(text) => Timestamp::parse_rfc3339(text).map_err(|_| bad()),
        inner @ (Value::Number(_) | Value::Object(_)) if !std::ptr::eq(inner, value) => {
            integer(inner)
                .ok()
                .and_then(Timestamp::in_range)
                .ok_or_else(bad)
        }
        _ => Err(bad()),
    }
}

/// A document's field, by name; `None` when absent or null.
pub fn field<'a>(document: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    document.get(name).filter(|value| !value.is_null())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const ID: &str = "65b6f1a2c3d4e5f601234567";

    #[test]
    fn object_ids_canonical_relaxed_and_bare() {
        let expected = ObjectId::parse(ID).unwrap();
        assert_eq!(object_id(&json!({"$oid": ID})).unwrap(), expected);
        assert_eq!(object_id(&json!(ID)).unwrap(), expected);
        assert_eq!(
            object_id(&json!({"$oid": ID.to_ascii_uppercase()})).unwrap(),
            expected
        );
        for bad in [
            json!({"$oid": "xyz"}),
            json!(12),
            json!({"$oid": ID, "x": 1}),
        ] {
            assert!(object_id(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn integers_in_every_form() {
        assert_eq!(integer(&json!(2)).unwrap(), 2);
        assert_eq!(integer(&json!(2.0)).unwrap(), 2);
        assert_eq!(integer(&json!({"$numberInt": "100"})).unwrap(), 100);
        assert_eq!(
            integer(&json!({"$numberLong": "1769603309379"})).unwrap(),
            1_769_603_309_379
        );
        assert_eq!(integer(&json!({"$numberDouble": "96.0"})).unwrap(), 96);
        assert_eq!(integer(&json!({"$numberDouble": "96"})).unwrap(), 96);
        for bad in [
            json!(2.5),
            json!({"$numberDouble": "2.5"}),
            json!({"$numberDouble": "NaN"}),
            json!({"$numberDouble": "Infinity"}),
            json!({"$numberInt": "3000000000"}),
            json!({"$numberInt": 3}),
            json!("3"),
            json!(null),
        ] {
            assert!(integer(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn dates_relaxed_canonical_and_legacy() {
        let expected = Timestamp::parse_rfc3339("2026-01-28T12:28:29.379Z").unwrap();
        assert_eq!(
            date(&json!({"$date": "2026-01-28T12:28:29.379Z"})).unwrap(),
            expected
        );
        assert_eq!(
            date(&json!({"$date": {"$numberLong": "1769603309379"}})).unwrap(),
            expected
        );
        assert_eq!(
            date(&json!({"$date": 1_769_603_309_379_i64})).unwrap(),
            expected
        );
        assert_eq!(
            date(&json!({"$date": "2026-01-28T13:28:29.379+01:00"})).unwrap(),
            expected
        );
        assert_eq!(date(&json!("2026-01-28T12:28:29.379Z")).unwrap(), expected);
        for bad in [
            // Outside the range the API accepts and shows (1970 to 9999 in UTC): such a row
            // is refused with its reason rather than stored unshowable.
            json!({"$date": {"$numberLong": "-1000"}}),
            json!({"$date": "10000-01-01T00:00:00Z"}),
            json!({"$date": "9999-12-31T23:59:59-23:59"}),
            json!({"$date": "yesterday"}),
            json!(1_769_603_309_379_i64),
            json!({"$date": {"$numberDouble": "1.5"}}),
            json!({"$date": true}),
        ] {
            assert!(date(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn one_document_per_line_or_an_array() {
        let lines = "{\"a\":1}\n\n{\"a\":{\"$numberInt\":\"2\"}}\r\n";
        let documents = documents(lines).unwrap();
        assert_eq!(documents.len(), 2);
        assert_eq!(integer(&documents[1]["a"]).unwrap(), 2);

        let array = "[{\"a\":1},\n {\"a\":2}]\n";
        assert_eq!(super::documents(array).unwrap().len(), 2);
        assert!(super::documents("").unwrap().is_empty());
        assert!(super::documents("[]").unwrap().is_empty());

        let error = super::documents("{\"a\":1}\n{oops}\n").unwrap_err();
        assert!(error.starts_with("line 2: not JSON"), "{error}");
        assert!(super::documents("[{\"a\":1}").is_err());
    }
}
