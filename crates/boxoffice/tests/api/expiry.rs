//! The sweeper (the seed's Epic 6): lapsed holds expire by themselves, at start-up too, and
//! several sweeping instances never give the same seats back twice.

use std::time::Duration;

use futures_util::future::join_all;

use crate::backend_tests;
use crate::harness::TestApp;

async fn pass(seconds: f64) {
    tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
}

/// Polls until `check` holds, for at most `seconds`.
async fn eventually(seconds: f64, mut check: impl AsyncFnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + Duration::from_secs_f64(seconds);
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return true;
        }
        pass(0.05).await;
    }
    check().await
}

backend_tests! {
    async fn the_sweeper_expires_lapsed_holds_and_unpaid_bookings(backend: Backend) {
        let app = TestApp::spawn_with(backend, |config| {
            config.lock_ttl_seconds = 1;
            config.payment_ttl_seconds = 3;
            config.sweep_interval_ms = 100;
        })
        .await;
        let user = app.register("Sam").await;
        let event = app.create_event(10).await;
        let plain = app.lock(&event, &user, 2, "plain").await;
        let backing = app.lock(&event, &user, 3, "backing").await;
        let booking = app.book(&backing).await;
        assert_eq!(app.available(&event).await, 5);

        // The plain lock lapses after a second and the sweeper, untouched by any request,
        // gives its seats back. The lock behind the pending booking lives on.
        assert!(eventually(3.0, async || app.available(&event).await == 7).await);
        assert_eq!(app.lock_status(&plain).await, "EXPIRED");
        assert_eq!(app.lock_status(&backing).await, "ACTIVE");
        assert_eq!(app.booking_status(&booking).await, "PAYMENT_PENDING");
        app.inventory(&event).await;

        // The unpaid booking lapses with its lock, and its seats come back.
        assert!(eventually(4.0, async || app.available(&event).await == 10).await);
        assert_eq!(app.booking_status(&booking).await, "EXPIRED");
        assert_eq!(app.lock_status(&backing).await, "EXPIRED");
        app.pay(&booking, "success").await.assert_error(400, "Payment not allowed in EXPIRED state");
        assert_eq!(app.available(&event).await, 10);
        let inventory = app.inventory(&event).await;
        assert_eq!((inventory["heldSeats"].as_i64(), inventory["pendingPaymentSeats"].as_i64()), (Some(0), Some(0)));
        app.stop().await;
    }

    async fn holds_that_lapsed_while_down_are_released_at_start_up(backend: Backend) {
        let first = TestApp::spawn_with(backend, |config| {
            config.lock_ttl_seconds = 1;
            config.payment_ttl_seconds = 1;
            config.sweep_interval_ms = 3_600_000;
        })
        .await;
        let user = first.register("Tess").await;
        let event = first.create_event(10).await;
        first.lock(&event, &user, 4, "a").await;
        let backing = first.lock(&event, &user, 3, "b").await;
        first.book(&backing).await;
        assert_eq!(first.available(&event).await, 3);
        let url = first.database_url.clone();
        let _kept = first.stop().await;
        pass(1.2).await;

        // A new server that will not sweep for an hour: only the start-up sweep can have run.
        let second = TestApp::spawn_with(backend, |config| {
            config.database_url = url;
            config.sweep_interval_ms = 3_600_000;
        })
        .await;
        let inventory = second.inventory(&event).await;
        assert_eq!(inventory["availableSeats"], 10, "{inventory}");
        assert_eq!(inventory["heldSeats"], 0);
        assert_eq!(inventory["pendingPaymentSeats"], 0);
        second.stop().await;
    }

    async fn two_sweeping_instances_never_return_seats_twice(backend: Backend) {
        let fast_sweeper = |config: &mut boxoffice::config::Config| {
            config.lock_ttl_seconds = 1;
            config.payment_ttl_seconds = 1;
            config.sweep_interval_ms = 10;
        };
        let one = TestApp::spawn_with(backend, fast_sweeper).await;
        let two = one.another_instance(fast_sweeper).await;
        let user = one.register("Uma").await;
        let events = [one.create_event(300).await, one.create_event(300).await];
        // Locks and bookings spread over both instances and both events.
        let locks = join_all((0..240).map(|i| {
            let app = if i % 2 == 0 { &one } else { &two };
            let (event, user) = (&events[i % 2], &user);
            async move { (app.lock(event, user, 1 + (i as i64 % 2), &format!("k{i}")).await, i) }
        }))
        .await;
        join_all(locks.iter().filter(|(_, i)| i % 3 == 0).map(|(lock, i)| {
            let app = if i % 2 == 0 { &two } else { &one };
            app.confirm(lock)
        }))
        .await;
        pass(1.0).await;
        for event in &events {
            assert!(eventually(5.0, async || one.available(event).await == 300).await);
            let inventory = two.inventory(event).await;
            assert_eq!(inventory["availableSeats"], 300, "{inventory}");
        }
        one.stop().await;
        two.stop().await;
    }
}
