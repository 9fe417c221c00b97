//! Hand-worked cases for reading a seating chart and the seat requests of a hold: every fault
//! named as CONTRACT.md's "Reserved seating" shows, and the chart's limits.

use serde_json::{Value, json};

use super::*;

fn labels(labels: &[&str]) -> Vec<String> {
    labels.iter().map(|label| (*label).to_owned()).collect()
}

fn example() -> Value {
    json!({
      "categories": [{"key": "front", "name": "Front stalls", "price": 8900, "currency": "EUR"},
                     {"key": "back",  "name": "Back stalls",  "price": 4900, "currency": "EUR"}],
      "sections": [
        {"key": "stalls", "name": "Stalls", "rows": [
          {"key": "A", "seats": 24, "category": "front", "aisleAfter": [12], "accessible": [1, 24]},
          {"key": "B", "numbers": [2, 4, 6, 8, 10], "category": "back"}
        ]}
      ]
    })
}

#[test]
fn the_contracts_example_chart() {
    let chart = SeatingChart::parse(&example()).unwrap();
    assert_eq!(chart.seat_count(), 29);
    assert_eq!(chart.currency(), "EUR");
    assert_eq!(chart.label(6), "stalls-A-7");
    assert_eq!(chart.seat_index("stalls-A-7"), Some(6));
    assert_eq!(chart.seat_index("stalls-B-4"), Some(25));
    for unknown in [
        "stalls-B-3",
        "stalls-A-07",
        "stalls-A-25",
        "stalls-C-1",
        "A-7",
        "",
        "stalls-A-",
    ] {
        assert_eq!(chart.seat_index(unknown), None, "{unknown}");
    }
    assert_eq!(chart.price_of(25), 4900);
    assert!(chart.seats()[0].accessible && chart.seats()[23].accessible);
    assert!(chart.seats()[11].aisle_after && !chart.seats()[12].aisle_after);
    let again = SeatingChart::parse(&chart.to_json()).unwrap();
    assert_eq!(again, chart);
    assert_eq!(
        chart.to_json()["sections"][0]["rows"][1]["numbers"],
        json!([2, 4, 6, 8, 10])
    );
}

/// The message for the example chart with one change applied.
fn fault_of(change: impl FnOnce(&mut Value)) -> String {
    let mut chart = example();
    change(&mut chart);
    SeatingChart::parse(&chart).unwrap_err().to_string()
}

#[test]
fn each_fault_is_named() {
    type Change = Box<dyn FnOnce(&mut Value)>;
    let cases: Vec<(Change, &str)> = vec![
        (
            Box::new(|v| v["sections"][0]["rows"][1]["numbers"] = json!([2, 4, 6, 4])),
            "seatingChart: row stalls-B repeats seat 4",
        ),
        (
            Box::new(|v| *v = json!([])),
            "seatingChart: must be an object",
        ),
        (
            Box::new(|v| v["categories"] = json!([])),
            "seatingChart: categories must be a non-empty list",
        ),
        (
            Box::new(|v| v["categories"][1]["key"] = json!("front")),
            "seatingChart: category front is repeated",
        ),
        (
            Box::new(|v| v["categories"][1]["key"] = json!("a-b")),
            "seatingChart: categories[1] key must be 1 to 32 characters of A-Z a-z 0-9 _",
        ),
        (
            Box::new(|v| v["categories"][0]["price"] = json!(-1)),
            "seatingChart: category front price must be an integer ≥ 0",
        ),
        (
            Box::new(|v| v["categories"][0]["price"] = json!(1.5)),
            "seatingChart: category front price must be an integer ≥ 0",
        ),
        (
            Box::new(|v| v["categories"][0]["price"] = json!(1e30)),
            "seatingChart: category front price must be at most 10000000000000",
        ),
        (
            Box::new(|v| v["categories"][0]["price"] = json!(10_000_000_000_001_i64)),
            "seatingChart: category front price must be at most 10000000000000",
        ),
        (
            Box::new(|v| v["categories"][1]["price"] = json!(i64::MAX)),
            "seatingChart: category back price must be at most 10000000000000",
        ),
        (
            Box::new(|v| v["categories"][0]["price"] = json!(-1e30)),
            "seatingChart: category front price must be an integer ≥ 0",
        ),
        (
            Box::new(|v| v["categories"][1]["currency"] = json!("eur")),
            "seatingChart: category back currency must be three capital letters",
        ),
        (
            Box::new(|v| v["categories"][1]["currency"] = json!("USD")),
            "seatingChart: category back currency must be EUR: one currency per event",
        ),
        (
            Box::new(|v| v["sections"] = json!({})),
            "seatingChart: sections must be a non-empty list",
        ),
        (
            Box::new(|v| v["sections"][0]["rows"] = json!([])),
            "seatingChart: section stalls rows must be a non-empty list",
        ),
        (
            Box::new(|v| v["sections"][0]["rows"][1]["key"] = json!("A")),
            "seatingChart: row stalls-A is repeated",
        ),
        (
            Box::new(|v| v["sections"][0]["rows"][0]["seats"] = json!(0)),
            "seatingChart: row stalls-A seats must be an integer between 1 and 9999",
        ),
        (
            Box::new(|v| v["sections"][0]["rows"][0]["numbers"] = json!([1])),
            "seatingChart: row stalls-A must give either seats or numbers",
        ),
        (
            Box::new(|v| v["sections"][0]["rows"][1]["numbers"] = json!([2, 10000])),
            "seatingChart: row stalls-B numbers must be integers between 1 and 9999",
        ),
        (
            Box::new(|v| v["sections"][0]["rows"][1] = json!({"key": "B", "category": "back"})),
            "seatingChart: row stalls-B must give either seats or numbers",
        ),
        (
            Box::new(|v| v["sections"][0]["rows"][1]["category"] = json!("vip")),
            "seatingChart: row stalls-B names an unknown category vip",
        ),
        (
            Box::new(|v| v["sections"][0]["rows"][0]["aisleAfter"] = json!([25])),
            "seatingChart: row stalls-A aisleAfter names no seat 25 of the row",
        ),
        (
            Box::new(|v| v["sections"][0]["rows"][1]["accessible"] = json!([3])),
            "seatingChart: row stalls-B accessible names no seat 3 of the row",
        ),
        (
            Box::new(|v| v["sections"][0]["name"] = json!("")),
            "seatingChart: section stalls name must be a non-empty string of at most 200 characters",
        ),
    ];
    for (change, message) in cases {
        assert_eq!(fault_of(change), message);
    }
}

