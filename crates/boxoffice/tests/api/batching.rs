//! Group commit of seat holds keeps every rule. Concurrent lock requests for one event are
//! decided together, in arrival order; each must still get the answer it would have got alone.
//!
//! Two kinds of test: batches built by hand and given to the store directly (so exactly what
//! shares a transaction is known), and storms of real concurrent HTTP requests (where the
//! server forms the batches), checked only by what must hold whatever the batches were.

use std::collections::HashSet;
use std::time::Duration;

use boxoffice::domain::{LockRequest, ObjectId, Timestamp};
use boxoffice::store::{LockOutcome, PoolSettings, SqlStore, Store, StoreError, StoreResult};
use futures_util::future::join_all;

use crate::backend_tests;
use crate::harness::{Reply, TestApp};

/// A second handle on the test's database, to give the store batches directly.
async fn store_of(app: &TestApp) -> SqlStore {
    let settings = PoolSettings {
        max_connections: 2,
        acquire_timeout: Duration::from_secs(30),
    };
    SqlStore::connect(&app.database_url, &settings)
        .await
        .expect("connect to the test database")
}

fn id(text: &str) -> ObjectId {
    ObjectId::parse(text).expect("a well-formed id")
}

fn request(event: &str, user: ObjectId, seats: i64, key: &str) -> LockRequest {
    let now = Timestamp::now();
    LockRequest {
        event_id: id(event),
        user_id: user,
        seats,
        idempotency_key: key.to_owned(),
        selection: Default::default(),
        now,
        expires_at: now.plus_seconds(300),
    }
}

#[track_caller]
fn granted(answer: &StoreResult<LockOutcome>, seats: i64) -> String {
    match answer {
        Ok(outcome) => {
            assert!(!outcome.replayed, "a fresh lock, not a replay: {outcome:?}");
            assert_eq!(outcome.lock.seats, seats);
            outcome.lock.id.to_string()
        }
        Err(error) => panic!("expected a lock, got {error:?}"),
    }
}

#[track_caller]
fn replayed(answer: &StoreResult<LockOutcome>, lock: &str) {
    match answer {
        Ok(outcome) => {
            assert!(outcome.replayed, "a replay: {outcome:?}");
            assert_eq!(outcome.lock.id.to_string(), lock);
        }
        Err(error) => panic!("expected a replay of {lock}, got {error:?}"),
    }
}

#[track_caller]
fn refused(answer: &StoreResult<LockOutcome>, message: &str) {
    match answer {
        Err(StoreError::Rejected(rejection)) => assert_eq!(rejection.to_string(), message),
        other => panic!("expected {message:?}, got {other:?}"),
    }
}

const REUSED: &str = "idempotencyKey was already used with a different request";
const SHORT: &str = "Not enough available seats";

/// What a storm of lock replies says, checked against the rules that hold however the
/// server batched them.
#[derive(Default)]
struct Tally {
    fresh: HashSet<String>,
    fresh_seats: i64,
    smallest_refused: Option<i64>,
}

impl Tally {
    #[track_caller]
    fn add(&mut self, reply: &Reply, seats: i64) {
        match reply.status.as_u16() {
            201 if !reply.replayed() => {
                assert_eq!(reply.data()["seats"], seats, "{}", reply.body);
                assert!(self.fresh.insert(reply.id()), "one fresh answer per lock");
                self.fresh_seats += seats;
            }
            201 => {}
            _ => {
                reply.assert_error(400, SHORT);
                self.smallest_refused = Some(self.smallest_refused.map_or(seats, |s| s.min(seats)));
            }
        }
    }

    /// Seats only ever went down in the storm, so a request refused for want of seats would
    /// still not fit: no seat is left that a refused request could have taken.
    #[track_caller]
    fn check_sold_out(&self, available: i64) {
        if let Some(smallest) = self.smallest_refused {
            assert!(
                available < smallest,
                "{available} seats left, yet a request for {smallest} was refused"
            );
        }
    }
}

/// Replies to one `(user, key, seats)` sent many times at once: one lock, the rest replays,
/// or (if the seats were gone when the first arrived) every one refused.
#[track_caller]
fn one_lock_for_repeats(replies: &[&Reply]) -> Option<String> {
    if replies.iter().all(|r| r.status == 400) {
        for reply in replies {
            reply.assert_error(400, SHORT);
        }
        return None;
    }
    let ids: HashSet<String> = replies
        .iter()
        .map(|reply| {
            assert_eq!(reply.status, 201, "{}", reply.body);
            reply.id()
        })
        .collect();
    assert_eq!(ids.len(), 1, "every repeat names the same lock");
    let fresh = replies.iter().filter(|r| !r.replayed()).count();
    assert_eq!(
        fresh, 1,
        "one request made the lock, the others are replays"
    );
    ids.into_iter().next()
}

