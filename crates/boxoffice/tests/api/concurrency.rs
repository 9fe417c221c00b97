//! Races fought with real concurrent requests: never an oversold seat, and the inventory
//! always adds up.

use futures_util::future::join_all;

use crate::backend_tests;
use crate::harness::TestApp;

backend_tests! {
    async fn a_hot_event_sells_exactly_its_seats(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let mut users = Vec::new();
        for i in 0..10 {
            users.push(app.register(&format!("Buyer{i}")).await);
        }
        let event = app.create_event(50).await;
        let replies = join_all((0..300).map(|i| {
            let user = &users[i % users.len()];
            let key = format!("hot-{i}");
            let (app, event) = (&app, &event);
            async move { app.try_lock(event, user, 1, &key).await }
        }))
        .await;
        let granted = replies.iter().filter(|r| r.status == 201).count();
        let refused: Vec<_> = replies.iter().filter(|r| r.status != 201).collect();
        assert_eq!(granted, 50);
        assert_eq!(refused.len(), 250);
        for reply in refused {
            reply.assert_error(400, "Not enough available seats");
        }
        assert_eq!(app.available(&event).await, 0);
        let inventory = app.inventory(&event).await;
        assert_eq!(inventory["heldSeats"], 50);
        app.stop().await;
    }

    async fn a_storm_of_confirms_and_payments_keeps_the_inventory_whole(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let user = app.register("Storm").await;
        let event = app.create_event(200).await;
        let locks = join_all((0..60).map(|i| {
            let (app, event, user) = (&app, &event, &user);
            async move { app.lock(event, user, 1 + (i % 3), &format!("storm-{i}")).await }
        }))
        .await;

        // Every lock confirmed twice at once: one booking each.
        let confirms = join_all(locks.iter().chain(locks.iter()).map(|lock| app.confirm(lock))).await;
        assert_eq!(confirms.iter().filter(|r| r.status == 201).count(), 60);
        assert_eq!(confirms.iter().filter(|r| r.status == 200).count(), 60);
        let mut bookings: Vec<String> = confirms
            .iter()
            .filter(|r| r.status == 201)
            .map(|r| r.body["booking"]["_id"].as_str().unwrap().to_owned())
            .collect();
        bookings.sort();

        // Every booking paid twice at once, with outcomes spread over the three.
        let forces = ["success", "failure", "timeout"];
        let payments = join_all(bookings.iter().enumerate().flat_map(|(i, booking)| {
            [forces[i % 3], forces[(i + 1) % 3]].map(|force| app.pay(booking, force))
        }))
        .await;
        for reply in &payments {
            assert!(
                reply.status == 200 || reply.message().starts_with("Payment not allowed in"),
                "{}",
                reply.body
            );
        }
        let inventory = app.inventory(&event).await;
        let mut seats_by_status = std::collections::HashMap::<String, i64>::new();
        for booking in &bookings {
            let reply = app.get(&format!("/api/bookings/{booking}")).await;
            *seats_by_status.entry(reply.data()["status"].as_str().unwrap().to_owned()).or_default() +=
                reply.data()["seatCount"].as_i64().unwrap();
        }
        let seats = |status: &str| seats_by_status.get(status).copied().unwrap_or(0);
        assert_eq!(inventory["confirmedSeats"], seats("CONFIRMED"));
        assert_eq!(inventory["pendingPaymentSeats"], seats("PAYMENT_PENDING"));
        assert_eq!(inventory["heldSeats"], 0);
        assert_eq!(
            inventory["availableSeats"],
            200 - seats("CONFIRMED") - seats("PAYMENT_PENDING")
        );
        assert!(seats("FAILED") > 0 && seats("CONFIRMED") > 0);
        app.stop().await;
    }

    async fn simultaneous_payments_of_one_booking_change_it_once(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let user = app.register("Ivy").await;
        let event = app.create_event(10).await;
        for round in 0..3 {
            let lock = app.lock(&event, &user, 2, &format!("pay-race-{round}")).await;
            let booking = app.book(&lock).await;
            let replies = join_all((0..16).map(|i| {
                app.pay(&booking, if i % 2 == 0 { "success" } else { "failure" })
            }))
            .await;
            let winners: Vec<_> = replies.iter().filter(|r| r.status == 200).collect();
            assert_eq!(winners.len(), 1, "exactly one payment changes the booking");
            let state = winners[0].body["booking"]["status"].as_str().unwrap().to_owned();
            for loser in replies.iter().filter(|r| r.status != 200) {
                loser.assert_error(400, &format!("Payment not allowed in {state} state"));
            }
            assert_eq!(app.booking_status(&booking).await, state);
            app.inventory(&event).await;
        }
        app.stop().await;
    }
}
