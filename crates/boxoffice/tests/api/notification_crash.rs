//! Notifications across a crash and an outage: a storm of holds, confirmations and payments
//! with a kill -9 of the real binary in the middle, or with PostgreSQL crashed and restarted in
//! the middle. Afterwards every acknowledged change has its notification, every notification
//! is of a change that happened, the feed is gap-free, and every notification reached the
//! webhook receiver.

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

/// (type, resource id) of a change whose answer arrived.
type Acknowledged = Vec<(&'static str, String)>;

/// Eight clients holding, confirming and paying (success, failure, timeout in turn) until
/// `until`, or until the server stops answering; a 503 is waited out. What was acknowledged.
async fn storm(app: &TestApp, event: &str, user: &str, until: Instant) -> Acknowledged {
    let acknowledged = Mutex::new(Vec::new());
    let note = |kind: &'static str, id: String| acknowledged.lock().unwrap().push((kind, id));
    let worker = |w: usize| {
        let note = &note;
        async move {
            let mut i = 0;
            while Instant::now() < until {
                i += 1;
                let body = json!({"eventId": event, "userId": user, "seats": 1,
                                  "idempotencyKey": format!("w{w}-{i}")});
                let Some(reply) = app.try_post("/api/locks", body).await else {
                    return;
                };
                if reply.status != 201 {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
                let lock = reply.id();
                note("lock.created", lock.clone());
                let Some(reply) = app
                    .try_post("/api/bookings/confirm", json!({"lockId": lock}))
                    .await
                else {
                    return;
                };
                let Some(booking) = reply.body["booking"]["_id"].as_str().map(str::to_owned) else {
                    continue;
                };
                if reply.status == 201 {
                    note("booking.created", booking.clone());
                }
                let force = ["success", "failure", "timeout"][i % 3];
                let body = json!({"bookingId": booking, "force": force});
                let Some(reply) = app.try_post("/api/payments/intent", body).await else {
                    return;
                };
                match reply.body["paymentStatus"].as_str() {
                    Some("SUCCESS") => note("booking.confirmed", booking),
                    Some("FAILED") => note("booking.failed", booking),
                    _ => {}
                }
            }
        }
    };
    join_all((0..8).map(worker)).await;
    acknowledged.into_inner().unwrap()
}

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

/// Every acknowledged change has its notification, none is invented, the feed is gap-free,
/// and the receiver got every one (at least once).
async fn assert_recorded_and_delivered(
    app: &TestApp,
    acknowledged: &Acknowledged,
    receiver: &Receiver,
) {
    let feed = settled_feed(app).await;
    for (i, n) in feed.iter().enumerate() {
        assert_eq!(n["sequence"].as_i64(), Some(i as i64 + 1), "gap-free");
    }
    let recorded: HashSet<(&str, &str)> = feed
        .iter()
        .map(|n| {
            (
                n["type"].as_str().unwrap(),
                n["data"]["_id"].as_str().unwrap(),
            )
        })
        .collect();
    for (kind, id) in acknowledged {
        assert!(
            recorded.contains(&(*kind, id.as_str())),
            "acknowledged {kind} {id} has its notification"
        );
    }
    // None invented: each names a change the database shows (answered or not).
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
    let wanted: BTreeSet<String> = feed
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_owned())
        .collect();
    let got = receiver
        .wait_for(Duration::from_secs(60), |seen| {
            let ids: BTreeSet<String> = seen.iter().map(|r| r.id.clone()).collect();
            wanted.is_subset(&ids)
        })
        .await;
    let ids: BTreeSet<String> = got.iter().map(|r| r.id.clone()).collect();
    let missing: Vec<&String> = wanted.difference(&ids).collect();
    assert!(missing.is_empty(), "not delivered: {missing:?}");
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
        assert_eq!(app.post("/api/webhooks", json!({"url": receiver.url()})).await.status, 201);
        let user = app.register("Vic").await;
        let event = app.create_event(100_000).await;
        let (mut acknowledged, ()) = tokio::join!(
            storm(&app, &event, &user, Instant::now() + Duration::from_secs(60)),
            async {
                tokio::time::sleep(Duration::from_millis(1500)).await;
                server.kill_9().await;
            },
        );
        assert!(acknowledged.len() > 20, "the storm ran before the kill: {}", acknowledged.len());
        acknowledged.push(("event.created", event));

        let restarted = ServerProcess::start(backend, &url, &settings).await;
        assert_recorded_and_delivered(&restarted.app(), &acknowledged, &receiver).await;
    }
}

mod postgres_restart {
    use super::*;
    use crate::harness::Backend;
    use crate::pg_cluster::PgCluster;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_postgresql_restart_storm_loses_no_notification_and_invents_none() {
        let cluster = PgCluster::start();
        let receiver = Receiver::start().await;
        let app = TestApp::spawn_on(Backend::Postgres, cluster.url(), |config| {
            config.database_acquire_timeout_ms = 1000;
            config.request_timeout_ms = 5000;
            config.notifications.webhook_timeout_ms = 1000;
        })
        .await;
        assert_eq!(
            app.post("/api/webhooks", json!({"url": receiver.url()}))
                .await
                .status,
            201
        );
        let user = app.register("Zoe").await;
        let event = app.create_event(100_000).await;
        let (mut acknowledged, ()) = tokio::join!(
            storm(&app, &event, &user, Instant::now() + Duration::from_secs(6)),
            async {
                tokio::time::sleep(Duration::from_secs(1)).await;
                cluster.crash();
                tokio::time::sleep(Duration::from_millis(1500)).await;
                cluster.resume();
            },
        );
        assert!(
            acknowledged.len() > 20,
            "the storm ran: {}",
            acknowledged.len()
        );
        acknowledged.push(("event.created", event));
        assert_recorded_and_delivered(&app, &acknowledged, &receiver).await;
    }
}
