//! Cancelling bookings: seats come back exactly once, a paid booking is refunded, and a
//! cancellation racing a payment leaves one consistent outcome.

use std::time::Duration;

use futures_util::future::join_all;

use crate::backend_tests;
use crate::harness::TestApp;

const UNKNOWN_ID: &str = "5f0000000000000000000000";
/// 2000-01-01T00:00:00Z, long gone.
const PAST_MILLIS: i64 = 946_684_800_000;

backend_tests! {
    async fn cancelling_a_pending_booking_returns_its_seats_once(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let user = app.register("Pia").await;
        let event = app.create_event(10).await;
        let lock = app.lock(&event, &user, 3, "k").await;
        let booking = app.book(&lock).await;
        assert_eq!(app.available(&event).await, 7);

        let reply = app.cancel(&booking).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(reply.body["success"], true);
        let cancelled = reply.data();
        assert_eq!(cancelled["_id"], booking.as_str());
        assert_eq!(cancelled["status"], "CANCELLED");
        assert_eq!(cancelled["seatCount"], 3);
        assert_eq!(cancelled["seatLockId"], lock.as_str());
        let shown = app.get(&format!("/api/bookings/{booking}")).await;
        assert_eq!(shown.data(), cancelled, "the answer is the booking as stored");
        assert_eq!(app.lock_status(&lock).await, "EXPIRED");
        assert_eq!(app.available(&event).await, 10);
        let inventory = app.inventory(&event).await;
        assert_eq!(inventory["pendingPaymentSeats"], 0);
        assert_eq!(app.payments(&booking, "REFUND").await, 0, "nothing was paid");

        app.cancel(&booking).await.assert_error(400, "Cancellation not allowed in CANCELLED state");
        app.pay(&booking, "success").await.assert_error(400, "Payment not allowed in CANCELLED state");
        app.confirm(&lock).await.assert_error(404, "INVALID_OR_EXPIRED_LOCK");
        assert_eq!(app.available(&event).await, 10);
        app.inventory(&event).await;
        app.stop().await;
    }

    async fn cancelling_a_confirmed_booking_refunds_it(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let user = app.register("Quinn").await;
        let event = app.create_event(10).await;
        let lock = app.lock(&event, &user, 4, "k").await;
        let booking = app.book(&lock).await;
        assert_eq!(app.pay(&booking, "success").await.status, 200);
        assert_eq!(app.lock_status(&lock).await, "CONSUMED");
        assert_eq!(app.available(&event).await, 6);

        let reply = app.cancel(&booking).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(reply.data()["status"], "CANCELLED");
        assert_eq!(app.lock_status(&lock).await, "EXPIRED");
        assert_eq!(app.available(&event).await, 10);
        let inventory = app.inventory(&event).await;
        assert_eq!(inventory["confirmedSeats"], 0);
        assert_eq!(app.payments(&booking, "REFUND").await, 1);
        assert_eq!(app.payments(&booking, "SUCCESS").await, 1);

        app.cancel(&booking).await.assert_error(400, "Cancellation not allowed in CANCELLED state");
        assert_eq!(app.payments(&booking, "REFUND").await, 1, "refunded once");
        assert_eq!(app.available(&event).await, 10);
        app.inventory(&event).await;
        app.stop().await;
    }

    async fn cancellation_errors(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let user = app.register("Rae").await;
        app.cancel(UNKNOWN_ID).await.assert_error(404, "Booking not found");
        app.cancel("invalid_id_12345").await.assert_error(404, "Booking not found");

        let event = app.create_event(10).await;
        let failed = app.book(&app.lock(&event, &user, 1, "failed").await).await;
        assert_eq!(app.pay(&failed, "failure").await.status, 200);
        app.cancel(&failed).await.assert_error(400, "Cancellation not allowed in FAILED state");

        // Once the event has started, neither a pending nor a paid booking can be cancelled.
        let pending = app.book(&app.lock(&event, &user, 2, "pending").await).await;
        let paid = app.book(&app.lock(&event, &user, 3, "paid").await).await;
        assert_eq!(app.pay(&paid, "success").await.status, 200);
        app.sql(&format!("UPDATE events SET event_date = {PAST_MILLIS} WHERE id = '{event}'"))
            .await;
        for booking in [&pending, &paid] {
            app.cancel(booking).await.assert_error(400, "Event has already taken place");
        }
        assert_eq!(app.booking_status(&pending).await, "PAYMENT_PENDING");
        assert_eq!(app.booking_status(&paid).await, "CONFIRMED");
        assert_eq!(app.payments(&paid, "REFUND").await, 0);
        assert_eq!(app.available(&event).await, 5);
        app.inventory(&event).await;
        app.stop().await;
    }

    async fn a_pending_booking_past_its_payment_window_counts_as_expired(backend: Backend) {
        let app = TestApp::spawn_with(backend, |config| {
            config.payment_ttl_seconds = 1;
            config.sweep_interval_ms = 3_600_000;
        })
        .await;
        let user = app.register("Sam").await;
        let event = app.create_event(10).await;
        let lock = app.lock(&event, &user, 4, "k").await;
        let booking = app.book(&lock).await;
        assert_eq!(app.available(&event).await, 6);
        tokio::time::sleep(Duration::from_millis(1200)).await;

        // Not swept, yet expired on the spot, and its seats are back, once.
        app.cancel(&booking).await.assert_error(400, "Cancellation not allowed in EXPIRED state");
        assert_eq!(app.booking_status(&booking).await, "EXPIRED");
        assert_eq!(app.lock_status(&lock).await, "EXPIRED");
        assert_eq!(app.available(&event).await, 10);
        app.cancel(&booking).await.assert_error(400, "Cancellation not allowed in EXPIRED state");
        assert_eq!(app.available(&event).await, 10);
        app.inventory(&event).await;
        app.stop().await;
    }

    async fn a_cancellation_racing_a_failing_payment_changes_the_booking_once(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let user = app.register("Tia").await;
        let event = app.create_event(10).await;
        for round in 0..4 {
            let lock = app.lock(&event, &user, 3, &format!("race-{round}")).await;
            let booking = app.book(&lock).await;
            let (cancels, payments) = tokio::join!(
                join_all((0..4).map(|_| app.cancel(&booking))),
                join_all((0..4).map(|_| app.pay(&booking, "failure"))),
            );
            let won: Vec<_> = cancels.iter().chain(&payments).filter(|r| r.status == 200).collect();
            assert_eq!(won.len(), 1, "exactly one request changes the booking");
            let state = app.booking_status(&booking).await;
            assert!(state == "CANCELLED" || state == "FAILED", "{state}");
            for reply in cancels.iter().filter(|r| r.status != 200) {
                reply.assert_error(400, &format!("Cancellation not allowed in {state} state"));
            }
            for reply in payments.iter().filter(|r| r.status != 200) {
                reply.assert_error(400, &format!("Payment not allowed in {state} state"));
            }
            assert_eq!(app.lock_status(&lock).await, "EXPIRED");
            assert_eq!(app.available(&event).await, 10, "the seats came back once");
            app.inventory(&event).await;
        }
        app.stop().await;
    }

    async fn a_cancellation_racing_a_successful_payment_ends_cancelled(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let user = app.register("Uma").await;
        let event = app.create_event(10).await;
        for round in 0..4 {
            let lock = app.lock(&event, &user, 2, &format!("race-{round}")).await;
            let booking = app.book(&lock).await;
            let (cancel, payment) = tokio::join!(app.cancel(&booking), app.pay(&booking, "success"));
            // Either the payment came first and the paid booking was cancelled and refunded,
            // or the cancellation came first and the payment was refused.
            assert_eq!(cancel.status, 200, "{}", cancel.body);
            assert_eq!(app.booking_status(&booking).await, "CANCELLED");
            let refunds = app.payments(&booking, "REFUND").await;
            if payment.status == 200 {
                assert_eq!(refunds, 1);
            } else {
                payment.assert_error(400, "Payment not allowed in CANCELLED state");
                assert_eq!(refunds, 0);
            }
            assert_eq!(app.lock_status(&lock).await, "EXPIRED");
            assert_eq!(app.available(&event).await, 10, "the seats came back once");
            app.inventory(&event).await;
        }
        app.stop().await;
    }
}