#[test]
fn limits_of_a_chart() {
    let categories: Vec<Value> = (0..51)
        .map(|i| json!({"key": format!("c{i}"), "price": 1, "currency": "EUR"}))
        .collect();
    assert_eq!(
        fault_of(|v| v["categories"] = json!(categories)),
        "seatingChart: at most 50 categories"
    );
    // Eleven rows of 9999 seats pass 100,000 on the eleventh: refused before it is built.
    let rows: Vec<Value> = (0..11)
        .map(|i| json!({"key": format!("R{i}"), "seats": 9999, "category": "front"}))
        .collect();
    assert_eq!(
        fault_of(|v| v["sections"][0]["rows"] = json!(rows)),
        "seatingChart: at most 100000 seats"
    );
    let rows: Vec<Value> = (0..10)
        .map(|i| json!({"key": format!("R{i}"), "seats": 9999, "category": "front"}))
        .collect();
    let mut chart = example();
    chart["sections"][0]["rows"] = json!(rows);
    assert_eq!(SeatingChart::parse(&chart).unwrap().seat_count(), 99_990);
}

#[test]
fn prices_up_to_the_bound_and_stored_charts_as_kept() {
    let mut chart = example();
    chart["categories"][0]["price"] = json!(crate::domain::MAX_PRICE);
    chart["categories"][1]["price"] = json!(0);
    let parsed = SeatingChart::parse(&chart).unwrap();
    assert_eq!(parsed.price_of(0), 10_000_000_000_000);
    // A hundred seats at the bound: exact.
    let seats: Vec<usize> = (0..24)
        .chain(0..24)
        .chain(0..24)
        .chain(0..24)
        .chain(0..4)
        .collect();
    assert_eq!(seats.len(), 100);
    assert_eq!(
        parsed.price_of_seats(&seats).map(|p| p.amount),
        Ok(1_000_000_000_000_000)
    );
    // A chart stored before the bound is read as kept; its sums stay checked.
    chart["categories"][0]["price"] = json!(i64::MAX);
    assert!(SeatingChart::parse(&chart).is_err());
    let stored = SeatingChart::parse_stored(&chart).unwrap();
    assert_eq!(stored.price_of(0), i64::MAX);
    assert_eq!(
        stored.price_of_seats(&[0, 24]).map(|p| p.amount),
        Ok(i64::MAX)
    );
    assert_eq!(
        stored.price_of_seats(&[0, 1]),
        Err(crate::domain::AmountOverflow)
    );
    // Every other rule holds for a stored chart too.
    chart["categories"][0]["price"] = json!(-1);
    assert_eq!(
        SeatingChart::parse_stored(&chart).unwrap_err().to_string(),
        "seatingChart: category front price must be an integer ≥ 0"
    );
}

#[test]
fn best_available_requests_are_read_and_resolved() {
    let chart = SeatingChart::parse(&example()).unwrap();
    let request = BestAvailableRequest::parse(Some(
        &json!({"category": "back", "together": true, "extra": 1}),
    ))
    .unwrap();
    let filter = request.resolve(&chart).unwrap();
    assert_eq!(
        (filter.category, filter.section, filter.together),
        (Some(1), None, true)
    );
    assert!(BestAvailableRequest::parse(None).unwrap().is_default());
    let message = |v: Value| {
        BestAvailableRequest::parse(Some(&v))
            .unwrap_err()
            .to_string()
    };
    assert_eq!(message(json!(3)), "bestAvailable must be an object");
    assert_eq!(
        message(json!({"accessible": "yes"})),
        "bestAvailable.accessible must be true or false"
    );
    assert_eq!(
        message(json!({"section": 1})),
        "bestAvailable.section must be a string"
    );
    let unknown = BestAvailableRequest::parse(Some(&json!({"section": "circle"}))).unwrap();
    assert_eq!(
        unknown.resolve(&chart).unwrap_err().to_string(),
        "bestAvailable.section circle is not a section of this event"
    );
}

#[test]
fn seat_labels_are_one_to_a_hundred_distinct_strings() {
    assert_eq!(
        parse_seat_labels(&json!(["a", "b"])).unwrap(),
        labels(&["a", "b"])
    );
    let too_many: Vec<String> = (0..101).map(|i| i.to_string()).collect();
    for bad in [
        json!([]),
        json!(["a", "a"]),
        json!("a"),
        json!([1]),
        json!(too_many),
    ] {
        assert_eq!(
            parse_seat_labels(&bad).unwrap_err().to_string(),
            "seatLabels must be 1 to 100 distinct seat labels"
        );
    }
}
