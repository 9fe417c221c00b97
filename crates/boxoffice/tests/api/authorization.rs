//! Who may call what, in AUTH_MODE=jwt: every endpoint, walked by an anonymous caller, the
//! owner of the data, another user, and an admin.

use reqwest::Method;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::harness::{Account, TestApp};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Actor {
    Anonymous,
    Owner,
    Other,
    Admin,
}

const ACTORS: [Actor; 4] = [Actor::Anonymous, Actor::Owner, Actor::Other, Actor::Admin];

/// What the owner holds, made afresh for each actor so that one actor's success does not
/// change what the next one sees.
struct Fixture {
    actor: Actor,
    owner: Account,
    event: String,
    /// An ACTIVE lock, to read.
    lock: String,
    /// An ACTIVE lock, to confirm.
    unconfirmed: String,
    /// A PAYMENT_PENDING booking, to read and then pay.
    booking: String,
}

struct Call {
    method: Method,
    path: String,
    body: Option<Value>,
}

fn get(path: String) -> Call {
    Call {
        method: Method::GET,
        path,
        body: None,
    }
}

fn post(path: &str, body: Value) -> Call {
    Call {
        method: Method::POST,
        path: path.to_owned(),
        body: Some(body),
    }
}

type Row = (&'static str, [u16; 4], fn(&Fixture) -> Call);

/// Expected statuses for: anonymous, the owner, another user, an admin.
fn patch(path: String, body: Value) -> Call {
    Call {
        method: Method::PATCH,
        path,
        body: Some(body),
    }
}

fn delete(path: String) -> Call {
    Call {
        method: Method::DELETE,
        path,
        body: None,
    }
}

const MATRIX: &[Row] = &[
    ("health", [200, 200, 200, 200], |_| get("/health".into())),
    ("readiness", [200, 200, 200, 200], |_| {
        get("/health/ready".into())
    }),
    ("register", [201, 201, 201, 201], |f| {
        let email = format!("new-{:?}@example.com", f.actor).to_lowercase();
        post(
            "/api/users/register",
            json!({"name": "New", "email": email, "password": "secret12"}),
        )
    }),
    ("login", [200, 200, 200, 200], |f| {
        post(
            "/api/users/login",
            json!({"email": f.owner.email, "password": f.owner.password}),
        )
    }),
    ("read the owner's profile", [401, 200, 403, 200], |f| {
        get(format!("/api/users/{}", f.owner.id))
    }),
    ("read an unknown profile", [401, 403, 403, 404], |_| {
        get("/api/users/5f0000000000000000000000".into())
    }),
    ("create an event", [401, 403, 403, 201], |_| {
        post(
            "/api/events",
            json!({"name": "Gig", "eventDate": "2099-01-01T20:00:00Z", "totalSeats": 10}),
        )
    }),
    ("read an event", [200, 200, 200, 200], |f| {
        get(format!("/api/events/{}", f.event))
    }),
    ("read an unknown event", [404, 404, 404, 404], |_| {
        get("/api/events/5f0000000000000000000000".into())
    }),
    ("list events", [200, 200, 200, 200], |_| {
        get("/api/events".into())
    }),
    ("change an event", [401, 403, 403, 200], |f| {
        patch(
            format!("/api/events/{}", f.event),
            json!({"description": "changed"}),
        )
    }),
    ("list the owner's bookings", [401, 200, 403, 200], |f| {
        get(format!("/api/users/{}/bookings", f.owner.id))
    }),
    ("read an inventory", [401, 403, 403, 200], |f| {
        get(format!("/api/events/{}/inventory", f.event))
    }),
    ("lock seats for the owner", [401, 201, 403, 201], |f| {
        post(
            "/api/locks",
            json!({
                "eventId": f.event, "userId": f.owner.id, "seats": 1,
                "idempotencyKey": format!("matrix-{:?}", f.actor),
            }),
        )
    }),
    ("read the owner's lock", [401, 200, 404, 200], |f| {
        get(format!("/api/locks/{}", f.lock))
    }),
    ("extend the owner's lock", [401, 200, 404, 200], |f| {
        post(
            &format!("/api/locks/{}/extend", f.lock),
            json!({"seconds": 600}),
        )
    }),
    ("release the owner's lock", [401, 200, 404, 200], |f| {
        delete(format!("/api/locks/{}", f.lock))
    }),
    ("confirm the owner's lock", [401, 201, 404, 201], |f| {
        post("/api/bookings/confirm", json!({"lockId": f.unconfirmed}))
    }),
    ("read the owner's booking", [401, 200, 404, 200], |f| {
        get(format!("/api/bookings/{}", f.booking))
    }),
    ("pay the owner's booking", [401, 200, 404, 200], |f| {
        post(
            "/api/payments/intent",
            json!({"bookingId": f.booking, "force": "success"}),
        )
    }),
    ("cancel the owner's booking", [401, 200, 404, 200], |f| {
        post(&format!("/api/bookings/{}/cancel", f.booking), json!({}))
    }),
    ("an unknown route", [404, 404, 404, 404], |_| {
        get("/api/nowhere".into())
    }),
];

backend_tests! {
    async fn every_endpoint_answers_each_kind_of_caller_as_the_contract_says(backend: Backend) {
        let app = TestApp::spawn_jwt(backend).await;
        let admin = app.admin_token().await;
        let owner = app.register_account("Owner").await;
        let other = app.register_account("Other").await;
        let owner_token = app.token(&owner.email, &owner.password).await;
        let other_token = app.token(&other.email, &other.password).await;
        let token = |actor| match actor {
            Actor::Anonymous => None,
            Actor::Owner => Some(owner_token.as_str()),
            Actor::Other => Some(other_token.as_str()),
            Actor::Admin => Some(admin.as_str()),
        };

        let event = app
            .post_as(&admin, "/api/events", json!({
                "name": "Matrix", "eventDate": "2099-01-01T20:00:00Z", "totalSeats": 100
            }))
            .await
            .id();
        let mut fixtures = Vec::new();
        for actor in ACTORS {
            // The admin may hold seats in anyone's name: it sets up the owner's things.
            let lock = |key: String| {
                app.post_as(&admin, "/api/locks", json!({
                    "eventId": event, "userId": owner.id, "seats": 1, "idempotencyKey": key
                }))
            };
            let read = lock(format!("read-{actor:?}")).await.id();
            let unconfirmed = lock(format!("confirm-{actor:?}")).await.id();
            let booked = lock(format!("book-{actor:?}")).await.id();
            let reply = app.post_as(&admin, "/api/bookings/confirm", json!({"lockId": booked})).await;
            assert_eq!(reply.status, 201, "{}", reply.body);
            fixtures.push(Fixture {
                actor,
                owner: owner.clone(),
                event: event.clone(),
                lock: read,
                unconfirmed,
                booking: reply.body["booking"]["_id"].as_str().unwrap().to_owned(),
            });
        }

        let mut wrong = Vec::new();
        for (name, expected, request) in MATRIX {
            for (fixture, expected) in fixtures.iter().zip(expected) {
                let Call { method, path, body } = request(fixture);
                let reply = app.call(method.clone(), &path, token(fixture.actor), body).await;
                if reply.status != *expected {
                    wrong.push(format!(
                        "{name} ({method} {path}) as {:?}: expected {expected}, got {} {}",
                        fixture.actor, reply.status, reply.body
                    ));
                }
                if reply.status.as_u16() >= 400 {
                    assert_eq!(reply.body["success"], false, "{name}: {}", reply.body);
                    assert!(reply.body["code"].is_string(), "{name}: {}", reply.body);
                }
                match reply.status.as_u16() {
                    401 => assert_eq!(reply.message(), "Authentication required"),
                    403 => assert_eq!(reply.message(), "Forbidden"),
                    _ => {}
                }
            }
        }
        assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));

        // Someone else's lock and booking are not found, with the contract's messages.
        let fixture = &fixtures[0];
        app.get_as(&other_token, &format!("/api/locks/{}", fixture.lock))
            .await
            .assert_error(404, "Lock not found");
        app.get_as(&other_token, &format!("/api/bookings/{}", fixture.booking))
            .await
            .assert_error(404, "Booking not found");
        app.post_as(&other_token, "/api/bookings/confirm", json!({"lockId": fixture.unconfirmed}))
            .await
            .assert_error(404, "INVALID_OR_EXPIRED_LOCK");
        app.post_as(&other_token, "/api/payments/intent", json!({"bookingId": fixture.booking, "force": "success"}))
            .await
            .assert_error(404, "Booking not found");
        let other_fixture = &fixtures[2];
        app.post_as(&other_token, &format!("/api/bookings/{}/cancel", other_fixture.booking), json!({}))
            .await
            .assert_error(404, "Booking not found");
        app.post_as(&other_token, &format!("/api/locks/{}/extend", other_fixture.unconfirmed), json!({"seconds": 60}))
            .await
            .assert_error(404, "INVALID_OR_EXPIRED_LOCK");
        app.call(Method::DELETE, &format!("/api/locks/{}", other_fixture.unconfirmed), Some(&other_token), None)
            .await
            .assert_error(404, "Lock not found");
        // Validation still comes first for the owner's own requests.
        app.post_as(&owner_token, "/api/locks", json!({"eventId": event, "userId": owner.id, "seats": 0, "idempotencyKey": "k"}))
            .await
            .assert_error(400, "seats must be an integer between 1 and 100");
        app.inventory_as(&admin, &event).await;
        app.stop().await;
    }

    async fn open_mode_ignores_tokens_and_lets_everyone_do_everything(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let user = app.register_account("Ann").await;
        let event = app.create_event(10).await;
        // A token is neither needed nor checked: garbage passes, and so does a real one.
        for token in [None, Some("garbage")] {
            let reply = app.call(Method::GET, &format!("/api/users/{}", user.id), token, None).await;
            assert_eq!(reply.status, 200, "{}", reply.body);
            let reply = app.call(Method::GET, &format!("/api/events/{event}/inventory"), token, None).await;
            assert_eq!(reply.status, 200, "{}", reply.body);
        }
        // Logging in works in open mode too, so one client serves both modes.
        let token = app.token(&user.email, &user.password).await;
        assert_eq!(app.get_as(&token, &format!("/api/users/{}", user.id)).await.status, 200);
        app.stop().await;
    }
}
