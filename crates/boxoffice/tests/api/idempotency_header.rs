//! The `Idempotency-Key` header on every write (CONTRACT.md, "Retrying any write"; issue 9,
//! item 3): a repeat replays the kept status and body and changes nothing, another request
//! under the key is a 422, concurrent repeats run once, 4xx answers are kept and 5xx are not,
//! keys belong to the caller, and old keys are pruned.

use std::time::Duration;

use futures_util::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::harness::{Reply, TestApp, jwt_mode};

/// A request with an `Idempotency-Key` header (and a bearer token, if given).
pub async fn keyed(
    app: &TestApp,
    method: Method,
    path: &str,
    key: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Reply {
    let mut request = app
        .client
        .request(method, app.url(path))
        .header("Idempotency-Key", key);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    app.send(request).await
}

pub async fn post(app: &TestApp, path: &str, key: &str, body: Value) -> Reply {
    keyed(app, Method::POST, path, key, None, Some(body)).await
}

pub async fn count(app: &TestApp, query: &str) -> i64 {
    app.sql_text(&format!("SELECT CAST(COUNT(*) AS TEXT) FROM {query}"))
        .await
        .parse()
        .unwrap()
}

/// The repeat got the first answer again, marked, and the first was not marked.
pub fn assert_replayed(first: &Reply, again: &Reply) {
    assert!(!first.replayed(), "{}", first.body);
    assert!(again.replayed(), "{}", again.body);
    assert_eq!(again.status, first.status);
    assert_eq!(again.body, first.body);
}

fn event_body(name: &str) -> Value {
    json!({"name": name, "eventDate": "2099-06-15T10:00:00Z", "totalSeats": 10})
}

backend_tests! {
    async fn each_kind_of_write_replays_its_first_answer(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        // Registration: a second account would otherwise be "already exists".
        let register = json!({"name": "Ola", "email": "ola@example.com", "password": "secret123"});
        let first = post(&app, "/api/users/register", "reg-1", register.clone()).await;
        assert_eq!(first.status, 201, "{}", first.body);
        let again = post(&app, "/api/users/register", "reg-1", register).await;
        assert_replayed(&first, &again);
        let user = first.id();

        // Event creation: a second event would otherwise be made.
        let first = post(&app, "/api/events", "ev-1", event_body("Once")).await;
        assert_eq!(first.status, 201, "{}", first.body);
        let again = post(&app, "/api/events", "ev-1", event_body("Once")).await;
        assert_replayed(&first, &again);
        assert_eq!(count(&app, "events WHERE name = 'Once'").await, 1);
        let event = first.id();

        // A change of the event.
        let path = format!("/api/events/{event}");
        let change = json!({"totalSeats": 12});
        let first = keyed(&app, Method::PATCH, &path, "patch-1", None, Some(change.clone())).await;
        assert_eq!(first.status, 200, "{}", first.body);
        let again = keyed(&app, Method::PATCH, &path, "patch-1", None, Some(change)).await;
        assert_replayed(&first, &again);
        assert_eq!(app.available(&event).await, 12);

        // Payment: the retry would otherwise be "Payment not allowed in CONFIRMED state".
        let booking = app.book(&app.lock(&event, &user, 2, "pay").await).await;
        let pay = json!({"bookingId": booking, "force": "success"});
        let first = post(&app, "/api/payments/intent", "pay-1", pay.clone()).await;
        assert_eq!(first.status, 200, "{}", first.body);
        let again = post(&app, "/api/payments/intent", "pay-1", pay).await;
        assert_replayed(&first, &again);
        assert_eq!(app.payments(&booking, "SUCCESS").await, 1);

        // Cancellation: one refund.
        let path = format!("/api/bookings/{booking}/cancel");
        let first = post(&app, &path, "cancel-1", json!({})).await;
        assert_eq!(first.status, 200, "{}", first.body);
        let again = post(&app, &path, "cancel-1", json!({})).await;
        assert_replayed(&first, &again);
        assert_eq!(app.payments(&booking, "REFUND").await, 1);

        // Early release.
        let lock = app.lock(&event, &user, 3, "release").await;
        let path = format!("/api/locks/{lock}");
        let first = keyed(&app, Method::DELETE, &path, "del-1", None, None).await;
        assert_eq!(first.status, 200, "{}", first.body);
        let again = keyed(&app, Method::DELETE, &path, "del-1", None, None).await;
        assert_replayed(&first, &again);
        assert_eq!(app.available(&event).await, 12);
        app.inventory(&event).await;
        app.stop().await;
    }

    async fn a_key_used_for_another_request_is_refused(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let first = post(&app, "/api/events", "k", event_body("First")).await;
        assert_eq!(first.status, 201, "{}", first.body);
        let other_body = post(&app, "/api/events", "k", event_body("Second")).await;
        other_body.assert_error(422, "Idempotency-Key was already used with a different request");
        assert_eq!(other_body.body["code"], "IDEMPOTENCY_KEY_REUSED");
        let event = first.id();
        let other_path = keyed(&app, Method::PATCH, &format!("/api/events/{event}"), "k", None,
            Some(event_body("First"))).await;
        other_path.assert_error(422, "Idempotency-Key was already used with a different request");
        assert_eq!(count(&app, "events").await, 1);
        assert_eq!(app.get(&format!("/api/events/{event}")).await.data()["name"], "First");

        // A header that is not a key.
        for bad in ["", "with space", &"x".repeat(256)] {
            post(&app, "/api/events", bad, event_body("Bad")).await.assert_error(
                400, "Idempotency-Key must be 1 to 255 visible ASCII characters");
        }
        // More than one header, even with one value twice: refused, nothing runs.
        let user = app.register("Lea").await;
        let lock = json!({"eventId": event, "userId": user, "seats": 1, "idempotencyKey": "body"});
        for (path, body) in [("/api/events", event_body("Twice")), ("/api/locks", lock.clone())] {
            for second in ["other", "body"] {
                let request = app.client.post(app.url(path))
                    .header("Idempotency-Key", "body").header("Idempotency-Key", second).json(&body);
                let twice = app.send(request).await;
                twice.assert_error(400, "Idempotency-Key must be given once, not in several headers");
                assert_eq!(twice.body["code"], "VALIDATION_FAILED");
            }
        }
        assert_eq!(app.available(&event).await, 10);
        // On POST /api/locks the body's key rules (rule 2); a header must equal it.
        post(&app, "/api/locks", "header", lock.clone()).await
            .assert_error(400, "Idempotency-Key must equal idempotencyKey");
        let held = post(&app, "/api/locks", "body", lock.clone()).await;
        assert_eq!(held.status, 201, "{}", held.body);
        assert!(post(&app, "/api/locks", "body", lock).await.replayed());
        assert_eq!(app.available(&event).await, 9);
        assert_eq!(count(&app, "events").await, 1);
        app.stop().await;
    }

    async fn concurrent_repeats_run_once(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let user = app.register("Max").await;
        let event = app.create_event(10).await;
        let booking = app.book(&app.lock(&event, &user, 2, "l").await).await;
        let pay = json!({"bookingId": booking, "force": "failure"});
        let replies = join_all((0..12).map(|_| post(&app, "/api/events", "same", event_body("Race")))).await;
        let payments = join_all((0..12).map(|_| post(&app, "/api/payments/intent", "pay", pay.clone()))).await;
        for replies in [&replies, &payments] {
            let fresh: Vec<_> = replies.iter().filter(|r| r.status.is_success() && !r.replayed()).collect();
            assert_eq!(fresh.len(), 1, "exactly one ran");
            for reply in replies.iter() {
                if reply.status == 409 {
                    reply.assert_error(409, "A request with this Idempotency-Key is in progress");
                    assert_eq!(reply.headers["retry-after"], "1");
                } else {
                    assert_eq!((reply.status, &reply.body), (fresh[0].status, &fresh[0].body));
                }
            }
        }
        assert_eq!(count(&app, "events WHERE name = 'Race'").await, 1);
        assert_eq!(app.payments(&booking, "FAILED").await, 1);
        assert_eq!(app.available(&event).await, 10);
        app.inventory(&event).await;
        app.stop().await;
    }

    async fn client_errors_are_kept_server_errors_are_not(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        // A 4xx is kept: the same request gets the same refusal, replayed, even once the
        // request would now succeed.
        let user = app.register("Nia").await;
        let event = app.create_event(10).await;
        let booking = app.book(&app.lock(&event, &user, 1, "l").await).await;
        let pay = json!({"bookingId": booking, "force": "success"});
        app.sql(&format!("UPDATE bookings SET status = 'FAILED' WHERE id = '{booking}'")).await;
        let first = post(&app, "/api/payments/intent", "p", pay.clone()).await;
        first.assert_error(400, "Payment not allowed in FAILED state");
        app.sql(&format!("UPDATE bookings SET status = 'PAYMENT_PENDING' WHERE id = '{booking}'")).await;
        let again = post(&app, "/api/payments/intent", "p", pay).await;
        assert_replayed(&first, &again);
        assert_eq!(app.booking_status(&booking).await, "PAYMENT_PENDING");

        // A 503 is not kept: nothing changed, and the retry runs. A server with 3 ms per
        // request answers some of these 503; each retried on the other server runs then.
        let hasty = app.another_instance(|config| config.request_timeout_ms = 3).await;
        let names: Vec<String> = (0..30).map(|i| format!("hasty-{i}")).collect();
        let replies = join_all(names.iter().map(|name| {
            post(&hasty, "/api/events", name, event_body(name))
        })).await;
        let mut timed_out = 0;
        for (name, reply) in names.iter().zip(&replies) {
            let retry = post(&app, "/api/events", name, event_body(name)).await;
            assert_eq!(retry.status, 201, "{}", retry.body);
            if reply.status == 503 {
                timed_out += 1;
                assert!(!retry.replayed(), "a 503 was kept: {}", retry.body);
            } else {
                assert_replayed(reply, &retry);
            }
            assert_eq!(count(&app, &format!("events WHERE name = '{name}'")).await, 1);
        }
        assert!(timed_out > 0, "3 ms is too short for some of 30 requests");
        hasty.stop().await;
        app.stop().await;
    }

    async fn keys_belong_to_the_caller_in_jwt_mode(backend: Backend) {
        let app = TestApp::spawn_with(backend, jwt_mode).await;
        let admin = app.admin_token().await;
        let (ann, bob) = (app.register_account("Ann").await, app.register_account("Bob").await);
        let ann_token = app.token(&ann.email, &ann.password).await;
        let bob_token = app.token(&bob.email, &bob.password).await;
        let event = app.post_as(&admin, "/api/events", event_body("Jwt")).await.id();
        let mut bookings = Vec::new();
        for (account, token) in [(&ann, &ann_token), (&bob, &bob_token)] {
            let lock = app.post_as(token, "/api/locks", json!({"eventId": event,
                "userId": account.id, "seats": 1, "idempotencyKey": "l"})).await.id();
            let reply = app.post_as(token, "/api/bookings/confirm", json!({"lockId": lock})).await;
            bookings.push(reply.body["booking"]["_id"].as_str().unwrap().to_owned());
        }
        let pay = |booking: &str| json!({"bookingId": booking, "force": "success"});
        let path = "/api/payments/intent";
        let ann_first = keyed(&app, Method::POST, path, "shared", Some(&ann_token), Some(pay(&bookings[0]))).await;
        assert_eq!(ann_first.status, 200, "{}", ann_first.body);
        // Bob's "shared" is his own key: his payment runs.
        let bob_first = keyed(&app, Method::POST, path, "shared", Some(&bob_token), Some(pay(&bookings[1]))).await;
        assert_eq!(bob_first.status, 200, "{}", bob_first.body);
        assert!(!bob_first.replayed());
        let paid = app.get_as(&admin, &format!("/api/bookings/{}", bookings[1])).await;
        assert_eq!(paid.data()["status"], "CONFIRMED");
        // Each replays only their own.
        let ann_again = keyed(&app, Method::POST, path, "shared", Some(&ann_token), Some(pay(&bookings[0]))).await;
        assert_replayed(&ann_first, &ann_again);
        keyed(&app, Method::POST, path, "shared", Some(&ann_token), Some(pay(&bookings[1]))).await
            .assert_error(422, "Idempotency-Key was already used with a different request");
        // A request without a valid token is refused, and its key is not taken by it.
        let refused = keyed(&app, Method::POST, path, "fresh", Some("not-a-token"), Some(pay(&bookings[0]))).await;
        assert_eq!(refused.status, 401);
        assert_eq!(count(&app, "idempotency_keys WHERE idempotency_key = 'fresh'").await, 0);
        app.stop().await;
    }

    async fn keys_older_than_a_day_are_pruned(backend: Backend) {
        let app = TestApp::spawn_with(backend, |config| config.sweep_interval_ms = 100).await;
        let first = post(&app, "/api/events", "old", event_body("Old")).await;
        assert_eq!(first.status, 201, "{}", first.body);
        assert_eq!(count(&app, "idempotency_keys").await, 1);
        // As if it had been used 25 hours ago.
        let long_ago = boxoffice::domain::Timestamp::now().millis() - 25 * 3_600_000;
        app.sql(&format!("UPDATE idempotency_keys SET created_at = {long_ago}")).await;
        let mut left = 1;
        for _ in 0..50 {
            left = count(&app, "idempotency_keys").await;
            if left == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(left, 0, "the sweeper prunes keys older than 24 hours");
        // The key is free again: the same request runs as new.
        let again = post(&app, "/api/events", "old", event_body("Old")).await;
        assert_eq!(again.status, 201, "{}", again.body);
        assert!(!again.replayed());
        assert_eq!(count(&app, "events WHERE name = 'Old'").await, 2);
        app.stop().await;
    }
}
