//! The API against its own description: Schemathesis (a property-based fuzzer for OpenAPI)
//! generates requests from the description the server serves and runs every check on the
//! answers: no 5xx, every answer's status documented and its body as described, invalid
//! requests refused, security as declared. On both databases, in open and in jwt mode.
//!
//! Ignored by default (it needs `schemathesis` from PyPI and takes minutes): `scripts/fuzz-api`
//! runs these, and CI runs that. `SCHEMATHESIS` names the executable (default: `schemathesis`
//! on the PATH); `FUZZ_SECONDS` is each run's budget (default 60).

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use tokio::process::Command;

use crate::harness::{Backend, TestApp};

const SETTINGS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../scripts/schemathesis.toml"
);

/// Records the fuzzer can build on: an event with seats, a user, a hold and a booking. Their
/// ids are offered to it for the fields and path ids that name them (most of the time, not
/// always), so that generated holds, confirmations and payments reach their rules instead of
/// stopping at `not found`; its stateful phase then chains the answers onward.
async fn seed(app: &TestApp, bearer: Option<&str>) -> String {
    let call = |method: Method, path: &'static str, body: Value| {
        app.call(method, path, bearer, Some(body))
    };
    let event = call(
        Method::POST,
        "/api/events",
        json!({"name": "Fuzz Fest",
        "eventDate": "2099-06-15T10:00:00Z", "totalSeats": 100_000}),
    )
    .await;
    assert_eq!(event.status, 201, "{}", event.body);
    let user = app.register("Fuzzy").await;
    let lock = call(
        Method::POST,
        "/api/locks",
        json!({"eventId": event.id(), "userId": user,
        "seats": 1, "idempotencyKey": "fuzz-seed"}),
    )
    .await;
    assert_eq!(lock.status, 201, "{}", lock.body);
    let lock_id = lock.id();
    let held = call(
        Method::POST,
        "/api/locks",
        json!({"eventId": event.id(), "userId": user,
        "seats": 1, "idempotencyKey": "fuzz-seed-2"}),
    )
    .await;
    assert_eq!(held.status, 201, "{}", held.body);
    let booking = call(
        Method::POST,
        "/api/bookings/confirm",
        json!({"lockId": lock_id}),
    )
    .await;
    assert_eq!(booking.status, 201, "{}", booking.body);
    let booking = booking.body["booking"]["_id"].as_str().unwrap().to_owned();
    let ids = [event.id(), user.clone(), held.id(), booking.clone()];
    let list = |values: &[&str]| {
        let quoted: Vec<String> = values.iter().map(|v| format!("\"{v}\"")).collect();
        format!("[{}]", quoted.join(", "))
    };
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    format!(
        "\n[dictionaries.events]\nvalues = {}\n\
         [dictionaries.users]\nvalues = {}\n\
         [dictionaries.locks]\nvalues = {}\n\
         [dictionaries.bookings]\nvalues = {}\n\
         [dictionaries.ids]\nvalues = {}\n\
         [parameters]\n\
         \"body.eventId\" = {{ dictionary = \"events\", probability = 0.8 }}\n\
         \"body.userId\" = {{ dictionary = \"users\", probability = 0.8 }}\n\
         \"body.lockId\" = {{ dictionary = \"locks\", probability = 0.8 }}\n\
         \"body.bookingId\" = {{ dictionary = \"bookings\", probability = 0.8 }}\n\
         \"path.id\" = {{ dictionary = \"ids\", probability = 0.8 }}\n",
        list(&[&event.id()]),
        list(&[&user]),
        list(&[&held.id()]),
        list(&[&booking]),
        list(&ids),
    )
}

async fn fuzz(app: &TestApp, bearer: Option<&str>) {
    let program = std::env::var("SCHEMATHESIS").unwrap_or_else(|_| "schemathesis".to_owned());
    let seconds = std::env::var("FUZZ_SECONDS").unwrap_or_else(|_| "60".to_owned());
    let report = tempfile::tempdir().unwrap();
    let settings = report.path().join("schemathesis.toml");
    let base = std::fs::read_to_string(SETTINGS).unwrap();
    std::fs::write(&settings, base + &seed(app, bearer).await).unwrap();
    let mut command = Command::new(&program);
    command
        .arg("--config-file")
        .arg(&settings)
        .arg("run")
        .arg(app.url("/api/openapi.json"))
        // One worker: with two, Hypothesis has been seen to trip over its own lambda-source
        // cache (an internal error of the tool, not an answer of ours).
        .args(["--checks", "all", "--workers", "1", "--no-color"])
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
