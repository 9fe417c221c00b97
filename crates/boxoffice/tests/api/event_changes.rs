//! Changing an event: each field under its creation rule, and `totalSeats` moving the
//! available seats with it, never below the seats already taken.

use serde_json::{Value, json};

use crate::backend_tests;
use crate::harness::{Reply, TestApp};

const UNKNOWN_ID: &str = "5f0000000000000000000000";

async fn change(app: &TestApp, event: &str, body: Value) -> Reply {
    app.patch(&format!("/api/events/{event}"), body).await
}

/// Asserts a successful change and returns the event it answered with.
async fn changed(app: &TestApp, event: &str, body: Value) -> Value {
    let reply = change(app, event, body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["success"], true);
    let shown = app.get(&format!("/api/events/{event}")).await;
    assert_eq!(
        shown.data(),
        reply.data(),
        "the answer is the event as stored"
    );
    reply.data().clone()
}

fn seats(event: &Value) -> (i64, i64) {
    (
        event["totalSeats"].as_i64().unwrap(),
        event["availableSeats"].as_i64().unwrap(),
    )
}

backend_tests! {
    async fn an_event_changes_field_by_field(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let event = app.create_event(10).await;
        let original = app.get(&format!("/api/events/{event}")).await.data().clone();

        // An empty change changes nothing, not even updatedAt.
        assert_eq!(changed(&app, &event, json!({})).await, original);

        let renamed = changed(&app, &event, json!({"name": "  Renamed  "})).await;
        assert_eq!(renamed["name"], "Renamed");
        assert_eq!(renamed["description"], original["description"]);
        assert_eq!(renamed["eventDate"], original["eventDate"]);
        assert_eq!(renamed["createdAt"], original["createdAt"]);

        let moved = changed(
            &app,
            &event,
            json!({"description": "", "eventDate": "2098-01-02T12:00:00+01:00", "role": "admin"}),
        )
        .await;
        assert_eq!(moved["name"], "Renamed");
        assert_eq!(moved["description"], "");
        assert_eq!(moved["eventDate"], "2098-01-02T11:00:00.000Z");
        assert_eq!(seats(&moved), (10, 10));

        // null leaves a field as it is.
        let same = changed(&app, &event, json!({"name": null, "totalSeats": null})).await;
        assert_eq!(same["name"], "Renamed");
        assert_eq!(seats(&same), (10, 10));
        app.inventory(&event).await;
        app.stop().await;
    }

    async fn total_seats_move_available_seats_by_as_much(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let user = app.register("Bea").await;
        let event = app.create_event(10).await;
        let held = app.lock(&event, &user, 3, "held").await;
        let paid = app.book(&app.lock(&event, &user, 2, "paid").await).await;
        assert_eq!(app.pay(&paid, "success").await.status, 200);
        assert_eq!(app.available(&event).await, 5);

        assert_eq!(seats(&changed(&app, &event, json!({"totalSeats": 20})).await), (20, 15));
        app.inventory(&event).await;
        assert_eq!(seats(&changed(&app, &event, json!({"totalSeats": 5})).await), (5, 0));
        app.inventory(&event).await;
        change(&app, &event, json!({"totalSeats": 4}))
            .await
            .assert_error(400, "totalSeats cannot be below seats already taken");
        // A refused change changes no field at all.
        change(&app, &event, json!({"name": "Other", "totalSeats": 4}))
            .await
            .assert_error(400, "totalSeats cannot be below seats already taken");
        let unchanged = app.get(&format!("/api/events/{event}")).await;
        assert_eq!(unchanged.data()["name"], "Tech Summit 2027");
        assert_eq!(seats(unchanged.data()), (5, 0));
        app.try_lock(&event, &user, 1, "none-left").await.assert_error(400, "Not enough available seats");

        // Seats given back make room to shrink further.
        assert_eq!(app.delete(&format!("/api/locks/{held}")).await.status, 200);
        assert_eq!(seats(&changed(&app, &event, json!({"totalSeats": 2})).await), (2, 0));
        let inventory = app.inventory(&event).await;
        assert_eq!(inventory["confirmedSeats"], 2);
        assert_eq!(seats(&changed(&app, &event, json!({"totalSeats": 3})).await), (3, 1));
        assert_eq!(app.lock(&event, &user, 1, "last").await.len(), 24);
        app.inventory(&event).await;
        app.stop().await;
    }

    async fn withheld_seats_stay_withheld_when_total_seats_change(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let reply = app
            .post(
                "/api/events",
                json!({"name": "Gala", "eventDate": "2099-01-01T20:00:00Z", "totalSeats": 10, "availableSeats": 8}),
            )
            .await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        let event = reply.id();
        let grown = changed(&app, &event, json!({"totalSeats": 12})).await;
        assert_eq!(seats(&grown), (12, 10));
        assert_eq!(grown["withheldSeats"], 2);
        app.inventory(&event).await;
        assert_eq!(seats(&changed(&app, &event, json!({"totalSeats": 2})).await), (2, 0));
        change(&app, &event, json!({"totalSeats": 1}))
            .await
            .assert_error(400, "totalSeats cannot be below seats already taken");
        app.inventory(&event).await;
        app.stop().await;
    }

    async fn event_change_errors(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        change(&app, UNKNOWN_ID, json!({"name": "X"})).await.assert_error(404, "Event not found");
        change(&app, UNKNOWN_ID, json!({})).await.assert_error(404, "Event not found");
        change(&app, UNKNOWN_ID, json!({"totalSeats": 5})).await.assert_error(404, "Event not found");
        change(&app, "invalid_id_12345", json!({"name": "X"})).await.assert_error(404, "Event not found");

        let event = app.create_event(10).await;
        let before = app.get(&format!("/api/events/{event}")).await;
        for name in [json!(""), json!("   "), json!(5)] {
            change(&app, &event, json!({"name": name})).await.assert_error(400, "name is required");
        }
        change(&app, &event, json!({"name": "n".repeat(201)}))
            .await
            .assert_error(400, "name must be at most 200 characters");
        change(&app, &event, json!({"description": 5}))
            .await
            .assert_error(400, "description must be a string");
        for date in [json!("soon"), json!("2099-13-01T00:00:00Z"), json!(12)] {
            change(&app, &event, json!({"eventDate": date}))
                .await
                .assert_error(400, "eventDate must be a valid date");
        }
        change(&app, &event, json!({"eventDate": "2001-01-01T00:00:00Z"}))
            .await
            .assert_error(400, "eventDate must be in the future");
        for total in [json!(0), json!(-5), json!("20"), json!(2.5), json!(20.0), json!(true)] {
            change(&app, &event, json!({"name": "Valid", "totalSeats": total}))
                .await
                .assert_error(400, "totalSeats must be an integer ≥ 1");
        }
        let reply = app
            .send(app.client.patch(app.url(&format!("/api/events/{event}"))).json(&json!([1])))
            .await;
        reply.assert_error(400, "Request body must be a JSON object");
        let reply = app
            .send(
                app.client
                    .patch(app.url(&format!("/api/events/{event}")))
                    .header("content-type", "application/json")
                    .body("{not json"),
            )
            .await;
        reply.assert_error(400, "Request body is not valid JSON");
        let after = app.get(&format!("/api/events/{event}")).await;
        assert_eq!(after.data(), before.data(), "nothing changed");
        app.stop().await;
    }
}
