//! The HTTP/1.1 server under the router: it accepts connections up to a cap, closes those that
//! take too long to send a request's headers or sit idle between requests, and shuts down
//! gracefully. Without these bounds, clients that open connections and send nothing (or a byte
//! at a time) would hold the server's file descriptors until it could serve no one.
//!
//! Connections are served by hyper's `http1` connection builder (header-read timeout with
//! tokio's timer); the cap is a semaphore taken before `accept`, so connections beyond it wait
//! in the kernel's backlog rather than using descriptors.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use clap::Args;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::Instant;
use tower::ServiceExt as _;

const DEFAULT_HEADER_READ_TIMEOUT_MS: u64 = 10_000;
const DEFAULT_KEEP_ALIVE_TIMEOUT_MS: u64 = 5_000;
const DEFAULT_MAX_CONNECTIONS: u32 = 1024;

/// How long clients may hold connections, and how many they may hold.
#[derive(Args, Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Longest time a client may take to send a request's headers, in ms, counted from when
    /// the server starts waiting for them (so it bounds a silent new connection too); then
    /// the connection is closed without an answer.
    #[arg(long, env = "HEADER_READ_TIMEOUT_MS", value_name = "HEADER_READ_TIMEOUT_MS",
          default_value_t = DEFAULT_HEADER_READ_TIMEOUT_MS,
          value_parser = clap::value_parser!(u64).range(100..=600_000), global = true)]
    pub header_read_timeout_ms: u64,

    /// How long a keep-alive connection may stay idle between two requests, in ms, before the
    /// server closes it.
    #[arg(long, env = "KEEP_ALIVE_TIMEOUT_MS", value_name = "KEEP_ALIVE_TIMEOUT_MS",
          default_value_t = DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
          value_parser = clap::value_parser!(u64).range(100..=3_600_000), global = true)]
    pub keep_alive_timeout_ms: u64,

    /// Most client connections open at once; further ones wait to be accepted until one closes
    /// (a `warn` is logged when the cap is reached). Keep it below the process's descriptor
    /// limit (`ulimit -n`) minus DATABASE_MAX_CONNECTIONS and a margin.
    #[arg(long, env = "MAX_CONNECTIONS", value_name = "MAX_CONNECTIONS",
          default_value_t = DEFAULT_MAX_CONNECTIONS,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000), global = true)]
    pub max_connections: u32,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_read_timeout_ms: DEFAULT_HEADER_READ_TIMEOUT_MS,
            keep_alive_timeout_ms: DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

impl ConnectionLimits {
    fn header_read_timeout(&self) -> Duration {
        Duration::from_millis(self.header_read_timeout_ms)
    }

    fn keep_alive_timeout(&self) -> Duration {
        Duration::from_millis(self.keep_alive_timeout_ms)
    }
}

/// The largest request head (request line and headers) read, in bytes; a larger one is
/// answered 431 by hyper. Request targets over 65,534 bytes are answered 414 (within this).
pub const MAX_REQUEST_HEAD_BYTES: usize = 128 * 1024;

/// At most one "cap reached" warning in this long, however often the cap is hit.
const CAP_WARNING_INTERVAL: Duration = Duration::from_secs(10);

/// Serves `router` on `listener` until `shutdown` completes; then stops accepting, lets every
/// connection finish the request it is serving (idle ones close at once), and returns when
/// all are closed. Each request carries the peer's address as `ConnectInfo<SocketAddr>`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) {
    let cap = limits.max_connections;
    let permits = Arc::new(Semaphore::new(cap as usize));
    let (closing, closing_seen) = watch::channel(false);
    let mut last_warning: Option<Instant> = None;
    tokio::pin!(shutdown);
    loop {
        let permit = match permits.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                if last_warning.is_none_or(|at| at.elapsed() >= CAP_WARNING_INTERVAL) {
                    tracing::warn!(
                        max_connections = cap,
                        "connection cap reached (MAX_CONNECTIONS): new connections wait until \
                         one closes"
                    );
                    last_warning = Some(Instant::now());
                }
                tokio::select! {
                    permit = permits.clone().acquire_owned() => {
                        permit.expect("the connection semaphore is never closed")
                    }
                    () = &mut shutdown => break,
                }
            }
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        match accepted {
            Ok((stream, peer)) => {
                let connection = serve_connection(
                    stream,
                    peer,
                    router.clone(),
                    limits,
                    closing_seen.clone(),
                    permit,
                );
                tokio::spawn(connection);
            }
            Err(error) => {
                // Out of descriptors (EMFILE/ENFILE) or a connection reset before it was
                // accepted: wait a moment rather than spin, then go on.
                tracing::warn!(%error, "cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    drop(listener);
    let _ = closing.send(true);
    // Every connection holds a permit until it has closed.
    let _ = permits.acquire_many(cap).await;
}

/// One connection: its requests, its idle timer, and its part in a graceful shutdown.
async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    limits: ConnectionLimits,
    mut closing: watch::Receiver<bool>,
    _permit: OwnedSemaphorePermit,
) {
    let activity = Arc::new(Activity::new());
    let service = {
        let activity = activity.clone();
        hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            let busy = activity.begin();
            let router = router.clone();
            async move {
                let response = router.oneshot(request.map(Body::new)).await;
                drop(busy);
                response.map_err(|never: Infallible| match never {})
            }
        })
    };
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout())
        .max_header_size(MAX_REQUEST_HEAD_BYTES)
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    let idle_limit = limits.keep_alive_timeout();
    let mut shutting_down = false;
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(%peer, %error, "connection ended with an error");
                }
                return;
            }
            _ = closing.wait_for(|closing| *closing), if !shutting_down => {
                connection.as_mut().graceful_shutdown();
                shutting_down = true;
            }
            () = tokio::time::sleep_until(activity.idle_deadline(idle_limit)), if !shutting_down => {
                if activity.is_idle_since(idle_limit) {
                    // Closes at once: no request is in progress.
                    connection.as_mut().graceful_shutdown();
                    shutting_down = true;
                }
            }
        }
    }
}

/// Whether a connection is serving a request, and since when it has not been.
struct Activity {
    in_flight: AtomicUsize,
    idle_since: Mutex<Instant>,
}

impl Activity {
    fn new() -> Self {
        Self {
            in_flight: AtomicUsize::new(0),
            idle_since: Mutex::new(Instant::now()),
        }
    }

    /// Marks a request in progress until the returned guard is dropped.
    fn begin(self: &Arc<Self>) -> Busy {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        Busy(self.clone())
    }

    fn idle_since(&self) -> Instant {
        *self
            .idle_since
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// When the connection will have been idle for `limit`, if nothing happens meanwhile.
    fn idle_deadline(&self, limit: Duration) -> Instant {
        if self.in_flight.load(Ordering::SeqCst) > 0 {
            Instant::now() + limit
        } else {
            self.idle_since() + limit
        }
    }

    fn is_idle_since(&self, limit: Duration) -> bool {
        self.in_flight.load(Ordering::SeqCst) == 0 && self.idle_since().elapsed() >= limit
    }
}

struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        *self
            .0
            .idle_since
            .lock()
            .unwrap_or_else(|poison| poison.into_inner()) = Instant::now();
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}
