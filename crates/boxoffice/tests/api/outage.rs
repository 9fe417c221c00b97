//! PostgreSQL goes away under load and comes back: requests fail fast with a JSON 503, the
//! readiness check says so, and service resumes by itself with nothing lost or oversold.
//! (PostgreSQL only: SQLite is a file in the same process.)
//!
//! A hold whose connection died during its COMMIT may have committed: it is answered
//! `OUTCOME_UNKNOWN`, and the client retries it with the same idempotency key (rule 8). Every
//! other 503 promises nothing changed, which the final count checks exactly.

mod postgres {
    use std::sync::Mutex;
    use std::time::{Duration, Instant};

    use futures_util::future::join_all;
    use serde_json::json;

    use crate::harness::{Backend, TestApp};
    use crate::pg_cluster::PgCluster;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_database_outage_fails_fast_and_heals_by_itself() {
        let cluster = PgCluster::start();
        let app = TestApp::spawn_on(Backend::Postgres, cluster.url(), |config| {
            config.database_acquire_timeout_ms = 1000;
            config.request_timeout_ms = 5000;
        })
        .await;
        let user = app.register("Zoe").await;
        let event = app.create_event(100_000).await;
        let ready = app.get("/health/ready").await;
        assert_eq!(ready.body, json!({"status": "OK", "database": "OK"}));

        let granted = Mutex::new(Vec::new());
        let unknown = Mutex::new(Vec::new());
        let statuses = Mutex::new(Vec::new());
        let slowest = Mutex::new(Duration::ZERO);
        let stop_at = Instant::now() + Duration::from_secs(7);
        let worker = |w: usize| {
            let (app, event, user) = (&app, &event, &user);
            let (granted, unknown) = (&granted, &unknown);
            let (statuses, slowest) = (&statuses, &slowest);
            async move {
                let mut i = 0;
                while Instant::now() < stop_at {
                    i += 1;
                    let started = Instant::now();
                    let key = format!("w{w}-{i}");
                    let body = json!({"eventId": event, "userId": user, "seats": 1,
                                      "idempotencyKey": key});
                    let reply = app
                        .try_post("/api/locks", body)
                        .await
                        .expect("the server answers");
                    let took = started.elapsed();
                    {
                        let mut slowest = slowest.lock().unwrap();
                        *slowest = (*slowest).max(took);
                    }
                    statuses.lock().unwrap().push(reply.status.as_u16());
                    match reply.status.as_u16() {
                        201 => granted.lock().unwrap().push(reply.id()),
                        503 => {
                            assert_eq!(reply.body["success"], false);
                            match reply.body["code"].as_str() {
                                Some("OUTCOME_UNKNOWN") => unknown.lock().unwrap().push(key),
                                Some("UNAVAILABLE" | "TIMEOUT") => {}
                                _ => panic!("a 503 of ours has a code: {}", reply.body),
                            }
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                        other => panic!("unexpected {other}: {}", reply.body),
                    }
                }
            }
        };
        let outage = async {
            tokio::time::sleep(Duration::from_secs(1)).await;
            cluster.crash();
            tokio::time::sleep(Duration::from_millis(500)).await;
            let down = app.get("/health/ready").await;
            assert_eq!(down.status, 503, "{}", down.body);
            assert_eq!(down.body["status"], "UNAVAILABLE");
            assert!(
                down.body["database"]
                    .as_str()
                    .is_some_and(|s| !s.is_empty())
            );
            tokio::time::sleep(Duration::from_millis(1500)).await;
            cluster.resume();
        };
        tokio::join!(join_all((0..6).map(worker)), outage);

        let statuses = statuses.into_inner().unwrap();
        let count = |code| statuses.iter().filter(|s| **s == code).count();
        assert!(count(503) > 0, "the outage was seen");
        let slowest = slowest.into_inner().unwrap();
        assert!(
            slowest < Duration::from_secs(5),
            "no request hung: slowest {slowest:?}"
        );

        // Healed by itself: ready again, and holds are granted again.
        let mut healed = false;
        for _ in 0..100 {
            if app.get("/health/ready").await.status == 200 {
                healed = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(healed, "ready again after the database came back");
        let after = app.try_lock(&event, &user, 1, "after").await;
        assert_eq!(after.status, 201, "{}", after.body);

        let mut granted = granted.into_inner().unwrap();
        for lock in &granted {
            assert_eq!(app.get(&format!("/api/locks/{lock}")).await.status, 200);
        }
        // What a client does after OUTCOME_UNKNOWN: the same hold again, with the same key. It
        // finds the hold if it committed and makes it if it did not; either way one hold each.
        let unknown = unknown.into_inner().unwrap();
        let unknown_count = unknown.len();
        for key in unknown {
            let retried = app.try_lock(&event, &user, 1, &key).await;
            assert!(
                matches!(retried.status.as_u16(), 200 | 201),
                "{key}: {}",
                retried.body
            );
            granted.push(retried.id());
        }
        granted.push(after.id());
        println!(
            "{} answers, {} of them 503; {} holds acknowledged, {} outcomes unknown",
            statuses.len(),
            count(503),
            granted.len() - unknown_count - 1,
            unknown_count
        );
        let distinct: std::collections::HashSet<_> = granted.iter().collect();
        assert_eq!(distinct.len(), granted.len(), "one hold per key");
        // Exactly the acknowledged holds: a plain 503 left nothing behind.
        let inventory = app.inventory(&event).await;
        assert_eq!(
            inventory["heldSeats"].as_i64().unwrap(),
            granted.len() as i64
        );
        app.stop().await;
    }
}
