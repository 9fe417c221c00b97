//! Idempotency keys are per user: a repeat replays the original, a different request under the
//! same key is refused, and simultaneous repeats still make one lock.

use crate::backend_tests;
use crate::harness::TestApp;
use futures_util::future::join_all;

backend_tests! {
    async fn a_repeated_lock_request_replays_the_original(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let user = app.register("Erin").await;
        let event = app.create_event(10).await;
        let first = app.try_lock(&event, &user, 3, "key-1").await;
        assert_eq!(first.status, 201);
        assert!(!first.replayed());
        let again = app.try_lock(&event, &user, 3, "key-1").await;
        assert_eq!(again.status, 201, "the original status code");
        assert!(again.replayed(), "Idempotent-Replayed: true");
        assert_eq!(again.data(), first.data());
        assert_eq!(app.available(&event).await, 7, "no second deduction");

        // Same key, different request: refused, nothing changes.
        let other_event = app.create_event(10).await;
        app.try_lock(&other_event, &user, 3, "key-1")
            .await
            .assert_error(422, "idempotencyKey was already used with a different request");
        app.try_lock(&event, &user, 4, "key-1")
            .await
            .assert_error(422, "idempotencyKey was already used with a different request");
        assert_eq!(app.available(&event).await, 7);
        assert_eq!(app.available(&other_event).await, 10);

        // Another user may use the same key.
        let other_user = app.register("Frank").await;
        let reply = app.try_lock(&event, &other_user, 3, "key-1").await;
        assert_eq!(reply.status, 201);
        assert!(!reply.replayed());
        assert_ne!(reply.id(), first.id());
        assert_eq!(app.available(&event).await, 4);
        app.inventory(&event).await;
        app.stop().await;
    }

    async fn simultaneous_requests_with_one_key_make_one_lock(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let user = app.register("Gina").await;
        let event = app.create_event(100).await;
        let replies = join_all((0..32).map(|_| app.try_lock(&event, &user, 2, "same-instant"))).await;
        let mut ids: Vec<String> = replies
            .iter()
            .map(|reply| {
                assert_eq!(reply.status, 201, "{}", reply.body);
                reply.id()
            })
            .collect();
        let fresh = replies.iter().filter(|r| !r.replayed()).count();
        assert_eq!(fresh, 1, "exactly one request made the lock; the rest are replays");
        ids.dedup();
        assert_eq!(ids.len(), 1, "every reply names the same lock");
        assert_eq!(app.available(&event).await, 98);
        let inventory = app.inventory(&event).await;
        assert_eq!(inventory["heldSeats"], 2);
        app.stop().await;
    }

    async fn a_lock_yields_at_most_one_booking(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let user = app.register("Hugo").await;
        let event = app.create_event(10).await;
        let lock = app.lock(&event, &user, 2, "k").await;
        let first = app.confirm(&lock).await;
        assert_eq!(first.status, 201);
        assert!(!first.replayed());
        let again = app.confirm(&lock).await;
        assert_eq!(again.status, 200);
        assert!(again.replayed());
        assert_eq!(again.body["booking"], first.body["booking"]);

        // Simultaneous confirms of another lock: one booking.
        let lock2 = app.lock(&event, &user, 2, "k2").await;
        let replies = join_all((0..16).map(|_| app.confirm(&lock2))).await;
        let created = replies.iter().filter(|r| r.status == 201).count();
        let replayed = replies.iter().filter(|r| r.status == 200 && r.replayed()).count();
        assert_eq!((created, replayed), (1, 15));
        let bookings = app.sql_text("SELECT CAST(COUNT(*) AS TEXT) FROM bookings").await;
        assert_eq!(bookings, "2");

        // Once paid, the lock is no longer confirmable.
        let booking = first.body["booking"]["_id"].as_str().unwrap();
        assert_eq!(app.pay(booking, "success").await.status, 200);
        app.confirm(&lock).await.assert_error(404, "INVALID_OR_EXPIRED_LOCK");
        let lock3 = app.lock(&event, &user, 1, "k3").await;
        let booking3 = app.book(&lock3).await;
        assert_eq!(app.pay(&booking3, "failure").await.status, 200);
        app.confirm(&lock3).await.assert_error(404, "INVALID_OR_EXPIRED_LOCK");
        assert_eq!(app.available(&event).await, 6);
        app.inventory(&event).await;
        app.stop().await;
    }
}
