//! Lists: events by date and a user's bookings, page by page, with their filters, and every
//! way to ask for a page wrongly.

use serde_json::{Value, json};

use crate::backend_tests;
use crate::harness::{Reply, TestApp};

const UNKNOWN_ID: &str = "5f0000000000000000000000";
/// 2000-01-01T00:00:00Z, long gone.
const PAST_MILLIS: i64 = 946_684_800_000;

async fn event_named(app: &TestApp, name: &str, date: &str) -> String {
    let reply = app
        .post(
            "/api/events",
            json!({"name": name, "eventDate": date, "totalSeats": 10}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.id()
}

fn ids(reply: &Reply) -> Vec<String> {
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["success"], true, "{}", reply.body);
    reply
        .data()
        .as_array()
        .expect("data is a list")
        .iter()
        .map(|item| item["_id"].as_str().unwrap().to_owned())
        .collect()
}

fn these(ids: &[&String]) -> Vec<String> {
    ids.iter().map(|id| (*id).clone()).collect()
}

fn next_cursor(reply: &Reply) -> Option<String> {
    match &reply.body["nextCursor"] {
        Value::Null => None,
        Value::String(cursor) => Some(cursor.clone()),
        other => panic!("nextCursor must be a string or null, got {other}"),
    }
}

/// Walks every page of `path` (which has a query string already) and returns the ids in
/// order, and the size of each page.
async fn walk(app: &TestApp, path: &str) -> (Vec<String>, Vec<usize>) {
    let mut all = Vec::new();
    let mut sizes = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(cursor) => format!("{path}&cursor={cursor}"),
            None => path.to_owned(),
        };
        let reply = app.get(&url).await;
        let page = ids(&reply);
        sizes.push(page.len());
        all.extend(page);
        cursor = next_cursor(&reply);
        if cursor.is_none() {
            return (all, sizes);
        }
        assert!(sizes.len() < 100, "the walk never ends");
    }
}

