//! The real binary refuses configurations that would expose an open booking API by accident,
//! or sign tokens with a weak secret; and says which mode it runs in.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The binary with only these variables, in an empty directory (so no `.env` is read).
fn boxoffice(env: &[(&str, &str)], dir: &tempfile::TempDir) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_boxoffice"));
    command
        .env_clear()
        .current_dir(dir.path())
        .env("PORT", "0")
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", dir.path().join("boxoffice.db").display()),
        )
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    command
}

#[track_caller]
fn assert_refused(env: &[(&str, &str)], names: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let output = boxoffice(env, &dir).output().expect("the binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{env:?} started: {stderr}");
    for name in names {
        assert!(stderr.contains(name), "{env:?}: no {name} in {stderr:?}");
    }
}

/// Starts the binary, waits until it listens, stops it; its log up to then.
fn start_and_stop(env: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let mut child = boxoffice(env, &dir).spawn().expect("the binary starts");
    let stderr = child.stderr.take().unwrap();
    let (lines, received) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let mut log = String::new();
    while let Ok(line) = received.recv_timeout(Duration::from_secs(60)) {
        log.push_str(&line);
        log.push('\n');
        if line.contains("boxoffice is listening") {
            break;
        }
    }
    child.kill().expect("stop the child we started");
    let _ = child.wait();
    assert!(
        log.contains("boxoffice is listening"),
        "did not start: {log}"
    );
    log
}

#[test]
fn a_public_host_without_auth_mode_is_refused() {
    assert_refused(&[("HOST", "0.0.0.0")], &["AUTH_MODE", "HOST=0.0.0.0"]);
    assert_refused(&[("HOST", "::")], &["AUTH_MODE"]);
}

#[test]
fn jwt_mode_needs_a_long_enough_secret() {
    assert_refused(&[("AUTH_MODE", "jwt")], &["JWT_SECRET"]);
    assert_refused(
        &[("AUTH_MODE", "jwt"), ("JWT_SECRET", "too-short")],
        &["JWT_SECRET", "32"],
    );
}

#[test]
fn other_bad_security_settings_are_refused_by_name() {
    assert_refused(&[("ADMIN_EMAIL", "admin@example.com")], &["ADMIN_PASSWORD"]);
    assert_refused(
        &[
            ("ADMIN_EMAIL", "admin@example.com"),
            ("ADMIN_PASSWORD", "123"),
        ],
        &["ADMIN_PASSWORD"],
    );
    assert_refused(&[("RATE_LIMIT_BURST", "5")], &["RATE_LIMIT_PER_SECOND"]);
    assert_refused(
        &[("RATE_LIMIT_PER_SECOND", "0")],
        &["RATE_LIMIT_PER_SECOND"],
    );
    assert_refused(
        &[("CORS_ALLOWED_ORIGINS", "tickets.example.com")],
        &["CORS_ALLOWED_ORIGINS"],
    );
    assert_refused(&[("TRUSTED_PROXIES", "proxy")], &["TRUSTED_PROXIES"]);
    // A misspelt flag is refused with what is accepted.
    assert_refused(
        &[("WEBHOOK_ALLOW_PRIVATE", "flase")],
        &[
            "WEBHOOK_ALLOW_PRIVATE",
            "must be true or false (also accepted, in any case: 1, yes, on; 0, no, off)",
        ],
    );
}

#[test]
fn the_log_says_which_mode_is_in_force() {
    let log = start_and_stop(&[
        ("HOST", "0.0.0.0"),
        ("AUTH_MODE", "open"),
        // Lists as people write them, with spaces.
        ("TRUSTED_PROXIES", "10.0.0.1, ::1"),
        (
            "CORS_ALLOWED_ORIGINS",
            "https://a.example.com, http://localhost:5173",
        ),
        ("RATE_LIMIT_PER_SECOND", "100"),
    ]);
    assert!(log.contains("AUTH_MODE=open"), "{log}");
    let log = start_and_stop(&[
        ("HOST", "0.0.0.0"),
        ("AUTH_MODE", "jwt"),
        ("JWT_SECRET", "a-secret-of-at-least-thirty-two-bytes"),
    ]);
    assert!(log.contains("AUTH_MODE=jwt"), "{log}");
}
