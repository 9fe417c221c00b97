//! Holds given up early or kept longer: a release returns the seats once, an extension moves
//! the expiry within the lock's maximum lifetime, and neither touches a booked lock.

use std::time::Duration;

use boxoffice::domain::Timestamp;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::harness::{Backend, Reply, TestApp};

const UNKNOWN_ID: &str = "5f0000000000000000000000";

fn instant(value: &Value) -> i64 {
    Timestamp::parse_rfc3339(value.as_str().expect("a timestamp"))
        .expect("an RFC 3339 timestamp")
        .millis()
}

async fn release(app: &TestApp, lock: &str) -> Reply {
    app.delete(&format!("/api/locks/{lock}")).await
}

async fn extend(app: &TestApp, lock: &str, seconds: Value) -> Reply {
    app.post(
        &format!("/api/locks/{lock}/extend"),
        json!({ "seconds": seconds }),
    )
    .await
}

/// A server that never sweeps, with short holds that may live at most `max_lifetime` seconds.
async fn app_with_lifetimes(backend: Backend, lock_ttl: u32, max_lifetime: u32) -> TestApp {
    TestApp::spawn_with(backend, |config| {
        config.lock_ttl_seconds = lock_ttl;
        config.lock_max_lifetime_seconds = max_lifetime;
        config.sweep_interval_ms = 3_600_000;
    })
    .await
}

