//! The HA cluster that `deploy/ha/cluster start` runs (Patroni + etcd + HAProxy on loopback),
//! as the tests see it: its URLs from the environment, its faults through the same script.

use std::time::Duration;

use sqlx::{AnyConnection, Connection as _, Executor as _};
use tokio::process::Command;

/// Where the cluster is; read from what `deploy/ha/cluster start` (or `env`) exports.
pub struct Cluster {
    /// postgres://…@HAProxy's leader port/boxoffice
    pub leader_url: String,
    /// postgres://…@HAProxy's replica port/boxoffice
    pub replica_url: String,
    /// `fast` or `example`: HAProxy's check timing.
    pub checks: String,
    /// Each node's PostgreSQL, directly, as the superuser.
    pub node_urls: Vec<String>,
    dir: String,
}

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: start the cluster with `deploy/ha/cluster start` and \
             `source /tmp/boxoffice-ha/env` (see README, \"High availability\")"
        )
    })
}

impl Cluster {
    pub fn from_env() -> Self {
        sqlx::any::install_default_drivers();
        Self {
            leader_url: var("BOXOFFICE_HA_DATABASE_URL"),
            replica_url: var("BOXOFFICE_HA_REPLICA_URL"),
            checks: var("BOXOFFICE_HA_CHECKS"),
            node_urls: var("BOXOFFICE_HA_NODE_URLS")
                .split(',')
                .map(str::to_owned)
                .collect(),
            dir: var("BOXOFFICE_HA_DIR"),
        }
    }

    /// Runs `deploy/ha/cluster ARGS`; its standard output, trimmed.
    pub async fn script(&self, args: &[&str]) -> String {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/ha/cluster");
        let output = Command::new("bash")
            .arg(path)
            .args(args)
            .env("HA_DIR", &self.dir)
            .output()
            .await
            .expect("deploy/ha/cluster runs");
        assert!(
            output.status.success(),
            "deploy/ha/cluster {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    /// A new, empty database on the cluster; its URL through the leader port and through the
    /// replica port.
    pub async fn fresh_database(&self, prefix: &str) -> (String, String) {
        let name = format!(
            "{prefix}_{}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis()
        );
        let mut conn = self.connect(&self.leader_url).await;
        conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .expect("CREATE DATABASE");
        conn.close().await.ok();
        (
            with_database(&self.leader_url, &name),
            with_database(&self.replica_url, &name),
        )
    }

    /// A connection, retried for up to a minute (the cluster may be between leaders).
    pub async fn connect(&self, url: &str) -> AnyConnection {
        let mut last = None;
        for _ in 0..120 {
            match AnyConnection::connect(url).await {
                Ok(conn) => return conn,
                Err(error) => last = Some(error),
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        panic!("cannot connect to {url}: {last:?}")
    }
}

/// The same URL with another database name.
pub fn with_database(url: &str, name: &str) -> String {
    let (server, _) = url.rsplit_once('/').expect("a URL with a database");
    format!("{server}/{name}")
}
