//! Time is checked where it matters, not only by the sweeper: these servers never sweep
//! (the interval is an hour), and short TTLs make time pass in a second.

use std::time::Duration;

use crate::backend_tests;
use crate::harness::{Backend, TestApp};

async fn app_with_ttls(backend: Backend, lock_ttl: u32, payment_ttl: u32) -> TestApp {
    TestApp::spawn_with(backend, |config| {
        config.lock_ttl_seconds = lock_ttl;
        config.payment_ttl_seconds = payment_ttl;
        config.sweep_interval_ms = 3_600_000;
    })
    .await
}

async fn pass(seconds: f64) {
    tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
}

backend_tests! {
    async fn a_lapsed_lock_cannot_be_confirmed(backend: Backend) {
        let app = app_with_ttls(backend, 1, 600).await;
        let user = app.register("Jan").await;
        let event = app.create_event(10).await;
        let lock = app.lock(&event, &user, 3, "k").await;
        assert_eq!(app.available(&event).await, 7);
        pass(1.2).await;
        app.confirm(&lock).await.assert_error(404, "INVALID_OR_EXPIRED_LOCK");
        // Expired on the spot: its seats are back, exactly once.
        assert_eq!(app.lock_status(&lock).await, "EXPIRED");
        assert_eq!(app.available(&event).await, 10);
        app.confirm(&lock).await.assert_error(404, "INVALID_OR_EXPIRED_LOCK");
        assert_eq!(app.available(&event).await, 10);
        app.inventory(&event).await;
        app.stop().await;
    }

    async fn the_lock_of_a_pending_booking_lives_as_long_as_its_payment_window(backend: Backend) {
        let app = app_with_ttls(backend, 1, 30).await;
        let user = app.register("Kim").await;
        let event = app.create_event(3).await;
        let lock = app.lock(&event, &user, 3, "k").await;
        let reply = app.confirm(&lock).await;
        let booking = reply.body["booking"].clone();
        let lock_now = app.get(&format!("/api/locks/{lock}")).await;
        assert_eq!(lock_now.data()["expiresAt"], booking["paymentExpiresAt"]);

        // Past the lock's own TTL, a shortage reclaims lapsed holds, but not this one.
        pass(1.2).await;
        let other = app.register("Other").await;
        app.try_lock(&event, &other, 1, "o").await.assert_error(400, "Not enough available seats");
        assert_eq!(app.lock_status(&lock).await, "ACTIVE");
        let paid = app.pay(booking["_id"].as_str().unwrap(), "success").await;
        assert_eq!(paid.status, 200, "{}", paid.body);
        assert_eq!(app.lock_status(&lock).await, "CONSUMED");
        assert_eq!(app.available(&event).await, 0);
        app.inventory(&event).await;
        app.stop().await;
    }

    async fn a_lapsed_booking_cannot_be_paid(backend: Backend) {
        let app = app_with_ttls(backend, 300, 1).await;
        let user = app.register("Lou").await;
        let event = app.create_event(10).await;
        let lock = app.lock(&event, &user, 4, "k").await;
        let booking = app.book(&lock).await;
        assert_eq!(app.available(&event).await, 6);
        pass(1.2).await;
        app.pay(&booking, "success").await.assert_error(400, "Payment not allowed in EXPIRED state");
        assert_eq!(app.booking_status(&booking).await, "EXPIRED");
        assert_eq!(app.lock_status(&lock).await, "EXPIRED");
        assert_eq!(app.available(&event).await, 10);
        app.pay(&booking, "failure").await.assert_error(400, "Payment not allowed in EXPIRED state");
        app.confirm(&lock).await.assert_error(404, "INVALID_OR_EXPIRED_LOCK");
        assert_eq!(app.available(&event).await, 10);
        app.inventory(&event).await;
        app.stop().await;
    }

    async fn a_shortage_reclaims_lapsed_holds_first(backend: Backend) {
        let app = app_with_ttls(backend, 1, 1).await;
        let user = app.register("Max").await;
        let event = app.create_event(5).await;
        let plain = app.lock(&event, &user, 2, "plain").await;
        let backing = app.lock(&event, &user, 3, "backing").await;
        let booking = app.book(&backing).await;
        assert_eq!(app.available(&event).await, 0);
        pass(1.2).await;
        // Nothing swept them, yet the event has room again for a new buyer.
        let buyer = app.register("Ned").await;
        let reply = app.try_lock(&event, &buyer, 5, "late").await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        assert_eq!(app.lock_status(&plain).await, "EXPIRED");
        assert_eq!(app.lock_status(&backing).await, "EXPIRED");
        assert_eq!(app.booking_status(&booking).await, "EXPIRED");
        assert_eq!(app.available(&event).await, 0);
        let inventory = app.inventory(&event).await;
        assert_eq!(inventory["heldSeats"], 5);
        app.stop().await;
    }
}
