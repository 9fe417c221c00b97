//! CONTRACT.md rule 8's one exception: a connection lost during the COMMIT itself is answered
//! 503 `OUTCOME_UNKNOWN`, never a plain `UNAVAILABLE` (which promises that nothing changed),
//! and a retry with the same idempotency key finds what happened. (PostgreSQL only: the
//! connection is a TCP socket that a proxy between boxoffice and the server can cut.)

mod postgres {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    use crate::harness::{Backend, TestApp, fresh_database};

    /// A TCP proxy in front of PostgreSQL that, once armed, lets one `COMMIT` through to the
    /// server and then cuts that connection before the server's answer comes back: the server
    /// commits, the client never hears it. Only the COMMIT of a transaction that sent [`MARK`]
    /// (the hold's idempotency key, a bound parameter) is cut, so that the server's background
    /// transactions (the outbox's sequencer, the webhook worker) never meet the cutter first.
    struct CommitCutter {
        address: String,
        armed: Arc<AtomicBool>,
    }

    impl CommitCutter {
        async fn start(server: String) -> Self {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let address = listener.local_addr().unwrap().to_string();
            let armed = Arc::new(AtomicBool::new(false));
            let arm = armed.clone();
            tokio::spawn(async move {
                while let Ok((client, _)) = listener.accept().await {
                    let server = TcpStream::connect(&server).await.unwrap();
                    tokio::spawn(relay(client, server, arm.clone()));
                }
            });
            Self { address, armed }
        }
    }

    /// What marks the transaction whose COMMIT is cut.
    const MARK: &[u8] = b"cut-at-commit";

    async fn relay(client: TcpStream, server: TcpStream, armed: Arc<AtomicBool>) {
        let (mut from_client, mut to_client) = client.into_split();
        let (mut from_server, mut to_server) = server.into_split();
        let cut = Arc::new(AtomicBool::new(false));
        let cut_answers = cut.clone();
        let answers = tokio::spawn(async move {
            let mut buffer = vec![0; 64 * 1024];
            while let Ok(n) = from_server.read(&mut buffer).await {
                if n == 0 || cut_answers.load(Ordering::SeqCst) {
                    break;
                }
                if to_client.write_all(&buffer[..n]).await.is_err() {
                    break;
                }
            }
        });
        let mut buffer = vec![0; 64 * 1024];
        let mut marked = false;
        while let Ok(n) = from_client.read(&mut buffer).await {
            if n == 0 {
                break;
            }
            marked |= buffer[..n].windows(MARK.len()).any(|w| w == MARK);
            let commit = buffer[..n].windows(7).any(|w| w == b"COMMIT\0");
            if commit && marked && armed.swap(false, Ordering::SeqCst) {
                cut.store(true, Ordering::SeqCst);
                to_server.write_all(&buffer[..n]).await.unwrap();
                // Let the server commit, then drop both sides without a word.
                tokio::time::sleep(Duration::from_millis(300)).await;
                answers.abort();
                return;
            }
            if to_server.write_all(&buffer[..n]).await.is_err() {
                break;
            }
        }
        answers.abort();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_connection_lost_during_commit_is_outcome_unknown_and_a_retry_finds_the_hold() {
        let (url, _dir) = fresh_database(Backend::Postgres).await;
        let (prefix, rest) = url.split_once('@').unwrap();
        let (server, database) = rest.split_once('/').unwrap();
        let cutter = CommitCutter::start(server.to_owned()).await;
        let proxied = format!("{prefix}@{}/{database}", cutter.address);
        let app = TestApp::spawn_on(Backend::Postgres, proxied, |config| {
            // No background transaction may meet the armed cutter first.
            config.sweep_interval_ms = 3_600_000;
        })
        .await;
        let user = app.register("Ada").await;
        let event = app.create_event(10).await;

        cutter.armed.store(true, Ordering::SeqCst);
        let body = serde_json::json!({"eventId": event, "userId": user, "seats": 3,
                                      "idempotencyKey": "cut-at-commit"});
        assert_eq!(body["idempotencyKey"].as_str().unwrap().as_bytes(), MARK);
        let lost = app.post("/api/locks", body.clone()).await;
        lost.assert_error(
            503,
            "The outcome of this request is unknown; retry it with the same idempotency key",
        );
        assert_eq!(lost.body["code"], "OUTCOME_UNKNOWN");
        assert!(!cutter.armed.load(Ordering::SeqCst), "the commit was cut");

        // The hold had committed: the retry replays it, and the seats were taken once.
        let retried = app.post("/api/locks", body).await;
        assert_eq!(retried.status, 201, "{}", retried.body);
        assert!(retried.replayed(), "the retry finds the hold that was made");
        let inventory = app.get(&format!("/api/events/{event}/inventory")).await;
        assert_eq!(inventory.data()["availableSeats"], 7);
        assert_eq!(inventory.data()["heldSeats"], 3);
        assert_eq!(inventory.data()["consistent"], true);
    }
}
