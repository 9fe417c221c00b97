//! The API against its own description: Schemathesis (a property-based fuzzer for OpenAPI)
//! generates requests from the description the server serves and runs every check on the
//! answers: no 5xx, every answer's status documented and its body as described, invalid
//! requests refused, security as declared. On both databases, in open and in jwt mode.
//!
//! Ignored by default (it needs `schemathesis` from PyPI and takes minutes): `scripts/fuzz-api`
//! runs these, and CI runs that. `SCHEMATHESIS` names the executable (default: `schemathesis`
//! on the PATH); `FUZZ_SECONDS` is each run's budget (default 60).

use std::time::Duration;

use tokio::process::Command;

use crate::harness::{Backend, TestApp};

const SETTINGS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../scripts/schemathesis.toml"
);

async fn fuzz(app: &TestApp, bearer: Option<&str>) {
    let program = std::env::var("SCHEMATHESIS").unwrap_or_else(|_| "schemathesis".to_owned());
    let seconds = std::env::var("FUZZ_SECONDS").unwrap_or_else(|_| "60".to_owned());
    let report = tempfile::tempdir().unwrap();
    let mut command = Command::new(&program);
    command
        .args(["--config-file", SETTINGS, "run"])
        .arg(app.url("/api/openapi.json"))
        .args(["--checks", "all", "--workers", "2", "--no-color"])
        .args(["--max-time", &seconds])
        .arg("--report-dir")
        .arg(report.path())
        // Its example database and caches go to the temporary directory, not the checkout.
        .current_dir(report.path())
        .kill_on_drop(true);
    if let Some(token) = bearer {
        command.args(["--header", &format!("Authorization: Bearer {token}")]);
    }
    let budget = Duration::from_secs(seconds.parse::<u64>().unwrap_or(60) + 240);
    let output = tokio::time::timeout(budget, command.output())
        .await
        .expect("schemathesis finishes within its budget")
        .unwrap_or_else(|error| {
            panic!("cannot run {program} (pip install schemathesis; see scripts/fuzz-api): {error}")
        });
    let text = String::from_utf8_lossy(&output.stdout);
    println!("{text}{}", String::from_utf8_lossy(&output.stderr));
    assert!(
        output.status.success(),
        "schemathesis found failures ({}): see its report above",
        output.status
    );
}

async fn open_mode(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    fuzz(&app, None).await;
    app.stop().await;
}

async fn jwt_mode(backend: Backend) {
    let app = TestApp::spawn_jwt(backend).await;
    let token = app.admin_token().await;
    fuzz(&app, Some(&token)).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs schemathesis; run by scripts/fuzz-api"]
async fn sqlite_open_mode() {
    open_mode(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs schemathesis; run by scripts/fuzz-api"]
async fn sqlite_jwt_mode() {
    jwt_mode(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs schemathesis; run by scripts/fuzz-api"]
async fn postgres_open_mode() {
    open_mode(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs schemathesis; run by scripts/fuzz-api"]
async fn postgres_jwt_mode() {
    jwt_mode(Backend::Postgres).await;
}
