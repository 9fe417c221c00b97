//! Dates: every instant the API accepts is one it can show (1970 to 9999 once in UTC, anything
//! else a 400 naming the field, in bodies and in `from`/`to`), and a stored instant that
//! cannot be shown fails only its own row, never a list.

use serde_json::json;

use crate::backend_tests;
use crate::harness::{Reply, TestApp};

const OUT_OF_RANGE: &str = "must be between 1970-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z";
/// RFC 3339 dates that lie outside the accepted range once in UTC.
const OUTSIDE: [&str; 3] = [
    // Year 10000 in UTC.
    "9999-12-31T23:59:59-23:59",
    "9999-12-31T23:59:59.999-00:01",
    // 1969 in UTC.
    "1970-01-01T00:00:00+00:01",
];

async fn event_dated(app: &TestApp, name: &str, date: &str) -> Reply {
    app.post(
        "/api/events",
        json!({"name": name, "eventDate": date, "totalSeats": 10}),
    )
    .await
}

fn ids(reply: &Reply) -> Vec<String> {
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply
        .data()
        .as_array()
        .expect("data is a list")
        .iter()
        .map(|event| event["_id"].as_str().unwrap().to_owned())
        .collect()
}

async fn events_stored(app: &TestApp) -> String {
    app.sql_text("SELECT CAST(COUNT(*) AS TEXT) FROM events")
        .await
}

backend_tests! {
    async fn a_date_outside_the_range_is_refused_and_saves_nothing(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        for date in OUTSIDE {
            event_dated(&app, "Far", date)
                .await
                .assert_error(400, &format!("eventDate {OUT_OF_RANGE}"));
        }
        assert_eq!(events_stored(&app).await, "0");
        let last = event_dated(&app, "Last", "9999-12-31T23:59:59.999Z").await;
        assert_eq!(last.status, 201, "{}", last.body);
        assert_eq!(last.data()["eventDate"], "9999-12-31T23:59:59.999Z");
        // Everything stays showable.
        let listed = app.get("/api/events").await;
        assert_eq!(ids(&listed), [last.id()]);
    }

    async fn a_change_to_a_date_outside_the_range_is_refused(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let event = app.create_event(10).await;
        let before = app.get(&format!("/api/events/{event}")).await;
        for date in OUTSIDE {
            app.patch(&format!("/api/events/{event}"), json!({"eventDate": date}))
                .await
                .assert_error(400, &format!("eventDate {OUT_OF_RANGE}"));
        }
        let after = app.get(&format!("/api/events/{event}")).await;
        assert_eq!(after.status, 200, "{}", after.body);
        assert_eq!(after.data(), before.data());
        assert_eq!(ids(&app.get("/api/events").await), [event]);
    }

    async fn list_bounds_outside_the_range_name_their_parameter(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        for name in ["from", "to"] {
            for date in OUTSIDE {
                app.get_query("/api/events", &[(name, date)])
                    .await
                    .assert_error(400, &format!("{name} {OUT_OF_RANGE}"));
            }
            app.get_query("/api/events", &[(name, "tomorrow")])
                .await
                .assert_error(400, &format!("{name} must be a valid date"));
        }
        let whole = app
            .get_query(
                "/api/events",
                &[("from", "1970-01-01T00:00:00Z"), ("to", "9999-12-31T23:59:59.999Z")],
            )
            .await;
        assert_eq!(whole.status, 200, "{}", whole.body);
    }

    async fn list_bounds_finer_than_a_millisecond_round_up(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let at_ten = event_dated(&app, "At ten", "2090-06-30T10:00:00.000Z").await.id();
        let listed = |from: &'static str, to: &'static str| {
            let app = &app;
            async move { ids(&app.get_query("/api/events", &[("from", from), ("to", to)]).await) }
        };
        // `to` is exclusive: a bound a tenth of a millisecond later still includes 10:00:00.000.
        assert_eq!(listed("2090-06-30T09:00:00Z", "2090-06-30T10:00:00.0001Z").await, std::slice::from_ref(&at_ten));
        assert!(listed("2090-06-30T09:00:00Z", "2090-06-30T10:00:00Z").await.is_empty());
        // `from` is inclusive: a bound just after 10:00:00.000 excludes it.
        assert!(listed("2090-06-30T10:00:00.0009Z", "2090-06-30T11:00:00Z").await.is_empty());
        assert!(listed("2090-06-30T10:00:00.0001Z", "2090-06-30T11:00:00Z").await.is_empty());
        assert_eq!(listed("2090-06-30T10:00:00Z", "2090-06-30T11:00:00Z").await, [at_ten]);
    }

    async fn a_stored_date_that_cannot_be_shown_fails_only_its_row(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let early = event_dated(&app, "Early", "2090-01-01T00:00:00Z").await.id();
        let broken = event_dated(&app, "Broken", "2091-01-01T00:00:00Z").await.id();
        let late = event_dated(&app, "Late", "2092-01-01T00:00:00Z").await.id();
        // Written behind the API's back: a creation time in 1969.
        app.sql(&format!("UPDATE events SET created_at = -5 WHERE id = '{broken}'"))
            .await;

        let listed = app.get("/api/events").await;
        assert_eq!(ids(&listed), [early.clone(), late.clone()]);
        let shown = app.get(&format!("/api/events/{broken}")).await;
        shown.assert_error(500, "Internal server error");
        assert_eq!(shown.body["code"], "INTERNAL");
        assert_eq!(app.get(&format!("/api/events/{late}")).await.status, 200);

        // Page by page, the walk passes the broken row without stopping or repeating.
        let first = app.get("/api/events?limit=1").await;
        assert_eq!(ids(&first)[..], [early.as_str()]);
        let cursor = first.body["nextCursor"].as_str().unwrap().to_owned();
        let second = app.get(&format!("/api/events?limit=1&cursor={cursor}")).await;
        assert_eq!(ids(&second), Vec::<String>::new());
        let cursor = second.body["nextCursor"].as_str().expect("more follow").to_owned();
        let third = app.get(&format!("/api/events?limit=1&cursor={cursor}")).await;
        assert_eq!(ids(&third)[..], [late.as_str()]);

        // A date past year 9999 in UTC, stored by an older version: the same.
        app.sql(&format!(
            "UPDATE events SET event_date = 253402300800000, created_at = 0 WHERE id = '{broken}'"
        ))
        .await;
        assert_eq!(ids(&app.get("/api/events").await), [early, late]);
        app.get(&format!("/api/events/{broken}"))
            .await
            .assert_error(500, "Internal server error");
    }

    async fn a_bookings_list_leaves_out_a_booking_it_cannot_show(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let event = app.create_event(10).await;
        let user = app.register("Alice").await;
        let first = app.book(&app.lock(&event, &user, 1, "k1").await).await;
        let second = app.book(&app.lock(&event, &user, 1, "k2").await).await;
        app.sql(&format!(
            "UPDATE bookings SET payment_expires_at = 253402300800000 WHERE id = '{first}'"
        ))
        .await;
        let listed = app.get(&format!("/api/users/{user}/bookings")).await;
        assert_eq!(ids(&listed), [second]);
        app.get(&format!("/api/bookings/{first}"))
            .await
            .assert_error(500, "Internal server error");
    }
}
