//! What differs between SQLite and PostgreSQL: connecting, migrations, how a write transaction
//! begins, and row locking in the sweeps.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use sqlx::any::AnyPoolOptions;
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, AssertSqlSafe, Executor as _};

use crate::store::failover;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

#[derive(Clone, Debug)]
pub struct PoolSettings {
    /// Connections to PostgreSQL, or readers of a SQLite file (which has one writer).
    pub max_connections: u32,
    /// How long a request waits for a connection before it is answered 503.
    pub acquire_timeout: Duration,
}

/// The pools of one database: SQLite has a single writer so that writers queue in order
/// instead of spinning on SQLITE_BUSY; PostgreSQL uses one pool for both.
pub struct Pools {
    pub writer: AnyPool,
    pub reader: AnyPool,
}

impl Dialect {
    pub fn of_url(url: &str) -> anyhow::Result<Self> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else {
            anyhow::bail!("DATABASE_URL must start with sqlite:// or postgres://")
        }
    }

    /// Connects, and brings the schema up to date (several instances may start at once:
    /// PostgreSQL migrations run under an advisory lock, SQLite's under its write lock).
    pub async fn connect(self, url: &str, settings: &PoolSettings) -> anyhow::Result<Pools> {
        sqlx::any::install_default_drivers();
        let pools = match self {
            Self::Sqlite => {
                let url = sqlite_url_creating_file(url);
                let writer = sqlite_pool(1, settings, false).connect(&url).await?;
                let reader = sqlite_pool(settings.max_connections, settings, true)
                    .connect(&url)
                    .await?;
                Pools { writer, reader }
            }
            Self::Postgres => {
                let pool = failover::leader_only(AnyPoolOptions::new())
                    .max_connections(settings.max_connections)
                    .acquire_timeout(settings.acquire_timeout)
                    .connect(url)
                    .await?;
                Pools {
                    writer: pool.clone(),
                    reader: pool,
                }
            }
        };
        self.migrate(&pools.writer).await?;
        Ok(pools)
    }

    /// PostgreSQL migrations take an advisory lock, so instances starting together queue. SQLite
    /// has no such lock: two processes may both find a migration missing and one of them fails
    /// on the other's tables; running again then finds it applied.
    async fn migrate(self, pool: &AnyPool) -> anyhow::Result<()> {
        let mut attempt = 1;
        loop {
            match self.migrator().run(pool).await {
                Ok(()) => return Ok(()),
                Err(_) if self == Self::Sqlite && attempt < 5 => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(50 * attempt)).await;
                }
                Err(error) => return Err(error).context("database migration failed"),
            }
        }
    }

    fn migrator(self) -> &'static Migrator {
        match self {
            Self::Sqlite => &SQLITE_MIGRATIONS,
            Self::Postgres => &POSTGRES_MIGRATIONS,
        }
    }

    /// SQLite's deferred transactions fail with SQLITE_BUSY, without waiting, when they read and
    /// then write; IMMEDIATE takes the write lock up front and waits its turn.
    pub fn begin_write(self) -> &'static str {
        match self {
            Self::Sqlite => "BEGIN IMMEDIATE",
            Self::Postgres => "BEGIN",
        }
    }

    /// Appended to a SELECT whose rows the transaction will change. PostgreSQL locks them, and
    /// skips rows that another transaction (another sweeper) already holds; SQLite has one writer
    /// at a time and needs nothing.
    pub fn skip_locked(self) -> &'static str {
        match self {
            Self::Sqlite => "",
            Self::Postgres => " FOR UPDATE SKIP LOCKED",
        }
    }

    /// Appended to a SELECT of a row the transaction is about to change, so that concurrent
    /// transactions on the same row take turns.
    pub fn for_update(self) -> &'static str {
        match self {
            Self::Sqlite => "",
            Self::Postgres => " FOR UPDATE",
        }
    }

    /// A statement with the dialect's row-locking suffixes put where `{skip_locked}` and `{for_update}` stand.
    pub fn statement(self, template: &str) -> Arc<str> {
        template
            .replace("{skip_locked}", self.skip_locked())
            .replace("{for_update}", self.for_update())
            .into()
    }
}

/// How long a SQLite connection waits for a lock another connection holds (`busy_timeout`),
/// in milliseconds; `checkpoint.rs` lowers it for one statement and puts this back.
pub const BUSY_TIMEOUT_MS: u32 = 5000;

fn sqlite_pool(max_connections: u32, settings: &PoolSettings, read_only: bool) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(max_connections.max(1))
        .acquire_timeout(settings.acquire_timeout)
        .after_connect(move |conn, _| {
            Box::pin(async move {
                // WAL lets readers go on while the writer writes; NORMAL syncs at checkpoints,
                // which in WAL mode never corrupts the file and loses no committed transaction
                // on a process crash (only, at worst, the last ones on a power cut).
                conn.execute(sqlx::raw_sql(AssertSqlSafe(format!(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                     PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}; PRAGMA foreign_keys = ON;"
                ))))
                .await?;
                if read_only {
                    conn.execute(sqlx::raw_sql("PRAGMA query_only = ON;"))
                        .await?;
                } else {
                    // The writer checkpoints only as a backstop; a background task does it
                    // (checkpoint.rs says why).
                    let backstop = format!(
                        "PRAGMA wal_autocheckpoint = {}; PRAGMA journal_size_limit = {};",
                        super::checkpoint::WRITER_BACKSTOP_PAGES,
                        super::checkpoint::WAL_FILE_LIMIT_BYTES,
                    );
                    conn.execute(sqlx::raw_sql(AssertSqlSafe(backstop))).await?;
                }
                Ok(())
            })
        })
}

/// `sqlite://PATH` creates the file if it is missing, as a zero set-up default should.
fn sqlite_url_creating_file(url: &str) -> String {
    if url.contains("mode=") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}
