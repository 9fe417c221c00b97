//! The seed document's Testing Flow, step by step, with its final state.

use serde_json::json;

use crate::backend_tests;
use crate::harness::TestApp;

backend_tests! {
    async fn testing_flow_end_to_end(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        assert_eq!(app.get("/health").await.body, json!({"status": "OK"}));

        // Step 1: register.
        let reply = app
            .post("/api/users/register", json!({
                "name": "Alice Johnson", "email": "alice@example.com", "password": "securepass123"
            }))
            .await;
        assert_eq!(reply.status, 201);
        assert_eq!(reply.body["success"], true);
        let user = reply.id();
        assert_eq!(reply.data()["name"], "Alice Johnson");
        assert_eq!(reply.data()["email"], "alice@example.com");
        assert_eq!(reply.data()["role"], "user");
        assert!(reply.data().get("password").is_none());
        assert_eq!(user.len(), 24);
        assert!(user.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));

        let reply = app.get(&format!("/api/users/{user}")).await;
        assert_eq!(reply.status, 200);
        for field in ["_id", "name", "email", "role", "createdAt", "updatedAt"] {
            assert!(reply.data().get(field).is_some(), "{field} in {}", reply.body);
        }
        assert!(reply.data().get("password").is_none() && reply.data().get("passwordHash").is_none());

        // Step 2: create the event.
        let reply = app
            .post("/api/events", json!({
                "name": "Tech Summit 2026",
                "description": "International technology conference",
                "eventDate": "2099-06-15T10:00:00Z",
                "totalSeats": 100,
                "availableSeats": 100
            }))
            .await;
        assert_eq!(reply.status, 201);
        let event = reply.id();
        assert_eq!(reply.data()["eventDate"], "2099-06-15T10:00:00.000Z");
        assert_eq!(reply.data()["totalSeats"], 100);
        assert_eq!(reply.data()["availableSeats"], 100);
        assert_eq!(reply.data()["description"], "International technology conference");
        let created_at = reply.data()["createdAt"].as_str().unwrap().to_owned();
        assert_eq!(created_at.len(), "2026-01-28T12:28:29.379Z".len());
        assert!(created_at.ends_with('Z'));

        // Steps 3-5: lock, confirm, pay successfully.
        let reply = app.try_lock(&event, &user, 2, "lock-001").await;
        assert_eq!(reply.status, 201);
        assert_eq!(reply.data()["status"], "ACTIVE");
        assert_eq!(reply.data()["seats"], 2);
        assert_eq!(reply.data()["eventId"], event.as_str());
        assert_eq!(reply.data()["userId"], user.as_str());
        assert_eq!(reply.data()["idempotencyKey"], "lock-001");
        assert!(!reply.replayed());
        let lock1 = reply.id();

        let reply = app.confirm(&lock1).await;
        assert_eq!(reply.status, 201);
        let booking = &reply.body["booking"];
        assert_eq!(booking["status"], "PAYMENT_PENDING");
        assert_eq!(booking["seats"], json!(["2"]));
        assert_eq!(booking["seatCount"], 2);
        assert_eq!(booking["seatLockId"], lock1.as_str());
        assert_eq!(booking["user"], user.as_str());
        assert_eq!(booking["event"], event.as_str());
        let booking1 = booking["_id"].as_str().unwrap().to_owned();

        let reply = app.pay(&booking1, "success").await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.body, json!({
            "success": true,
            "paymentStatus": "SUCCESS",
            "message": "Payment successful and booking confirmed",
            "booking": {
                "id": booking1, "status": "CONFIRMED", "event": event, "user": user, "seats": ["2"]
            }
        }));
        assert_eq!(app.available(&event).await, 98);
        assert_eq!(app.lock_status(&lock1).await, "CONSUMED");

        // Steps 6-8: lock, confirm, pay with failure: the seats come back.
        let lock2 = app.lock(&event, &user, 2, "lock-002").await;
        assert_eq!(app.available(&event).await, 96);
        let booking2 = app.book(&lock2).await;
        let reply = app.pay(&booking2, "failure").await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.body, json!({
            "success": true,
            "paymentStatus": "FAILED",
            "message": "Payment failed and seats have been released",
            "booking": {"id": booking2, "status": "FAILED", "event": event, "user": user}
        }));
        assert_eq!(app.available(&event).await, 98);
        assert_eq!(app.lock_status(&lock2).await, "EXPIRED");

        // Steps 9-11: lock, confirm, payment times out: nothing changes.
        let lock3 = app.lock(&event, &user, 2, "lock-003").await;
        let booking3 = app.book(&lock3).await;
        let reply = app.pay(&booking3, "timeout").await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.body, json!({
            "success": true,
            "paymentStatus": "TIMEOUT",
            "message": "Payment timed out (simulated)"
        }));

        // The seed's expected final state.
        assert_eq!(app.available(&event).await, 96);
        assert_eq!(app.booking_status(&booking1).await, "CONFIRMED");
        assert_eq!(app.booking_status(&booking2).await, "FAILED");
        assert_eq!(app.booking_status(&booking3).await, "PAYMENT_PENDING");
        assert_eq!(app.lock_status(&lock1).await, "CONSUMED");
        assert_eq!(app.lock_status(&lock2).await, "EXPIRED");
        assert_eq!(app.lock_status(&lock3).await, "ACTIVE");
        let inventory = app.inventory(&event).await;
        assert_eq!(inventory, json!({
            "eventId": event, "totalSeats": 100, "availableSeats": 96, "heldSeats": 0,
            "pendingPaymentSeats": 2, "confirmedSeats": 2, "withheldSeats": 0, "consistent": true
        }));

        // Every attempt is recorded, whatever its outcome.
        let payments = app
            .sql_text("SELECT CAST(COUNT(*) AS TEXT) FROM payments")
            .await;
        assert_eq!(payments, "3");

        // Paying twice is refused with the state.
        app.pay(&booking1, "success").await.assert_error(400, "Payment not allowed in CONFIRMED state");
        app.pay(&booking2, "success").await.assert_error(400, "Payment not allowed in FAILED state");
        assert_eq!(app.available(&event).await, 96);
        app.stop().await;
    }

    async fn passwords_are_stored_as_argon2id_hashes(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let reply = app
            .post("/api/users/register", json!({
                "name": "Bob", "email": "bob@example.com", "password": "hunter22", "role": "admin"
            }))
            .await;
        assert_eq!(reply.status, 201);
        // Registration never makes an admin, whatever the body says.
        assert_eq!(reply.data()["role"], "user");
        let stored = app.sql_text("SELECT password_hash FROM users").await;
        assert!(stored.starts_with("$argon2id$"), "{stored}");
        assert!(!stored.contains("hunter22"));
        let text = reply.body.to_string();
        assert!(!text.contains("argon2") && !text.contains("hunter22"), "{text}");
        app.stop().await;
    }
}
