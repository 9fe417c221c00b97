//! Integers beyond 64 bits (README, "Bounds at the edge"): JSON and query strings set no limit
//! on an integer's size, so `1000000000000000000000000000000` is an integer, too large for every
//! field. Each integer field answers it with its own range refusal, the one a merely too-large
//! 64-bit value gets, and a negative one with the refusal of a too-small value; what is not an
//! integer at all (`1.5`, `"3"`, `true`) keeps its refusal. Nothing changes.

use reqwest::Method;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::harness::{Reply, TestApp};

/// Positive integers beyond 64 bits: 2^63 (a `u64`), 2^64, 10^30 and 10^300, as digits.
fn above() -> Vec<String> {
    let mut numbers: Vec<String> = ["9223372036854775808", "18446744073709551616"]
        .map(str::to_owned)
        .into();
    numbers.push(format!("1{}", "0".repeat(30)));
    numbers.push(format!("1{}", "0".repeat(300)));
    numbers
}

/// Negative integers beyond 64 bits: -(2^63 + 1) and -10^30.
fn below() -> Vec<String> {
    vec![
        "-9223372036854775809".to_owned(),
        format!("-1{}", "0".repeat(30)),
    ]
}

/// What is not an integer: a fraction, a string, a boolean.
const NOT_INTEGERS: [&str; 3] = ["1.5", "\"3\"", "true"];

/// Where a test body holds the number under test (as the string `"<number>"`), since
/// `serde_json` cannot write an integer beyond 64 bits as digits.
const N: &str = "<number>";

/// Sends `body` as JSON text with `"<number>"` replaced by `number` as written.
async fn send_with(app: &TestApp, method: Method, path: &str, body: &Value, number: &str) -> Reply {
    let text = body.to_string().replace(&format!("\"{N}\""), number);
    assert_ne!(text, body.to_string(), "the body holds {N}");
    let request = app.client.request(method, app.url(path));
    app.send(
        request
            .header("content-type", "application/json")
            .body(text),
    )
    .await
}

/// Asserts that each of `numbers` in `body` is refused with 400 `message`.
async fn refused(
    app: &TestApp,
    method: Method,
    path: &str,
    body: &Value,
    numbers: &[String],
    message: &str,
) {
    for number in numbers {
        let reply = send_with(app, method.clone(), path, body, number).await;
        assert_eq!(reply.status, 400, "{path} with {number}: {}", reply.body);
        assert_eq!(reply.message(), message, "{path} with {number}");
        assert_eq!(reply.body["code"], "VALIDATION_FAILED", "{}", reply.body);
    }
}

fn strings(numbers: &[&str]) -> Vec<String> {
    numbers.iter().map(|n| (*n).to_owned()).collect()
}

async fn count(app: &TestApp, table: &str) -> String {
    app.sql_text(&format!("SELECT CAST(COUNT(*) AS TEXT) FROM {table}"))
        .await
}

/// A chart of one category `c` priced `price` and one row in section `S`.
fn chart(row: Value, price: Value) -> Value {
    json!({
        "categories": [{"key": "c", "name": "C", "price": price, "currency": "EUR"}],
        "sections": [{"key": "S", "rows": [row]}]
    })
}

