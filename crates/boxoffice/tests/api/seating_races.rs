//! Reserved seating under races and crashes: many buyers for the same seats, many
//! best-available requests on a large hall (group commit at work), a `kill -9` in the middle,
//! and `boxoffice check` over the seat rows.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::harness::{TestApp, fresh_database};
use crate::process::{ServerProcess, run};
use crate::seating::{create_seated, hold_named, seat_statuses, theatre_chart};

/// A hall of `seats` seats: rows of 20 to 40 (an aisle in the middle), the front third
/// category "front", the rest "back", in two sections.
pub fn hall_chart(seats: usize) -> Value {
    let mut sections = [vec![], vec![]];
    let (mut placed, mut row) = (0, 0);
    while placed < seats {
        let n = (20 + (row * 7) % 21).min(seats - placed);
        let category = if placed < seats / 3 { "front" } else { "back" };
        let mut r = json!({"key": format!("R{row}"), "seats": n, "category": category});
        if n > 1 {
            r["aisleAfter"] = json!([n / 2]);
        }
        sections[usize::from(placed >= seats / 2)].push(r);
        placed += n;
        row += 1;
    }
    json!({
        "categories": [{"key": "front", "price": 8900, "currency": "EUR"},
                       {"key": "back", "price": 4900, "currency": "EUR"}],
        "sections": [{"key": "stalls", "name": "Stalls", "rows": sections[0]},
                     {"key": "circle", "name": "Circle", "rows": sections[1]}],
    })
}

