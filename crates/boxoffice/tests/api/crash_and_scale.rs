//! The real binary: kill -9 in the middle of a load, several instances on one database,
//! graceful shutdown on SIGTERM, and `boxoffice check`.

use std::sync::Mutex;
use std::time::Duration;

use futures_util::future::join_all;
use serde_json::json;

use crate::backend_tests;
use crate::harness::{Backend, fresh_database};
use crate::process::{ServerProcess, run};

backend_tests! {
    async fn a_kill_9_under_load_loses_nothing(backend: Backend) {
        let (url, _dir) = fresh_database(backend).await;
        let settings = [("LOCK_TTL_SECONDS", "1"), ("PAYMENT_TTL_SECONDS", "1"), ("SWEEP_INTERVAL_MS", "3600000")];
        let mut server = ServerProcess::start(backend, &url, &settings).await;
        let app = server.app();
        let user = app.register("Vic").await;
        let events = [app.create_event(1000).await, app.create_event(1000).await];
        let acknowledged = Mutex::new(Vec::new());

        let worker = |w: usize| {
            let (app, events, user, acknowledged) = (&app, &events, &user, &acknowledged);
            async move {
                for i in 0.. {
                    let event = &events[(w + i) % 2];
                    let body = json!({"eventId": event, "userId": user, "seats": 1 + i % 2,
                                      "idempotencyKey": format!("w{w}-{i}")});
                    let Some(reply) = app.try_post("/api/locks", body).await else { return };
                    if reply.status != 201 { continue; }
                    let lock = reply.id();
                    acknowledged.lock().unwrap().push(lock.clone());
                    if i % 4 == 0 { continue; }
                    let Some(reply) = app.try_post("/api/bookings/confirm", json!({"lockId": lock})).await
                    else { return };
                    let Some(booking) = reply.body["booking"]["_id"].as_str() else { continue };
                    let force = ["success", "failure", "timeout"][i % 3];
                    let body = json!({"bookingId": booking, "force": force});
                    if app.try_post("/api/payments/intent", body).await.is_none() { return }
                }
            }
        };
        let ((), ()) = tokio::join!(
            async { join_all((0..8).map(worker)).await; },
            async {
                tokio::time::sleep(Duration::from_millis(800)).await;
                server.kill_9().await;
            },
        );
        let acknowledged = acknowledged.into_inner().unwrap();
        assert!(acknowledged.len() > 10, "the load ran before the kill: {}", acknowledged.len());
        tokio::time::sleep(Duration::from_millis(1200)).await;

        // Restart: the start-up sweep (the only one: the interval is an hour) releases every
        // hold that lapsed, and everything acknowledged before the kill is still there.
        let restarted = ServerProcess::start(backend, &url, &settings).await;
        let app = restarted.app();
        for lock in &acknowledged {
            let reply = app.get(&format!("/api/locks/{lock}")).await;
            assert_eq!(reply.status, 200, "lock {lock} acknowledged before the kill");
        }
        for event in &events {
            let inventory = app.inventory(event).await;
            assert_eq!(inventory["heldSeats"], 0, "{inventory}");
            assert_eq!(inventory["pendingPaymentSeats"], 0, "{inventory}");
            assert_eq!(
                inventory["availableSeats"].as_i64().unwrap(),
                1000 - inventory["confirmedSeats"].as_i64().unwrap()
            );
        }
        let (status, out) = run(&url, &["check"], &[]).await;
        assert!(status.success(), "{out}");
    }

    async fn two_processes_on_one_database_never_oversell(backend: Backend) {
        let (url, _dir) = fresh_database(backend).await;
        // Both start at the same moment on an empty database: migrations must not collide.
        let (one, two) = tokio::join!(
            ServerProcess::start(backend, &url, &[]),
            ServerProcess::start(backend, &url, &[]),
        );
        let (a, b) = (one.app(), two.app());
        let mut users = Vec::new();
        for i in 0..6 {
            users.push(a.register(&format!("P{i}")).await);
        }
        let event = b.create_event(50).await;
        let replies = join_all((0..300).map(|i| {
            let app = if i % 2 == 0 { &a } else { &b };
            let (event, user) = (&event, &users[i % users.len()]);
            async move { app.try_lock(event, user, 1, &format!("x{i}")).await }
        }))
        .await;
        let granted = replies.iter().filter(|r| r.status == 201).count();
        assert_eq!(granted, 50);
        for reply in replies.iter().filter(|r| r.status != 201) {
            reply.assert_error(400, "Not enough available seats");
        }
        assert_eq!(a.inventory(&event).await["availableSeats"], 0);
        assert_eq!(b.inventory(&event).await["heldSeats"], 50);
    }

    async fn sigterm_finishes_requests_in_flight_and_exits_cleanly(backend: Backend) {
        let (url, _dir) = fresh_database(backend).await;
        let mut server = ServerProcess::start(backend, &url, &[]).await;
        let app = server.app();
        let user = app.register("Wes").await;
        let event = app.create_event(10_000).await;
        let answered = Mutex::new(Vec::new());
        let load = join_all((0..200).map(|i| {
            let (app, event, user, answered) = (&app, &event, &user, &answered);
            async move {
                let body = json!({"eventId": event, "userId": user, "seats": 1,
                                  "idempotencyKey": format!("t{i}")});
                if let Some(reply) = app.try_post("/api/locks", body).await {
                    answered.lock().unwrap().push(reply.status);
                }
            }
        }));
        let (_, status) = tokio::join!(load, async {
            tokio::time::sleep(Duration::from_millis(30)).await;
            server.terminate(Duration::from_secs(15)).await
        });
        assert!(status.success(), "exit status {status:?}; log: {:?}", server.log());
        let answered = answered.into_inner().unwrap();
        // Whatever was answered was answered properly; nothing half-done was left behind.
        assert!(answered.iter().all(|s| *s == 201), "{answered:?}");
        let (status, out) = run(&url, &["check"], &[]).await;
        assert!(status.success(), "{out}");
        assert!(server.log().iter().any(|l| l.contains("stopped")), "{:?}", server.log());
    }

    async fn check_finds_a_corrupted_counter_and_repair_fixes_it(backend: Backend) {
        let (url, _dir) = fresh_database(backend).await;
        let server = ServerProcess::start(backend, &url, &[]).await;
        let app = server.app();
        let user = app.register("Xan").await;
        let good = app.create_event(20).await;
        let bad = app.create_event(30).await;
        app.lock(&bad, &user, 5, "k").await;
        app.lock(&good, &user, 2, "k2").await;
        let (status, out) = run(&url, &["check"], &[]).await;
        assert!(status.success(), "{out}");
        assert!(out.contains("0 mismatch"), "{out}");

        // Corrupt the counter by hand, behind the server's back.
        app.sql(&format!("UPDATE events SET available_seats = 29 WHERE id = '{bad}'")).await;
        let (status, out) = run(&url, &["check"], &[]).await;
        assert_eq!(status.code(), Some(1), "{out}");
        assert!(out.contains("MISMATCH") && out.contains(&bad), "{out}");
        assert!(out.contains("1 mismatch"), "{out}");

        let (status, out) = run(&url, &["check", "--repair"], &[]).await;
        assert!(status.success(), "{out}");
        assert!(out.contains(&format!("repaired {bad}: availableSeats 29 -> 25")), "{out}");
        let (status, out) = run(&url, &["check"], &[]).await;
        assert!(status.success(), "{out}");
        assert_eq!(app.inventory(&bad).await["availableSeats"], 25);
    }
}

