//! What the views of seated events show of their seats (CONTRACT.md, "Reserved seating": each
//! category's `availableSeats` is its FREE seats), counted by the database for a whole page of
//! the event list at once: holds, blocks, pending and paid bookings and a failed payment, on
//! charts whose categories come back row after row, each counted in its own category and event.

use serde_json::{Value, json};

use crate::backend_tests;
use crate::harness::TestApp;
use crate::seating::hold_named;

/// 15 seats: `front` in stalls rows A (6) and C (3), `back` in row B between them (4), `box`
/// in the balcony (2).
fn interleaved_chart() -> Value {
    json!({
      "categories": [{"key": "front", "name": "Front", "price": 9000, "currency": "EUR"},
                     {"key": "back", "name": "Back", "price": 5000, "currency": "EUR"},
                     {"key": "box", "name": "Box", "price": 20000, "currency": "EUR"}],
      "sections": [
        {"key": "stalls", "name": "Stalls", "rows": [
          {"key": "A", "seats": 6, "category": "front"},
          {"key": "B", "seats": 4, "category": "back"},
          {"key": "C", "seats": 3, "category": "front"}]},
        {"key": "balcony", "name": "Balcony", "rows": [{"key": "A", "seats": 2, "category": "box"}]}
      ]
    })
}

/// The view's categories with these FREE seats (front, back, box).
fn categories(front: i64, back: i64, boxes: i64) -> Value {
    json!([{"key": "front", "name": "Front", "price": 9000, "currency": "EUR", "availableSeats": front},
           {"key": "back", "name": "Back", "price": 5000, "currency": "EUR", "availableSeats": back},
           {"key": "box", "name": "Box", "price": 20000, "currency": "EUR", "availableSeats": boxes}])
}

async fn create(app: &TestApp, name: &str, day: u32) -> String {
    let reply = app
        .post(
            "/api/events",
            json!({"name": name, "eventDate": format!("2099-07-0{day}T20:00:00Z"),
                   "seatingChart": interleaved_chart()}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.id()
}

/// Holds `labels` for `user`; the lock's id.
async fn hold(app: &TestApp, event: &str, user: &str, labels: &[&str], key: &str) -> String {
    let reply = hold_named(app, event, user, labels, key).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.id()
}

async fn block(app: &TestApp, event: &str, labels: &[&str]) {
    let reply = app
        .post(
            &format!("/api/events/{event}/seats/block"),
            json!({"seatLabels": labels}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

/// FREE seats of `category` as the seat list (a read of every seat) counts them.
async fn free_in_seat_list(app: &TestApp, event: &str, category: &str) -> i64 {
    let reply = app
        .get(&format!("/api/events/{event}/seats?category={category}"))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.data()["counts"]["FREE"].as_i64().unwrap()
}

backend_tests! {
    async fn a_list_page_counts_each_seated_events_seats_by_category(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let user = app.register("Counter").await;
        let first = create(&app, "First", 1).await;
        let general = app
            .post("/api/events", json!({"name": "Standing", "eventDate": "2099-07-02T20:00:00Z",
                                        "totalSeats": 50}))
            .await
            .id();
        let second = create(&app, "Second", 3).await;
        let third = create(&app, "Third", 4).await;
        let fourth = create(&app, "Fourth", 5).await;

        // First: two front seats held, a back seat blocked, a front seat sold (row C, after
        // the back row), a back seat awaiting payment.
        hold(&app, &first, &user, &["stalls-A-1", "stalls-A-2"], "f-held").await;
        block(&app, &first, &["stalls-B-1"]).await;
        let sold = hold(&app, &first, &user, &["stalls-C-1"], "f-sold").await;
        let booking = app.book(&sold).await;
        assert_eq!(app.pay(&booking, "success").await.status, 200);
        let pending = hold(&app, &first, &user, &["stalls-B-2"], "f-pending").await;
        app.book(&pending).await;
        // Second: the boxes blocked, two front seats of row C sold.
        block(&app, &second, &["balcony-A-1", "balcony-A-2"]).await;
        let sold = hold(&app, &second, &user, &["stalls-C-2", "stalls-C-3"], "s-sold").await;
        let booking = app.book(&sold).await;
        assert_eq!(app.pay(&booking, "success").await.status, 200);
        // Third: a failed payment gives its seats back; a box held.
        let failed = hold(&app, &third, &user, &["stalls-A-3", "stalls-B-4"], "t-failed").await;
        let booking = app.book(&failed).await;
        assert_eq!(app.pay(&booking, "failure").await.status, 200);
        hold(&app, &third, &user, &["balcony-A-2"], "t-box").await;
        // Fourth: untouched.

        let expected = [
            (first.clone(), categories(6, 2, 2)),
            (second.clone(), categories(7, 4, 0)),
            (third.clone(), categories(9, 4, 1)),
            (fourth.clone(), categories(9, 4, 2)),
        ];
        // The seat list, which reads every seat, agrees.
        for (event, shown) in &expected {
            for (i, key) in ["front", "back", "box"].into_iter().enumerate() {
                assert_eq!(free_in_seat_list(&app, event, key).await, shown[i]["availableSeats"], "{event} {key}");
            }
        }

        // Two pages: the first holds three seated events and the general-admission one.
        let dates = "from=2099-07-01T00:00:00Z&to=2099-08-01T00:00:00Z";
        let page = app.get(&format!("/api/events?{dates}&limit=4")).await;
        assert_eq!(page.status, 200, "{}", page.body);
        let listed = page.data().as_array().unwrap().clone();
        let cursor = page.body["nextCursor"].as_str().expect("a second page").to_owned();
        let next = app.get(&format!("/api/events?{dates}&limit=4&cursor={cursor}")).await;
        assert_eq!(next.status, 200, "{}", next.body);
        let listed: Vec<Value> = listed.into_iter().chain(next.data().as_array().unwrap().clone()).collect();
        let ids: Vec<&str> = listed.iter().map(|e| e["_id"].as_str().unwrap()).collect();
        assert_eq!(ids, [first.as_str(), general.as_str(), second.as_str(), third.as_str(), fourth.as_str()]);
        assert_eq!(listed[1]["seated"], false);
        assert!(listed[1].get("categories").is_none(), "{}", listed[1]);
        let seated: Vec<&Value> = listed.iter().filter(|e| e["seated"] == true).collect();
        for ((event, shown), item) in expected.iter().zip(seated) {
            assert_eq!(item["categories"], *shown, "{event} in the list");
            // The event's own view shows the same, field for field.
            let alone = app.get(&format!("/api/events/{event}")).await;
            assert_eq!(alone.status, 200, "{}", alone.body);
            assert_eq!(alone.data(), item, "{event} alone");
        }
        app.stop().await;
    }
}
