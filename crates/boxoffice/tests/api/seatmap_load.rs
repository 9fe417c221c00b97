//! Seat maps are cheap to serve repeatedly and bounded in what they take (README, "Bounds at
//! the edge"): a flood of seat-map requests for a large chart never starves the database pool
//! of other requests, each answer is the full map or an honest JSON 503, and a seat held through
//! the API shows in the map at once on the instance that held it, and within the one-second
//! validity interval on another instance.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

use crate::backend_tests;
use crate::harness::TestApp;
use crate::seating::{create_seated, hold_named, theatre_chart};
use crate::seatmap_browser::status_of;

/// A chart of `rows` rows of 200 seats each.
fn big_chart(rows: usize) -> Value {
    let rows: Vec<Value> = (0..rows)
        .map(|row| json!({"key": format!("R{row}"), "seats": 200, "category": "all"}))
        .collect();
    json!({
        "categories": [{"key": "all", "name": "Everywhere", "price": 1000, "currency": "EUR"}],
        "sections": [{"key": "hall", "name": "Hall", "rows": rows}]
    })
}

async fn seat_map(app: &TestApp, event: &str) -> (u16, String) {
    let answer = app
        .client
        .get(app.url(&format!("/api/events/{event}/seatmap.svg")))
        .send()
        .await
        .expect("the server answers");
    let status = answer.status().as_u16();
    (status, answer.text().await.expect("a body"))
}

backend_tests! {
    async fn a_flood_of_seat_maps_leaves_the_pool_to_other_requests(backend: Backend) {
        // A small pool that waits little for a connection: without a bound, a flood of map
        // requests (each reading 20,000 seat rows) holds every connection, and other requests
        // get 503s. With it, maps use at most a quarter of the pool (one connection here).
        let app = TestApp::spawn_with(backend, |config| {
            config.database_max_connections = 4;
            config.database_acquire_timeout_ms = 1000;
        })
        .await;
        let seated = create_seated(&app, big_chart(100)).await.id();
        let plain = app.create_event(1000).await;
        let user = app.register("Reader").await;

        let flooding = Arc::new(AtomicBool::new(true));
        let flood: Vec<_> = (0..32)
            .map(|_| {
                let (client, url, flooding) = (
                    app.client.clone(),
                    app.url(&format!("/api/events/{seated}/seatmap.svg")),
                    flooding.clone(),
                );
                tokio::spawn(async move {
                    let mut answers = Vec::new();
                    while flooding.load(Ordering::Relaxed) {
                        let answer = client.get(&url).send().await.expect("the server answers");
                        let status = answer.status().as_u16();
                        let body = answer.text().await.expect("a body");
                        let seats = body.matches("class=\"seat\"").count();
                        let code = serde_json::from_str::<Value>(&body)
                            .map(|v| v["code"].as_str().unwrap_or_default().to_owned())
                            .unwrap_or_default();
                        answers.push((status, seats, code));
                    }
                    answers
                })
            })
            .collect();

        // Meanwhile, ordinary reads and holds: every one succeeds.
        for round in 0..30 {
            let event = app.get(&format!("/api/events/{plain}")).await;
            assert_eq!(event.status, 200, "round {round}: {}", event.body);
            let profile = app.get(&format!("/api/users/{user}")).await;
            assert_eq!(profile.status, 200, "round {round}: {}", profile.body);
            let hold = app.try_lock(&plain, &user, 1, &format!("flood-{round}")).await;
            assert_eq!(hold.status, 201, "round {round}: {}", hold.body);
            let listed = app.get("/api/events?limit=5&q=summit").await;
            assert_eq!(listed.status, 200, "round {round}: {}", listed.body);
            assert_eq!(listed.data().as_array().map(Vec::len), Some(1), "round {round}");
            // A seated event's view counts its seats in the database, outside the seat maps'
            // bound: alone and in a page of the list, it answers too.
            let shown = app.get(&format!("/api/events/{seated}")).await;
            assert_eq!(shown.status, 200, "round {round}: {}", shown.body);
            assert_eq!(shown.data()["categories"][0]["availableSeats"], 20_000);
            let listed = app.get("/api/events?limit=5&q=hamlet").await;
            assert_eq!(listed.status, 200, "round {round}: {}", listed.body);
            assert_eq!(listed.data()[0]["categories"][0]["availableSeats"], 20_000);
        }
        flooding.store(false, Ordering::Relaxed);

        let mut served = 0;
        for task in flood {
            for (status, seats, code) in task.await.unwrap() {
                match status {
                    200 => {
                        assert_eq!(seats, 20_000, "a whole map");
                        served += 1;
                    }
                    503 => assert!(code == "UNAVAILABLE" || code == "TIMEOUT", "{code}"),
                    other => panic!("a seat map answered {other}"),
                }
            }
        }
        assert!(served > 0, "no seat map was served");
        assert_eq!(app.available(&plain).await, 970);
        app.stop().await;
    }

    async fn a_held_seat_shows_in_the_map_at_once_here_and_within_a_second_elsewhere(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let event = create_seated(&app, theatre_chart()).await.id();
        let user = app.register("Watcher").await;
        let other = app.another_instance(|_| {}).await;

        // Both instances have drawn the map with every seat FREE.
        for instance in [&app, &other] {
            let (status, svg) = seat_map(instance, &event).await;
            assert_eq!(status, 200);
            assert_eq!(status_of(&svg, "stalls-A-7").as_deref(), Some("FREE"));
        }
        // A hold through the first instance shows in its next map, with no wait.
        let held = hold_named(&app, &event, &user, &["stalls-A-7"], "watched").await;
        assert_eq!(held.status, 201, "{}", held.body);
        let (_, svg) = seat_map(&app, &event).await;
        assert_eq!(status_of(&svg, "stalls-A-7").as_deref(), Some("HELD"));

        // The other instance drew its map before the hold: once the one-second validity has
        // passed (measured from after the hold's answer), its next map shows the hold too.
        tokio::time::sleep(Duration::from_millis(1200)).await;
        let (status, svg) = seat_map(&other, &event).await;
        assert_eq!(status, 200);
        assert_eq!(status_of(&svg, "stalls-A-7").as_deref(), Some("HELD"));

        // Released through the other instance: shown there at once.
        let lock = held.id();
        let released = other.delete(&format!("/api/locks/{lock}")).await;
        assert_eq!(released.status, 200, "{}", released.body);
        let (_, svg) = seat_map(&other, &event).await;
        assert_eq!(status_of(&svg, "stalls-A-7").as_deref(), Some("FREE"));

        // A write with an Idempotency-Key header commits with its kept answer, after its
        // handler: shown at once too.
        let request = other
            .client
            .post(other.url("/api/locks"))
            .header("Idempotency-Key", "header-hold")
            .json(&json!({"eventId": event, "userId": user, "seatLabels": ["stalls-A-8"],
                          "idempotencyKey": "header-hold"}));
        let held = other.send(request).await;
        assert_eq!(held.status, 201, "{}", held.body);
        let (_, svg) = seat_map(&other, &event).await;
        assert_eq!(status_of(&svg, "stalls-A-8").as_deref(), Some("HELD"));
        other.stop().await;
        app.stop().await;
    }
}
