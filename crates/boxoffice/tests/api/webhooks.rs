//! Webhooks (CONTRACT.md, "Notifications: webhooks and the feed"), delivered to a real
//! receiver on loopback: signatures (and both during a rotation), retries with the same
//! `webhook-id`, per-purchase order after an outage, dead and redelivered, deleted endpoints,
//! refused URLs.

use std::collections::HashMap;
use std::time::Duration;

use boxoffice::webhooks::WebhookSecret;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::harness::TestApp;
use crate::receiver::{Received, Receiver};

async fn create_webhook(app: &TestApp, url: &str, types: Value) -> (String, String) {
    let reply = app
        .post(
            "/api/webhooks",
            json!({"url": url, "types": types, "description": "test"}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let secret = reply.data()["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    (reply.id(), secret)
}

fn verifies(secret: &str, received: &Received) -> bool {
    WebhookSecret::parse(secret).unwrap().verifies(
        &received.id,
        received.timestamp,
        &received.body,
        &received.signature,
    )
}

const WAIT: Duration = Duration::from_secs(15);

/// The value of a counter (summed over its labels) in `GET /metrics`; 0 when absent.
async fn metric(app: &TestApp, name: &str) -> f64 {
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .filter(|line| line.starts_with(name) && !line.starts_with('#'))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// An endpoint's attempts history, newest first: `(attempt, status, httpStatus)` and the
/// notification ids, once it holds `count` attempts (waiting at most 40 s for them).
async fn attempts_history(
    app: &TestApp,
    hook: &str,
    count: usize,
) -> (Vec<(i64, String, Option<i64>)>, Vec<String>) {
    let started = std::time::Instant::now();
    loop {
        let reply = app.get(&format!("/api/webhooks/{hook}/deliveries")).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        let attempts = reply.body["data"].as_array().unwrap().clone();
        if attempts.len() >= count || started.elapsed() > Duration::from_secs(40) {
            let summary = attempts
                .iter()
                .map(|a| {
                    (
                        a["attempt"].as_i64().unwrap(),
                        a["status"].as_str().unwrap().to_owned(),
                        a["httpStatus"].as_i64(),
                    )
                })
                .collect();
            let ids = attempts
                .iter()
                .map(|a| a["notificationId"].as_str().unwrap().to_owned())
                .collect();
            return (summary, ids);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits (at most 40 s) until the endpoint counts `status` (`pending`, `delivered`, `dead`)
/// at `n`; returns the endpoint as listed.
async fn endpoint_when(app: &TestApp, hook: &str, status: &str, n: i64) -> Value {
    let started = std::time::Instant::now();
    loop {
        let listed = app.get(&format!("/api/webhooks/{hook}")).await.body["data"].clone();
        if listed[status] == n || started.elapsed() > Duration::from_secs(40) {
            return listed;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

backend_tests! {
    async fn deliveries_are_signed_and_both_secrets_sign_during_a_rotation(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let receiver = Receiver::start().await;
        let (hook, secret) = create_webhook(&app, &receiver.url(), json!([])).await;
        let shown = app.get(&format!("/api/webhooks/{hook}")).await;
        assert_eq!(shown.status, 200);
        assert!(shown.data().get("secret").is_none(), "the secret is shown once");
        assert_eq!(shown.data()["url"], receiver.url());

        let event = app.create_event(10).await;
        let got = receiver.wait_for(WAIT, |seen| !seen.is_empty()).await;
        assert_eq!(got.len(), 1);
        let first = &got[0];
        assert_eq!(first.json["type"], "event.created");
        assert_eq!(first.json["data"]["_id"], event.as_str());
        assert_eq!(first.id, first.json["id"].as_str().unwrap(), "webhook-id is the notification id");
        assert_eq!(first.signature.split(' ').count(), 1);
        assert!(verifies(&secret, first));
        assert!(!verifies(&WebhookSecret::generate().expose(), first));
        let now = boxoffice::domain::Timestamp::now().millis() / 1000;
        assert!((first.timestamp - now).abs() < 60, "webhook-timestamp is Unix seconds");

        let rotated = app.post(&format!("/api/webhooks/{hook}/rotate-secret"), json!({})).await;
        assert_eq!(rotated.status, 200);
        let new_secret = rotated.data()["secret"].as_str().unwrap().to_owned();
        assert_ne!(new_secret, secret);
        app.patch(&format!("/api/events/{event}"), json!({"name": "Renamed"})).await;
        let got = receiver.wait_for(WAIT, |seen| seen.len() >= 2).await;
        let second = &got[1];
        assert_eq!(second.json["type"], "event.updated");
        assert_eq!(second.signature.split(' ').count(), 2, "{}", second.signature);
        assert!(verifies(&new_secret, second), "the new secret verifies");
        assert!(verifies(&secret, second), "the old secret still verifies for 24 h");

        // The receiver has answered; the outcome is recorded a moment later.
        let mut listed = Value::Null;
        for _ in 0..100 {
            listed = app.get("/api/webhooks").await.body["data"][0].clone();
            if listed["delivered"] == 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(listed["_id"], hook.as_str());
        assert!(metric(&app, "boxoffice_webhook_delivered_total").await >= 2.0);
        assert!(metric(&app, "boxoffice_webhook_delivery_latency_seconds_count").await >= 2.0);
        assert_eq!(listed["delivered"], 2);
        assert_eq!(listed["pending"], 0);
        assert_eq!(listed["dead"], 0);
    }

    async fn a_failed_delivery_comes_again_with_the_same_webhook_id(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let receiver = Receiver::start().await;
        receiver.answer(500);
        let (hook, _) = create_webhook(&app, &receiver.url(), json!(["event.created"])).await;
        app.create_event(10).await;
        let failed = receiver.wait_for(WAIT, |seen| !seen.is_empty()).await;
        assert_eq!(failed.len(), 1);
        receiver.answer(204);
        // The first retry comes about 5 s later (4 to 6 s with jitter).
        let got = receiver.wait_for(WAIT, |seen| seen.len() >= 2).await;
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].id, got[0].id);
        assert_eq!(got[1].body, got[0].body);
        // The receiver has answered; the outcome is recorded a moment later.
        let mut attempts = Vec::new();
        for _ in 0..100 {
            let reply = app.get(&format!("/api/webhooks/{hook}/deliveries")).await;
            assert_eq!(reply.status, 200);
            attempts = reply.body["data"].as_array().unwrap().clone();
            if attempts.len() == 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let summary: Vec<(i64, &str, Option<i64>)> = attempts
            .iter()
            .map(|a| (a["attempt"].as_i64().unwrap(), a["status"].as_str().unwrap(), a["httpStatus"].as_i64()))
            .collect();
        assert_eq!(summary, [(2, "delivered", Some(204)), (1, "failed", Some(500))]);
        assert_eq!(attempts[1]["error"], "HTTP 500");
        assert!(metric(&app, "boxoffice_webhook_failed_attempts_total").await >= 1.0);
        assert_eq!(attempts[0]["notificationId"], got[0].id.as_str());
        let only_failed = app
            .get_query(&format!("/api/webhooks/{hook}/deliveries"), &[("status", "failed")])
            .await;
        assert_eq!(only_failed.body["data"].as_array().unwrap().len(), 1);
    }

    async fn a_receiver_back_from_an_outage_gets_everything_in_purchase_order(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let mut receiver = Receiver::start().await;
        create_webhook(&app, &receiver.url(), json!([])).await;
        let user = app.register("Ann").await;
        let event = app.create_event(10).await;
        receiver.down().await;
        let mut purchases = Vec::new();
        for i in 0..3 {
            let lock = app.lock(&event, &user, 1, &format!("k{i}")).await;
            let booking = app.book(&lock).await;
            assert_eq!(app.pay(&booking, "success").await.status, 200);
            purchases.push(lock);
        }
        tokio::time::sleep(Duration::from_millis(1500)).await;
        receiver.up().await;
        let expected = 1 + 3 * 3;
        let got = receiver
            .wait_for(Duration::from_secs(30), |seen| {
                seen.iter().map(|r| &r.id).collect::<std::collections::HashSet<_>>().len() >= expected
            })
            .await;
        // Each purchase's notifications arrived in sequence order, each delivered once it
        // was the first of its purchase still pending.
        let mut delivered_order: HashMap<String, Vec<i64>> = HashMap::new();
        let mut firsts = std::collections::HashSet::new();
        for r in &got {
            if !firsts.insert(r.id.clone()) {
                continue;
            }
            let data = &r.json["data"];
            let key = data["seatLockId"].as_str().or(data["_id"].as_str()).unwrap().to_owned();
            delivered_order.entry(key).or_default().push(r.json["sequence"].as_i64().unwrap());
        }
        assert_eq!(firsts.len(), expected, "everything arrived");
        for lock in &purchases {
            let order = &delivered_order[lock];
            assert_eq!(order.len(), 3, "{lock}: {order:?}");
            assert!(order.windows(2).all(|w| w[0] < w[1]), "{lock} out of order: {order:?}");
        }
    }

    async fn a_dead_delivery_is_queued_again_by_redeliver(backend: Backend) {
        let app = TestApp::spawn_with(backend, |config| {
            // 0.36 s: the first failure is already past the window.
            config.notifications.webhook_retry_hours = 0.0001;
        })
        .await;
        let receiver = Receiver::start().await;
        receiver.answer(503);
        let (hook, _) = create_webhook(&app, &receiver.url(), json!([])).await;
        app.create_event(10).await;
        receiver.wait_for(WAIT, |seen| !seen.is_empty()).await;
        let mut dead = Value::Null;
        for _ in 0..100 {
            dead = app.get(&format!("/api/webhooks/{hook}")).await.body["data"].clone();
            if dead["dead"] == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(dead["dead"], 1, "{dead}");
        assert_eq!(dead["pending"], 0);
        let attempts = app.get(&format!("/api/webhooks/{hook}/deliveries")).await;
        assert_eq!(attempts.body["data"][0]["status"], "dead");
        assert!(metric(&app, "boxoffice_webhook_dead_total").await >= 1.0);
        receiver.answer(200);
        let queued = app.post(&format!("/api/webhooks/{hook}/redeliver"), json!({})).await;
        assert_eq!(queued.status, 202, "{}", queued.body);
        assert_eq!(queued.data()["queued"], 1);
        let got = receiver.wait_for(WAIT, |seen| seen.len() >= 2).await;
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].id, got[0].id);
        let none_left = app.post(&format!("/api/webhooks/{hook}/redeliver"), json!({"after": 0})).await;
        assert_eq!(none_left.data()["queued"], 0);
    }

    async fn a_redelivered_notification_starts_the_backoff_afresh(backend: Backend) {
        // An 18 s retry window: a first failure (even 12 s late under load) is retried at the
        // first step, 4 to 6 s later; the second failure's step (24 to 36 s) falls past the
        // window, so each round is exactly two attempts, then dead. Before the fix, the
        // attempt after a redeliver was counted as the third failure (2 min): dead at once.
        let app = TestApp::spawn_with(backend, |config| {
            config.notifications.webhook_retry_hours = 0.005;
        })
        .await;
        let receiver = Receiver::start().await;
        receiver.answer(500);
        let (hook, _) = create_webhook(&app, &receiver.url(), json!(["event.created"])).await;
        app.create_event(10).await;
        let dead = endpoint_when(&app, &hook, "dead", 1).await;
        assert_eq!((dead["dead"].as_i64(), dead["pending"].as_i64()), (Some(1), Some(0)), "{dead}");
        let (history, _) = attempts_history(&app, &hook, 2).await;
        let row = |n: i64, status: &str| (n, status.to_owned(), Some(500));
        assert_eq!(history, [row(2, "dead"), row(1, "failed")]);
        assert_eq!(receiver.received().len(), 2);

        let queued = app.post(&format!("/api/webhooks/{hook}/redeliver"), json!({})).await;
        assert_eq!(queued.status, 202, "{}", queued.body);
        assert_eq!(queued.data()["queued"], 1);
        // Sent again at once, it fails, and is retried at the first step of the schedule.
        let got = receiver.wait_for(Duration::from_secs(40), |seen| seen.len() >= 4).await;
        assert_eq!(got.len(), 4, "the failure after a redeliver is retried");
        let gap = got[3].at - got[2].at;
        assert!(
            gap >= Duration::from_millis(3500) && gap <= Duration::from_secs(20),
            "the retry after a redeliver waits the first step (about 5 s), not {gap:?}"
        );
        // The full schedule again: a second failure, then dead, as in the first round.
        let dead = endpoint_when(&app, &hook, "dead", 1).await;
        let (history, ids) = attempts_history(&app, &hook, 4).await;
        assert_eq!(
            history,
            [row(4, "dead"), row(3, "failed"), row(2, "dead"), row(1, "failed")],
            "every earlier attempt is kept, and the numbering goes on: {dead}"
        );
        assert!(ids.iter().all(|id| *id == got[0].id), "{ids:?}");
        assert!(got.iter().all(|r| r.id == got[0].id));

        // A third round that the receiver accepts: attempt 5 delivers.
        receiver.answer(200);
        let queued = app.post(&format!("/api/webhooks/{hook}/redeliver"), json!({})).await;
        assert_eq!(queued.data()["queued"], 1);
        let delivered = endpoint_when(&app, &hook, "delivered", 1).await;
        assert_eq!((delivered["delivered"].as_i64(), delivered["dead"].as_i64()), (Some(1), Some(0)), "{delivered}");
        let (history, _) = attempts_history(&app, &hook, 5).await;
        assert_eq!(history[0], (5, "delivered".to_owned(), Some(200)));
        assert_eq!(history.len(), 5);
    }

    async fn a_deleted_endpoint_receives_nothing_more(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let receiver = Receiver::start().await;
        let (hook, _) = create_webhook(&app, &receiver.url(), json!([])).await;
        app.create_event(10).await;
        receiver.wait_for(WAIT, |seen| !seen.is_empty()).await;
        let deleted = app.delete(&format!("/api/webhooks/{hook}")).await;
        assert_eq!(deleted.status, 200);
        app.create_event(10).await;
        app.create_event(10).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(receiver.received().len(), 1);
        app.get(&format!("/api/webhooks/{hook}")).await.assert_error(404, "Webhook not found");
        app.delete(&format!("/api/webhooks/{hook}")).await.assert_error(404, "Webhook not found");
        app.post(&format!("/api/webhooks/{hook}/rotate-secret"), json!({})).await.assert_error(404, "Webhook not found");
        app.get("/api/webhooks/not-an-id/deliveries").await.assert_error(404, "Webhook not found");
        assert_eq!(app.get("/api/webhooks").await.data().as_array().unwrap().len(), 0);
    }

    async fn endpoint_urls_are_checked(backend: Backend) {
        let app = TestApp::spawn_with(backend, |config| {
            config.notifications.webhook_allow_private = false;
        })
        .await;
        for url in [
            "http://127.0.0.1:9/hook",
            "http://localhost/hook",
            "http://[::1]/hook",
            "http://169.254.169.254/latest/meta-data/",
            "http://10.0.0.1/hook",
            "http://2130706433/",
        ] {
            app.post("/api/webhooks", json!({"url": url}))
                .await
                .assert_error(400, "url points to a private address");
        }
        for body in [
            json!({"url": "ftp://example.com/hook"}),
            json!({"url": "not a url"}),
            json!({"url": 7}),
            json!({}),
        ] {
            app.post("/api/webhooks", body)
                .await
                .assert_error(400, "url must be an http or https URL");
        }
        let long = format!("https://93.184.216.34/{}", "a".repeat(2048));
        app.post("/api/webhooks", json!({"url": long}))
            .await
            .assert_error(400, "url must be at most 2048 characters");
        for url in ["https://93.184.216.34:0/hook", "http://example.com:0/"] {
            app.post("/api/webhooks", json!({"url": url}))
                .await
                .assert_error(400, "url port must be from 1 to 65535");
        }
        // Credentials in the URL would be shown in every listing: refused, allowed private
        // addresses or not (the signing secret is the authentication).
        for url in ["https://user:pw@93.184.216.34/hook", "https://token@example.com/hook"] {
            app.post("/api/webhooks", json!({"url": url}))
                .await
                .assert_error(400, "url must not contain a user name or password");
        }
        app.post("/api/webhooks", json!({"url": "https://example.com/hook", "types": ["lock.deleted"]}))
            .await
            .assert_error(400, "unknown notification type: lock.deleted");
        app.post("/api/webhooks", json!({"url": "https://example.com/hook", "types": "lock.created"}))
            .await
            .assert_error(400, "types must be a list of notification types");
        assert_eq!(app.get("/api/webhooks").await.data().as_array().unwrap().len(), 0, "nothing was made");
        // A public address literal needs no lookup and is accepted.
        let made = app
            .post("/api/webhooks", json!({"url": "https://93.184.216.34/hook", "types": ["lock.created"]}))
            .await;
        assert_eq!(made.status, 201, "{}", made.body);
        assert_eq!(made.data()["types"], json!(["lock.created"]));
    }
}
