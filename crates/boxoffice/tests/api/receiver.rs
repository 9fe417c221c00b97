//! A webhook receiver on loopback, started inside a test: it records every request and
//! answers with the status it is told (or is not listening at all, while "down").

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::Value;
use tokio::net::TcpListener;

/// One request as the receiver got it.
#[derive(Clone, Debug)]
pub struct Received {
    pub id: String,
    pub timestamp: i64,
    pub signature: String,
    pub body: Bytes,
    pub json: Value,
    /// When it arrived.
    pub at: Instant,
}

pub struct Receiver {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Received>>>,
    status: Arc<AtomicU16>,
    server: Option<tokio::task::JoinHandle<()>>,
}

impl Receiver {
    /// Listening on a free port of 127.0.0.1, answering 200.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut receiver = Self {
            addr,
            seen: Arc::default(),
            status: Arc::new(AtomicU16::new(200)),
            server: None,
        };
        receiver.serve(listener);
        receiver
    }

    fn serve(&mut self, listener: TcpListener) {
        let seen = self.seen.clone();
        let status = self.status.clone();
        let handler = move |headers: HeaderMap, body: Bytes| {
            let seen = seen.clone();
            let status = status.clone();
            async move {
                let header = |name: &str| {
                    headers
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned()
                };
                let at = Instant::now();
                seen.lock().unwrap().push(Received {
                    at,
                    id: header("webhook-id"),
                    timestamp: header("webhook-timestamp").parse().unwrap_or(0),
                    signature: header("webhook-signature"),
                    json: serde_json::from_slice(&body).unwrap_or(Value::Null),
                    body,
                });
                StatusCode::from_u16(status.load(Ordering::SeqCst)).unwrap()
            }
        };
        let app = Router::new().fallback(post(handler));
        self.server = Some(tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        }));
    }

    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    /// Answers `status` from now on.
    pub fn answer(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    /// Stops listening: connections are refused until [`Receiver::up`].
    pub async fn down(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
            let _ = server.await;
        }
    }

    /// Listens again on the same port.
    pub async fn up(&mut self) {
        let listener = TcpListener::bind(self.addr)
            .await
            .expect("the port is free again");
        self.serve(listener);
    }

    pub fn received(&self) -> Vec<Received> {
        self.seen.lock().unwrap().clone()
    }

    /// Waits until `done` holds for what was received (at most `limit`), and returns it.
    pub async fn wait_for(
        &self,
        limit: Duration,
        done: impl Fn(&[Received]) -> bool,
    ) -> Vec<Received> {
        let started = Instant::now();
        loop {
            let seen = self.received();
            if done(&seen) || started.elapsed() > limit {
                return seen;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