/// The labels of a granted hold.
fn granted(reply: &crate::harness::Reply) -> Vec<String> {
    reply.data()["seatLabels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_owned())
        .collect()
}

backend_tests! {
    async fn a_hundred_buyers_race_for_the_same_two_seats(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let event = create_seated(&app, theatre_chart()).await.id();
        let mut users = Vec::new();
        for i in 0..10 {
            users.push(app.register(&format!("Racer{i}")).await);
        }
        let replies = join_all((0..100).map(|i| {
            let (app, event, user) = (&app, &event, &users[i % users.len()]);
            async move { hold_named(app, event, user, &["stalls-A-12", "stalls-A-13"], &format!("r{i}")).await }
        }))
        .await;
        let winners: Vec<_> = replies.iter().filter(|r| r.status == 201).collect();
        assert_eq!(winners.len(), 1, "exactly one buyer gets the two seats");
        for reply in replies.iter().filter(|r| r.status != 201) {
            reply.assert_error(400, "Seats not available");
        }
        let (seats, counts) = seat_statuses(&app, &event).await;
        assert_eq!(counts["HELD"], 2);
        assert!(seats.contains(&("stalls-A-12".to_owned(), "HELD".to_owned())));
        assert_eq!(app.available(&event).await, 27);
        app.inventory(&event).await;
        app.stop().await;
    }

    async fn a_thousand_best_available_requests_never_give_a_seat_twice(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let event = create_seated(&app, hall_chart(5000)).await.id();
        let mut users = Vec::new();
        for i in 0..20 {
            users.push(app.register(&format!("Fan{i}")).await);
        }
        let replies = join_all((0..1000).map(|i| {
            let (app, event, user) = (&app, &event, &users[i % users.len()]);
            let best = if i % 3 == 0 { json!({"category": "front"}) } else { json!({}) };
            async move {
                let body = json!({"eventId": event, "userId": user, "seats": 1 + i % 8,
                                  "bestAvailable": best, "idempotencyKey": format!("b{i}")});
                app.post("/api/locks", body).await
            }
        }))
        .await;
        let mut seen = HashSet::new();
        let mut held = 0;
        for (i, reply) in replies.iter().enumerate() {
            if reply.status != 201 {
                // Requests without a preference take the front rows first (chart order), so
                // the front category may run out; the hall as a whole cannot (≤ 4,500 seats
                // are asked for).
                assert_eq!(i % 3, 0, "only front requests may be refused: {}", reply.body);
                reply.assert_error(400, "Not enough available seats");
                continue;
            }
            let labels = granted(reply);
            assert_eq!(labels.len() as i64, reply.data()["seats"].as_i64().unwrap());
            for label in labels {
                assert!(seen.insert(label.clone()), "{label} was given twice");
                held += 1;
            }
        }
        assert!(held > 3000, "the requests without preference alone hold 3,000: {held}");
        let (_, counts) = seat_statuses(&app, &event).await;
        assert_eq!(counts["HELD"], held);
        assert_eq!(counts["FREE"], 5000 - held);
        assert_eq!(app.available(&event).await, 5000 - held);
        assert_eq!(app.inventory(&event).await["heldSeats"], held);
        app.stop().await;
    }

    async fn a_kill_9_in_the_middle_of_a_seat_race_leaves_check_clean(backend: Backend) {
        let (url, _dir) = fresh_database(backend).await;
        let settings = [("LOCK_TTL_SECONDS", "1"), ("SWEEP_INTERVAL_MS", "3600000")];
        let mut server = ServerProcess::start(backend, &url, &settings).await;
        let app = server.app();
        let user = app.register("Kit").await;
        let event = create_seated(&app, hall_chart(2000)).await.id();
        let acknowledged = Mutex::new(Vec::new());
        let worker = |w: usize| {
            let (app, event, user, acknowledged) = (&app, &event, &user, &acknowledged);
            async move {
                for i in 0.. {
                    let body = json!({"eventId": event, "userId": user, "seats": 1 + (w + i) % 4,
                                      "idempotencyKey": format!("w{w}-{i}")});
                    let Some(reply) = app.try_post("/api/locks", body).await else { return };
                    if reply.status != 201 { continue; }
                    let lock = reply.id();
                    acknowledged.lock().unwrap().push(lock.clone());
                    if i % 2 == 0 { continue; }
                    let Some(reply) = app.try_post("/api/bookings/confirm", json!({"lockId": lock})).await
                    else { return };
                    let Some(booking) = reply.body["booking"]["_id"].as_str() else { continue };
                    let force = if i % 4 == 1 { "success" } else { "failure" };
                    let body = json!({"bookingId": booking, "force": force});
                    if app.try_post("/api/payments/intent", body).await.is_none() { return }
                }
            }
        };
        let ((), ()) = tokio::join!(
            async { join_all((0..8).map(worker)).await; },
            async {
                tokio::time::sleep(Duration::from_millis(800)).await;
                server.kill_9().await;
            },
        );
        let acknowledged = acknowledged.into_inner().unwrap();
        assert!(acknowledged.len() > 10, "the race ran before the kill: {}", acknowledged.len());
        let (status, out) = run(&url, &["check"], &[]).await;
        assert!(status.success(), "right after the kill: {out}");

        // Restarted, the start-up sweep frees every lapsed hold's seats.
        tokio::time::sleep(Duration::from_millis(1200)).await;
        let restarted = ServerProcess::start(backend, &url, &settings).await;
        let app = restarted.app();
        for lock in &acknowledged {
            assert_eq!(app.get(&format!("/api/locks/{lock}")).await.status, 200);
        }
        let (_, counts) = seat_statuses(&app, &event).await;
        assert_eq!(counts["HELD"], 0, "{counts}");
        let inventory = app.inventory(&event).await;
        assert_eq!(counts["SOLD"], inventory["confirmedSeats"]);
        let (status, out) = run(&url, &["check"], &[]).await;
        assert!(status.success(), "{out}");
    }

    async fn check_finds_a_stray_seat_and_repair_frees_it(backend: Backend) {
        let (url, _dir) = fresh_database(backend).await;
        let server = ServerProcess::start(backend, &url, &[]).await;
        let app = server.app();
        let user = app.register("Ray").await;
        let event = create_seated(&app, theatre_chart()).await.id();
        let released = hold_named(&app, &event, &user, &["stalls-A-3"], "gone").await.id();
        assert_eq!(app.delete(&format!("/api/locks/{released}")).await.status, 200);
        hold_named(&app, &event, &user, &["stalls-A-5"], "kept").await;
        // Behind the server's back: a seat still taken by a lock that has expired.
        app.sql(&format!(
            "UPDATE seats SET status = 'HELD', lock_id = '{released}' WHERE label = 'stalls-A-3'"
        ))
        .await;
        let (status, out) = run(&url, &["check"], &[]).await;
        assert!(!status.success(), "{out}");
        assert!(out.contains("MISMATCH (seat rows: 27 free, 0 blocked, 1 stray, 0 locks short of seats)"), "{out}");
        let (status, out) = run(&url, &["check", "--repair"], &[]).await;
        assert!(status.success(), "{out}");
        let (status, out) = run(&url, &["check"], &[]).await;
        assert!(status.success(), "{out}");
        let (seats, _) = seat_statuses(&app, &event).await;
        assert_eq!(seats[2], ("stalls-A-3".to_owned(), "FREE".to_owned()));
        assert_eq!(seats[4], ("stalls-A-5".to_owned(), "HELD".to_owned()), "the live hold keeps its seat");
        assert_eq!(app.available(&event).await, 28);
    }
}
