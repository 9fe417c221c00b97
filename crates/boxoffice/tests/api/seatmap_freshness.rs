//! The seat map is fresh after every answer that changed seats, refusals included (README,
//! "Bounds at the edge"): a refused request can commit a seat change (CONTRACT.md rule 4: a
//! lapsed hold is expired on the spot before the refusal), and the map drawn before it must
//! not be served again.

use std::time::Duration;

use crate::backend_tests;
use crate::harness::TestApp;
use crate::seating::{create_seated, hold_named, theatre_chart};
use crate::seatmap_browser::status_of;

/// The seat map's status of each label, as served now.
async fn map_statuses(app: &TestApp, event: &str, labels: &[&str]) -> Vec<String> {
    let svg = app
        .client
        .get(app.url(&format!("/api/events/{event}/seatmap.svg")))
        .send()
        .await
        .unwrap();
    assert_eq!(svg.status(), 200);
    let svg = svg.text().await.unwrap();
    labels
        .iter()
        .map(|label| status_of(&svg, label).unwrap())
        .collect()
}

backend_tests! {
    async fn refusals_that_expired_lapsed_holds_refresh_the_seat_map(backend: Backend) {
        let app = TestApp::spawn_with(backend, |config| {
            config.lock_ttl_seconds = 1;
            config.lock_max_lifetime_seconds = 1;
            config.payment_ttl_seconds = 1;
            // The sweeper off: only the requests below expire the lapsed holds.
            config.sweep_interval_ms = 3_600_000;
        })
        .await;
        let event = create_seated(&app, theatre_chart()).await.id();
        let user = app.register("Ann").await;
        let lock = hold_named(&app, &event, &user, &["stalls-A-1"], "a").await.id();
        let pending = hold_named(&app, &event, &user, &["stalls-A-2"], "b").await.id();
        let booking = app.book(&pending).await;
        // Both lapse (1 s), and no sweep runs.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let labels = ["stalls-A-1", "stalls-A-2"];
        // A drawing made now is kept (up to a second): it still shows both holds.
        assert_eq!(map_statuses(&app, &event, &labels).await, ["HELD", "PENDING_PAYMENT"]);

        // Releasing the lapsed lock is refused, and expires it on the spot.
        let released = app.delete(&format!("/api/locks/{lock}")).await;
        assert_eq!(released.status, 400, "{}", released.body);
        assert_eq!(app.lock_status(&lock).await, "EXPIRED");
        assert_eq!(map_statuses(&app, &event, &labels).await, ["FREE", "PENDING_PAYMENT"]);

        // Paying the lapsed booking, with an Idempotency-Key (its change commits with the
        // kept answer, after the handler), is refused and expires it on the spot.
        let paid = app
            .send(
                app.client
                    .post(app.url("/api/payments/intent"))
                    .header("Idempotency-Key", "pay-late")
                    .json(&serde_json::json!({"bookingId": booking, "force": "success"})),
            )
            .await;
        paid.assert_error(400, "Payment not allowed in EXPIRED state");
        assert_eq!(map_statuses(&app, &event, &labels).await, ["FREE", "FREE"]);
        assert_eq!(app.available(&event).await, 29);
        app.stop().await;
    }
}
