//! Every setting in one place: command-line flags, each backed by an environment variable,
//! with a `.env` file in the working directory read first. Invalid settings stop start-up
//! with a message that names the variable.

use std::net::IpAddr;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

mod notifications;
mod protection;

pub use notifications::NotificationSettings;
pub use protection::{CorsOrigins, Protection, RateLimit};

pub use crate::server::ConnectionLimits;

#[derive(Parser, Debug)]
#[command(name = "boxoffice", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub config: Config,
}

#[derive(Subcommand, Debug, Clone)]
pub enum Command {
    /// Serve the HTTP API (what running with no subcommand does).
    Serve,
    /// Compare every event's seat counter with its lock and booking rows; exit 1 on a mismatch.
    Check {
        /// Set each mismatched counter to what its rows say, after printing it.
        #[arg(long)]
        repair: bool,
    },
    /// Import the seed system's `mongoexport` files (users.json, events.json, seatlocks.json,
    /// bookings.json) from DIR, keeping every id; running it again imports nothing twice.
    ImportMongo {
        /// The directory holding the export files (a missing file is an empty collection).
        dir: std::path::PathBuf,
        /// Read and validate everything and print the summary, without opening the database.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Args, Debug, Clone)]
pub struct Config {
    /// Address to bind.
    #[arg(
        long,
        env = "HOST",
        value_name = "HOST",
        default_value = "127.0.0.1",
        global = true
    )]
    pub host: IpAddr,