#[tokio::test]
async fn help_lists_the_subcommands() {
    let (status, out) = run("sqlite://unused.db", &["--help"], &[]).await;
    assert!(status.success(), "{out}");
    for word in ["serve", "check", "DATABASE_URL", "LOCK_TTL_SECONDS"] {
        assert!(out.contains(word), "{word} in {out}");
    }
}

#[tokio::test]
async fn settings_come_from_a_dot_env_file_and_bad_ones_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    std::fs::write(
        dir.path().join(".env"),
        format!("PORT={port}\nDATABASE_URL=sqlite://from-dotenv.db\nLOCK_TTL_SECONDS=7\n"),
    )
    .unwrap();
    let mut child = tokio::process::Command::new(crate::process::BINARY)
        .env_clear()
        .current_dir(dir.path())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let app = crate::harness::TestApp::attach(
        format!("http://127.0.0.1:{port}"),
        String::new(),
        Backend::Sqlite,
    );
    let mut up = false;
    for _ in 0..100 {
        if app
            .try_send(app.client.get(app.url("/health")))
            .await
            .is_some()
        {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "the server listens on the port from .env");
    let user = app.register("Yve").await;
    let event = app.create_event(5).await;
    let lock = app.try_lock(&event, &user, 1, "k").await;
    let created =
        boxoffice::domain::Timestamp::parse_rfc3339(lock.data()["createdAt"].as_str().unwrap())
            .unwrap();
    let expires =
        boxoffice::domain::Timestamp::parse_rfc3339(lock.data()["expiresAt"].as_str().unwrap())
            .unwrap();
    assert_eq!(
        expires.millis() - created.millis(),
        7000,
        "LOCK_TTL_SECONDS from .env"
    );
    assert!(
        dir.path().join("from-dotenv.db").exists(),
        "DATABASE_URL from .env"
    );
    child.kill().await.unwrap();

    for (variable, value) in [
        ("PORT", "eighty"),
        ("LOCK_TTL_SECONDS", "0"),
        ("DATABASE_URL", "mysql://x"),
        ("LOG_FORMAT", "xml"),
    ] {
        let (status, out) = run("sqlite://unused.db", &[], &[(variable, value)]).await;
        assert!(!status.success(), "{variable}={value} must stop start-up");
        assert!(
            out.contains(variable),
            "the message names {variable}: {out}"
        );
    }
}
