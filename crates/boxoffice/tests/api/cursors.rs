//! Cursors are tamper-evident (README, "Bounds at the edge"; CONTRACT.md: a bad cursor is a
//! 400): only a cursor this deployment issued, for the same listing and filters, is taken.
//! One made up, changed, or issued for another listing, user or filter is 400 `cursor is
//! invalid` (`VALIDATION_FAILED`); one issued by another instance on the same database works.
//! A webhook's delivery attempts are paged the same way, per endpoint and status filter.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::backend_tests;
use crate::harness::{Reply, TestApp};
use crate::receiver::Receiver;

/// The `field` of every item of a page.
fn listed(reply: &Reply, field: &str) -> Vec<String> {
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply
        .data()
        .as_array()
        .expect("data is a list")
        .iter()
        .map(|item| item[field].as_str().unwrap().to_owned())
        .collect()
}

fn ids(reply: &Reply) -> Vec<String> {
    listed(reply, "_id")
}

fn next_cursor(reply: &Reply) -> String {
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["nextCursor"]
        .as_str()
        .expect("another page follows")
        .to_owned()
}

#[track_caller]
fn assert_invalid_cursor(reply: &Reply) {
    reply.assert_error(400, "cursor is invalid");
    assert_eq!(reply.body["code"], "VALIDATION_FAILED", "{}", reply.body);
}

/// `text` with its digit at `at` changed (still lowercase hex).
fn changed_at(text: &str, at: usize) -> String {
    let mut bytes = text.as_bytes().to_vec();
    bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
    String::from_utf8(bytes).unwrap()
}

/// Cursors made up from a genuine one: its bare position, the position with a made-up tag,
/// one digit changed in the key, the id and the tag, and in capitals.
fn forgeries(cursor: &str) -> Vec<String> {
    let position = &cursor[..40];
    vec![
        position.to_owned(),
        format!("{position}0123456789abcdef"),
        changed_at(cursor, 10),
        changed_at(cursor, 30),
        changed_at(cursor, 50),
        cursor.to_uppercase(),
    ]
}

/// The notification ids of a page of a webhook's delivery attempts.
fn attempts(reply: &Reply) -> Vec<String> {
    listed(reply, "notificationId")
}

