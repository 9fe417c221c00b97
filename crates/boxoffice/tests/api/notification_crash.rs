//! Notifications across a crash: a storm of holds, confirmations and payments with a kill -9
//! of the real binary in the middle. Afterwards every acknowledged change has its
//! notification, every notification is of a change that happened, the feed is gap-free, and
//! every notification reached the webhook receiver.

use std::collections::{BTreeSet, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::harness::{TestApp, fresh_database};
use crate::notifications::feed_after;
use crate::process::ServerProcess;
use crate::receiver::Receiver;

/// The feed once the sequencer has numbered everything: two reads a second apart agree.
async fn settled_feed(app: &TestApp) -> Vec<Value> {
    let mut last = feed_after(app, 0).await;
    loop {
        tokio::time::sleep(Duration::from_millis(1000)).await;
        let now = feed_after(app, 0).await;
        if now.len() == last.len() {
            return now;
        }
        last = now;
    }
}

backend_tests! {
    async fn a_kill_9_storm_loses_no_notification_and_invents_none(backend: Backend) {
        let (url, _dir) = fresh_database(backend).await;
        let settings = [
            ("WEBHOOK_ALLOW_PRIVATE", "true"),
            ("WEBHOOK_TIMEOUT_MS", "1000"),
            ("SWEEP_INTERVAL_MS", "3600000"),
        ];
        let receiver = Receiver::start().await;
        let mut server = ServerProcess::start(backend, &url, &settings).await;
        let app = server.app();
        let hook = app.post("/api/webhooks", json!({"url": receiver.url()})).await;
        assert_eq!(hook.status, 201);
        let user = app.register("Vic").await;
        let event = app.create_event(100_000).await;
        // (type, resource id) of every change whose answer arrived.
        let acknowledged: Mutex<Vec<(&str, String)>> = Mutex::new(vec![("event.created", event.clone())]);

        let worker = |w: usize| {
            let (app, event, user, acknowledged) = (&app, &event, &user, &acknowledged);
            async move {
                for i in 0.. {
                    let body = json!({"eventId": event, "userId": user, "seats": 1,
                                      "idempotencyKey": format!("w{w}-{i}")});
                    let Some(reply) = app.try_post("/api/locks", body).await else { return };
                    if reply.status != 201 { continue; }
                    let lock = reply.id();
                    acknowledged.lock().unwrap().push(("lock.created", lock.clone()));
                    let Some(reply) = app.try_post("/api/bookings/confirm", json!({"lockId": lock})).await
                    else { return };
                    let Some(booking) = reply.body["booking"]["_id"].as_str().map(str::to_owned) else { continue };
                    acknowledged.lock().unwrap().push(("booking.created", booking.clone()));
                    let force = ["success", "failure", "timeout"][i % 3];
                    let body = json!({"bookingId": booking, "force": force});
                    let Some(reply) = app.try_post("/api/payments/intent", body).await else { return };
                    match reply.body["paymentStatus"].as_str() {
                        Some("SUCCESS") => acknowledged.lock().unwrap().push(("booking.confirmed", booking)),
                        Some("FAILED") => acknowledged.lock().unwrap().push(("booking.failed", booking)),
                        _ => {}
                    }
                }
            }
        };
        let ((), ()) = tokio::join!(
            async { join_all((0..8).map(worker)).await; },
            async {
                tokio::time::sleep(Duration::from_millis(1500)).await;
                server.kill_9().await;
            },
        );
        let acknowledged = acknowledged.into_inner().unwrap();
        assert!(acknowledged.len() > 20, "the storm ran before the kill: {}", acknowledged.len());

        let restarted = ServerProcess::start(backend, &url, &settings).await;
        let app = restarted.app();
        let feed = settled_feed(&app).await;
        for (i, n) in feed.iter().enumerate() {
            assert_eq!(n["sequence"].as_i64(), Some(i as i64 + 1), "gap-free");
        }
        let recorded: HashSet<(&str, &str)> = feed
            .iter()
            .map(|n| (n["type"].as_str().unwrap(), n["data"]["_id"].as_str().unwrap()))
            .collect();
        for (kind, id) in &acknowledged {
            assert!(recorded.contains(&(*kind, id.as_str())), "acknowledged {kind} {id} has its notification");
        }
        // None invented: each names a change the database shows (answered or not before the kill).
        for n in &feed {
            let id = n["data"]["_id"].as_str().unwrap();
            let (path, status) = match n["type"].as_str().unwrap() {
                "event.created" => (format!("/api/events/{id}"), None),
                "lock.created" => (format!("/api/locks/{id}"), None),
                "booking.created" => (format!("/api/bookings/{id}"), None),
                "booking.confirmed" => (format!("/api/bookings/{id}"), Some("CONFIRMED")),
                "booking.failed" => (format!("/api/bookings/{id}"), Some("FAILED")),
                other => panic!("no {other} was made: {n}"),
            };
            let reply = app.get(&path).await;
            assert_eq!(reply.status, 200, "{n}");
            if let Some(status) = status {
                assert_eq!(reply.data()["status"], status, "{n}");
            }
        }
        // Every notification reached the receiver (at least once: some twice, across the kill).
        let wanted: BTreeSet<String> = feed.iter().map(|n| n["id"].as_str().unwrap().to_owned()).collect();
        let started = Instant::now();
        let got = receiver
            .wait_for(Duration::from_secs(60), |seen| {
                let ids: BTreeSet<String> = seen.iter().map(|r| r.id.clone()).collect();
                wanted.is_subset(&ids)
            })
            .await;
        let ids: BTreeSet<String> = got.iter().map(|r| r.id.clone()).collect();
        let missing: Vec<&String> = wanted.difference(&ids).collect();
        assert!(missing.is_empty(), "not delivered after {:?}: {missing:?}", started.elapsed());
    }
}
