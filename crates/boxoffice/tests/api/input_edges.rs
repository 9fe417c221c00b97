//! Input at the edge (README, "Bounds at the edge"): `totalSeats` has an upper bound, on create,
//! PATCH and import; a query string with broken percent-encoding is a 400 naming the parameter,
//! never a search for something else; a date is kept as sent (to the millisecond, finer
//! fractions rounded down as documented) or refused, never changed silently (a leap second).

use serde_json::json;

use crate::backend_tests;
use crate::harness::{Reply, TestApp};
use crate::process::import_events;

async fn events_stored(app: &TestApp) -> String {
    app.sql_text("SELECT CAST(COUNT(*) AS TEXT) FROM events")
        .await
}

async fn create(app: &TestApp, date: &str, total_seats: serde_json::Value) -> Reply {
    app.post(
        "/api/events",
        json!({"name": "Edge", "eventDate": date, "totalSeats": total_seats}),
    )
    .await
}

#[track_caller]
fn assert_validation(reply: &Reply, message: &str) {
    reply.assert_error(400, message);
    assert_eq!(reply.body["code"], "VALIDATION_FAILED", "{}", reply.body);
}

backend_tests! {
    async fn upper_case_ids_are_not_found(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let user = app.register("Ann").await;
        let event = app.create_event(10).await;
        let lock = app.lock(&event, &user, 1, "k").await;
        let up = |id: &str| {
            assert!(id.bytes().any(|b| b.is_ascii_lowercase()), "{id} has letters");
            id.to_ascii_uppercase()
        };
        // In the path: the resource's 404.
        for (path, message) in [
            (format!("/api/users/{}", up(&user)), "User not found"),
            (format!("/api/events/{}", up(&event)), "Event not found"),
            (format!("/api/locks/{}", up(&lock)), "Lock not found"),
        ] {
            app.get(&path).await.assert_error(404, message);
        }
        // In a body: the same.
        let hold = |event: &str, user: &str| {
            app.post("/api/locks", json!({"eventId": event, "userId": user, "seats": 1, "idempotencyKey": "u"}))
        };
        hold(&up(&event), &user).await.assert_error(404, "Event not found");
        hold(&event, &up(&user)).await.assert_error(404, "User not found");
        app.confirm(&up(&lock)).await.assert_error(404, "INVALID_OR_EXPIRED_LOCK");
        let booking = app.book(&lock).await;
        app.get(&format!("/api/bookings/{}", up(&booking))).await.assert_error(404, "Booking not found");
        app.pay(&up(&booking), "success").await.assert_error(404, "Booking not found");
        assert_eq!(app.booking_status(&booking).await, "PAYMENT_PENDING");
        assert_eq!(app.available(&event).await, 9, "only the lower-case hold was made");
        app.stop().await;
    }

    async fn total_seats_is_at_most_a_million(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        for too_many in [json!(1_000_001), json!(i64::MAX), json!(i64::MAX as u64 + 1), json!(u64::MAX)] {
            let reply = create(&app, "2099-01-01T00:00:00Z", too_many).await;
            assert_validation(&reply, "totalSeats must be at most 1000000");
        }
        // Beyond 64 bits, in the body's own text; and what is not a positive integer.
        let raw = |total: &str| {
            let body = format!(r#"{{"name":"Edge","eventDate":"2099-01-01T00:00:00Z","totalSeats":{total}}}"#);
            app.send(app.client.post(app.url("/api/events")).header("content-type", "application/json").body(body))
        };
        for (total, message) in [
            ("100000000000000000000", "totalSeats must be at most 1000000"),
            ("-9223372036854775809", "totalSeats must be an integer ≥ 1"),
            ("2.0", "totalSeats must be an integer ≥ 1"),
            ("1e3", "totalSeats must be an integer ≥ 1"),
        ] {
            assert_validation(&raw(total).await, message);
        }
        assert_eq!(events_stored(&app).await, "0");

        let reply = create(&app, "2099-01-01T00:00:00Z", json!(1_000_000)).await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        assert_eq!(reply.data()["totalSeats"], 1_000_000);
        let event = reply.id();

        // PATCH keeps the same bound, and a refused change changes nothing.
        let small = app.create_event(10).await;
        let path = format!("/api/events/{small}");
        for too_many in [json!(1_000_001), json!(u64::MAX)] {
            let reply = app.patch(&path, json!({"totalSeats": too_many})).await;
            assert_validation(&reply, "totalSeats must be at most 1000000");
        }
        let shown = app.get(&path).await;
        assert_eq!(shown.data()["totalSeats"], 10);
        assert_eq!(shown.data()["availableSeats"], 10);
        let reply = app.patch(&path, json!({"totalSeats": 1_000_000})).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(reply.data()["availableSeats"], 1_000_000);
        assert_eq!(app.inventory(&event).await["consistent"], true);
        app.stop().await;
    }

    async fn the_importer_refuses_an_event_above_the_bound(backend: Backend) {
        let event = |id: &str, seats: i64| {
            format!(
                "{{\"_id\":{{\"$oid\":\"{id}\"}},\"name\":\"Big\",\
                 \"eventDate\":{{\"$date\":\"2099-06-15T10:00:00Z\"}},\"totalSeats\":{seats},\
                 \"availableSeats\":{seats}}}\n"
            )
        };
        let events = event("65b6f1a2c3d4e5f600000010", 1_000_000)
            + &event("65b6f1a2c3d4e5f600000011", 1_000_001);
        let (_url, _dir, out) = import_events(backend, &events).await;
        assert!(out.contains("imported 1, skipped 0 (already there), repaired 0, refused 1"), "{out}");
        assert!(out.contains("totalSeats 1000001 is more than 1000000"), "{out}");
    }

    async fn broken_percent_encoding_names_its_parameter(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let cafe = create(&app, "2099-01-01T00:00:00Z", json!(5)).await;
        assert_eq!(cafe.status, 201);
        let renamed = app
            .patch(&format!("/api/events/{}", cafe.id()), json!({"name": "Café"}))
            .await;
        assert_eq!(renamed.status, 200, "{}", renamed.body);
        let user = app.register("Query").await;

        for (path, message) in [
            ("/api/events?q=%FF%FE", "q must be percent-encoded UTF-8"),
            ("/api/events?q=%zz", "q must be percent-encoded UTF-8"),
            ("/api/events?limit=5&q=caf%C3", "q must be percent-encoded UTF-8"),
            ("/api/events?q=100%", "q must be percent-encoded UTF-8"),
            ("/api/events?from=2099%2", "from must be percent-encoded UTF-8"),
            ("/api/events?to=%E2%82", "to must be percent-encoded UTF-8"),
            ("/api/events?cursor=%FF", "cursor must be percent-encoded UTF-8"),
            ("/api/events?limit=%zz", "limit must be percent-encoded UTF-8"),
            ("/api/events?%FF=1", "query string is invalid"),
        ] {
            assert_validation(&app.get(path).await, message);
        }
        let bookings = format!("/api/users/{user}/bookings?status=%FFCONFIRMED");
        assert_validation(&app.get(&bookings).await, "status must be percent-encoded UTF-8");

        // Well-encoded text still finds what it names.
        for good in ["/api/events?q=caf%C3%A9", "/api/events?q=CAF%c3%89", "/api/events?q=f%C3%A9"] {
            let reply = app.get(good).await;
            assert_eq!(reply.status, 200, "{good}: {}", reply.body);
            assert_eq!(reply.data().as_array().unwrap().len(), 1, "{good}");
        }
        app.stop().await;
    }

    async fn dates_are_kept_as_sent_or_refused(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        for leap in ["2030-06-30T23:59:60Z", "2030-07-01T01:59:60.500+02:00"] {
            let reply = create(&app, leap, json!(5)).await;
            assert_validation(&reply, "eventDate must not be a leap second");
            let listed = app.get_query("/api/events", &[("from", leap)]).await;
            assert_validation(&listed, "from must not be a leap second");
        }
        assert_eq!(events_stored(&app).await, "0");

        // Milliseconds are kept exactly; finer digits are rounded down, as documented.
        for (sent, kept) in [
            ("2030-06-30T23:59:59.999Z", "2030-06-30T23:59:59.999Z"),
            ("2030-06-30T12:00:00.123999Z", "2030-06-30T12:00:00.123Z"),
            ("2030-06-30T14:00:00.0009+02:00", "2030-06-30T12:00:00.000Z"),
        ] {
            let reply = create(&app, sent, json!(5)).await;
            assert_eq!(reply.status, 201, "{}", reply.body);
            assert_eq!(reply.data()["eventDate"], kept, "{sent}");
            let shown = app.get(&format!("/api/events/{}", reply.id())).await;
            assert_eq!(shown.data()["eventDate"], kept, "{sent}");
        }

        // PATCH reads dates by the same rule, and a refused change changes nothing.
        let event = app.create_event(5).await;
        let path = format!("/api/events/{event}");
        let reply = app.patch(&path, json!({"eventDate": "2030-06-30T23:59:60Z"})).await;
        assert_validation(&reply, "eventDate must not be a leap second");
        assert_eq!(app.get(&path).await.data()["eventDate"], "2099-06-15T10:00:00.000Z");
        app.stop().await;
    }
}