    /// Port to listen on (0 picks a free one).
    #[arg(
        long,
        env = "PORT",
        value_name = "PORT",
        default_value_t = 3000,
        global = true
    )]
    pub port: u16,

    /// `sqlite://PATH` (created if missing) or `postgres://…`.
    #[arg(
        long,
        env = "DATABASE_URL",
        value_name = "DATABASE_URL",
        default_value = "sqlite://boxoffice.db",
        global = true
    )]
    pub database_url: String,

    /// Optional `postgres://…` of a streaming replica (e.g. HAProxy's replica port): public
    /// reads (an event, the event list, seat views) go there, falling back to the leader when it
    /// does not answer; everything else goes to DATABASE_URL.
    #[arg(
        long,
        env = "DATABASE_REPLICA_URL",
        value_name = "DATABASE_REPLICA_URL",
        hide_env_values = true,
        global = true
    )]
    pub database_replica_url: Option<String>,

    /// Lifetime of a seat lock, in seconds.
    #[arg(long, env = "LOCK_TTL_SECONDS", value_name = "LOCK_TTL_SECONDS", default_value_t = 300,
          value_parser = clap::value_parser!(u32).range(1..=86_400), global = true)]
    pub lock_ttl_seconds: u32,

    /// Payment window of a booking, in seconds.
    #[arg(long, env = "PAYMENT_TTL_SECONDS", value_name = "PAYMENT_TTL_SECONDS", default_value_t = 600,
          value_parser = clap::value_parser!(u32).range(1..=86_400), global = true)]
    pub payment_ttl_seconds: u32,

    /// How long a lock may be extended to, counted from its creation, in seconds.
    #[arg(long, env = "LOCK_MAX_LIFETIME_SECONDS", value_name = "LOCK_MAX_LIFETIME_SECONDS", default_value_t = 7200,
          value_parser = clap::value_parser!(u32).range(1..=604_800), global = true)]
    pub lock_max_lifetime_seconds: u32,

    /// How often the expiry sweeper runs, in milliseconds.
    #[arg(long, env = "SWEEP_INTERVAL_MS", value_name = "SWEEP_INTERVAL_MS", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(10..=3_600_000), global = true)]
    pub sweep_interval_ms: u64,

    /// `open` (no authentication, the seed's behaviour) or `jwt`. Defaults to `open` only
    /// when HOST is a loopback address.
    #[arg(long, env = "AUTH_MODE", value_name = "AUTH_MODE", global = true)]
    pub auth_mode: Option<AuthMode>,

    /// Secret for signing login tokens (HS256), at least 32 bytes; required with AUTH_MODE=jwt.
    #[arg(
        long,
        env = "JWT_SECRET",
        value_name = "JWT_SECRET",
        hide_env_values = true,
        global = true
    )]
    pub jwt_secret: Option<String>,

    /// Lifetime of a login token, in seconds.
    #[arg(long, env = "JWT_TTL_SECONDS", value_name = "JWT_TTL_SECONDS", default_value_t = 3600,
          value_parser = clap::value_parser!(u32).range(60..=2_592_000), global = true)]
    pub jwt_ttl_seconds: u32,

    /// How long, in milliseconds, an instance trusts what it last read of a user's credentials
    /// version: a token issued before a password or role change or a logout-all is refused on
    /// every instance within this time (CONTRACT.md: at most 10 s). 0 reads the database for
    /// every authenticated request.
    #[arg(long, env = "CREDENTIALS_CACHE_MS", value_name = "CREDENTIALS_CACHE_MS",
          default_value_t = 5000, value_parser = clap::value_parser!(u64).range(0..=10_000),
          global = true)]
    pub credentials_cache_ms: u64,

    /// With ADMIN_PASSWORD: an admin with these credentials exists after start-up. A new
    /// account is created, or the account with this email is made admin and given this
    /// password (so changing ADMIN_PASSWORD and restarting rotates it).
    #[arg(long, env = "ADMIN_EMAIL", value_name = "ADMIN_EMAIL", global = true)]
    pub admin_email: Option<String>,

    /// The password of ADMIN_EMAIL's account (6 to 128 characters).
    #[arg(
        long,
        env = "ADMIN_PASSWORD",
        value_name = "ADMIN_PASSWORD",
        hide_env_values = true,
        global = true
    )]
    pub admin_password: Option<String>,

    /// Connections to PostgreSQL (or concurrent readers of a SQLite file).
    #[arg(long, env = "DATABASE_MAX_CONNECTIONS", value_name = "DATABASE_MAX_CONNECTIONS", default_value_t = 16,
          value_parser = clap::value_parser!(u32).range(1..=1000), global = true)]
    pub database_max_connections: u32,

    /// How long a request waits for a database connection before it gets a 503, in ms.
    #[arg(long, env = "DATABASE_ACQUIRE_TIMEOUT_MS", value_name = "DATABASE_ACQUIRE_TIMEOUT_MS", default_value_t = 3000,
          value_parser = clap::value_parser!(u64).range(1..=600_000), global = true)]
    pub database_acquire_timeout_ms: u64,

    /// Longest time a request may take before it is answered 503, in ms.
    #[arg(long, env = "REQUEST_TIMEOUT_MS", value_name = "REQUEST_TIMEOUT_MS", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(1..=600_000), global = true)]
    pub request_timeout_ms: u64,

    /// Group commit of seat holds: `on` coalesces lock requests for the same event that
    /// arrive while one of its transactions is in flight into the next transaction, which
    /// grants them in arrival order while seats last (each caller still gets its own answer,
    /// and a request with nothing in flight starts at once); `off` runs one transaction per
    /// request, which is slower on a hot event but useful for comparison.
    #[arg(
        long,
        env = "LOCK_BATCHING",
        value_name = "LOCK_BATCHING",
        default_value = "on",
        global = true
    )]
    pub lock_batching: Switch,

    /// Log filter, in `tracing` EnvFilter syntax.
    #[arg(
        long,
        env = "RUST_LOG",
        value_name = "RUST_LOG",
        default_value = "info",
        global = true
    )]
    pub log: String,

    /// `text` for people, `json` for one JSON object per line.
    #[arg(
        long,
        env = "LOG_FORMAT",
        value_name = "LOG_FORMAT",
        default_value = "text",
        global = true
    )]
    pub log_format: LogFormat,

    #[command(flatten)]
    pub protection: Protection,

    #[command(flatten)]
    pub connections: ConnectionLimits,

    #[command(flatten)]
    pub notifications: NotificationSettings,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthMode {
    Open,
    Jwt,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Switch {
    On,
    Off,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

pub const MIN_JWT_SECRET_BYTES: usize = 32;

/// The name given to the admin that ADMIN_EMAIL creates.
pub const ADMIN_NAME: &str = "Administrator";

impl Config {
    /// Reads `.env` (if any) and then the command line and environment.
    pub fn load() -> Cli {
        // A missing .env is normal; a malformed one is reported by clap's checks below only
        // if it left a variable unset, so say so here.
        if let Err(error) = dotenvy::dotenv()
            && !error.not_found()
        {
            eprintln!("boxoffice: ignoring .env: {error}");
        }
        Cli::parse()
    }

    /// The authentication mode in force, after the rules that no parser can check alone.
    pub fn effective_auth_mode(&self) -> Result<AuthMode, String> {
        let mode = match self.auth_mode {
            Some(mode) => mode,
            None if self.host.is_loopback() => AuthMode::Open,
            None => {
                return Err(format!(
                    "HOST={} is not a loopback address and AUTH_MODE is not set: set AUTH_MODE=jwt \
                     to require logins, or AUTH_MODE=open to expose an unauthenticated booking API \
                     on purpose",
                    self.host
                ));
            }
        };
        if mode == AuthMode::Jwt {
            match &self.jwt_secret {
                Some(secret) if secret.len() >= MIN_JWT_SECRET_BYTES => {}
                Some(_) => {
                    return Err(format!(
                        "JWT_SECRET must be at least {MIN_JWT_SECRET_BYTES} bytes long"
                    ));
                }
                None => return Err("AUTH_MODE=jwt requires JWT_SECRET".to_owned()),
            }
        }
        if self.admin_email.is_some() != self.admin_password.is_some() {
            return Err("ADMIN_EMAIL and ADMIN_PASSWORD must be set together".to_owned());
        }
        if let (Some(email), Some(password)) = (&self.admin_email, &self.admin_password) {
            crate::domain::NewUser::validate(ADMIN_NAME, email, password)
                .map_err(|rejection| format!("ADMIN_EMAIL / ADMIN_PASSWORD: {rejection}"))?;
        }
        self.protection.rate_limit()?;
        self.protection.cors_origins()?;
        Ok(mode)
    }

    /// How long a request waits for a database connection (`DATABASE_ACQUIRE_TIMEOUT_MS`).
    pub fn database_acquire_timeout(&self) -> Duration {
        Duration::from_millis(self.database_acquire_timeout_ms)
    }

    /// A lock is created to live `LOCK_TTL_SECONDS` and may be extended to at most
    /// `LOCK_MAX_LIFETIME_SECONDS` after its creation, so the first cannot exceed the second.
    pub fn check_lock_lifetimes(&self) -> Result<(), String> {
        if self.lock_ttl_seconds > self.lock_max_lifetime_seconds {
            return Err(format!(
                "LOCK_TTL_SECONDS={} exceeds LOCK_MAX_LIFETIME_SECONDS={}",
                self.lock_ttl_seconds, self.lock_max_lifetime_seconds
            ));
        }
        Ok(())
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    pub fn sweep_interval(&self) -> Duration {
        Duration::from_millis(self.sweep_interval_ms)
    }

    pub fn credentials_cache(&self) -> Duration {
        Duration::from_millis(self.credentials_cache_ms)
    }
}
