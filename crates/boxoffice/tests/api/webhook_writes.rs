//! The webhook endpoints' writes (create, rotate the secret, delete, redeliver) retried with an
//! `Idempotency-Key` (CONTRACT.md, "Retrying any write"): a repeat replays the first answer
//! and changes nothing more, concurrent repeats run once, and a write answered 503 changed
//! nothing (rule 8), because each joins the request's unit of work like every other write.
//! Also: redeliver's body is optional (none, empty, or `null`).

use std::time::Duration;

use futures_util::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::harness::{Reply, TestApp};
use crate::idempotency_header::{assert_replayed, count, keyed, post};
use crate::receiver::Receiver;

const URL: &str = "http://127.0.0.1:9/hook";

async fn secret_of(app: &TestApp, hook: &str) -> String {
    app.sql_text(&format!(
        "SELECT secret FROM webhook_endpoints WHERE id = '{hook}'"
    ))
    .await
}

async fn made(app: &TestApp, description: &str) -> String {
    let reply = app
        .post(
            "/api/webhooks",
            json!({"url": URL, "description": description}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.id()
}

/// An endpoint whose one notification (an event's creation) is dead: its receiver answers
/// 503 and the retry window is shorter than the first attempt.
async fn dead_delivery(app: &TestApp, receiver: &Receiver) -> String {
    receiver.answer(503);
    let reply = app
        .post("/api/webhooks", json!({"url": receiver.url()}))
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let hook = reply.id();
    app.create_event(10).await;
    wait_until_dead(app, &hook, 1).await;
    hook
}

async fn wait_until_dead(app: &TestApp, hook: &str, dead: i64) {
    let mut shown = Value::Null;
    for _ in 0..300 {
        shown = app
            .get(&format!("/api/webhooks/{hook}"))
            .await
            .data()
            .clone();
        if shown["dead"] == dead && shown["pending"] == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("not {dead} dead within 30 s: {shown}");
}

/// When the endpoint's deliveries were last queued (a redelivery sets it).
async fn queued_at(app: &TestApp, hook: &str) -> String {
    app.sql_text(&format!(
        "SELECT CAST(MAX(queued_at) AS TEXT) FROM webhook_deliveries WHERE endpoint_id = '{hook}'"
    ))
    .await
}

/// Exactly one of `replies` ran; the others replayed its answer or were told to retry.
fn ran_once(replies: &[Reply]) -> &Reply {
    let fresh: Vec<_> = replies
        .iter()
        .filter(|r| r.status.is_success() && !r.replayed())
        .collect();
    assert_eq!(
        fresh.len(),
        1,
        "exactly one ran: {:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    for reply in replies {
        if reply.status == 409 {
            reply.assert_error(409, "A request with this Idempotency-Key is in progress");
        } else {
            assert_eq!(
                (reply.status, &reply.body),
                (fresh[0].status, &fresh[0].body)
            );
        }
    }
    fresh[0]
}

fn short_retry_window(config: &mut boxoffice::config::Config) {
    // 0.36 s: the first failure is already past the window.
    config.notifications.webhook_retry_hours = 0.0001;
}

/// Creates, rotates and deletes 30 endpoints each on a server that gives every request
/// `millis`, all at once; some are answered 503. Each 503 must have changed nothing, and its
/// retry (on `app`, which is patient) runs; every other answer is replayed by its retry.
/// Returns how many were answered 503.
async fn writes_on_a_hasty_server(app: &TestApp, millis: u64) -> usize {
    let hasty = app
        .another_instance(|config| config.request_timeout_ms = millis)
        .await;
    let names: Vec<String> = (0..30).map(|i| format!("hasty-{millis}-{i}")).collect();
    let replies = join_all(names.iter().map(|name| {
        post(
            &hasty,
            "/api/webhooks",
            name,
            json!({"url": URL, "description": name}),
        )
    }))
    .await;
    let mut timed_out = 0;
    for (name, reply) in names.iter().zip(&replies) {
        if reply.status == 503 {
            timed_out += 1;
            let made = count(
                app,
                &format!("webhook_endpoints WHERE description = '{name}'"),
            )
            .await;
            assert_eq!(made, 0, "a create answered 503 made its endpoint");
        }
        let retry = post(
            app,
            "/api/webhooks",
            name,
            json!({"url": URL, "description": name}),
        )
        .await;
        assert_eq!(retry.status, 201, "{}", retry.body);
        if reply.status == 503 {
            assert!(!retry.replayed(), "a 503 was kept: {}", retry.body);
        } else {
            assert_replayed(reply, &retry);
        }
        let made = count(
            app,
            &format!("webhook_endpoints WHERE description = '{name}'"),
        )
        .await;
        assert_eq!(made, 1, "{name}");
    }

    // Rotations: a 503 left the secret as it was. (Keys are the caller's, not the
    // path's: each request gets its own.)
    let mut hooks = Vec::new();
    for name in &names {
        let hook = made(app, &format!("rotate-{name}")).await;
        let secret = secret_of(app, &hook).await;
        hooks.push((hook, secret));
    }
    let paths: Vec<String> = hooks
        .iter()
        .map(|(hook, _)| format!("/api/webhooks/{hook}/rotate-secret"))
        .collect();
    let replies = join_all(paths.iter().map(|path| post(&hasty, path, path, json!({})))).await;
    for ((hook, before), reply) in hooks.iter().zip(&replies) {
        let now = secret_of(app, hook).await;
        if reply.status == 503 {
            timed_out += 1;
            assert_eq!(&now, before, "a rotation answered 503 changed the secret");
        } else {
            assert_eq!(reply.status, 200, "{}", reply.body);
            assert_eq!(now, reply.data()["secret"].as_str().unwrap());
        }
    }

    // Deletions: a 503 left the endpoint in place.
    let paths: Vec<String> = hooks
        .iter()
        .map(|(hook, _)| format!("/api/webhooks/{hook}"))
        .collect();
    let replies = join_all(
        paths
            .iter()
            .map(|path| keyed(&hasty, Method::DELETE, path, path, None, None)),
    )
    .await;
    for ((hook, _), reply) in hooks.iter().zip(&replies) {
        let shown = app.get(&format!("/api/webhooks/{hook}")).await;
        if reply.status == 503 {
            timed_out += 1;
            assert_eq!(
                shown.status, 200,
                "a deletion answered 503 deleted: {}",
                shown.body
            );
        } else {
            assert_eq!(reply.status, 200, "{}", reply.body);
            shown.assert_error(404, "Webhook not found");
        }
    }
    hasty.stop().await;
    timed_out
}

backend_tests! {
    async fn each_webhook_write_replays_its_first_answer(backend: Backend) {
        let app = TestApp::spawn_with(backend, short_retry_window).await;
        // Create: the replay is the first answer, secret included (the key's owner may have
        // lost it), and no second endpoint is made.
        let body = json!({"url": URL, "description": "once"});
        let first = post(&app, "/api/webhooks", "create-1", body.clone()).await;
        assert_eq!(first.status, 201, "{}", first.body);
        let again = post(&app, "/api/webhooks", "create-1", body).await;
        assert_replayed(&first, &again);
        let hook = first.id();
        let original = first.data()["secret"].as_str().unwrap().to_owned();
        assert_eq!(count(&app, "webhook_endpoints").await, 1);

        // Rotate: the same new secret again, rotated once (the original still signs).
        let path = format!("/api/webhooks/{hook}/rotate-secret");
        let first = post(&app, &path, "rotate-1", json!({})).await;
        assert_eq!(first.status, 200, "{}", first.body);
        let again = post(&app, &path, "rotate-1", json!({})).await;
        assert_replayed(&first, &again);
        assert_eq!(secret_of(&app, &hook).await, first.data()["secret"].as_str().unwrap());
        let previous = app
            .sql_text(&format!("SELECT previous_secret FROM webhook_endpoints WHERE id = '{hook}'"))
            .await;
        assert_eq!(previous, original, "rotated once, not twice");

        // Delete: the endpoint as it was, again, rather than a 404.
        let path = format!("/api/webhooks/{hook}");
        let first = keyed(&app, Method::DELETE, &path, "delete-1", None, None).await;
        assert_eq!(first.status, 200, "{}", first.body);
        assert_eq!(first.data()["_id"], hook.as_str());
        let again = keyed(&app, Method::DELETE, &path, "delete-1", None, None).await;
        assert_replayed(&first, &again);
        app.get(&path).await.assert_error(404, "Webhook not found");

        // Redeliver: queued once; the repeat, once the delivery is dead again, queues nothing.
        let receiver = Receiver::start().await;
        let hook = dead_delivery(&app, &receiver).await;
        let path = format!("/api/webhooks/{hook}/redeliver");
        let first = post(&app, &path, "redeliver-1", json!({})).await;
        assert_eq!(first.status, 202, "{}", first.body);
        assert_eq!(first.data()["queued"], 1);
        receiver.wait_for(Duration::from_secs(30), |seen| seen.len() >= 2).await;
        wait_until_dead(&app, &hook, 1).await;
        let queued = queued_at(&app, &hook).await;
        let again = post(&app, &path, "redeliver-1", json!({})).await;
        assert_replayed(&first, &again);
        assert_eq!(queued_at(&app, &hook).await, queued, "the repeat queued nothing");
        let shown = app.get(&format!("/api/webhooks/{hook}")).await;
        assert_eq!((&shown.data()["dead"], &shown.data()["pending"]), (&json!(1), &json!(0)));
        // Not for want of anything to queue: another key queues it.
        let other = post(&app, &path, "redeliver-2", json!({})).await;
        assert_eq!(other.data()["queued"], 1, "{}", other.body);
        app.stop().await;
    }

    async fn concurrent_repeats_of_a_webhook_write_run_once(backend: Backend) {
        let app = TestApp::spawn_with(backend, short_retry_window).await;
        let body = json!({"url": URL, "description": "race"});
        let replies = join_all((0..12).map(|_| post(&app, "/api/webhooks", "c", body.clone()))).await;
        let hook = ran_once(&replies).id();
        let original = ran_once(&replies).data()["secret"].as_str().unwrap().to_owned();
        assert_eq!(count(&app, "webhook_endpoints").await, 1);

        let path = format!("/api/webhooks/{hook}/rotate-secret");
        let replies = join_all((0..12).map(|_| post(&app, &path, "r", json!({})))).await;
        let rotated = ran_once(&replies).data()["secret"].as_str().unwrap().to_owned();
        assert_eq!(secret_of(&app, &hook).await, rotated);
        let previous = app
            .sql_text(&format!("SELECT previous_secret FROM webhook_endpoints WHERE id = '{hook}'"))
            .await;
        assert_eq!(previous, original, "rotated once");

        let path = format!("/api/webhooks/{hook}");
        let replies = join_all((0..12).map(|_| keyed(&app, Method::DELETE, &path, "d", None, None))).await;
        assert_eq!(ran_once(&replies).data()["_id"], hook.as_str());

        let receiver = Receiver::start().await;
        let hook = dead_delivery(&app, &receiver).await;
        let path = format!("/api/webhooks/{hook}/redeliver");
        let replies = join_all((0..12).map(|_| post(&app, &path, "q", json!({})))).await;
        assert_eq!(ran_once(&replies).data()["queued"], 1);
        app.stop().await;
    }

    async fn a_webhook_write_answered_503_changed_nothing(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        // 3 ms gives up most requests before their change; 12 ms gives some up between their
        // change and their COMMIT, where a write that does not decide against the deadline
        // would commit and still be answered 503.
        let mut timed_out = 0;
        for millis in [3, 12] {
            timed_out += writes_on_a_hasty_server(&app, millis).await;
        }
        assert!(timed_out > 0, "3 or 12 ms is too short for some of 180 requests");
        app.stop().await;
    }

    async fn redeliver_takes_no_body_or_an_empty_one(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let hook = made(&app, "bodies").await;
        let path = app.url(&format!("/api/webhooks/{hook}/redeliver"));
        let send = |request: reqwest::RequestBuilder| app.send(request);
        // No body at all, and an empty one with or without a Content-Type: `{}`.
        for request in [
            app.client.post(&path),
            app.client.post(&path).header("Content-Type", "application/json"),
            app.client.post(&path).header("Content-Type", "text/plain").body(""),
        ] {
            let reply = send(request).await;
            assert_eq!(reply.status, 202, "{}", reply.body);
            assert_eq!(reply.data()["queued"], 0);
        }
        for body in [json!({"after": 3}), json!(null), json!({})] {
            let reply = send(app.client.post(&path).json(&body)).await;
            assert_eq!(reply.status, 202, "{body}: {}", reply.body);
        }
        // A body that is present must still be JSON, sent as JSON, with a valid `after`.
        let not_json = app.client.post(&path).header("Content-Type", "application/json").body("after=3");
        send(not_json).await.assert_error(400, "Request body is not valid JSON");
        let plain = app.client.post(&path).header("Content-Type", "text/plain").body("{\"after\":3}");
        assert_eq!(send(plain).await.status, 415);
        send(app.client.post(&path).json(&json!({"after": -1}))).await
            .assert_error(400, "after must be an integer ≥ 0");
        send(app.client.post(&path).json(&json!([1]))).await
            .assert_error(400, "Request body must be a JSON object");
        // No body, and no such endpoint: its 404, not a complaint about the body.
        let missing = app.url("/api/webhooks/65f0c0ffee0000000000abcd/redeliver");
        send(app.client.post(&missing)).await.assert_error(404, "Webhook not found");
        app.stop().await;
    }
}
