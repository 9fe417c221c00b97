//! Reserved seating over HTTP (CONTRACT.md, "Reserved seating"): seated events, holds by name
//! and best available, what each path does to the seat rows, blocking, and the rules' exact
//! messages. Helpers here serve the other `seating_*` test files too.

use serde_json::{Value, json};

use crate::backend_tests;
use crate::harness::{Reply, TestApp};

/// The contract's example chart: 24 front seats (aisle after 12, 1 and 24 accessible) and
/// five back seats numbered 2 to 10.
pub fn theatre_chart() -> Value {
    json!({
      "categories": [{"key": "front", "name": "Front stalls", "price": 8900, "currency": "EUR"},
                     {"key": "back",  "name": "Back stalls",  "price": 4900, "currency": "EUR"}],
      "sections": [
        {"key": "stalls", "name": "Stalls", "rows": [
          {"key": "A", "seats": 24, "category": "front", "aisleAfter": [12], "accessible": [1, 24]},
          {"key": "B", "numbers": [2, 4, 6, 8, 10], "category": "back"}
        ]}
      ]
    })
}

/// Creates a seated event with `chart`; asserts 201.
pub async fn create_seated(app: &TestApp, chart: Value) -> Reply {
    let reply = app
        .post(
            "/api/events",
            json!({"name": "Hamlet", "eventDate": "2099-06-15T19:30:00Z", "seatingChart": chart}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply
}

/// A hold by name.
pub async fn hold_named(
    app: &TestApp,
    event: &str,
    user: &str,
    labels: &[&str],
    key: &str,
) -> Reply {
    app.post(
        "/api/locks",
        json!({"eventId": event, "userId": user, "seatLabels": labels, "idempotencyKey": key}),
    )
    .await
}

/// A best-available hold with these preferences.
pub async fn hold_best(
    app: &TestApp,
    event: &str,
    user: &str,
    seats: i64,
    best: Value,
    key: &str,
) -> Reply {
    app.post(
        "/api/locks",
        json!({"eventId": event, "userId": user, "seats": seats, "bestAvailable": best,
               "idempotencyKey": key}),
    )
    .await
}

/// The labels in a lock's answer.
pub fn labels(reply: &Reply) -> Vec<String> {
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.data()["seatLabels"]
        .as_array()
        .expect("seatLabels")
        .iter()
        .map(|l| l.as_str().unwrap().to_owned())
        .collect()
}

/// `GET /api/events/:id/seats` (asserted 200) as label → status, and its counts.
pub async fn seat_statuses(app: &TestApp, event: &str) -> (Vec<(String, String)>, Value) {
    let reply = app.get(&format!("/api/events/{event}/seats")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let seats = reply.data()["seats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|seat| {
            (
                seat["label"].as_str().unwrap().to_owned(),
                seat["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    (seats, reply.data()["counts"].clone())
}

/// The labels of the seats in `status`.
pub async fn seats_in(app: &TestApp, event: &str, status: &str) -> Vec<String> {
    let (seats, _) = seat_statuses(app, event).await;
    seats
        .into_iter()
        .filter(|(_, s)| s == status)
        .map(|(label, _)| label)
        .collect()
}

fn strings(labels: &[&str]) -> Vec<String> {
    labels.iter().map(|l| l.to_string()).collect()
}

backend_tests! {
    async fn a_seated_event_is_created_from_its_chart(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let reply = create_seated(&app, theatre_chart()).await;
        let event = reply.data();
        assert_eq!(event["totalSeats"], 29);
        assert_eq!(event["availableSeats"], 29);
        assert_eq!(event["withheldSeats"], 0);
        assert_eq!(event["seated"], true);
        assert_eq!(
            event["categories"],
            json!([{"key": "front", "name": "Front stalls", "price": 8900, "currency": "EUR", "availableSeats": 24},
                   {"key": "back", "name": "Back stalls", "price": 4900, "currency": "EUR", "availableSeats": 5}])
        );
        let id = reply.id();
        let shown = app.get(&format!("/api/events/{id}")).await;
        assert_eq!(shown.data()["categories"], event["categories"]);

        let (seats, counts) = seat_statuses(&app, &id).await;
        assert_eq!(seats.len(), 29);
        assert_eq!(seats[0], ("stalls-A-1".to_owned(), "FREE".to_owned()));
        assert_eq!(seats[25].0, "stalls-B-4");
        assert_eq!(counts, json!({"FREE": 29, "HELD": 0, "PENDING_PAYMENT": 0, "SOLD": 0, "BLOCKED": 0}));
        let seat = &app.get(&format!("/api/events/{id}/seats?category=front")).await.body["data"]["seats"][0];
        assert_eq!(
            *seat,
            json!({"label": "stalls-A-1", "section": "stalls", "row": "A", "number": 1,
                   "category": "front", "accessible": true, "status": "FREE"})
        );
        let back = app.get(&format!("/api/events/{id}/seats?section=stalls&category=back")).await;
        assert_eq!(back.data()["seats"].as_array().unwrap().len(), 5);
        assert_eq!(back.data()["counts"]["FREE"], 5);
        app.get(&format!("/api/events/{id}/seats?status=GONE")).await.assert_error(
            400,
            "status must be one of FREE, HELD, PENDING_PAYMENT, SOLD, BLOCKED",
        );
        app.get(&format!("/api/events/{id}/seats?section=circle")).await
            .assert_error(400, "section names no section of this event");
        app.inventory(&id).await;

        // totalSeats may be given if it agrees; availableSeats too.
        let agreeing = app.post("/api/events", json!({"name": "x", "eventDate": "2099-01-01T00:00:00Z",
            "totalSeats": 29, "availableSeats": 29, "seatingChart": theatre_chart()})).await;
        assert_eq!(agreeing.status, 201, "{}", agreeing.body);
        app.stop().await;
    }

    async fn the_readme_walk_through_gets_the_seats_it_shows(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let event = create_seated(&app, theatre_chart()).await.id();
        let user = app.register("Bea").await;
        let named = hold_named(&app, &event, &user, &["stalls-A-7", "stalls-A-8"], "named-1").await;
        assert_eq!(named.data()["amount"], 17800);
        let best = hold_best(&app, &event, &user, 2, json!({"category": "back"}), "best-1").await;
        assert_eq!(labels(&best), strings(&["stalls-B-2", "stalls-B-4"]));
        assert_eq!(best.data()["nextToEachOther"], true);
        let held = app.get(&format!("/api/events/{event}/seats?status=HELD")).await;
        assert_eq!(held.data()["seats"].as_array().unwrap().len(), 4);
        assert_eq!(held.data()["counts"]["HELD"], 4);
        app.stop().await;
    }

    async fn a_malformed_chart_is_refused_naming_its_first_fault(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let create = |chart: Value, extra: Value| {
            let mut body = json!({"name": "x", "eventDate": "2099-01-01T00:00:00Z", "seatingChart": chart});
            for (k, v) in extra.as_object().unwrap() {
                body[k] = v.clone();
            }
            app.post("/api/events", body)
        };
        let mut repeats = theatre_chart();
        repeats["sections"][0]["rows"][1]["numbers"] = json!([2, 4, 6, 4]);
        create(repeats, json!({})).await.assert_error(400, "seatingChart: row stalls-B repeats seat 4");
        let mut unknown = theatre_chart();
        unknown["sections"][0]["rows"][0]["category"] = json!("vip");
        create(unknown, json!({})).await
            .assert_error(400, "seatingChart: row stalls-A names an unknown category vip");
        let mut bad_key = theatre_chart();
        bad_key["sections"][0]["key"] = json!("stalls-left");
        create(bad_key, json!({})).await.assert_error(
            400,
            "seatingChart: sections[0] key must be 1 to 32 characters of A-Z a-z 0-9 _",
        );
        create(theatre_chart(), json!({"totalSeats": 30})).await
            .assert_error(400, "totalSeats must equal the seats of the seating chart");
        create(theatre_chart(), json!({"availableSeats": 20})).await
            .assert_error(400, "availableSeats must equal the seats of the seating chart");
        let huge: Vec<Value> = (0..11).map(|i| json!({"key": format!("R{i}"), "seats": 9999, "category": "c"})).collect();
        create(json!({"categories": [{"key": "c", "price": 1, "currency": "EUR"}],
                      "sections": [{"key": "S", "rows": huge}]}), json!({})).await
            .assert_error(400, "seatingChart: at most 100000 seats");
        create(json!("stalls"), json!({})).await.assert_error(400, "seatingChart: must be an object");
        let listed = app.get("/api/events").await;
        assert_eq!(listed.data().as_array().unwrap().len(), 0, "nothing was created");

        // A general-admission event may carry one price.
        let priced = app.post("/api/events", json!({"name": "GA", "eventDate": "2099-01-01T00:00:00Z",
            "totalSeats": 10, "price": 2500, "currency": "EUR"})).await;
        assert_eq!(priced.status, 201, "{}", priced.body);
        assert_eq!((priced.data()["seated"].clone(), priced.data()["price"].clone()), (json!(false), json!(2500)));
        let user = app.register("Gus").await;
        let lock = app.try_lock(&priced.id(), &user, 3, "ga").await;
        assert_eq!((lock.data()["amount"].clone(), lock.data()["currency"].clone()), (json!(7500), json!("EUR")));
        app.post("/api/events", json!({"name": "GA", "eventDate": "2099-01-01T00:00:00Z",
            "totalSeats": 10, "price": 2500})).await
            .assert_error(400, "price and currency must be given together");
        app.stop().await;
    }

    async fn seats_are_held_by_name_all_or_nothing(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let event = create_seated(&app, theatre_chart()).await.id();
        let ann = app.register("Ann").await;
        let bob = app.register("Bob").await;

        let held = hold_named(&app, &event, &ann, &["stalls-A-8", "stalls-A-7"], "k1").await;
        assert_eq!(labels(&held), strings(&["stalls-A-7", "stalls-A-8"]), "in chart order");
        let lock = held.data();
        assert_eq!((lock["seats"].clone(), lock["amount"].clone(), lock["currency"].clone()),
                   (json!(2), json!(17800), json!("EUR")));
        assert!(lock.get("nextToEachOther").is_none(), "best available only");
        let lock_id = held.id();
        assert_eq!(app.available(&event).await, 27);

        // The same key again replays; with other labels it is a 422.
        let again = hold_named(&app, &event, &ann, &["stalls-A-7", "stalls-A-8"], "k1").await;
        assert_eq!((again.status.as_u16(), again.replayed(), again.id()), (201, true, lock_id.clone()));
        hold_named(&app, &event, &ann, &["stalls-A-9"], "k1").await
            .assert_error(422, "idempotencyKey was already used with a different request");

        let taken = hold_named(&app, &event, &bob, &["stalls-A-9", "stalls-A-8", "stalls-B-2", "stalls-A-7"], "b").await;
        taken.assert_error(400, "Seats not available");
        assert_eq!(taken.body["code"], "SEATS_UNAVAILABLE");
        assert_eq!(taken.body["unavailable"], json!(["stalls-A-7", "stalls-A-8"]));
        let unknown = hold_named(&app, &event, &bob, &["stalls-A-9", "stalls-C-1"], "b").await;
        unknown.assert_error(400, "Unknown seat: stalls-C-1");
        assert_eq!(unknown.body["code"], "UNKNOWN_SEAT");
        hold_named(&app, &event, &bob, &["stalls-B-3"], "b").await.assert_error(400, "Unknown seat: stalls-B-3");
        app.post("/api/locks", json!({"eventId": event, "userId": bob, "seats": 3,
            "seatLabels": ["stalls-A-9"], "idempotencyKey": "b"})).await
            .assert_error(400, "seats must match seatLabels");
        hold_named(&app, &event, &bob, &["stalls-A-9", "stalls-A-9"], "b").await
            .assert_error(400, "seatLabels must be 1 to 100 distinct seat labels");
        hold_named(&app, &event, &bob, &[], "b").await
            .assert_error(400, "seatLabels must be 1 to 100 distinct seat labels");
        assert_eq!(app.available(&event).await, 27, "nothing was held by the refusals");
        assert_eq!(seats_in(&app, &event, "HELD").await, strings(&["stalls-A-7", "stalls-A-8"]));

        // A general-admission event has no seats by name.
        let ga = app.create_event(10).await;
        hold_named(&app, &ga, &bob, &["stalls-A-1"], "ga").await.assert_error(400, "Event has no seating chart");
        hold_best(&app, &ga, &bob, 1, json!({}), "ga2").await.assert_error(400, "Event has no seating chart");
        app.get(&format!("/api/events/{ga}/seats")).await.assert_error(400, "Event has no seating chart");

        // The hold becomes a booking, then a sale: its seats follow.
        let booking = app.confirm(&lock_id).await;
        assert_eq!(booking.status, 201, "{}", booking.body);
        let b = &booking.body["booking"];
        assert_eq!((b["seats"].clone(), b["seatCount"].clone(), b["amount"].clone(), b["currency"].clone()),
                   (json!(["stalls-A-7", "stalls-A-8"]), json!(2), json!(17800), json!("EUR")));
        assert_eq!(seats_in(&app, &event, "PENDING_PAYMENT").await, strings(&["stalls-A-7", "stalls-A-8"]));
        let paid = app.pay(b["_id"].as_str().unwrap(), "success").await;
        assert_eq!(paid.body["booking"]["seats"], json!(["stalls-A-7", "stalls-A-8"]), "{}", paid.body);
        assert_eq!(paid.body["booking"]["amount"], 17800);
        let (_, counts) = seat_statuses(&app, &event).await;
        assert_eq!(counts, json!({"FREE": 27, "HELD": 0, "PENDING_PAYMENT": 0, "SOLD": 2, "BLOCKED": 0}));
        let shown = app.get(&format!("/api/events/{event}")).await;
        assert_eq!(shown.data()["categories"][0]["availableSeats"], 22);
        app.inventory(&event).await;
        app.stop().await;
    }

    async fn best_available_gives_the_hand_worked_seats(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        // Row A: 10 seats, an aisle after 5, seat 1 accessible; row B: 10 seats (back);
        // a box of three with an aisle after its first seat.
        let chart = json!({
            "categories": [{"key": "front", "price": 5000, "currency": "EUR"},
                           {"key": "back", "price": 3000, "currency": "EUR"}],
            "sections": [
                {"key": "stalls", "rows": [
                    {"key": "A", "seats": 10, "category": "front", "aisleAfter": [5], "accessible": [1]},
                    {"key": "B", "seats": 10, "category": "back"}]},
                {"key": "box", "rows": [{"key": "A", "seats": 3, "category": "front", "aisleAfter": [1]}]}
            ]});
        let event = create_seated(&app, chart).await.id();
        let user = app.register("Cleo").await;
        let best = |seats, prefs: Value, key: &'static str| hold_best(&app, &event, &user, seats, prefs, key);

        // 4-5 and 6-7 strand nothing and are as near the middle: the lower pair.
        let first = best(2, json!({}), "1").await;
        assert_eq!(labels(&first), strings(&["stalls-A-4", "stalls-A-5"]));
        assert_eq!(first.data()["nextToEachOther"], true);
        assert_eq!(first.data()["amount"], 10000);
        // 1-3 would leave a seat alone either way; 6-7 does not. A seed client's plain count
        // gets best available seats too.
        let second = app.try_lock(&event, &user, 2, "2").await;
        assert_eq!(labels(&second), strings(&["stalls-A-6", "stalls-A-7"]));
        let back = best(2, json!({"category": "back"}), "3").await;
        assert_eq!(labels(&back), strings(&["stalls-B-5", "stalls-B-6"]));
        let wheelchair = best(1, json!({"accessible": true}), "4").await;
        assert_eq!(labels(&wheelchair), strings(&["stalls-A-1"]));
        // Three in the box cannot sit together across its aisle: refused with `together`,
        // split greedily without (the pair first, then the single seat).
        best(3, json!({"section": "box", "together": true}), "5").await
            .assert_error(400, "Not enough available seats");
        let split = best(3, json!({"section": "box"}), "6").await;
        assert_eq!(labels(&split), strings(&["box-A-1", "box-A-2", "box-A-3"]));
        assert_eq!(split.data()["nextToEachOther"], false);
        best(1, json!({"section": "box"}), "7").await.assert_error(400, "Not enough available seats");
        best(1, json!({"category": "vip"}), "8").await
            .assert_error(400, "bestAvailable.category vip is not a category of this event");
        best(1, json!({"together": "yes"}), "9").await
            .assert_error(400, "bestAvailable.together must be true or false");
        // The same key with another bestAvailable is a 422; with the same one, a replay.
        best(2, json!({"category": "front"}), "3").await
            .assert_error(422, "idempotencyKey was already used with a different request");
        let replay = best(2, json!({"category": "back"}), "3").await;
        assert!(replay.replayed());
        assert_eq!(labels(&replay), strings(&["stalls-B-5", "stalls-B-6"]));
        assert_eq!(app.available(&event).await, 23 - 10);
        app.inventory(&event).await;
        app.stop().await;
    }

    async fn every_path_that_returns_seats_frees_exactly_its_own(backend: Backend) {
        let app = TestApp::spawn_with(backend, |config| config.sweep_interval_ms = 3_600_000).await;
        let event = create_seated(&app, theatre_chart()).await.id();
        let user = app.register("Dan").await;
        let keep = labels(&hold_named(&app, &event, &user, &["stalls-A-1"], "keep").await);

        // Early release.
        let lock = hold_named(&app, &event, &user, &["stalls-A-2", "stalls-A-3"], "r").await.id();
        assert_eq!(app.delete(&format!("/api/locks/{lock}")).await.status, 200);
        // Payment failure.
        let lock = hold_named(&app, &event, &user, &["stalls-A-4"], "f").await.id();
        let booking = app.book(&lock).await;
        assert_eq!(app.pay(&booking, "failure").await.status, 200);
        // Cancellation while pending, and after payment.
        let lock = hold_named(&app, &event, &user, &["stalls-B-2"], "c1").await.id();
        let booking = app.book(&lock).await;
        assert_eq!(app.cancel(&booking).await.status, 200);
        let lock = hold_named(&app, &event, &user, &["stalls-B-4"], "c2").await.id();
        let booking = app.book(&lock).await;
        assert_eq!(app.pay(&booking, "success").await.status, 200);
        assert_eq!(app.cancel(&booking).await.status, 200);

        assert_eq!(seats_in(&app, &event, "HELD").await, keep, "only the kept hold's seat is taken");
        assert_eq!(app.available(&event).await, 28);
        // Each freed seat can be held again; freeing twice frees nothing more.
        assert_eq!(app.delete(&format!("/api/locks/{lock}")).await.status, 400);
        let again = hold_named(&app, &event, &user, &["stalls-A-2", "stalls-A-3", "stalls-A-4", "stalls-B-2", "stalls-B-4"], "again").await;
        assert_eq!(again.status, 201, "{}", again.body);
        assert_eq!(app.available(&event).await, 23);
        app.inventory(&event).await;
        app.stop().await;
    }

    async fn lapsed_holds_free_their_seats_by_sweep_or_reclaim(backend: Backend) {
        let app = TestApp::spawn_with(backend, |config| {
            config.lock_ttl_seconds = 1;
            config.sweep_interval_ms = 3_600_000;
        })
        .await;
        let event = create_seated(&app, theatre_chart()).await.id();
        let ann = app.register("Ann").await;
        let bob = app.register("Bob").await;
        let lapsing = hold_named(&app, &event, &ann, &["stalls-A-5", "stalls-A-6"], "a").await.id();
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        // Lapsed but unswept: still HELD, as a general-admission counter would be.
        assert_eq!(seats_in(&app, &event, "HELD").await, strings(&["stalls-A-5", "stalls-A-6"]));
        // Someone asking for one of them reclaims the lapsed hold in the same transaction.
        let reclaimed = hold_named(&app, &event, &bob, &["stalls-A-6"], "b").await;
        assert_eq!(labels(&reclaimed), strings(&["stalls-A-6"]));
        assert_eq!(app.lock_status(&lapsing).await, "EXPIRED");
        assert_eq!(seats_in(&app, &event, "FREE").await.len(), 29 - 1);
        app.inventory(&event).await;
        app.stop().await;

        // The sweeper frees them too.
        let app = TestApp::spawn_with(backend, |config| {
            config.lock_ttl_seconds = 1;
            config.sweep_interval_ms = 100;
        })
        .await;
        let event = create_seated(&app, theatre_chart()).await.id();
        let ann = app.register("Ann").await;
        let lock = hold_best(&app, &event, &ann, 3, json!({}), "a").await.id();
        let mut waited = 0;
        while app.lock_status(&lock).await != "EXPIRED" {
            assert!(waited < 100, "the sweeper expires the hold");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            waited += 1;
        }
        let (_, counts) = seat_statuses(&app, &event).await;
        assert_eq!(counts["FREE"], 29);
        assert_eq!(app.available(&event).await, 29);
        app.inventory(&event).await;
        app.stop().await;
    }

    async fn admins_block_and_unblock_seats(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let event = create_seated(&app, theatre_chart()).await.id();
        let user = app.register("Eve").await;
        let (block_path, unblock_path) =
            (format!("/api/events/{event}/seats/block"), format!("/api/events/{event}/seats/unblock"));
        let block = |labels: Value| app.post(&block_path, json!({"seatLabels": labels}));
        let unblock = |labels: Value| app.post(&unblock_path, json!({"seatLabels": labels}));

        let blocked = block(json!(["stalls-A-3", "stalls-A-2"])).await;
        assert_eq!(blocked.status, 200, "{}", blocked.body);
        assert_eq!(blocked.data(), &json!({"blocked": ["stalls-A-2", "stalls-A-3"]}));
        let shown = app.get(&format!("/api/events/{event}")).await;
        assert_eq!((shown.data()["availableSeats"].clone(), shown.data()["withheldSeats"].clone()), (json!(27), json!(2)));
        assert_eq!(seats_in(&app, &event, "BLOCKED").await, strings(&["stalls-A-2", "stalls-A-3"]));
        let refused = hold_named(&app, &event, &user, &["stalls-A-3"], "k").await;
        refused.assert_error(400, "Seats not available");
        assert_eq!(refused.body["unavailable"], json!(["stalls-A-3"]));

        let again = block(json!(["stalls-A-4", "stalls-A-3"])).await;
        again.assert_error(400, "Seats not available");
        assert_eq!(again.body["unavailable"], json!(["stalls-A-3"]));
        block(json!(["stalls-Z-1"])).await.assert_error(400, "Unknown seat: stalls-Z-1");
        block(json!("stalls-A-4")).await.assert_error(400, "seatLabels must be 1 to 100 distinct seat labels");
        unblock(json!(["stalls-A-2", "stalls-A-4"])).await.assert_error(400, "Seats not available");
        assert_eq!(app.available(&event).await, 27, "all or nothing");

        let unblocked = unblock(json!(["stalls-A-2", "stalls-A-3"])).await;
        assert_eq!(unblocked.data(), &json!({"unblocked": ["stalls-A-2", "stalls-A-3"]}));
        assert_eq!(app.available(&event).await, 29);
        assert_eq!(labels(&hold_named(&app, &event, &user, &["stalls-A-3"], "k").await), strings(&["stalls-A-3"]));
        app.inventory(&event).await;

        let ga = app.create_event(5).await;
        app.post(&format!("/api/events/{ga}/seats/block"), json!({"seatLabels": ["a-b-1"]})).await
            .assert_error(400, "Event has no seating chart");
        app.post("/api/events/5f0000000000000000000000/seats/block", json!({"seatLabels": ["a-b-1"]})).await
            .assert_error(404, "Event not found");

        // PATCH cannot resize a seated event; other fields change.
        app.patch(&format!("/api/events/{event}"), json!({"totalSeats": 40})).await
            .assert_error(400, "totalSeats of a seated event follows its seating chart");
        let renamed = app.patch(&format!("/api/events/{event}"), json!({"name": "Hamlet (matinée)"})).await;
        assert_eq!(renamed.status, 200, "{}", renamed.body);
        assert_eq!(renamed.data()["totalSeats"], 29);
        app.stop().await;
    }
}