backend_tests! {
    async fn releasing_a_hold_returns_its_seats_once(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let user = app.register("Vic").await;
        let event = app.create_event(10).await;
        let lock = app.lock(&event, &user, 4, "k").await;
        let kept = app.lock(&event, &user, 1, "kept").await;
        assert_eq!(app.available(&event).await, 5);

        let reply = release(&app, &lock).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(reply.body["success"], true);
        assert_eq!(reply.data()["_id"], lock.as_str());
        assert_eq!(reply.data()["status"], "EXPIRED");
        assert_eq!(reply.data()["seats"], 4);
        let shown = app.get(&format!("/api/locks/{lock}")).await;
        assert_eq!(shown.data(), reply.data(), "the answer is the lock as stored");
        assert_eq!(app.available(&event).await, 9);
        assert_eq!(app.inventory(&event).await["heldSeats"], 1);

        release(&app, &lock).await.assert_error(400, "Lock cannot be released in EXPIRED state");
        app.confirm(&lock).await.assert_error(404, "INVALID_OR_EXPIRED_LOCK");
        assert_eq!(app.available(&event).await, 9);
        assert_eq!(app.lock_status(&kept).await, "ACTIVE");
        app.inventory(&event).await;
        app.stop().await;
    }

    async fn release_errors(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let user = app.register("Wes").await;
        release(&app, UNKNOWN_ID).await.assert_error(404, "Lock not found");
        release(&app, "invalid_id_12345").await.assert_error(404, "Lock not found");

        let event = app.create_event(10).await;
        let pending = app.lock(&event, &user, 2, "pending").await;
        let booking = app.book(&pending).await;
        release(&app, &pending)
            .await
            .assert_error(400, "Lock backs a booking; cancel the booking instead");
        let paid = app.lock(&event, &user, 3, "paid").await;
        let paid_booking = app.book(&paid).await;
        assert_eq!(app.pay(&paid_booking, "success").await.status, 200);
        release(&app, &paid).await.assert_error(400, "Lock cannot be released in CONSUMED state");

        assert_eq!(app.lock_status(&pending).await, "ACTIVE");
        assert_eq!(app.booking_status(&booking).await, "PAYMENT_PENDING");
        assert_eq!(app.available(&event).await, 5);
        app.inventory(&event).await;
        app.stop().await;
    }

    async fn a_lapsed_hold_counts_as_expired_and_is_expired_on_the_spot(backend: Backend) {
        let app = app_with_lifetimes(backend, 1, 7200).await;
        let user = app.register("Xia").await;
        let event = app.create_event(10).await;
        let released = app.lock(&event, &user, 3, "released").await;
        let extended = app.lock(&event, &user, 2, "extended").await;
        assert_eq!(app.available(&event).await, 5);
        tokio::time::sleep(Duration::from_millis(1200)).await;

        release(&app, &released).await.assert_error(400, "Lock cannot be released in EXPIRED state");
        assert_eq!(app.lock_status(&released).await, "EXPIRED");
        assert_eq!(app.available(&event).await, 8);
        extend(&app, &extended, json!(60)).await.assert_error(404, "INVALID_OR_EXPIRED_LOCK");
        assert_eq!(app.lock_status(&extended).await, "EXPIRED");
        assert_eq!(app.available(&event).await, 10);

        release(&app, &released).await.assert_error(400, "Lock cannot be released in EXPIRED state");
        extend(&app, &extended, json!(60)).await.assert_error(404, "INVALID_OR_EXPIRED_LOCK");
        assert_eq!(app.available(&event).await, 10);
        app.inventory(&event).await;
        app.stop().await;
    }

    async fn extending_a_hold_moves_its_expiry_from_now(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let user = app.register("Yan").await;
        let event = app.create_event(10).await;
        let lock = app.lock(&event, &user, 2, "k").await;

        let before = Timestamp::now().millis();
        let reply = extend(&app, &lock, json!(1800)).await;
        let after = Timestamp::now().millis();
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(reply.body["success"], true);
        let extended = reply.data();
        assert_eq!(extended["_id"], lock.as_str());
        assert_eq!(extended["status"], "ACTIVE");
        let expires = instant(&extended["expiresAt"]);
        assert!((before + 1_800_000..=after + 1_800_000).contains(&expires), "{extended}");
        let shown = app.get(&format!("/api/locks/{lock}")).await;
        assert_eq!(shown.data(), extended, "the answer is the lock as stored");

        // A hold may be shortened, too.
        let reply = extend(&app, &lock, json!(60)).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert!(instant(&reply.data()["expiresAt"]) < expires);

        // Seats do not move; the extended lock is confirmed as usual.
        assert_eq!(app.available(&event).await, 8);
        app.inventory(&event).await;
        let booking = app.book(&lock).await;
        assert_eq!(app.booking_status(&booking).await, "PAYMENT_PENDING");
        app.stop().await;
    }

    async fn an_extension_stops_at_the_maximum_lifetime(backend: Backend) {
        // Generous enough that a busy machine does not let the hold lapse before it is extended.
        let app = app_with_lifetimes(backend, 3, 8).await;
        let user = app.register("Zoe").await;
        let event = app.create_event(10).await;
        let reply = app.try_lock(&event, &user, 2, "k").await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        let lock = reply.id();
        let created = instant(&reply.data()["createdAt"]);

        let reply = extend(&app, &lock, json!(3600)).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(instant(&reply.data()["expiresAt"]), created + 8_000);
        let reply = extend(&app, &lock, json!(1)).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert!(instant(&reply.data()["expiresAt"]) < created + 8_000);
        app.inventory(&event).await;

        // Shortened, it lapses like any other hold.
        tokio::time::sleep(Duration::from_millis(1200)).await;
        extend(&app, &lock, json!(3600)).await.assert_error(404, "INVALID_OR_EXPIRED_LOCK");
        assert_eq!(app.lock_status(&lock).await, "EXPIRED");
        assert_eq!(app.available(&event).await, 10);
        app.inventory(&event).await;
        app.stop().await;
    }

    async fn extension_errors(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let user = app.register("Abe").await;
        let event = app.create_event(10).await;
        let lock = app.lock(&event, &user, 1, "plain").await;
        let before = app.get(&format!("/api/locks/{lock}")).await;
        let message = "seconds must be an integer between 1 and 3600";
        for seconds in [json!(0), json!(3601), json!(-1), json!("5"), json!(5.0), json!(2.5), json!(null), json!(true)] {
            extend(&app, &lock, seconds).await.assert_error(400, message);
        }
        app.post(&format!("/api/locks/{lock}/extend"), json!({})).await.assert_error(400, message);
        // The body is checked before the lock is looked up.
        extend(&app, UNKNOWN_ID, json!(0)).await.assert_error(400, message);
        let after = app.get(&format!("/api/locks/{lock}")).await;
        assert_eq!(after.data(), before.data(), "nothing changed");

        extend(&app, UNKNOWN_ID, json!(60)).await.assert_error(404, "INVALID_OR_EXPIRED_LOCK");
        extend(&app, "invalid_id_12345", json!(60)).await.assert_error(404, "INVALID_OR_EXPIRED_LOCK");
        let pending = app.lock(&event, &user, 2, "pending").await;
        let booking = app.book(&pending).await;
        let paid = app.lock(&event, &user, 3, "paid").await;
        let paid_booking = app.book(&paid).await;
        assert_eq!(app.pay(&paid_booking, "success").await.status, 200);
        let released = app.lock(&event, &user, 1, "released").await;
        assert_eq!(release(&app, &released).await.status, 200);
        for lock in [&pending, &paid, &released] {
            let before = app.get(&format!("/api/locks/{lock}")).await;
            extend(&app, lock, json!(60)).await.assert_error(404, "INVALID_OR_EXPIRED_LOCK");
            let after = app.get(&format!("/api/locks/{lock}")).await;
            assert_eq!(after.data(), before.data(), "nothing changed");
        }
        assert_eq!(app.booking_status(&booking).await, "PAYMENT_PENDING");
        assert_eq!(app.available(&event).await, 4);
        app.inventory(&event).await;
        app.stop().await;
    }
}

/// A lock could otherwise be created to outlive the lifetime no extension may pass.
#[tokio::test]
async fn a_lock_ttl_beyond_the_maximum_lifetime_stops_start_up() {
    let (database_url, _dir) = crate::harness::fresh_database(Backend::Sqlite).await;
    let mut config = crate::harness::test_config();
    config.database_url = database_url;
    config.lock_ttl_seconds = 600;
    config.lock_max_lifetime_seconds = 300;
    let Err(error) = boxoffice::app::Application::build(&config).await else {
        panic!("the server must not start");
    };
    let message = format!("{error:#}");
    assert!(message.contains("LOCK_TTL_SECONDS"), "{message}");
    assert!(message.contains("LOCK_MAX_LIFETIME_SECONDS"), "{message}");
}
