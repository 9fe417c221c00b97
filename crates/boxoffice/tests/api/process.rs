//! The real `boxoffice` binary as a child process: for crashes (kill -9), signals, several
//! instances, and the command-line tools.

#![allow(dead_code)]

use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::harness::{Backend, TestApp};

pub const BINARY: &str = env!("CARGO_BIN_EXE_boxoffice");

pub struct ServerProcess {
    child: Child,
    pub base: String,
    pub database_url: String,
    pub backend: Backend,
    log: Arc<Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
}

/// A command for the binary with a clean environment: only what the test says.
pub fn command(database_url: &str, env: &[(&str, &str)]) -> (Command, tempfile::TempDir) {
    launched_by(&[], database_url, env)
}

/// [`command`], run by a launcher (`["prlimit", "--nofile=256"]`): the launcher's words, then
/// the binary.
pub fn launched_by(
    launcher: &[&str],
    database_url: &str,
    env: &[(&str, &str)],
) -> (Command, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut command = match launcher {
        [] => Command::new(BINARY),
        [program, args @ ..] => {
            let mut command = Command::new(program);
            command.args(args).arg(BINARY);
            command
        }
    };
    command
        .env_clear()
        .current_dir(dir.path())
        .env("HOST", "127.0.0.1")
        .env("PORT", "0")
        .env("AUTH_MODE", "open")
        .env("DATABASE_URL", database_url)
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .envs(env.iter().copied())
        .kill_on_drop(true);
    (command, dir)
}

impl ServerProcess {
    pub async fn start(backend: Backend, database_url: &str, env: &[(&str, &str)]) -> Self {
        let (command, dir) = command(database_url, env);
        Self::spawn(backend, database_url, command, dir).await
    }

    /// Starts `command` (from [`command`] or [`launched_by`]) and waits until it listens.
    pub async fn spawn(
        backend: Backend,
        database_url: &str,
        mut command: Command,
        dir: tempfile::TempDir,
    ) -> Self {
        let mut child = command
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let log = Arc::new(Mutex::new(Vec::new()));
        let address = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await.unwrap() {
                log.lock().unwrap().push(line.clone());
                if line.contains("boxoffice is listening") {
                    let entry: serde_json::Value = serde_json::from_str(&line).unwrap();
                    return entry["fields"]["address"].as_str().unwrap().to_owned();
                }
            }
            panic!(
                "the server exited before listening: {:?}",
                log.lock().unwrap()
            );
        })
        .await
        .expect("the server listens within a minute");
        // Keep draining the log so the server never blocks on a full pipe.
        let sink = log.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                sink.lock().unwrap().push(line);
            }
        });
        Self {
            child,
            base: format!("http://{address}"),
            database_url: database_url.to_owned(),
            backend,
            log,
            _dir: dir,
        }
    }

    pub fn app(&self) -> TestApp {
        TestApp::attach(self.base.clone(), self.database_url.clone(), self.backend)
    }

    /// Whether the process has not exited (yet).
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// SIGKILL: no chance to clean up, like a crash or a power cut of the process.
    pub async fn kill_9(&mut self) {
        self.child.start_kill().unwrap();
        self.child.wait().await.unwrap();
    }

    /// SIGTERM, then waits (at most `within`) for the process to exit.
    pub async fn terminate(&mut self, within: Duration) -> ExitStatus {
        let pid = self.child.id().expect("still running").to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .await
            .unwrap();
        assert!(sent.success());
        tokio::time::timeout(within, self.child.wait())
            .await
            .expect("the server exits in time after SIGTERM")
            .unwrap()
    }
}

/// Runs the binary to completion (e.g. `check`): exit status and stdout + stderr.
pub async fn run(database_url: &str, args: &[&str], env: &[(&str, &str)]) -> (ExitStatus, String) {
    let (mut command, _dir) = command(database_url, env);
    let output = command.args(args).output().await.unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status, text)
}

/// Runs `import-mongo` on a fresh database with an export of these events alone (one
/// document per line; no users, locks or bookings): the database's URL and directory (kept
/// while it lives), and the command's output, once it has succeeded.
pub async fn import_events(backend: Backend, events: &str) -> (String, tempfile::TempDir, String) {
    let export = tempfile::tempdir().unwrap();
    std::fs::write(export.path().join("events.json"), events).unwrap();
    for empty in ["users.json", "seatlocks.json", "bookings.json"] {
        std::fs::write(export.path().join(empty), "").unwrap();
    }
    let (url, dir) = crate::harness::fresh_database(backend).await;
    let (status, out) = run(
        &url,
        &["import-mongo", export.path().to_str().unwrap()],
        &[],
    )
    .await;
    assert!(status.success(), "{out}");
    (url, dir, out)
}
