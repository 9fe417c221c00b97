//! The real `boxoffice` binary as a child process, pointed at the HA cluster.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub struct Server {
    pub base: String,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Server {
    /// Starts an instance on port 0 with these settings (and nothing else from the
    /// environment); returns once it listens.
    pub async fn start(env: &[(&str, String)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_boxoffice"))
            .env_clear()
            .current_dir(dir.path())
            .env("HOST", "127.0.0.1")
            .env("PORT", "0")
            .env("AUTH_MODE", "open")
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "warn,boxoffice=info")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the binary starts");
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let address = tokio::time::timeout(Duration::from_secs(90), async {
            while let Some(line) = lines.next_line().await.unwrap() {
                if line.contains("boxoffice is listening") {
                    let entry: serde_json::Value = serde_json::from_str(&line).unwrap();
                    return entry["fields"]["address"].as_str().unwrap().to_owned();
                }
                eprintln!("server: {line}");
            }
            panic!("the server exited before listening");
        })
        .await
        .expect("the server listens within 90 s");
        // Keep draining its log; show the cause of any 500.
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                if line.contains("internal error") {
                    eprintln!("server: {line}");
                }
            }
        });
        Self {
            base: format!("http://{address}"),
            child,
            _dir: dir,
        }
    }

    pub async fn stop(mut self) {
        self.child.start_kill().ok();
        self.child.wait().await.ok();
    }
}