backend_tests! {
    async fn events_are_listed_by_date_then_id_without_gaps_or_duplicates(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        // Five events on each of five dates, created out of date order: ties on the date are
        // broken by id.
        let mut expected = Vec::new();
        for i in 0..25 {
            let date = format!("2099-0{}-01T10:00:00.000Z", 5 - i % 5);
            let id = event_named(&app, &format!("Event {i}"), &date).await;
            expected.push((date, id));
        }
        expected.sort();
        let expected: Vec<String> = expected.into_iter().map(|(_, id)| id).collect();

        let (listed, sizes) = walk(&app, "/api/events?limit=10").await;
        assert_eq!(sizes, [10, 10, 5]);
        assert_eq!(listed, expected);

        // Twenty by default; a list item is the event as GET shows it.
        let reply = app.get("/api/events").await;
        assert_eq!(ids(&reply), expected[..20]);
        assert!(next_cursor(&reply).is_some());
        let first = app.get(&format!("/api/events/{}", expected[0])).await;
        assert_eq!(reply.data()[0], *first.data());
        assert_eq!(reply.data()[0]["eventDate"], "2099-01-01T10:00:00.000Z");

        // A page that ends exactly at the end says so.
        let reply = app.get("/api/events?limit=25").await;
        assert_eq!(ids(&reply), expected);
        assert_eq!(reply.body["nextCursor"], Value::Null);
        let reply = app.get("/api/events?limit=100").await;
        assert_eq!(ids(&reply).len(), 25);
        assert_eq!(reply.body["nextCursor"], Value::Null);
        app.stop().await;
    }

    async fn event_lists_filter_by_date_and_name(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let rock = event_named(&app, "Rock 100% Live", "2099-03-01T20:00:00Z").await;
        let band = event_named(&app, "rock_band night", "2099-04-01T20:00:00Z").await;
        let rocky = event_named(&app, "ROCKY horror", "2099-05-01T20:00:00+02:00").await;
        let jazz = event_named(&app, "Jazz\\Blues", "2099-06-01T20:00:00Z").await;
        let past = event_named(&app, "Rock of ages", "2099-01-01T20:00:00Z").await;
        app.sql(&format!("UPDATE events SET event_date = {PAST_MILLIS} WHERE id = '{past}'"))
            .await;

        // Upcoming events only, unless `from` says otherwise.
        assert_eq!(ids(&app.get("/api/events").await), these(&[&rock, &band, &rocky, &jazz]));
        let all = app.get_query("/api/events", &[("from", "1999-12-31T00:00:00Z")]).await;
        assert_eq!(ids(&all), these(&[&past, &rock, &band, &rocky, &jazz]));

        // `from` is inclusive, `to` exclusive; both accept any RFC 3339 form.
        let window = [("from", "2099-04-01T20:00:00Z"), ("to", "2099-05-01T18:00:00Z")];
        assert_eq!(ids(&app.get_query("/api/events", &window).await), these(&[&band]));
        let window = [("from", "2099-04-01T22:00:00+02:00"), ("to", "2099-05-01T18:00:00.001Z")];
        assert_eq!(ids(&app.get_query("/api/events", &window).await), these(&[&band, &rocky]));
        let only_to = [("to", "2099-04-01T20:00:00Z")];
        assert_eq!(ids(&app.get_query("/api/events", &only_to).await), these(&[&rock]));
        let backwards = [("from", "2099-06-01T00:00:00Z"), ("to", "2099-01-01T00:00:00Z")];
        assert!(ids(&app.get_query("/api/events", &backwards).await).is_empty());

        // `q`: part of the name, whatever its case; LIKE's wildcards match only themselves.
        let app_ref = &app;
        let search =
            |q: &'static str| async move { app_ref.get_query("/api/events", &[("q", q)]).await };
        assert_eq!(ids(&search("rock").await), these(&[&rock, &band, &rocky]));
        assert_eq!(ids(&search("ROCK").await), these(&[&rock, &band, &rocky]));
        assert_eq!(ids(&search("Horror").await), these(&[&rocky]));
        assert_eq!(ids(&search("%").await), these(&[&rock]));
        assert_eq!(ids(&search("100%").await), these(&[&rock]));
        assert_eq!(ids(&search("_").await), these(&[&band]));
        assert_eq!(ids(&search("k_b").await), these(&[&band]));
        assert_eq!(ids(&search("k b").await), Vec::<String>::new());
        assert_eq!(ids(&search("z\\b").await), these(&[&jazz]));
        assert_eq!(ids(&search("").await), these(&[&rock, &band, &rocky, &jazz]));
        assert!(ids(&search("nothing like it").await).is_empty());
        let past_rock = [("q", "rock"), ("from", "2000-01-01T00:00:00Z"), ("to", "2099-04-01T00:00:00Z")];
        assert_eq!(ids(&app.get_query("/api/events", &past_rock).await), these(&[&past, &rock]));

        // Filters and pages together.
        let (listed, sizes) = walk(&app, "/api/events?q=ROCK&limit=2&from=2000-01-01T00:00:00Z").await;
        assert_eq!(sizes, [2, 2]);
        assert_eq!(listed, these(&[&past, &rock, &band, &rocky]));
        app.stop().await;
    }

    async fn event_list_errors(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        event_named(&app, "Only", "2099-03-01T20:00:00Z").await;
        for limit in ["abc", "0", "101", "2.5", "-1", "", "1e1", "+5"] {
            app.get_query("/api/events", &[("limit", limit)])
                .await
                .assert_error(400, "limit must be an integer between 1 and 100");
        }
        for cursor in ["", "abc", "not-a-cursor-at-all-not-a-cursor-at-all!", "zz00000000000000697a00af215688d2a9fca5c8"] {
            app.get_query("/api/events", &[("cursor", cursor)])
                .await
                .assert_error(400, "cursor is invalid");
        }
        for from in ["yesterday", "2099-03-01", "2099-13-01T00:00:00Z", ""] {
            app.get_query("/api/events", &[("from", from)])
                .await
                .assert_error(400, "from must be a valid date");
        }
        app.get_query("/api/events", &[("to", "soon")])
            .await
            .assert_error(400, "to must be a valid date");
        app.get("/api/events?limit=5&limit=6")
            .await
            .assert_error(400, "limit must be given once");
        app.get("/api/events?q=a&limit=5&%71=b")
            .await
            .assert_error(400, "q must be given once");
        // Unknown parameters are ignored, like unknown body fields, repeated or not.
        assert_eq!(ids(&app.get("/api/events?page=2").await).len(), 1);
        assert_eq!(ids(&app.get("/api/events?page=2&page=3").await).len(), 1);
        app.stop().await;
    }

    async fn a_users_bookings_are_listed_newest_first(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let user = app.register("Lena").await;
        let other = app.register("Otto").await;
        let event = app.create_event(100).await;
        let mut created = Vec::new();
        for i in 0..7 {
            let lock = app.lock(&event, &user, 1 + i % 3, &format!("b-{i}")).await;
            created.push(app.book(&lock).await);
            let lock = app.lock(&event, &other, 1, &format!("o-{i}")).await;
            app.book(&lock).await;
        }
        for booking in [&created[1], &created[4]] {
            assert_eq!(app.pay(booking, "success").await.status, 200);
        }
        assert_eq!(app.pay(&created[2], "failure").await.status, 200);
        assert_eq!(app.cancel(&created[5]).await.status, 200);
        let newest_first: Vec<String> = created.iter().rev().cloned().collect();

        let path = format!("/api/users/{user}/bookings");
        let (listed, sizes) = walk(&app, &format!("{path}?limit=3")).await;
        assert_eq!(sizes, [3, 3, 1]);
        assert_eq!(listed, newest_first);

        // Each item is the booking as GET shows it.
        let reply = app.get(&path).await;
        assert_eq!(ids(&reply), newest_first);
        assert_eq!(reply.body["nextCursor"], Value::Null);
        let newest = app.get(&format!("/api/bookings/{}", created[6])).await;
        assert_eq!(reply.data()[0], *newest.data());
        assert_eq!(reply.data()[0]["seats"], json!(["1"]));

        let (app_ref, path_ref) = (&app, &path);
        let by_status = |status: &'static str| async move {
            app_ref.get_query(path_ref, &[("status", status)]).await
        };
        assert_eq!(ids(&by_status("CONFIRMED").await), these(&[&created[4], &created[1]]));
        assert_eq!(ids(&by_status("FAILED").await), these(&[&created[2]]));
        assert_eq!(ids(&by_status("CANCELLED").await), these(&[&created[5]]));
        assert_eq!(
            ids(&by_status("PAYMENT_PENDING").await),
            these(&[&created[6], &created[3], &created[0]])
        );
        assert!(ids(&by_status("EXPIRED").await).is_empty());
        let (listed, sizes) = walk(&app, &format!("{path}?status=PAYMENT_PENDING&limit=2")).await;
        assert_eq!(sizes, [2, 1]);
        assert_eq!(listed, these(&[&created[6], &created[3], &created[0]]));

        let nobody = app.register("Nobody").await;
        let reply = app.get(&format!("/api/users/{nobody}/bookings")).await;
        assert!(ids(&reply).is_empty());
        assert_eq!(reply.body["nextCursor"], Value::Null);
        app.stop().await;
    }

    async fn booking_list_errors(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let user = app.register("Mia").await;
        let path = format!("/api/users/{user}/bookings");
        app.get(&format!("/api/users/{UNKNOWN_ID}/bookings"))
            .await
            .assert_error(404, "User not found");
        app.get("/api/users/invalid_id_12345/bookings")
            .await
            .assert_error(404, "User not found");
        for status in ["confirmed", "PAID", ""] {
            app.get_query(&path, &[("status", status)]).await.assert_error(
                400,
                "status must be one of INITIATED, PAYMENT_PENDING, CONFIRMED, FAILED, EXPIRED, \
                 CANCELLED",
            );
        }
        for limit in ["0", "101", "2.5", "ten"] {
            app.get_query(&path, &[("limit", limit)])
                .await
                .assert_error(400, "limit must be an integer between 1 and 100");
        }
        app.get_query(&path, &[("cursor", "abc")])
            .await
            .assert_error(400, "cursor is invalid");
        app.stop().await;
    }
}
