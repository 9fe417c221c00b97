//! Connections that send nothing, send slowly, or sit idle are closed, and a cap on open
//! connections keeps the server answering when clients try to use up its file descriptors.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout};

use crate::backend_tests;
use crate::harness::{Backend, TestApp, fresh_database};
use crate::process::{ServerProcess, launched_by};

/// Reads until the server closes the connection (or resets it); how long that took, or
/// `None` if it stayed open for `within`.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut buffer = [0u8; 4096];
    timeout(within, async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return started.elapsed(),
                Ok(_) => {}
            }
        }
    })
    .await
    .ok()
}

fn address(base: &str) -> String {
    base.trim_start_matches("http://").to_owned()
}

/// A server whose connection timeouts are short (milliseconds).
async fn with_timeouts(backend: Backend, header_read: u64, keep_alive: u64) -> TestApp {
    TestApp::spawn_with(backend, |config| {
        config.connections.header_read_timeout_ms = header_read;
        config.connections.keep_alive_timeout_ms = keep_alive;
    })
    .await
}

backend_tests! {
    async fn silent_and_slow_connections_are_closed(backend: Backend) {
        let app = with_timeouts(backend, 1000, 60_000).await;
        let address = address(&app.base);
        // Sends nothing at all.
        let mut silent = TcpStream::connect(&address).await.unwrap();
        // Slowloris: a header line every 200 ms, never the blank line that ends them.
        let mut slow = TcpStream::connect(&address).await.unwrap();
        slow.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n").await.unwrap();
        let dripping = tokio::spawn(async move {
            for i in 0..40 {
                tokio::time::sleep(Duration::from_millis(200)).await;
                if slow.write_all(format!("X-Drip-{i}: y\r\n").as_bytes()).await.is_err() {
                    break;
                }
            }
            closed_within(&mut slow, Duration::from_secs(1)).await
        });
        let waited = closed_within(&mut silent, Duration::from_secs(10)).await;
        let waited = waited.expect("a silent connection is closed");
        assert!(
            (Duration::from_millis(900)..Duration::from_secs(5)).contains(&waited),
            "closed by the header-read timeout, after {waited:?}"
        );
        let slow_closed = timeout(Duration::from_secs(15), dripping).await.unwrap().unwrap();
        assert!(slow_closed.is_some(), "a slowloris connection is closed");
        assert_eq!(app.get("/health").await.status, 200);
        app.stop().await;
    }

    async fn an_idle_keep_alive_connection_is_closed(backend: Backend) {
        let app = with_timeouts(backend, 60_000, 600).await;
        let mut stream = TcpStream::connect(address(&app.base)).await.unwrap();
        for _ in 0..2 {
            stream
                .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                .await
                .unwrap();
            let mut answer = vec![0u8; 4096];
            let read = stream.read(&mut answer).await.unwrap();
            let answer = String::from_utf8_lossy(&answer[..read]);
            assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
            // Kept alive between requests that follow each other closely.
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let waited = closed_within(&mut stream, Duration::from_secs(10))
            .await
            .expect("an idle keep-alive connection is closed");
        assert!(waited < Duration::from_secs(2), "closed after {waited:?}");
        app.stop().await;
    }

    async fn with_few_descriptors_silent_connections_cannot_stop_the_server(backend: Backend) {
        let (database_url, _dir) = fresh_database(backend).await;
        // 256 descriptors, as in the report; 300 silent sockets would use them all up.
        let (command, dir) = launched_by(
            &["prlimit", "--nofile=256:256", "--"],
            &database_url,
            &[
                ("HEADER_READ_TIMEOUT_MS", "1000"),
                ("MAX_CONNECTIONS", "150"),
                ("DATABASE_MAX_CONNECTIONS", "4"),
            ],
        );
        let mut server = ServerProcess::spawn(backend, &database_url, command, dir).await;
        let address = address(&server.base);
        let mut silent = Vec::new();
        for n in 0..300 {
            // A failure here once showed only "Connection refused" (seen once in a full run on a
            // busy machine, not reproduced since): say how far it got and what the server said.
            let stream = TcpStream::connect(&address).await.unwrap_or_else(|error| {
                panic!(
                    "connection {n} of 300: {error}; the server still running: {:?}; its log: {:?}",
                    server.is_running(),
                    server.log()
                )
            });
            silent.push(stream);
        }
        // Health still answers, on a fresh connection, while the silent ones are open.
        let app = server.app();
        let client = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
        let health = client.get(app.url("/health")).send().await.expect("/health answers");
        assert_eq!(health.status(), 200);
        // Every silent connection is dropped by the server, none left holding a descriptor.
        for stream in &mut silent {
            closed_within(stream, Duration::from_secs(20))
                .await
                .expect("a silent connection is closed");
        }
        assert_eq!(app.get("/health").await.status, 200);
        let log = server.log();
        assert!(
            log.iter().any(|line| line.contains("\"level\":\"WARN\"")
                && line.contains("connection cap reached")),
            "a warning when the cap is reached: {log:?}"
        );
    }
}