backend_tests! {
    async fn one_batch_answers_each_request_as_if_it_came_alone(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let (ann, bob) = (id(&app.register("Ann").await), id(&app.register("Bob").await));
        let nobody = ObjectId::generate();
        let event = app.create_event(12).await;
        let other_event = app.create_event(5).await;
        let earlier = app.lock(&event, &ann.to_string(), 2, "earlier").await;
        let store = store_of(&app).await;

        let answers = store
            .lock_seats_batch(vec![
                request(&event, ann, 2, "earlier"),     // 0: a lock made before: replayed
                request(&event, ann, 3, "earlier"),     // 1: its key, another request: 422
                request(&event, bob, 3, "b1"),          // 2: granted, 7 left
                request(&event, bob, 3, "b1"),          // 3: replay of 2
                request(&event, bob, 4, "b1"),          // 4: same key, other seats: 422
                request(&event, nobody, 1, "n1"),       // 5: unknown user: 404, alone
                request(&other_event, ann, 1, "other"), // 6: another event, its own batch
                request(&event, ann, 5, "a5"),          // 7: granted, 2 left
                request(&event, bob, 3, "b3"),          // 8: does not fit
                request(&event, ann, 1, "a1"),          // 9: smaller, fits: 1 left
                request(&event, bob, 3, "b3"),          // 10: refused before, decided afresh
                request(&event, bob, 1, "b4"),          // 11: the last seat
                request(&event, ann, 1, "earlier"),     // 12: 422 again
            ])
            .await
            .answers;
        assert_eq!(answers.len(), 13);
        replayed(&answers[0], &earlier);
        refused(&answers[1], REUSED);
        let b1 = granted(&answers[2], 3);
        replayed(&answers[3], &b1);
        refused(&answers[4], REUSED);
        refused(&answers[5], "User not found");
        granted(&answers[6], 1);
        granted(&answers[7], 5);
        refused(&answers[8], SHORT);
        granted(&answers[9], 1);
        refused(&answers[10], SHORT);
        granted(&answers[11], 1);
        refused(&answers[12], REUSED);

        assert_eq!(app.available(&event).await, 0, "the last seats are sold exactly");
        assert_eq!(app.inventory(&event).await["heldSeats"], 12);
        assert_eq!(app.available(&other_event).await, 4);
        app.inventory(&other_event).await;

        // What the batch made, the HTTP API replays.
        let again = app.try_lock(&event, &bob.to_string(), 3, "b1").await;
        assert_eq!((again.status.as_u16(), again.replayed()), (201, true));
        assert_eq!(again.id(), b1);
        // A key refused for want of seats made no lock: the next try is a new request.
        app.try_lock(&event, &bob.to_string(), 3, "b3").await.assert_error(400, SHORT);
        store.close().await;
        app.stop().await;
    }

    async fn a_batch_refused_as_a_whole_refuses_each_request(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let ann = id(&app.register("Ann").await);
        let event = app.create_event(5).await;
        let store = store_of(&app).await;

        let missing = ObjectId::generate().to_string();
        let answers = store
            .lock_seats_batch(vec![request(&missing, ann, 1, "m1"), request(&missing, ann, 1, "m2")])
            .await
            .answers;
        for answer in &answers {
            refused(answer, "Event not found");
        }

        // An event that has started: every new request is refused, a replay still replays.
        let lock = app.lock(&event, &ann.to_string(), 1, "before").await;
        app.sql(&format!("UPDATE events SET event_date = 1000 WHERE id = '{event}'")).await;
        let answers = store
            .lock_seats_batch(vec![
                request(&event, ann, 1, "before"),
                request(&event, ann, 1, "late-1"),
                request(&event, ann, 2, "late-2"),
            ])
            .await
            .answers;
        replayed(&answers[0], &lock);
        refused(&answers[1], "Event has already taken place");
        refused(&answers[2], "Event has already taken place");
        assert_eq!(app.available(&event).await, 4);
        app.inventory(&event).await;
        store.close().await;
        app.stop().await;
    }

    async fn a_short_batch_reclaims_lapsed_holds_then_decides_again(backend: Backend) {
        let app = TestApp::spawn_with(backend, |config| config.sweep_interval_ms = 3_600_000).await;
        let (ann, bob) = (id(&app.register("Ann").await), id(&app.register("Bob").await));
        let event = app.create_event(10).await;
        let store = store_of(&app).await;

        // A hold that has already lapsed, but that no sweep has released.
        let mut lapsed = request(&event, ann, 6, "lapsed");
        lapsed.now = lapsed.now.plus_seconds(-10);
        lapsed.expires_at = lapsed.now.plus_seconds(5);
        let lapsed_id = granted(&store.lock_seats(lapsed).await, 6);
        assert_eq!(app.available(&event).await, 4);

        // Without its seats only 3 + 1 would fit; with them, everyone does.
        let batch = store
            .lock_seats_batch(vec![
                request(&event, bob, 3, "b1"),
                request(&event, bob, 3, "b2"),
                request(&event, bob, 1, "b3"),
            ])
            .await;
        assert_eq!(batch.reclaimed_seats, 6, "the lapsed hold's seats");
        let answers = batch.answers;
        granted(&answers[0], 3);
        granted(&answers[1], 3);
        granted(&answers[2], 1);
        assert_eq!(app.lock_status(&lapsed_id).await, "EXPIRED");
        assert_eq!(app.available(&event).await, 3);
        assert_eq!(app.inventory(&event).await["heldSeats"], 7);
        store.close().await;
        app.stop().await;
    }

    async fn a_storm_of_mixed_requests_keeps_every_rule(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let mut users = Vec::new();
        for i in 0..8 {
            users.push(app.register(&format!("Buyer{i}")).await);
        }
        let nobody = ObjectId::generate().to_string();
        let event = app.create_event(60).await;

        // (user, seats, key) of every request, in the order they are sent.
        let mut plan: Vec<(String, i64, String)> = Vec::new();
        for i in 0..120 {
            let user = users[i % users.len()].clone();
            match i % 6 {
                // The same request, repeated throughout the storm.
                0 => plan.push((users[0].clone(), 2, "repeat".to_owned())),
                // One key, two different requests.
                1 => plan.push((users[1].clone(), 1 + (i as i64 / 6) % 2 * 2, "clash".to_owned())),
                // A user who does not exist.
                2 if i % 12 == 2 => plan.push((nobody.clone(), 1, format!("nobody-{i}"))),
                // Everyone else: 1 to 5 seats, more than the event has in all.
                _ => plan.push((user, 1 + (i as i64 % 5), format!("buy-{i}"))),
            }
        }
        let replies = join_all(
            plan.iter().map(|(user, seats, key)| app.try_lock(&event, user, *seats, key)),
        )
        .await;

        let mut tally = Tally::default();
        let mut repeats = Vec::new();
        let mut clashes = Vec::new();
        for ((user, seats, key), reply) in plan.iter().zip(&replies) {
            match key.as_str() {
                "repeat" => repeats.push(reply),
                "clash" => clashes.push((*seats, reply)),
                _ if *user == nobody => reply.assert_error(404, "User not found"),
                _ => tally.add(reply, *seats),
            }
        }
        if one_lock_for_repeats(&repeats).is_some() {
            tally.fresh_seats += 2;
        }
        // The clashing key made at most one lock; its repeats replay it, the other request
        // under the key is refused with 422 (or, before the lock was made, for want of seats).
        let clash_ids: HashSet<String> = clashes.iter().filter(|(_, r)| r.status == 201).map(|(_, r)| r.id()).collect();
        assert!(clash_ids.len() <= 1, "{clash_ids:?}");
        let clash_seats: HashSet<i64> = clashes.iter().filter(|(_, r)| r.status == 201).map(|(s, _)| *s).collect();
        assert!(clash_seats.len() <= 1, "one request under the key holds seats");
        for (seats, reply) in &clashes {
            match reply.status.as_u16() {
                201 => {}
                422 => {
                    reply.assert_error(422, REUSED);
                    assert!(!clash_seats.contains(seats) && !clash_seats.is_empty());
                }
                _ => reply.assert_error(400, SHORT),
            }
        }
        if let Some(&seats) = clash_seats.iter().next() {
            assert_eq!(clashes.iter().filter(|(_, r)| r.status == 201 && !r.replayed()).count(), 1);
            tally.fresh_seats += seats;
        }

        let available = app.available(&event).await;
        assert_eq!(available, 60 - tally.fresh_seats, "every seat taken is in a lock answered");
        tally.check_sold_out(available);
        let inventory = app.inventory(&event).await;
        assert_eq!(inventory["heldSeats"], tally.fresh_seats);

        // A second wave of single seats sells what is left, exactly.
        let wave = join_all((0..10).map(|i| {
            let user = &users[i % users.len()];
            let (app, event) = (&app, &event);
            async move { app.try_lock(event, user, 1, &format!("wave-{i}")).await }
        }))
        .await;
        let sold = wave.iter().filter(|r| r.status == 201).count() as i64;
        for reply in wave.iter().filter(|r| r.status != 201) {
            reply.assert_error(400, SHORT);
        }
        assert_eq!(sold, available, "the last seats go to the last buyers");
        assert_eq!(app.available(&event).await, 0);
        app.inventory(&event).await;
        app.stop().await;
    }

    async fn a_request_that_breaks_its_batch_fails_alone(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let user = app.register("Nia").await;
        let event = app.create_event(100).await;
        // PostgreSQL cannot store a NUL character in text, so this key fails its whole
        // transaction there (SQLite stores it). Its neighbours must not notice.
        let replies = join_all((0..40).map(|i| {
            let key = if i % 10 == 5 { format!("nul\u{0}{i}") } else { format!("fine-{i}") };
            let (app, event, user) = (&app, &event, &user);
            async move { (key.contains('\u{0}'), app.try_lock(event, user, 1, &key).await) }
        }))
        .await;
        let mut taken = 0;
        for (poison, reply) in &replies {
            if *poison {
                assert!(matches!(reply.status.as_u16(), 201 | 400 | 500), "{}", reply.body);
            } else {
                assert_eq!(reply.status, 201, "{}", reply.body);
            }
            if reply.status == 201 {
                taken += 1;
            }
        }
        assert_eq!(app.available(&event).await, 100 - taken);
        app.inventory(&event).await;
        app.stop().await;
    }

    async fn two_instances_batching_on_one_event_sell_exactly_its_seats(backend: Backend) {
        let one = TestApp::spawn(backend).await;
        let two = one.another_instance(|_| {}).await;
        let mut users = Vec::new();
        for i in 0..6 {
            users.push(one.register(&format!("Fan{i}")).await);
        }
        let event = one.create_event(50).await;
        // Distinct keys spread over both instances, and one request sent to both many times.
        let replies = join_all((0..240).map(|i| {
            let app = if i % 2 == 0 { &one } else { &two };
            let (user, key) = if i % 8 == 0 {
                (&users[0], "both".to_owned())
            } else {
                (&users[i % users.len()], format!("fan-{i}"))
            };
            let event = &event;
            async move { (key == "both", app.try_lock(event, user, 1, &key).await) }
        }))
        .await;
        let mut tally = Tally::default();
        let mut repeats = Vec::new();
        for (repeat, reply) in &replies {
            if *repeat {
                repeats.push(reply);
            } else {
                tally.add(reply, 1);
            }
        }
        if one_lock_for_repeats(&repeats).is_some() {
            tally.fresh_seats += 1;
        }
        assert_eq!(tally.fresh_seats, 50, "exactly as many holds as seats");
        assert_eq!(one.available(&event).await, 0);
        assert_eq!(two.inventory(&event).await["heldSeats"], 50);
        two.stop().await;
        one.stop().await;
    }

    async fn batching_off_gives_the_same_answers(backend: Backend) {
        let app = TestApp::spawn_with(backend, |config| {
            config.lock_batching = boxoffice::config::Switch::Off;
        })
        .await;
        let user = app.register("Olu").await;
        let event = app.create_event(20).await;
        let replies = join_all((0..60).map(|i| {
            let key = if i % 3 == 0 { "same".to_owned() } else { format!("k{i}") };
            let (app, event, user) = (&app, &event, &user);
            async move { (key == "same", app.try_lock(event, user, 1, &key).await) }
        }))
        .await;
        let mut tally = Tally::default();
        let mut repeats = Vec::new();
        for (repeat, reply) in &replies {
            if *repeat {
                repeats.push(reply);
            } else {
                tally.add(reply, 1);
            }
        }
        if one_lock_for_repeats(&repeats).is_some() {
            tally.fresh_seats += 1;
        }
        assert_eq!(tally.fresh_seats, 20);
        assert_eq!(app.available(&event).await, 0);
        app.inventory(&event).await;
        app.stop().await;
    }
}