/// Creates an endpoint for `event.created` at `url`; its id.
async fn webhook(app: &TestApp, url: &str) -> String {
    let reply = app
        .post(
            "/api/webhooks",
            json!({"url": url, "types": ["event.created"]}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.id()
}

/// Waits (at most 30 s) until the endpoint lists `n` delivery attempts.
async fn wait_for_attempts(app: &TestApp, hook: &str, n: usize) {
    let started = Instant::now();
    loop {
        let listed = attempts(&app.get(&format!("/api/webhooks/{hook}/deliveries")).await);
        if listed.len() >= n {
            assert_eq!(listed.len(), n, "{listed:?}");
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{hook}: {} of {n} attempts",
            listed.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

backend_tests! {
    async fn a_deliveries_cursor_serves_only_its_endpoint_and_filter(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let receiver = Receiver::start().await;
        let hook = webhook(&app, &receiver.url()).await;
        let other_hook = webhook(&app, &receiver.url()).await;
        for day in 1..=3 {
            let reply = app
                .post("/api/events", json!({"name": format!("Delivered {day}"),
                       "eventDate": format!("2099-03-0{day}T20:00:00Z"), "totalSeats": 5}))
                .await;
            assert_eq!(reply.status, 201, "{}", reply.body);
        }
        wait_for_attempts(&app, &hook, 3).await;
        wait_for_attempts(&app, &other_hook, 3).await;
        let path = format!("/api/webhooks/{hook}/deliveries");
        let all = attempts(&app.get(&path).await);

        // A genuine cursor pages on, with another limit too, to the last page.
        let first = app.get(&format!("{path}?limit=2")).await;
        assert_eq!(attempts(&first), all[..2]);
        let cursor = next_cursor(&first);
        assert_eq!(cursor.len(), 56, "{cursor}");
        let second = app.get(&format!("{path}?limit=5&cursor={cursor}")).await;
        assert_eq!(attempts(&second), all[2..]);
        assert_eq!(second.body["nextCursor"], serde_json::Value::Null);
        let filtered = app.get(&format!("{path}?status=delivered&limit=1")).await;
        let delivered_cursor = next_cursor(&filtered);
        let rest = app.get(&format!("{path}?status=delivered&limit=5&cursor={delivered_cursor}")).await;
        assert_eq!(attempts(&rest), all[1..]);

        // Made up: a bare attempt-like id (what earlier versions took), or from a genuine one.
        let bare = "ffffffffffffffffffffffff".to_owned();
        for forged in forgeries(&cursor).into_iter().chain([bare]) {
            assert_invalid_cursor(&app.get(&format!("{path}?cursor={forged}")).await);
        }
        // Issued for another endpoint, another status filter, or another listing.
        let events_cursor = next_cursor(&app.get("/api/events?limit=1").await);
        for wrong in [
            format!("/api/webhooks/{other_hook}/deliveries?cursor={cursor}"),
            format!("{path}?status=delivered&cursor={cursor}"),
            format!("{path}?status=failed&cursor={delivered_cursor}"),
            format!("{path}?cursor={delivered_cursor}"),
            format!("{path}?cursor={events_cursor}"),
            format!("/api/events?cursor={cursor}"),
        ] {
            assert_invalid_cursor(&app.get(&wrong).await);
        }
        app.stop().await;
    }

    async fn only_cursors_the_server_issued_for_this_listing_are_taken(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let mut events = Vec::new();
        for day in 1..=4 {
            let reply = app
                .post(
                    "/api/events",
                    json!({"name": format!("Concert {day}"),
                           "eventDate": format!("2099-01-0{day}T20:00:00Z"), "totalSeats": 5}),
                )
                .await;
            assert_eq!(reply.status, 201, "{}", reply.body);
            events.push(reply.id());
        }
        let first = app.get("/api/events?limit=2&q=concert").await;
        assert_eq!(ids(&first), events[..2]);
        let cursor = next_cursor(&first);
        assert_eq!(cursor.len(), 56, "{cursor}");

        // The cursor as issued works, with another limit too.
        let second = app.get(&format!("/api/events?limit=5&q=CONCERT&cursor={cursor}")).await;
        assert_eq!(ids(&second), events[2..]);

        // Made up: the old 40-digit form, an id with no tag, or from a genuine one.
        let untagged = format!("{:016x}{}", 0, events[0]);
        for forged in forgeries(&cursor).into_iter().chain([untagged]) {
            let reply = app.get(&format!("/api/events?q=concert&cursor={forged}")).await;
            assert_invalid_cursor(&reply);
        }

        // Issued for other filters: another q, from or to, or none.
        for other in [
            "q=concer",
            "q=concert&from=2099-01-01T00:00:00Z",
            "q=concert&to=2100-01-01T00:00:00Z",
            "limit=2",
        ] {
            let reply = app.get(&format!("/api/events?{other}&cursor={cursor}")).await;
            assert_invalid_cursor(&reply);
        }

        // Issued for another listing: a user's bookings.
        let user = app.register("Pager").await;
        let other_user = app.register("Other").await;
        for i in 0..3 {
            let lock = app.lock(&events[0], &user, 1, &format!("k-{i}")).await;
            app.book(&lock).await;
        }
        let path = format!("/api/users/{user}/bookings");
        let page = app.get(&format!("{path}?limit=2")).await;
        let bookings_cursor = next_cursor(&page);
        assert_eq!(ids(&app.get(&format!("{path}?limit=2&cursor={bookings_cursor}")).await).len(), 1);
        for wrong in [
            format!("/api/events?q=concert&cursor={bookings_cursor}"),
            format!("{path}?status=CONFIRMED&cursor={bookings_cursor}"),
            format!("/api/users/{other_user}/bookings?cursor={bookings_cursor}"),
            format!("{path}?cursor={cursor}"),
        ] {
            assert_invalid_cursor(&app.get(&wrong).await);
        }
        app.stop().await;
    }

    async fn a_cursor_works_on_every_instance_of_the_database(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        for day in 1..=3 {
            let reply = app
                .post(
                    "/api/events",
                    json!({"name": "Shared", "eventDate": format!("2099-02-0{day}T20:00:00Z"),
                           "totalSeats": 5}),
                )
                .await;
            assert_eq!(reply.status, 201, "{}", reply.body);
        }
        let first = app.get("/api/events?limit=1").await;
        let cursor = next_cursor(&first);
        let second = app.another_instance(|_| {}).await;
        let reply = second.get(&format!("/api/events?limit=1&cursor={cursor}")).await;
        assert_eq!(ids(&reply).len(), 1);
        assert_ne!(ids(&reply), ids(&first));
        // And back: the second instance's cursor on the first.
        let cursor = next_cursor(&reply);
        let third = app.get(&format!("/api/events?limit=1&cursor={cursor}")).await;
        assert_eq!(ids(&third).len(), 1);
        assert_eq!(third.body["nextCursor"], serde_json::Value::Null);
        second.stop().await;
        app.stop().await;
    }
}
