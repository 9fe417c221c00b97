//! Notifications (CONTRACT.md, "Notifications: webhooks and the feed"): one per change and
//! none for replays, gap-free sequences across instances, the feed's parameters.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::harness::{Backend, TestApp};
use crate::seating::{create_seated, hold_named, theatre_chart};

/// Every numbered notification after `after`, following `nextAfter` page by page.
pub async fn feed_after(app: &TestApp, after: i64) -> Vec<Value> {
    let mut all = Vec::new();
    let mut after = after;
    loop {
        let reply = app
            .get_query(
                "/api/notifications",
                &[("after", &after.to_string()), ("limit", "1000")],
            )
            .await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        let page = reply.body["data"].as_array().unwrap().clone();
        let next = reply.body["nextAfter"].as_i64().unwrap();
        if page.is_empty() {
            assert_eq!(
                next, after,
                "an empty page says to ask after the same number"
            );
            return all;
        }
        after = next;
        all.extend(page);
    }
}

/// Waits (at most 15 s) until the feed holds at least `count` notifications; returns them.
pub async fn feed_of(app: &TestApp, count: usize) -> Vec<Value> {
    let started = Instant::now();
    loop {
        let all = feed_after(app, 0).await;
        if all.len() >= count || started.elapsed() > Duration::from_secs(15) {
            return all;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn types(feed: &[Value]) -> Vec<&str> {
    feed.iter().map(|n| n["type"].as_str().unwrap()).collect()
}

/// Sequences are 1, 2, 3, … in feed order.
fn assert_gap_free(feed: &[Value]) {
    for (i, n) in feed.iter().enumerate() {
        assert_eq!(n["sequence"].as_i64(), Some(i as i64 + 1), "{feed:#?}");
    }
}

backend_tests! {
    async fn one_notification_per_change_and_none_for_replays(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let user = app.register("Ann").await;
        let event = app.create_event(10).await;
        let renamed = app.patch(&format!("/api/events/{event}"), json!({"name": "Renamed"})).await;
        assert_eq!(renamed.status, 200);
        let held = app.try_lock(&event, &user, 2, "k1").await;
        assert_eq!(held.status, 201);
        let lock = held.id();
        assert!(app.try_lock(&event, &user, 2, "k1").await.replayed());
        assert_eq!(app.try_lock(&event, &user, 50, "too-many").await.status, 400);
        let extended = app.post(&format!("/api/locks/{lock}/extend"), json!({"seconds": 60})).await;
        assert_eq!(extended.status, 200);
        let booking = app.book(&lock).await;
        assert!(app.confirm(&lock).await.replayed());
        assert_eq!(app.pay(&booking, "timeout").await.status, 200);
        assert_eq!(app.pay(&booking, "success").await.status, 200);
        assert_eq!(app.pay(&booking, "success").await.status, 400, "paid already: refused");
        assert_eq!(app.cancel(&booking).await.status, 200);
        let released = app.lock(&event, &user, 1, "k2").await;
        assert_eq!(app.delete(&format!("/api/locks/{released}")).await.status, 200);
        let failing = app.lock(&event, &user, 1, "k3").await;
        let failed = app.book(&failing).await;
        assert_eq!(app.pay(&failed, "failure").await.status, 200);

        let expected = [
            "event.created", "event.updated", "lock.created", "lock.extended", "booking.created",
            "booking.confirmed", "booking.cancelled", "lock.created", "lock.released",
            "lock.created", "booking.created", "booking.failed",
        ];
        let feed = feed_of(&app, expected.len()).await;
        assert_eq!(types(&feed), expected);
        assert_gap_free(&feed);
        // Nothing more arrives later (no notification for the replays and refusals).
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(feed_after(&app, 0).await.len(), expected.len());

        // `data` is the resource as the API showed it after the change.
        assert_eq!(feed[2]["data"], held.body["data"]);
        assert_eq!(feed[3]["data"], extended.body["data"]);
        assert_eq!(feed[1]["data"], renamed.body["data"]);
        assert_eq!(feed[5]["data"]["status"], "CONFIRMED");
        let cancelled = &feed[6]["data"];
        assert_eq!(cancelled["_id"], booking.as_str());
        assert_eq!(cancelled["status"], "CANCELLED");
        assert_eq!(cancelled["refund"]["outcome"], "REFUND");
        assert_eq!(feed[8]["data"]["status"], "EXPIRED");
        for n in &feed {
            assert_eq!(n["id"].as_str().unwrap().len(), 24);
            assert!(n["createdAt"].as_str().unwrap().ends_with('Z'));
        }

        // The type filter, and paging with `after`.
        let bookings = app
            .get_query("/api/notifications", &[("type", "booking.created,booking.failed")])
            .await;
        assert_eq!(types(bookings.body["data"].as_array().unwrap()), ["booking.created", "booking.created", "booking.failed"]);
        let page = app.get_query("/api/notifications", &[("after", "10"), ("limit", "1")]).await;
        assert_eq!(page.body["data"][0]["sequence"], 11);
        assert_eq!(page.body["nextAfter"], 11);
    }

    async fn expiry_makes_one_notification_each(backend: Backend) {
        let app = TestApp::spawn_with(backend, |config| {
            config.lock_ttl_seconds = 1;
            config.payment_ttl_seconds = 1;
            config.lock_max_lifetime_seconds = 1;
            config.sweep_interval_ms = 100;
        })
        .await;
        let user = app.register("Ann").await;
        let event = app.create_event(10).await;
        let lapsing = app.lock(&event, &user, 1, "a").await;
        let booked = app.lock(&event, &user, 1, "b").await;
        let booking = app.book(&booked).await;
        let feed = feed_of(&app, 6).await;
        assert_eq!(&types(&feed)[..4], ["event.created", "lock.created", "lock.created", "booking.created"]);
        let expiries: BTreeSet<(&str, &str)> = feed[4..]
            .iter()
            .map(|n| (n["type"].as_str().unwrap(), n["data"]["_id"].as_str().unwrap()))
            .collect();
        assert_eq!(
            expiries,
            BTreeSet::from([("booking.expired", booking.as_str()), ("lock.expired", lapsing.as_str())])
        );
        assert_gap_free(&feed);
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(feed_after(&app, 0).await.len(), 6, "the booked lock makes no lock.expired");
    }

    async fn sequences_are_gap_free_across_two_instances(backend: Backend) {
        let first = TestApp::spawn(backend).await;
        let second = first.another_instance(|_| {}).await;
        let event = first.create_event(1000).await;
        let first_ref = &first;
        let users: Vec<String> = join_all((0..8).map(|i| async move {
            first_ref.register(&format!("U{i}")).await
        }))
        .await;
        const HOLDS: usize = 80;

        // A reader that only ever asks for what comes after the last number it saw.
        let reader = {
            let base = second.base.clone();
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                let mut seen: Vec<Value> = Vec::new();
                let mut after = 0;
                let started = Instant::now();
                while seen.len() < HOLDS + 1 && started.elapsed() < Duration::from_secs(30) {
                    let page: Value = client
                        .get(format!("{base}/api/notifications?after={after}&limit=7"))
                        .send()
                        .await
                        .unwrap()
                        .json()
                        .await
                        .unwrap();
                    seen.extend(page["data"].as_array().unwrap().iter().cloned());
                    after = page["nextAfter"].as_i64().unwrap();
                }
                seen
            })
        };
        let holds = join_all((0..HOLDS).map(|i| {
            let app = if i % 2 == 0 { &first } else { &second };
            let (event, user) = (event.clone(), users[i % users.len()].clone());
            async move { app.lock(&event, &user, 1, &format!("key-{i}")).await }
        }))
        .await;

        let seen = reader.await.unwrap();
        assert_eq!(seen.len(), HOLDS + 1, "the reader following nextAfter saw every one");
        assert_gap_free(&seen);
        let created: BTreeSet<&str> = seen
            .iter()
            .filter(|n| n["type"] == "lock.created")
            .map(|n| n["data"]["_id"].as_str().unwrap())
            .collect();
        let granted: BTreeSet<&str> = holds.iter().map(String::as_str).collect();
        assert_eq!(created, granted);
        assert_eq!(feed_after(&first, 0).await, seen, "both instances show one feed");
        second.stop().await;
    }

    async fn seated_holds_and_their_bookings_make_their_notifications(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let user = app.register("Ann").await;
        let event = create_seated(&app, theatre_chart()).await.id();
        let held = hold_named(&app, &event, &user, &["stalls-A-7", "stalls-A-8"], "k1").await;
        assert_eq!(held.status, 201, "{}", held.body);
        assert!(hold_named(&app, &event, &user, &["stalls-A-7", "stalls-A-8"], "k1").await.replayed());
        let booking = app.book(&held.id()).await;
        assert_eq!(app.pay(&booking, "success").await.status, 200);
        let feed = feed_of(&app, 4).await;
        assert_eq!(
            types(&feed),
            ["event.created", "lock.created", "booking.created", "booking.confirmed"]
        );
        assert_eq!(feed[1]["data"], held.body["data"]);
        assert_eq!(feed[1]["data"]["seatLabels"], json!(["stalls-A-7", "stalls-A-8"]));
        assert_gap_free(&feed);
    }

    async fn blocking_and_unblocking_seats_make_one_event_updated_each(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let event = create_seated(&app, theatre_chart()).await.id();
        let (block, unblock) =
            (format!("/api/events/{event}/seats/block"), format!("/api/events/{event}/seats/unblock"));
        let labels = json!({"seatLabels": ["stalls-A-2", "stalls-A-3"]});
        assert_eq!(app.post(&block, labels.clone()).await.status, 200);
        let after_block = app.get(&format!("/api/events/{event}")).await;
        assert_eq!(app.post(&block, labels.clone()).await.status, 400, "blocked already: refused");
        assert_eq!(app.post(&unblock, json!({"seatLabels": ["stalls-A-4"]})).await.status, 400);
        assert_eq!(app.post(&unblock, labels).await.status, 200);
        let after_unblock = app.get(&format!("/api/events/{event}")).await;

        let feed = feed_of(&app, 3).await;
        assert_eq!(types(&feed), ["event.created", "event.updated", "event.updated"]);
        // The event as GET showed it right after each change, categories and all.
        assert_eq!(feed[1]["data"], after_block.body["data"]);
        assert_eq!(feed[1]["data"]["withheldSeats"], 2);
        assert_eq!(feed[1]["data"]["categories"][0]["availableSeats"], 22);
        assert_eq!(feed[2]["data"], after_unblock.body["data"]);
        assert_eq!(feed[2]["data"]["withheldSeats"], 0);
        assert_eq!(feed[2]["data"]["categories"][0]["availableSeats"], 24);
        assert_gap_free(&feed);
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(feed_after(&app, 0).await.len(), 3, "the refusals make none");
    }

    async fn a_seated_events_notifications_show_what_get_shows_after_each_change(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let user = app.register("Ann").await;
        let created = create_seated(&app, theatre_chart()).await;
        let event = created.id();
        let path = format!("/api/events/{event}");
        let after_create = app.get(&path).await;
        // A hold takes two front seats first, so that the counts below are not the chart's.
        let held = hold_named(&app, &event, &user, &["stalls-A-7", "stalls-A-8"], "k1").await;
        assert_eq!(held.status, 201, "{}", held.body);
        let patched = app.patch(&path, json!({"name": "Hamlet (matinee)"})).await;
        assert_eq!(patched.status, 200, "{}", patched.body);
        let after_patch = app.get(&path).await;
        let blocked = app
            .post(&format!("{path}/seats/block"), json!({"seatLabels": ["stalls-A-1", "stalls-B-4"]}))
            .await;
        assert_eq!(blocked.status, 200, "{}", blocked.body);
        let after_block = app.get(&path).await;

        let feed = feed_of(&app, 4).await;
        assert_eq!(types(&feed), ["event.created", "lock.created", "event.updated", "event.updated"]);
        assert_gap_free(&feed);
        // Whole objects: every field GET shows, with its value, categories included.
        assert_eq!(feed[0]["data"], after_create.body["data"]);
        assert_eq!(feed[0]["data"], created.body["data"]);
        assert_eq!(feed[2]["data"], after_patch.body["data"]);
        assert_eq!(feed[2]["data"], patched.body["data"]);
        assert_eq!(feed[3]["data"], after_block.body["data"]);
        // Each counted as the change left the seats: all FREE, then the hold's two taken,
        // then two more blocked (one front, one back).
        let free = |n: &Value| -> Vec<(String, i64)> {
            n["data"]["categories"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| (c["key"].as_str().unwrap().to_owned(), c["availableSeats"].as_i64().unwrap()))
                .collect()
        };
        let counts = |pairs: [(&str, i64); 2]| pairs.map(|(k, n)| (k.to_owned(), n)).to_vec();
        assert_eq!(free(&feed[0]), counts([("front", 24), ("back", 5)]));
        assert_eq!(free(&feed[2]), counts([("front", 22), ("back", 5)]));
        assert_eq!(free(&feed[3]), counts([("front", 21), ("back", 4)]));
        assert_eq!(feed[3]["data"]["availableSeats"], 25);
        assert_eq!(feed[3]["data"]["withheldSeats"], 2);
    }

    async fn the_feed_checks_its_parameters_and_is_for_admins(backend: Backend) {
        let app = TestApp::spawn_jwt(backend).await;
        let admin = app.admin_token().await;
        let account = app.register_account("Bob").await;
        let user = app.token(&account.email, &account.password).await;
        assert_eq!(app.get_as(&user, "/api/notifications").await.status, 403);
        assert_eq!(app.get("/api/notifications").await.status, 401);
        assert_eq!(app.get_as(&admin, "/api/notifications").await.status, 200);
        for (query, message) in [
            ("limit=0", "limit must be an integer between 1 and 1000"),
            ("limit=1001", "limit must be an integer between 1 and 1000"),
            ("after=-1", "after must be an integer ≥ 0"),
            ("after=x", "after must be an integer ≥ 0"),
            ("type=lock.deleted", "unknown notification type: lock.deleted"),
        ] {
            let reply = app.get_as(&admin, &format!("/api/notifications?{query}")).await;
            reply.assert_error(400, message);
        }
    }

    async fn pruning_walks_insertion_order_and_deletes_only_rows_before_the_cutoff(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let event = app.create_event(10).await;
        let user = app.register("pruned").await;
        app.lock(&event, &user, 1, "prune-1").await;
        let recent = feed_of(&app, 2).await;
        assert_eq!(types(&recent), ["event.created", "lock.created"]);

        // 1,200 notifications after those, in insertion order, whose created_at is out of
        // order the way clocks of several instances can make it: most are far older than the
        // retention (30 days), every tenth (i % 10 == 5) is in the future. They span three
        // pruning batches of 500, so the walk has to go on from batch to batch.
        let (id, now) = match backend {
            Backend::Sqlite => ("printf('%024d', i)", "CAST(strftime('%s', 'now') AS INTEGER) * 1000"),
            Backend::Postgres => ("lpad(i::text, 24, '0')", "CAST(extract(epoch FROM now()) AS BIGINT) * 1000"),
        };
        app.sql(&format!(
            "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 1200) \
             INSERT INTO notifications (id, type, ordering_key, data, created_at) \
             SELECT {id}, 'lock.created', {id}, '{{}}', \
                    CASE WHEN i % 10 = 5 THEN {now} + 86400000 ELSE 1000 + i END FROM c"
        ))
        .await;
        let numbered = feed_of(&app, 1202).await;
        assert_eq!(numbered.len(), 1202, "the sequencer numbers the inserted rows");
        assert_gap_free(&numbered);
        let database_url = app.database_url.clone();
        let dir = app.stop().await;

        // The pruner runs when a server starts.
        let app = TestApp::spawn_on(backend, database_url, |_| {}).await;
        let count = || app.sql_text("SELECT CAST(COUNT(*) AS TEXT) FROM notifications");
        let started = Instant::now();
        while count().await != "122" && started.elapsed() < Duration::from_secs(30) {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let left = feed_after(&app, 0).await;
        let ids: Vec<&str> = left.iter().map(|n| n["id"].as_str().unwrap()).collect();
        let mut expected: Vec<String> = recent.iter().map(|n| n["id"].as_str().unwrap().to_owned()).collect();
        expected.extend((1..=1200).filter(|i| i % 10 == 5).map(|i| format!("{i:024}")));
        assert_eq!(ids, expected, "exactly the rows created before the cutoff are pruned");
        let sequences: Vec<i64> = left.iter().map(|n| n["sequence"].as_i64().unwrap()).collect();
        let kept: Vec<i64> = [1, 2].into_iter().chain((1..=1200).filter(|i| i % 10 == 5).map(|i| i + 2)).collect();
        assert_eq!(sequences, kept, "the rows left keep their numbers");
        let filtered = app
            .get_query("/api/notifications", &[("after", "0"), ("type", "event.created")])
            .await;
        assert_eq!(filtered.status, 200, "{}", filtered.body);
        assert_eq!(types(filtered.body["data"].as_array().unwrap()), ["event.created"]);
        drop(dir);
        app.stop().await;
    }
}
