//! Every error row of CONTRACT.md, and bad input of every kind: a clear JSON error, and
//! nothing changes.

use serde_json::{Value, json};

use crate::backend_tests;
use crate::harness::TestApp;

const UNKNOWN_ID: &str = "5f0000000000000000000000";

backend_tests! {
    async fn registration_errors(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let register = |body: Value| app.post("/api/users/register", body);
        let required = "name, email, and password are required";
        for body in [
            json!({}),
            json!({"email": "a@example.com", "password": "secret1"}),
            json!({"name": "A", "password": "secret1"}),
            json!({"name": "A", "email": "a@example.com"}),
            json!({"name": "", "email": "a@example.com", "password": "secret1"}),
            json!({"name": 5, "email": "a@example.com", "password": "secret1"}),
        ] {
            register(body).await.assert_error(400, required);
        }
        register(json!({"name": "A", "email": "not-an-email", "password": "secret1"}))
            .await
            .assert_error(400, "email must be a valid email address");
        register(json!({"name": "A", "email": "a@example.com", "password": "12345"}))
            .await
            .assert_error(400, "password must be between 6 and 128 characters");
        register(json!({"name": "A", "email": "a@example.com", "password": "p".repeat(129)}))
            .await
            .assert_error(400, "password must be between 6 and 128 characters");
        register(json!({"name": "n".repeat(101), "email": "a@example.com", "password": "secret1"}))
            .await
            .assert_error(400, "name must be at most 100 characters");

        let reply = register(json!({"name": "A", "email": "Ann@Example.com", "password": "secret1"})).await;
        assert_eq!(reply.status, 201);
        register(json!({"name": "B", "email": "ann@example.COM", "password": "secret2"}))
            .await
            .assert_error(400, "User with this email already exists");
        let users = app.sql_text("SELECT CAST(COUNT(*) AS TEXT) FROM users").await;
        assert_eq!(users, "1", "only the valid registration was stored");

        app.get(&format!("/api/users/{UNKNOWN_ID}")).await.assert_error(404, "User not found");
        app.get("/api/users/invalid_id_12345").await.assert_error(404, "User not found");
        app.stop().await;
    }

    async fn event_errors(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let create = |changes: Value| {
            let mut body = json!({
                "name": "Concert", "eventDate": "2099-01-01T20:00:00Z", "totalSeats": 100
            });
            for (key, value) in changes.as_object().unwrap() {
                if value.is_null() {
                    body.as_object_mut().unwrap().remove(key);
                } else {
                    body[key] = value.clone();
                }
            }
            app.post("/api/events", body)
        };
        create(json!({"name": null})).await.assert_error(400, "name is required");
        create(json!({"name": "  "})).await.assert_error(400, "name is required");
        for date in [json!("soon"), json!("2099-13-01T00:00:00Z"), json!(12), json!(null)] {
            create(json!({"eventDate": date})).await.assert_error(400, "eventDate must be a valid date");
        }
        create(json!({"eventDate": "2001-01-01T00:00:00Z"}))
            .await
            .assert_error(400, "eventDate must be in the future");
        for total in [json!(0), json!(-5), json!("2"), json!(2.5), json!(2.0), json!(null), json!(true)] {
            create(json!({"totalSeats": total})).await.assert_error(400, "totalSeats must be an integer ≥ 1");
        }
        create(json!({"availableSeats": 101})).await.assert_error(400, "availableSeats must be ≤ totalSeats");
        for available in [json!(-1), json!("5"), json!(1.5)] {
            create(json!({"availableSeats": available}))
                .await
                .assert_error(400, "availableSeats must be an integer ≥ 0");
        }
        let events = app.sql_text("SELECT CAST(COUNT(*) AS TEXT) FROM events").await;
        assert_eq!(events, "0");

        // Offsets and fractions are accepted, shown in UTC with milliseconds.
        let reply = create(json!({"eventDate": "2099-06-15T12:00:00.5+02:00", "availableSeats": 90})).await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        assert_eq!(reply.data()["eventDate"], "2099-06-15T10:00:00.500Z");
        assert_eq!(reply.data()["description"], "");
        // Seats below totalSeats at creation are withheld, never sold.
        assert_eq!(reply.data()["availableSeats"], 90);
        assert_eq!(reply.data()["withheldSeats"], 10);
        let inventory = app.inventory(&reply.id()).await;
        assert_eq!(inventory["withheldSeats"], 10);

        app.get(&format!("/api/events/{UNKNOWN_ID}")).await.assert_error(404, "Event not found");
        app.get("/api/events/nope").await.assert_error(404, "Event not found");
        app.get(&format!("/api/events/{UNKNOWN_ID}/inventory")).await.assert_error(404, "Event not found");
        app.stop().await;
    }

    async fn lock_errors_change_nothing(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let user = app.register("Carol").await;
        let event = app.create_event(10).await;
        let lock = |body: Value| app.post("/api/locks", body);
        let valid = json!({"eventId": event, "userId": user, "seats": 2, "idempotencyKey": "k1"});
        let with = |key: &str, value: Value| {
            let mut body = valid.clone();
            if value.is_null() {
                body.as_object_mut().unwrap().remove(key);
            } else {
                body[key] = value;
            }
            body
        };
        lock(with("eventId", Value::Null)).await.assert_error(400, "eventId is required");
        lock(with("eventId", json!(""))).await.assert_error(400, "eventId is required");
        lock(with("userId", Value::Null)).await.assert_error(400, "userId is required");
        for seats in [json!(0), json!(101), json!(-1), json!("2"), json!(2.5), json!(2.0), Value::Null] {
            lock(with("seats", seats)).await.assert_error(400, "seats must be an integer between 1 and 100");
        }
        lock(with("idempotencyKey", Value::Null)).await.assert_error(400, "idempotencyKey is required");
        lock(with("idempotencyKey", json!(""))).await.assert_error(400, "idempotencyKey is required");
        lock(with("idempotencyKey", json!("k".repeat(256))))
            .await
            .assert_error(400, "idempotencyKey must be at most 255 characters");
        lock(with("eventId", json!(UNKNOWN_ID))).await.assert_error(404, "Event not found");
        lock(with("eventId", json!("invalid_id_12345"))).await.assert_error(404, "Event not found");
        lock(with("userId", json!(UNKNOWN_ID))).await.assert_error(404, "User not found");
        lock(with("seats", json!(11))).await.assert_error(400, "Not enough available seats");
        assert_eq!(lock(with("seats", json!(11))).await.body["code"], "NOT_ENOUGH_SEATS");
        assert_eq!(app.available(&event).await, 10);
        let locks = app.sql_text("SELECT CAST(COUNT(*) AS TEXT) FROM seat_locks").await;
        assert_eq!(locks, "0");

        // A key of exactly 255 characters is fine.
        let reply = lock(with("idempotencyKey", json!("k".repeat(255)))).await;
        assert_eq!(reply.status, 201, "{}", reply.body);

        // An event that has started takes no more holds.
        app.sql(&format!("UPDATE events SET event_date = 1000 WHERE id = '{event}'")).await;
        lock(with("idempotencyKey", json!("k2"))).await.assert_error(400, "Event has already taken place");
        assert_eq!(app.available(&event).await, 8);

        app.get(&format!("/api/locks/{UNKNOWN_ID}")).await.assert_error(404, "Lock not found");
        app.get("/api/locks/xyz").await.assert_error(404, "Lock not found");
        app.stop().await;
    }

    async fn confirm_and_payment_errors(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let confirm = |body: Value| app.post("/api/bookings/confirm", body);
        confirm(json!({})).await.assert_error(400, "lockId is required");
        confirm(json!({"lockId": 7})).await.assert_error(400, "lockId is required");
        confirm(json!({"lockId": UNKNOWN_ID})).await.assert_error(404, "INVALID_OR_EXPIRED_LOCK");
        confirm(json!({"lockId": "invalid_id_12345"})).await.assert_error(404, "INVALID_OR_EXPIRED_LOCK");

        let pay = |body: Value| app.post("/api/payments/intent", body);
        let bad_force = "force must be success | failure | timeout";
        // The body is checked before the booking is looked up.
        pay(json!({"bookingId": UNKNOWN_ID, "force": "invalid"})).await.assert_error(400, bad_force);
        pay(json!({"bookingId": UNKNOWN_ID})).await.assert_error(400, bad_force);
        pay(json!({"bookingId": UNKNOWN_ID, "force": "SUCCESS"})).await.assert_error(400, bad_force);
        pay(json!({"force": "success"})).await.assert_error(400, "bookingId is required");
        pay(json!({"bookingId": "invalid_id_12345", "force": "success"}))
            .await
            .assert_error(404, "Booking not found");
        pay(json!({"bookingId": UNKNOWN_ID, "force": "success"})).await.assert_error(404, "Booking not found");
        app.get(&format!("/api/bookings/{UNKNOWN_ID}")).await.assert_error(404, "Booking not found");
        app.get("/api/bookings/invalid_id_12345").await.assert_error(404, "Booking not found");
        app.stop().await;
    }

    async fn malformed_requests_get_json_errors(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let raw = |body: &'static str, content_type: Option<&'static str>| {
            let mut request = app.client.post(app.url("/api/events")).body(body);
            if let Some(content_type) = content_type {
                request = request.header("content-type", content_type);
            }
            app.send(request)
        };
        let json_type = Some("application/json");
        raw("{\"name\": ", json_type).await.assert_error(400, "Request body is not valid JSON");
        raw("", json_type).await.assert_error(400, "Request body is not valid JSON");
        raw("[1, 2]", json_type).await.assert_error(400, "Request body must be a JSON object");
        raw("\"text\"", json_type).await.assert_error(400, "Request body must be a JSON object");
        raw("{\"name\": \"x\"}", Some("text/plain"))
            .await
            .assert_error(415, "Content-Type must be application/json");
        raw("{\"name\": \"x\"}", None).await.assert_error(415, "Content-Type must be application/json");

        let big = format!("{{\"name\": \"{}\"}}", "a".repeat(1024 * 1024 + 10));
        let reply = app
            .send(app.client.post(app.url("/api/events")).header("content-type", "application/json").body(big))
            .await;
        reply.assert_error(413, "Request body is too large (the limit is 1 MiB)");

        app.get("/api/nothing-here").await.assert_error(404, "Route not found");
        app.send(app.client.delete(app.url("/api/events"))).await.assert_error(405, "Method not allowed");
        app.send(app.client.put(app.url("/health"))).await.assert_error(405, "Method not allowed");
        let events = app.sql_text("SELECT CAST(COUNT(*) AS TEXT) FROM events").await;
        assert_eq!(events, "0");
        app.stop().await;
    }

    async fn text_with_a_nul_character_is_refused_on_both_databases(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let nul = "Text must not contain NUL characters";
        app.post("/api/users/register", json!({"name": "A\u{0}", "email": "a@example.com", "password": "secret1"}))
            .await
            .assert_error(400, nul);
        let user = app.register("Nul").await;
        let event = app.create_event(5).await;
        app.try_lock(&event, &user, 1, "key\u{0}").await.assert_error(400, nul);
        app.post("/api/events", json!({"name": "x", "description": ["\u{0}"], "eventDate": "2099-01-01T00:00:00Z", "totalSeats": 1}))
            .await
            .assert_error(400, nul);
        app.get("/api/events?q=a%00b").await.assert_error(400, nul);
        assert_eq!(app.available(&event).await, 5);
        let locks = app.sql_text("SELECT CAST(COUNT(*) AS TEXT) FROM seat_locks").await;
        assert_eq!(locks, "0");
        app.stop().await;
    }

    async fn unknown_fields_are_ignored_whatever_they_hold(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let nul = "Text must not contain NUL characters";
        let user = app.register("Uma").await;
        let event = app.create_event(5).await;
        let odd = json!({"text": "a\u{0}b", "list": ["\u{0}"], "deep": {"x": "\u{0}"}});
        let lock = app
            .post("/api/locks", json!({"eventId": event, "userId": user, "seats": 1,
                "idempotencyKey": "k1", "note": "a\u{0}b", "extra": odd}))
            .await;
        assert_eq!(lock.status, 201, "{}", lock.body);
        assert!(!lock.body.to_string().contains("note"), "{}", lock.body);
        let reply = app
            .post("/api/bookings/confirm", json!({"lockId": lock.id(), "note": "\u{0}"}))
            .await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        let registered = app
            .post("/api/users/register", json!({"name": "Vic", "email": "vic@example.com",
                "password": "secret1", "role": "admin\u{0}"}))
            .await;
        assert_eq!(registered.status, 201, "{}", registered.body);
        assert_eq!(registered.data()["role"], "user");
        let created = app
            .post("/api/events", json!({"name": "Fair", "eventDate": "2099-01-01T00:00:00Z",
                "totalSeats": 3, "comment": "\u{0}"}))
            .await;
        assert_eq!(created.status, 201, "{}", created.body);
        // A NUL in a field that is read is still refused, and changes nothing.
        app.post("/api/events", json!({"name": "Fa\u{0}ir", "eventDate": "2099-01-01T00:00:00Z",
                "totalSeats": 3, "comment": "fine"}))
            .await
            .assert_error(400, nul);
        app.patch(&format!("/api/events/{event}"), json!({"description": "\u{0}"}))
            .await
            .assert_error(400, nul);
        assert_eq!(app.available(&event).await, 4);
        app.stop().await;
    }

    async fn an_internal_error_is_a_logged_generic_json_500(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let user = app.register("Dan").await;
        let event = app.create_event(5).await;
        let lock = app.lock(&event, &user, 1, "k").await;
        // Damage the row behind the server's back: reading it must fail loudly but politely.
        // Constraints guard most columns; the booking reference is free text, so break that.
        app.sql(&format!("UPDATE seat_locks SET booking_id = 'not-an-id' WHERE id = '{lock}'")).await;
        let reply = app.get(&format!("/api/locks/{lock}")).await;
        reply.assert_error(500, "Internal server error");
        assert!(!reply.body.to_string().contains("not-an-id"), "no internals leak: {}", reply.body);
        app.stop().await;
    }
}
