//! Builds the service from its configuration and runs it until told to stop.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::{AuthMode, Config};
use crate::domain::Timestamp;
use crate::http::{self, AppState, HttpSettings};
use crate::store::{PoolSettings, SqlStore};
use crate::sweeper;

pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    store: Arc<SqlStore>,
    sweep_interval: Duration,
    /// How long requests in flight may take to finish once shutdown begins.
    grace: Duration,
}

impl Application {
    /// Connects to the database (migrating it), and binds the listener; port 0 picks a free
    /// port, which is how the tests start one server each.
    pub async fn build(config: &Config) -> anyhow::Result<Self> {
        let auth_mode = config.effective_auth_mode().map_err(anyhow::Error::msg)?;
        if auth_mode == AuthMode::Jwt {
            anyhow::bail!("AUTH_MODE=jwt is not supported by this version yet; use AUTH_MODE=open");
        }
        let pool = PoolSettings {
            max_connections: config.database_max_connections,
            acquire_timeout: Duration::from_millis(config.database_acquire_timeout_ms),
        };
        let store = Arc::new(
            SqlStore::connect(&config.database_url, &pool)
                .await
                .with_context(|| {
                    format!("cannot open DATABASE_URL={}", redact(&config.database_url))
                })?,
        );
        // Holds that lapsed while no instance was running are released before serving.
        let expired = sweeper::sweep(&store, Timestamp::now(), None)
            .await
            .context("start-up sweep of lapsed holds failed")?;
        tracing::info!(
            locks = expired.locks,
            bookings = expired.bookings,
            seats = expired.seats,
            "start-up sweep done"
        );
        let state = AppState {
            store: store.clone(),
            lock_ttl_seconds: i64::from(config.lock_ttl_seconds),
            payment_ttl_seconds: i64::from(config.payment_ttl_seconds),
        };
        let settings = HttpSettings {
            request_timeout: config.request_timeout(),
        };
        let router = http::router(state, &settings);
        let address = SocketAddr::new(config.host, config.port);
        let listener = TcpListener::bind(address)
            .await
            .with_context(|| format!("cannot listen on {address} (HOST, PORT)"))?;
        tracing::info!(
            address = %listener.local_addr()?,
            database = ?store.dialect(),
            auth_mode = ?auth_mode,
            "boxoffice is listening"
        );
        Ok(Self {
            listener,
            router,
            store,
            sweep_interval: config.sweep_interval(),
            grace: config.request_timeout() + Duration::from_secs(1),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves (and sweeps) until `shutdown` completes; then stops accepting, lets the requests
    /// in flight finish within the grace period, stops the sweeper between two batches, and
    /// closes the database.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stop, stopped) = watch::channel(false);
        let sweeper = tokio::spawn(sweeper::run(
            self.store.clone(),
            self.sweep_interval,
            stopped.clone(),
        ));
        let serve = axum::serve(self.listener, self.router)
            .with_graceful_shutdown(async move {
                shutdown.await;
                let _ = stop.send(true);
            })
            .into_future();
        let mut stopping = stopped;
        let grace = self.grace;
        let overdue = async move {
            let _ = stopping.wait_for(|stopped| *stopped).await;
            tokio::time::sleep(grace).await;
        };
        tokio::select! {
            served = serve => served.context("server error")?,
            () = overdue => tracing::warn!("requests still in flight after the grace period were dropped"),
        }
        if let Err(error) = sweeper.await {
            tracing::error!(%error, "the sweeper task failed");
        }
        self.store.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// A database URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
