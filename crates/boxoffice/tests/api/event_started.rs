//! Rule 9: nothing is sold for an event that has started. An event dated two seconds ahead,
//! holds, a booking and a paid booking made before its start; after it, a new hold, a
//! confirmation and a successful payment are refused and change nothing, while failure and
//! timeout payments, release, expiry and reads still work.

use std::time::Duration;

use boxoffice::domain::Timestamp;
use serde_json::json;

use crate::backend_tests;
use crate::harness::TestApp;

const STARTED: &str = "Event has already taken place";

/// An event of `seats` seats that starts two seconds from now, and when it starts.
async fn event_starting_soon(app: &TestApp, seats: i64) -> (String, Timestamp) {
    let starts = Timestamp::now().plus_seconds(2);
    let reply = app
        .post(
            "/api/events",
            json!({"name": "Soon", "eventDate": starts.to_string(), "totalSeats": seats}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    (reply.id(), starts)
}

async fn until(instant: Timestamp) {
    let left = instant.millis() - Timestamp::now().millis() + 50;
    if left > 0 {
        tokio::time::sleep(Duration::from_millis(left.unsigned_abs())).await;
    }
}

backend_tests! {
    async fn nothing_is_sold_once_the_event_has_started(backend: Backend) {
        let app = TestApp::spawn_with(backend, |config| config.sweep_interval_ms = 3_600_000).await;
        let user = app.register("Ida").await;
        let (event, starts) = event_starting_soon(&app, 20).await;
        let unconfirmed = app.lock(&event, &user, 2, "unconfirmed").await;
        let to_pay = app.book(&app.lock(&event, &user, 3, "to-pay").await).await;
        let to_fail_lock = app.lock(&event, &user, 4, "to-fail").await;
        let to_fail = app.book(&to_fail_lock).await;
        let to_time_out = app.book(&app.lock(&event, &user, 1, "to-time-out").await).await;
        let confirmed_lock = app.lock(&event, &user, 5, "confirmed").await;
        let confirmed = app.confirm(&confirmed_lock).await;
        assert_eq!(confirmed.status, 201, "{}", confirmed.body);
        assert_eq!(app.available(&event).await, 5);
        until(starts).await;

        // A new hold, a confirmation and a successful payment: refused, nothing changes.
        app.try_lock(&event, &user, 1, "late").await.assert_error(400, STARTED);
        let refused = app.confirm(&unconfirmed).await;
        refused.assert_error(400, STARTED);
        assert_eq!(refused.body["code"], "EVENT_STARTED");
        assert_eq!(app.lock_status(&unconfirmed).await, "ACTIVE");
        app.pay(&to_pay, "success").await.assert_error(400, STARTED);
        assert_eq!(app.booking_status(&to_pay).await, "PAYMENT_PENDING");
        assert_eq!(app.payments(&to_pay, "SUCCESS").await, 0);
        // A confirmation made before the start is still replayed, selling nothing new.
        let again = app.confirm(&confirmed_lock).await;
        assert_eq!(again.status, 200, "{}", again.body);
        assert!(again.replayed());

        // Failure and timeout payments still work.
        let failed = app.pay(&to_fail, "failure").await;
        assert_eq!(failed.status, 200, "{}", failed.body);
        assert_eq!(failed.body["paymentStatus"], "FAILED");
        assert_eq!(app.lock_status(&to_fail_lock).await, "EXPIRED");
        let timed_out = app.pay(&to_time_out, "timeout").await;
        assert_eq!(timed_out.body["paymentStatus"], "TIMEOUT");
        assert_eq!(app.booking_status(&to_time_out).await, "PAYMENT_PENDING");
        // Reads still work; every seat is where the rows say.
        let inventory = app.inventory(&event).await;
        assert_eq!(inventory["heldSeats"], 2);
        assert_eq!(inventory["pendingPaymentSeats"], 9);
        assert_eq!(app.available(&event).await, 9);
        app.stop().await;
    }

    async fn a_fresh_hold_of_a_started_event_is_refused_then_released(backend: Backend) {
        let app = TestApp::spawn_with(backend, |config| config.sweep_interval_ms = 3_600_000).await;
        let user = app.register("Jo").await;
        let (event, starts) = event_starting_soon(&app, 10).await;
        let lock = app.lock(&event, &user, 4, "held").await;
        until(starts).await;
        app.confirm(&lock).await.assert_error(400, STARTED);
        assert_eq!(app.lock_status(&lock).await, "ACTIVE", "a refusal changes nothing");
        assert_eq!(app.available(&event).await, 6);
        // Release still works, and gives the seats back.
        let released = app.delete(&format!("/api/locks/{lock}")).await;
        assert_eq!(released.status, 200, "{}", released.body);
        assert_eq!(app.lock_status(&lock).await, "EXPIRED");
        assert_eq!(app.available(&event).await, 10);
        app.inventory(&event).await;
        app.stop().await;
    }

    async fn the_sweeper_still_expires_holds_of_a_started_event(backend: Backend) {
        let app = TestApp::spawn_with(backend, |config| {
            config.lock_ttl_seconds = 3;
            config.payment_ttl_seconds = 3;
            config.sweep_interval_ms = 200;
        })
        .await;
        let user = app.register("Kai").await;
        let (event, _) = event_starting_soon(&app, 10).await;
        let plain = app.lock(&event, &user, 2, "plain").await;
        let booking = app.book(&app.lock(&event, &user, 3, "booked").await).await;
        assert_eq!(app.available(&event).await, 5);
        until(Timestamp::now().plus_seconds(4)).await;
        assert_eq!(app.lock_status(&plain).await, "EXPIRED");
        assert_eq!(app.booking_status(&booking).await, "EXPIRED");
        assert_eq!(app.available(&event).await, 10);
        app.inventory(&event).await;
        app.stop().await;
    }
}
