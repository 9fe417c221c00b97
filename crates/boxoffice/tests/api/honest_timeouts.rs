//! Rule 8: a 503 means nothing changed (issue 9, item 2). Two servers on one database, one of
//! them with `REQUEST_TIMEOUT_MS=3`: holds, confirmations and payments sent to it at once are
//! answered 201/200 or `503 Request timed out`, and every 503 left the database as it was,
//! with group commit on and off.

use std::collections::HashSet;
use std::time::Duration;

use futures_util::future::join_all;

use crate::backend_tests;
use crate::harness::{Reply, TestApp};

const HOLDS: usize = 120;

/// A second server on `app`'s database that gives every request 3 ms.
async fn hasty(app: &TestApp, batching: bool) -> TestApp {
    app.another_instance(|config| {
        config.request_timeout_ms = 3;
        config.lock_batching = if batching {
            boxoffice::config::Switch::On
        } else {
            boxoffice::config::Switch::Off
        };
    })
    .await
}

fn timed_out(reply: &Reply) -> bool {
    if reply.status == 503 {
        assert_eq!(reply.body["code"], "TIMEOUT", "{}", reply.body);
        assert_eq!(reply.message(), "Request timed out");
        true
    } else {
        false
    }
}

async fn count(app: &TestApp, query: &str) -> usize {
    app.sql_text(&format!("SELECT CAST(COUNT(*) AS TEXT) FROM {query}"))
        .await
        .parse()
        .unwrap()
}

/// Rounds of 120 simultaneous one-seat holds to the hasty server, each on a new event (the race
/// is a matter of microseconds: several rounds make a wrong answer show up every time).
async fn holds_answered_503_made_no_lock(app: &TestApp, batching: bool) {
    for _ in 0..4 {
        one_round_of_holds(app, batching).await;
    }
}

/// As many locks exist as were answered 201, now and a while later, and the counter agrees
/// with the rows.
async fn one_round_of_holds(app: &TestApp, batching: bool) {
    let fast = hasty(app, batching).await;
    let user = app.register("Hasty").await;
    let event = app.create_event(500).await;
    let keys: Vec<String> = (0..HOLDS).map(|i| format!("hold-{i}")).collect();
    let replies = join_all(keys.iter().map(|key| fast.try_lock(&event, &user, 1, key))).await;
    let mut granted = HashSet::new();
    let mut late = 0;
    for reply in &replies {
        if timed_out(reply) {
            late += 1;
        } else {
            assert_eq!(reply.status, 201, "{}", reply.body);
            granted.insert(reply.id());
        }
    }
    assert!(late > 0, "3 ms is too short for some of {HOLDS} holds");
    fast.stop().await;
    // A commit that began is answered before its request ends; nothing may appear later.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let where_event = format!("seat_locks WHERE event_id = '{event}'");
    assert_eq!(
        count(app, &where_event).await,
        granted.len(),
        "every lock in the database was answered 201 (batching {batching}, {late} timed out)"
    );
    for lock in &granted {
        assert_eq!(app.lock_status(lock).await, "ACTIVE");
    }
    let inventory = app.inventory(&event).await;
    assert_eq!(inventory["heldSeats"], granted.len());
    assert_eq!(app.available(&event).await, 500 - granted.len() as i64);
    // Each key timed out can be retried safely: it holds once.
    let retry = app.try_lock(&event, &user, 1, "hold-0").await;
    assert_eq!(retry.status, 201, "{}", retry.body);
    assert_eq!(
        count(app, &where_event).await,
        granted.len() + usize::from(!retry.replayed())
    );
}

backend_tests! {
    async fn holds_answered_503_made_no_lock_with_group_commit(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        holds_answered_503_made_no_lock(&app, true).await;
        app.stop().await;
    }

    async fn holds_answered_503_made_no_lock_one_transaction_each(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        holds_answered_503_made_no_lock(&app, false).await;
        app.stop().await;
    }

    async fn confirmations_and_payments_answered_503_were_never_applied(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let fast = hasty(&app, true).await;
        let user = app.register("Payer").await;
        let event = app.create_event(200).await;
        let mut locks = Vec::new();
        let mut bookings = Vec::new();
        for i in 0..40 {
            locks.push(app.lock(&event, &user, 1, &format!("c-{i}")).await);
            bookings.push(app.book(&app.lock(&event, &user, 1, &format!("p-{i}")).await).await);
        }
        let confirmations = join_all(locks.iter().map(|lock| fast.confirm(lock)));
        let payments = join_all(bookings.iter().map(|booking| fast.pay(booking, "success")));
        let (confirmations, payments) = tokio::join!(confirmations, payments);
        fast.stop().await;
        tokio::time::sleep(Duration::from_millis(300)).await;

        let mut late = 0;
        for (lock, reply) in locks.iter().zip(&confirmations) {
            let made = count(&app, &format!("bookings WHERE seat_lock_id = '{lock}'")).await;
            if timed_out(reply) {
                late += 1;
                assert_eq!(made, 0, "a confirmation answered 503 made a booking");
            } else {
                assert_eq!(reply.status, 201, "{}", reply.body);
                assert_eq!(made, 1);
            }
        }
        for (booking, reply) in bookings.iter().zip(&payments) {
            let status = app.booking_status(booking).await;
            let recorded = app.payments(booking, "SUCCESS").await;
            if timed_out(reply) {
                late += 1;
                assert_eq!((status.as_str(), recorded), ("PAYMENT_PENDING", 0), "a payment answered 503 was applied");
            } else {
                assert_eq!(reply.status, 200, "{}", reply.body);
                assert_eq!((status.as_str(), recorded), ("CONFIRMED", 1));
            }
        }
        assert!(late > 0, "3 ms is too short for some of 80 writes");
        let inventory = app.inventory(&event).await;
        assert_eq!(inventory["consistent"], true);
        app.stop().await;
    }
}