backend_tests! {
    async fn event_integers_beyond_64_bits_get_their_range_refusals(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let post = Method::POST;
        let event = |fields: Value| {
            let mut body = json!({"name": "Big", "eventDate": "2099-01-01T00:00:00Z"});
            for (k, v) in fields.as_object().unwrap() {
                body[k] = v.clone();
            }
            body
        };
        let n = N;

        // totalSeats (this was already so: the other fields now follow it).
        let total = event(json!({"totalSeats": n}));
        refused(&app, post.clone(), "/api/events", &total, &above(), "totalSeats must be at most 1000000").await;
        refused(&app, post.clone(), "/api/events", &total, &below(), "totalSeats must be an integer ≥ 1").await;
        refused(&app, post.clone(), "/api/events", &total, &strings(&NOT_INTEGERS), "totalSeats must be an integer ≥ 1").await;

        // availableSeats: above is more than totalSeats, as i64::MAX is.
        let available = event(json!({"totalSeats": 10, "availableSeats": n}));
        let too_large = "availableSeats must be ≤ totalSeats";
        refused(&app, post.clone(), "/api/events", &available, &strings(&["11", "9223372036854775807"]), too_large).await;
        refused(&app, post.clone(), "/api/events", &available, &above(), too_large).await;
        let not_positive = "availableSeats must be an integer ≥ 0";
        refused(&app, post.clone(), "/api/events", &available, &below(), not_positive).await;
        refused(&app, post.clone(), "/api/events", &available, &strings(&NOT_INTEGERS), not_positive).await;

        // price: at most 10^13 (tests/api/price_bounds.rs), however far beyond.
        let price = event(json!({"totalSeats": 10, "price": n, "currency": "EUR"}));
        refused(&app, post.clone(), "/api/events", &price, &above(), "price must be at most 10000000000000").await;
        refused(&app, post.clone(), "/api/events", &price, &below(), "price must be an integer ≥ 0").await;
        refused(&app, post.clone(), "/api/events", &price, &strings(&NOT_INTEGERS), "price must be an integer ≥ 0").await;

        // A seated event: totals must equal the chart's seats, however large.
        let row = json!({"key": "A", "seats": 4, "category": "c"});
        let seated = |fields: Value| {
            let mut body = event(fields);
            body["seatingChart"] = chart(row.clone(), json!(100));
            body
        };
        refused(&app, post.clone(), "/api/events", &seated(json!({"totalSeats": n})), &above(),
            "totalSeats must equal the seats of the seating chart").await;
        refused(&app, post.clone(), "/api/events", &seated(json!({"availableSeats": n})), &above(),
            "availableSeats must equal the seats of the seating chart").await;

        // The chart's own integers.
        let in_chart = |chart: Value| {
            let mut body = event(json!({}));
            body["seatingChart"] = chart;
            body
        };
        let priced = in_chart(chart(row.clone(), json!(N)));
        refused(&app, post.clone(), "/api/events", &priced, &above(),
            "seatingChart: category c price must be at most 10000000000000").await;
        refused(&app, post.clone(), "/api/events", &priced, &below(), "seatingChart: category c price must be an integer ≥ 0").await;
        refused(&app, post.clone(), "/api/events", &priced, &strings(&NOT_INTEGERS), "seatingChart: category c price must be an integer ≥ 0").await;
        let everything: Vec<String> = above().into_iter().chain(below()).chain(strings(&NOT_INTEGERS)).collect();
        for (row, message) in [
            (json!({"key": "A", "seats": n, "category": "c"}), "seatingChart: row S-A seats must be an integer between 1 and 9999"),
            (json!({"key": "A", "numbers": [1, n], "category": "c"}), "seatingChart: row S-A numbers must be integers between 1 and 9999"),
            (json!({"key": "A", "seats": 4, "aisleAfter": [n], "category": "c"}), "seatingChart: row S-A aisleAfter must be a list of seat numbers"),
            (json!({"key": "A", "seats": 4, "accessible": [n], "category": "c"}), "seatingChart: row S-A accessible must be a list of seat numbers"),
        ] {
            let body = in_chart(chart(row, json!(100)));
            refused(&app, post.clone(), "/api/events", &body, &strings(&["10000", "9223372036854775807"]), message).await;
            refused(&app, post.clone(), "/api/events", &body, &everything, message).await;
        }
        assert_eq!(count(&app, "events").await, "0", "nothing was created");

        // The most a price can be is kept as sent.
        let most = send_with(&app, post.clone(), "/api/events", &price, "10000000000000").await;
        assert_eq!(most.status, 201, "{}", most.body);
        assert_eq!(most.data()["price"], json!(10_000_000_000_000_i64));

        // PATCH: totalSeats by the creation rule; nothing changes.
        let small = app.create_event(10).await;
        let path = format!("/api/events/{small}");
        let change = json!({"totalSeats": n});
        refused(&app, Method::PATCH, &path, &change, &above(), "totalSeats must be at most 1000000").await;
        refused(&app, Method::PATCH, &path, &change, &below(), "totalSeats must be an integer ≥ 1").await;
        let shown = app.get(&path).await;
        assert_eq!((shown.data()["totalSeats"].clone(), shown.data()["availableSeats"].clone()), (json!(10), json!(10)));
        assert_eq!(shown.data()["updatedAt"], shown.data()["createdAt"]);
        assert_eq!(count(&app, "events").await, "2");
        app.stop().await;
    }

    async fn lock_integers_beyond_64_bits_get_their_range_refusals(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let user = app.register("Big").await;
        let event = app.create_event(10).await;
        let n = N;
        let everything: Vec<String> = above().into_iter().chain(below()).chain(strings(&NOT_INTEGERS)).collect();

        let seats = "seats must be an integer between 1 and 100";
        let hold = json!({"eventId": event, "userId": user, "seats": n, "idempotencyKey": "big"});
        refused(&app, Method::POST, "/api/locks", &hold, &strings(&["101", "9223372036854775807"]), seats).await;
        refused(&app, Method::POST, "/api/locks", &hold, &everything, seats).await;
        // With seat labels too, on a seated event.
        let seated = app.post("/api/events", json!({"name": "Seated", "eventDate": "2099-01-01T00:00:00Z",
            "seatingChart": chart(json!({"key": "A", "seats": 4, "category": "c"}), json!(100))})).await;
        assert_eq!(seated.status, 201, "{}", seated.body);
        let named = json!({"eventId": seated.id(), "userId": user, "seatLabels": ["S-A-1"], "seats": n, "idempotencyKey": "named"});
        refused(&app, Method::POST, "/api/locks", &named, &everything, seats).await;
        // Beyond about 1.8e308 the JSON parser itself gives up (README, "Bounds at the edge").
        let beyond_floats = send_with(&app, Method::POST, "/api/locks", &hold, &format!("1{}", "0".repeat(400))).await;
        beyond_floats.assert_error(400, "Request body is not valid JSON");
        assert_eq!(count(&app, "seat_locks").await, "0", "nothing was held");
        assert_eq!(app.available(&event).await, 10);
        assert_eq!(app.available(&seated.id()).await, 4);

        // seconds of an extension; the hold keeps its expiry.
        let lock = app.lock(&event, &user, 2, "k").await;
        let before = app.get(&format!("/api/locks/{lock}")).await.data()["expiresAt"].clone();
        let path = format!("/api/locks/{lock}/extend");
        let extend = json!({"seconds": n});
        let seconds = "seconds must be an integer between 1 and 3600";
        refused(&app, Method::POST, &path, &extend, &strings(&["3601", "9223372036854775807"]), seconds).await;
        refused(&app, Method::POST, &path, &extend, &everything, seconds).await;
        let after = app.get(&format!("/api/locks/{lock}")).await;
        assert_eq!(after.data()["expiresAt"], before);
        assert_eq!(after.data()["status"], "ACTIVE");
        assert_eq!(app.available(&event).await, 8);
        app.stop().await;
    }

    async fn query_and_feed_integers_beyond_64_bits_get_their_range_refusals(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let user = app.register("Big").await;
        let hook = app.post("/api/webhooks", json!({"url": "http://127.0.0.1:9/hook"})).await;
        assert_eq!(hook.status, 201, "{}", hook.body);
        let hook = hook.id();
        let everything_above: Vec<String> = above();

        // Every listing's `limit`: one refusal for all that is not 1 to its maximum.
        for (path, message) in [
            ("/api/events".to_owned(), "limit must be an integer between 1 and 100"),
            (format!("/api/users/{user}/bookings"), "limit must be an integer between 1 and 100"),
            (format!("/api/webhooks/{hook}/deliveries"), "limit must be an integer between 1 and 100"),
            ("/api/notifications".to_owned(), "limit must be an integer between 1 and 1000"),
        ] {
            for limit in everything_above.iter().map(String::as_str).chain(["-1", "1.5", "9223372036854775807"]) {
                let reply = app.get(&format!("{path}?limit={limit}")).await;
                reply.assert_error(400, message);
            }
        }

        // The feed's `after`: every 64-bit sequence is asked for, beyond is refused.
        for after in &everything_above {
            app.get(&format!("/api/notifications?after={after}")).await
                .assert_error(400, "after must be at most 9223372036854775807");
        }
        for after in ["-1", "1.5", "-1000000000000000000000000000000"] {
            app.get(&format!("/api/notifications?after={after}")).await
                .assert_error(400, "after must be an integer ≥ 0");
        }
        let last = app.get("/api/notifications?after=9223372036854775807").await;
        assert_eq!(last.status, 200, "{}", last.body);
        assert_eq!(last.data(), &json!([]));
        assert_eq!(last.body["nextAfter"], json!(i64::MAX));

        // Redelivery's `after`, in a body: the same rule; nothing is queued.
        let path = format!("/api/webhooks/{hook}/redeliver");
        let body = json!({"after": N});
        refused(&app, Method::POST, &path, &body, &everything_above, "after must be at most 9223372036854775807").await;
        let not_after: Vec<String> = below().into_iter().chain(strings(&NOT_INTEGERS)).chain(strings(&["-1"])).collect();
        refused(&app, Method::POST, &path, &body, &not_after, "after must be an integer ≥ 0").await;
        let shown = app.get(&format!("/api/webhooks/{hook}")).await;
        assert_eq!((shown.data()["pending"].clone(), shown.data()["dead"].clone()), (json!(0), json!(0)));
        let queued = send_with(&app, Method::POST, &path, &body, "9223372036854775807").await;
        assert_eq!(queued.status, 202, "{}", queued.body);
        assert_eq!(queued.data()["queued"], 0);

        // The deliveries' status filter keeps its wording.
        app.get(&format!("/api/webhooks/{hook}/deliveries?status=DEAD")).await
            .assert_error(400, "status must be delivered, failed or dead");
        app.stop().await;
    }
}
