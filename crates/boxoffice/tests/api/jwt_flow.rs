//! The seed document's Testing Flow in AUTH_MODE=jwt: the same steps and the same final
//! state, with a login for the buyer and the admin creating the event.

use serde_json::json;

use crate::backend_tests;
use crate::harness::TestApp;

backend_tests! {
    async fn testing_flow_with_tokens(backend: Backend) {
        let app = TestApp::spawn_jwt(backend).await;
        let admin = app.admin_token().await;

        let reply = app
            .post("/api/users/register", json!({
                "name": "Alice Johnson", "email": "alice@example.com", "password": "securepass123"
            }))
            .await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        let alice = reply.id();
        let token = app.token("alice@example.com", "securepass123").await;
        assert_eq!(app.get_as(&token, &format!("/api/users/{alice}")).await.data()["email"], "alice@example.com");

        let reply = app
            .post_as(&admin, "/api/events", json!({
                "name": "Tech Summit 2026", "description": "International technology conference",
                "eventDate": "2099-06-15T10:00:00Z", "totalSeats": 100, "availableSeats": 100
            }))
            .await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        let event = reply.id();
        // Anyone may look at the event.
        assert_eq!(app.available(&event).await, 100);

        let hold = |key: &'static str| {
            app.post_as(&token, "/api/locks", json!({
                "eventId": event, "userId": alice, "seats": 2, "idempotencyKey": key
            }))
        };
        let book = async |lock: String| {
            let reply = app.post_as(&token, "/api/bookings/confirm", json!({"lockId": lock})).await;
            assert_eq!(reply.status, 201, "{}", reply.body);
            assert_eq!(reply.body["booking"]["user"], alice.as_str());
            reply.body["booking"]["_id"].as_str().unwrap().to_owned()
        };
        let pay = |booking: String, force: &'static str| {
            app.post_as(&token, "/api/payments/intent", json!({"bookingId": booking, "force": force}))
        };

        let lock1 = hold("lock-001").await.id();
        let booking1 = book(lock1.clone()).await;
        let reply = pay(booking1.clone(), "success").await;
        assert_eq!(reply.body["paymentStatus"], "SUCCESS", "{}", reply.body);
        assert_eq!(app.available(&event).await, 98);

        let lock2 = hold("lock-002").await.id();
        let booking2 = book(lock2.clone()).await;
        assert_eq!(pay(booking2.clone(), "failure").await.body["paymentStatus"], "FAILED");
        assert_eq!(app.available(&event).await, 98);

        let lock3 = hold("lock-003").await.id();
        let booking3 = book(lock3.clone()).await;
        assert_eq!(pay(booking3.clone(), "timeout").await.body["paymentStatus"], "TIMEOUT");

        // The seed's final state, as Alice and as the admin see it.
        assert_eq!(app.available(&event).await, 96);
        for (booking, status) in [(&booking1, "CONFIRMED"), (&booking2, "FAILED"), (&booking3, "PAYMENT_PENDING")] {
            for who in [&token, &admin] {
                let reply = app.get_as(who, &format!("/api/bookings/{booking}")).await;
                assert_eq!(reply.data()["status"], status, "{}", reply.body);
            }
        }
        for (lock, status) in [(&lock1, "CONSUMED"), (&lock2, "EXPIRED"), (&lock3, "ACTIVE")] {
            let reply = app.get_as(&token, &format!("/api/locks/{lock}")).await;
            assert_eq!(reply.data()["status"], status, "{}", reply.body);
        }
        assert_eq!(app.inventory_as(&admin, &event).await, json!({
            "eventId": event, "totalSeats": 100, "availableSeats": 96, "heldSeats": 0,
            "pendingPaymentSeats": 2, "confirmedSeats": 2, "withheldSeats": 0, "consistent": true
        }));
        // Without the token, none of it.
        app.get(&format!("/api/bookings/{booking1}")).await.assert_error(401, "Authentication required");
        app.stop().await;
    }
}
