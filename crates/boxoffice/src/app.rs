//! Builds the service from its configuration and runs it until told to stop.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::auth::{self, Sessions, Tokens};
use crate::config::{AuthMode, Config, ConnectionLimits, NotificationSettings, Switch};
use crate::domain::notification::RetrySchedule;
use crate::domain::{CursorKey, Lifetimes, Timestamp};
use crate::holds::HoldQueue;
use crate::http::{self, AppState, Authenticator, HttpSettings};
use crate::outbox;
use crate::password;
use crate::seatmap::{self, SeatMaps};
use crate::server;
use crate::store::{Notifications, PoolSettings, SqlStore, Store};
use crate::sweeper;
use crate::telemetry;
use crate::webhooks::{DeliverySettings, DeliveryWorker, WebhookClient};

pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    store: Arc<SqlStore>,
    sweep_interval: Duration,
    notifications: NotificationSettings,
    webhooks: Arc<WebhookClient>,
    /// How long requests in flight may take to finish once shutdown begins.
    grace: Duration,
    connections: ConnectionLimits,
}

impl Application {
    /// Connects to the database (migrating it), and binds the listener; port 0 picks a free
    /// port, which is how the tests start one server each.
    pub async fn build(config: &Config) -> anyhow::Result<Self> {
        // Before anything records a metric: what is recorded without a recorder is lost.
        telemetry::handle();
        let auth_mode = config.effective_auth_mode().map_err(anyhow::Error::msg)?;
        config.check_lock_lifetimes().map_err(anyhow::Error::msg)?;
        let protection = &config.protection;
        let settings = HttpSettings {
            request_timeout: config.request_timeout(),
            rate_limit: protection.rate_limit().map_err(anyhow::Error::msg)?,
            cors: protection.cors_origins().map_err(anyhow::Error::msg)?,
            trusted_proxies: protection.trusted_proxies.clone(),
        };
        let store = Arc::new(
            SqlStore::connect(&config.database_url, &pool_settings(config))
                .await
                .with_context(|| {
                    format!("cannot open DATABASE_URL={}", redact(&config.database_url))
                })?
                .with_replica(
                    config.database_replica_url.as_deref(),
                    &pool_settings(config),
                )?,
        );
        // Every change from here on writes its notification (the outbox), the start-up sweep's
        // expiries included; `data` shows the resource as the API does.
        store.record_notifications(Arc::new(http::NotificationViews));
        let webhooks = Arc::new(WebhookClient::new(DeliverySettings {
            timeout: config.notifications.webhook_timeout(),
            allow_private: config.notifications.webhook_allow_private,
        }));
        // Holds that lapsed while no instance was running are released before serving.
        let sweep = sweeper::sweep(store.as_ref(), Timestamp::now(), None)
            .await
            .context("start-up sweep of lapsed holds failed")?;
        sweeper::report("start-up sweep", &sweep);
        if let (Some(email), Some(password)) = (&config.admin_email, &config.admin_password) {
            let outcome = auth::ensure_admin(store.as_ref(), email, password)
                .await
                .context("cannot set up the admin of ADMIN_EMAIL")?;
            tracing::info!(email = %email, ?outcome, "admin account from ADMIN_EMAIL");
        }
        let api_store: Arc<dyn Store> = store.clone();
        let auth = Arc::new(authenticator(config, auth_mode, api_store.clone()).await?);
        let cursors = cursor_key(store.as_ref()).await?;
        let state = AppState {
            holds: Arc::new(HoldQueue::new(
                api_store.clone(),
                config.lock_batching == Switch::On,
            )),
            store: api_store,
            lifetimes: Lifetimes {
                lock_ttl_seconds: i64::from(config.lock_ttl_seconds),
                payment_ttl_seconds: i64::from(config.payment_ttl_seconds),
                lock_max_lifetime_seconds: i64::from(config.lock_max_lifetime_seconds),
            },
            auth,
            notifications: store.clone(),
            webhooks: webhooks.clone(),
            cursors,
            seat_maps: Arc::new(seat_maps(config)),
        };
        let router = http::router(state, &settings);
        let address = SocketAddr::new(config.host, config.port);
        let listener = TcpListener::bind(address)
            .await
            .with_context(|| format!("cannot listen on {address} (HOST, PORT)"))?;
        match auth_mode {
            AuthMode::Open => tracing::warn!(
                "AUTH_MODE=open: no authentication, every caller may do everything \
                 (set AUTH_MODE=jwt to require logins)"
            ),
            AuthMode::Jwt => tracing::info!(
                token_lifetime_seconds = config.jwt_ttl_seconds,
                "AUTH_MODE=jwt: bearer tokens from POST /api/users/login are required"
            ),
        }
        tracing::info!(
            address = %listener.local_addr()?,
            database = ?store.dialect(),
            auth_mode = ?auth_mode,
            lock_batching = ?config.lock_batching,
            rate_limit = ?settings.rate_limit,
            cors = ?settings.cors,
            connections = ?config.connections,
            "boxoffice is listening"
        );
        Ok(Self {
            listener,
            router,
            store,
            sweep_interval: config.sweep_interval(),
            notifications: config.notifications.clone(),
            webhooks,
            grace: config.request_timeout() + Duration::from_secs(1),
            connections: config.connections,
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
            self.store.clone() as Arc<dyn Store>,
            self.sweep_interval,
            stopped.clone(),
        ));
        let upkeep = tokio::spawn(metrics_upkeep(stopped.clone()));
        let checkpoints = {
            let (store, stopped) = (self.store.clone(), stopped.clone());
            tokio::spawn(async move { store.run_wal_checkpoints(stopped).await })
        };
        // Notifications: numbering, pruning and delivery run on every instance.
        let notifications: Arc<dyn Notifications> = self.store.clone();
        let deliverable = Arc::new(tokio::sync::Notify::new());
        let sequencer = tokio::spawn(outbox::run_sequencer(
            notifications.clone(),
            deliverable.clone(),
            stopped.clone(),
        ));
        let pruner = tokio::spawn(outbox::run_pruner(
            notifications.clone(),
            self.notifications.retention(),
            stopped.clone(),
        ));
        let deliveries = tokio::spawn(
            DeliveryWorker {
                store: notifications,
                client: self.webhooks.clone(),
                schedule: RetrySchedule::new(self.notifications.retry_window_millis()),
                timeout: self.notifications.webhook_timeout(),
                wake: deliverable,
            }
            .run(stopped.clone()),
        );
        // The peer address is the client's unless a trusted proxy says otherwise; login
        // throttling and the request limit count by it.
        let serve = server::serve(self.listener, self.router, self.connections, async move {
            shutdown.await;
            let _ = stop.send(true);
        });
        let mut stopping = stopped;
        let grace = self.grace;
        let overdue = async move {
            let _ = stopping.wait_for(|stopped| *stopped).await;
            tokio::time::sleep(grace).await;
        };
        tokio::select! {
            () = serve => {},
            () = overdue => tracing::warn!("requests still in flight after the grace period were dropped"),
        }
        if let Err(error) = sweeper.await {
            tracing::error!(%error, "the sweeper task failed");
        }
        let _ = upkeep.await;
        for task in [sequencer, pruner, deliveries, checkpoints] {
            let _ = task.await;
        }
        self.store.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// The database pools' settings (`DATABASE_MAX_CONNECTIONS`, `DATABASE_ACQUIRE_TIMEOUT_MS`).
pub fn pool_settings(config: &Config) -> PoolSettings {
    PoolSettings {
        max_connections: config.database_max_connections,
        acquire_timeout: config.database_acquire_timeout(),
    }
}

/// Keeps the metrics' histograms from growing between scrapes, until `stop` turns true.
async fn metrics_upkeep(mut stop: watch::Receiver<bool>) {
    let mut ticks = tokio::time::interval(Duration::from_secs(5));
    loop {
        tokio::select! {
            _ = ticks.tick() => telemetry::run_upkeep(),
            _ = stop.wait_for(|stopped| *stopped) => return,
        }
    }
}

/// What turns requests into callers. Open mode still answers logins (so one client works
/// against both modes), signing with JWT_SECRET if set and otherwise with a key nobody knows.
async fn authenticator(
    config: &Config,
    mode: AuthMode,
    store: Arc<dyn Store>,
) -> anyhow::Result<Authenticator> {
    let tokens = match &config.jwt_secret {
        Some(secret) => Tokens::new(secret.as_bytes(), config.jwt_ttl_seconds),
        None => Tokens::ephemeral(config.jwt_ttl_seconds),
    };
    // Unknown emails are checked against this, so they cost what a wrong password costs.
    let mut random = [0u8; 16];
    getrandom::fill(&mut random).context("the operating system's random source failed")?;
    let dummy_password_hash = password::hash(format!("{random:?}")).await?;
    Ok(Authenticator {
        mode,
        tokens,
        dummy_password_hash,
        metrics_token: config.protection.metrics_token.clone(),
        sessions: Sessions::new(store, config.credentials_cache()),
    })
}

/// The key that seals list cursors, shared through the database by every instance on it, so
/// that a cursor one instance issued works on all of them and after restarts (README, "Bounds
/// at the edge"). Kept apart from `JWT_SECRET`, which open mode may lack and which rotating
/// should not break anyone's paging.
async fn cursor_key(store: &dyn Store) -> anyhow::Result<CursorKey> {
    let mut candidate = [0u8; 32];
    getrandom::fill(&mut candidate).context("the operating system's random source failed")?;
    let kept = store
        .shared_secret("cursor", &CursorKey::new(candidate).to_hex())
        .await
        .context("cannot read the cursor key from the database")?;
    CursorKey::from_hex(&kept).context("server_secrets holds a malformed cursor key")
}

/// Seat maps drawn at most a quarter of `DATABASE_MAX_CONNECTIONS` at once (at least one), so
/// that a flood of them leaves the rest of the pool to other requests; a request waits for its
/// turn as long as it would for a connection (`DATABASE_ACQUIRE_TIMEOUT_MS`).
fn seat_maps(config: &Config) -> SeatMaps {
    let renders = usize::try_from(config.database_max_connections / 4).unwrap_or(1);
    SeatMaps::new(
        renders,
        seatmap::FRESH_FOR,
        config.database_acquire_timeout(),
    )
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
