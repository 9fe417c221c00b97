//! `DATABASE_REPLICA_URL`: public reads (an event, the event list) go to the replica; a user's
//! own holds, bookings and profile, and every write, go to the leader; a replica that does not
//! answer leaves the reads to the leader. (PostgreSQL only: SQLite has no replicas. The real
//! streaming replica, with its replay paused, is exercised by tests/ha against deploy/ha.)

mod postgres {
    use std::time::{Duration, Instant};

    use serde_json::json;

    use crate::harness::{Backend, TestApp};

    /// The stand-in replica is a second database with the same schema that never receives the
    /// leader's changes: a replica whose replay is paused for good. What is read from it shows
    /// which reads go where.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn public_reads_go_to_the_replica_and_a_users_own_reads_to_the_leader() {
        let replica = TestApp::spawn(Backend::Postgres).await;
        let only_on_replica = replica.create_event(10).await;
        let app = TestApp::spawn_with(Backend::Postgres, |config| {
            config.database_replica_url = Some(replica.database_url.clone());
        })
        .await;

        // A new event is written to the leader; the lagging replica does not have it yet.
        let event = app.create_event(100).await;
        app.get(&format!("/api/events/{event}"))
            .await
            .assert_error(404, "Event not found");
        let seen = app.get(&format!("/api/events/{only_on_replica}")).await;
        assert_eq!(seen.status, 200, "public reads come from the replica");
        let listed = app.get("/api/events").await;
        let ids: Vec<&str> = listed.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["_id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, [only_on_replica.as_str()], "the event list too");

        // Everything a user does and reads about their own purchase is on the leader.
        let user = app.register("Ada").await;
        let lock = app.lock(&event, &user, 2, "replica-1").await;
        assert_eq!(app.get(&format!("/api/locks/{lock}")).await.status, 200);
        let booking = app.confirm(&lock).await;
        assert_eq!(booking.status, 201);
        let booking_id = booking.body["booking"]["_id"].as_str().unwrap().to_owned();
        assert_eq!(
            app.get(&format!("/api/bookings/{booking_id}")).await.status,
            200
        );
        let mine = app.get(&format!("/api/users/{user}/bookings")).await;
        assert_eq!(mine.body["data"][0]["_id"], booking_id.as_str());
        assert_eq!(app.get(&format!("/api/users/{user}")).await.status, 200);
        let inventory = app.get(&format!("/api/events/{event}/inventory")).await;
        assert_eq!(inventory.body["data"]["availableSeats"], 98);
        assert_eq!(inventory.body["data"]["consistent"], true);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reads_fall_back_to_the_leader_when_the_replica_does_not_answer() {
        // Nothing listens on port 1: every connection to this replica is refused.
        let app = TestApp::spawn_with(Backend::Postgres, |config| {
            config.database_replica_url =
                Some("postgres://postgres@127.0.0.1:1/postgres".to_owned());
            config.database_acquire_timeout_ms = 5000;
        })
        .await;
        let event = app.create_event(100).await;
        for _ in 0..3 {
            let started = Instant::now();
            let read = app.get(&format!("/api/events/{event}")).await;
            assert_eq!(read.status, 200);
            assert_eq!(read.data()["_id"], event.as_str());
            let listed = app.get("/api/events").await;
            assert_eq!(listed.body["data"][0]["_id"], event.as_str());
            assert!(
                started.elapsed() < Duration::from_secs(3),
                "a dead replica costs at most its short acquire timeout, then is left alone"
            );
        }
        let ready = app.get("/health/ready").await;
        assert_eq!(ready.body, json!({"status": "OK", "database": "OK"}));
    }
}
