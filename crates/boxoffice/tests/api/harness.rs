//! Starts the real server on port 0 against a fresh database and speaks HTTP to it.
//!
//! SQLite: a new file in a temporary directory per test. PostgreSQL: a new database per test
//! on the cluster named by `BOXOFFICE_TEST_POSTGRES_URL` (which `scripts/test` provides).

#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use boxoffice::app::Application;
use boxoffice::config::{
    AuthMode, Config, ConnectionLimits, LogFormat, NotificationSettings, Protection, Switch,
};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Connection as _;
use tokio::sync::oneshot;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Instantiates each test once per backend, in modules `sqlite` and `postgres`.
/// Each test body receives the `Backend` to start its server on.
#[macro_export]
macro_rules! backend_tests {
    ($(async fn $name:ident($backend:ident: Backend) $body:block)*) => {
        $(async fn $name($backend: $crate::harness::Backend) $body)*

        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::harness::Backend::Sqlite).await
                }
            )*
        }

        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::harness::Backend::Postgres).await
                }
            )*
        }
    };
}

/// The signing secret of every jwt-mode test server (tests mint their own tokens with it).
pub const TEST_JWT_SECRET: &str = "boxoffice-test-secret-of-at-least-32-bytes";
/// The admin that jwt-mode test servers are started with.
pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const ADMIN_PASSWORD: &str = "admin-password-123";
/// The password of the accounts that `register_account` makes.
pub const PASSWORD: &str = "securepass123";

/// `AUTH_MODE=jwt`, with the test secret and the test admin.
pub fn jwt_mode(config: &mut Config) {
    config.auth_mode = Some(AuthMode::Jwt);
    config.jwt_secret = Some(TEST_JWT_SECRET.to_owned());
    config.admin_email = Some(ADMIN_EMAIL.to_owned());
    config.admin_password = Some(ADMIN_PASSWORD.to_owned());
}

/// A registered user and how to log in as them.
#[derive(Clone, Debug)]
pub struct Account {
    pub id: String,
    pub email: String,
    pub password: String,
}

/// Settings a test may change before the server starts.
pub fn test_config() -> Config {
    Config {
        host: IpAddr::V4(Ipv4Addr::LOCALHOST),
        port: 0,
        database_url: String::new(),
        database_replica_url: None,
        lock_ttl_seconds: 300,
        payment_ttl_seconds: 600,
        lock_max_lifetime_seconds: 7200,
        sweep_interval_ms: 1000,
        auth_mode: Some(AuthMode::Open),
        jwt_secret: None,
        jwt_ttl_seconds: 3600,
        credentials_cache_ms: 5000,
        admin_email: None,
        admin_password: None,
        database_max_connections: 8,
        database_acquire_timeout_ms: 5000,
        request_timeout_ms: 30_000,
        lock_batching: Switch::On,
        log: "warn".to_owned(),
        log_format: LogFormat::Text,
        protection: Protection::default(),
        connections: ConnectionLimits::default(),
        // Test receivers listen on loopback.
        notifications: NotificationSettings {
            webhook_timeout_ms: 5000,
            webhook_retry_hours: 72.0,
            webhook_allow_private: true,
            notification_retention_days: 30,
        },
    }
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub database_url: String,
    pub backend: Backend,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _dir: tempfile::TempDir,
}

/// A response: status, headers and the JSON body (every body of ours is JSON).
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn message(&self) -> &str {
        self.body["message"].as_str().unwrap_or_default()
    }

    pub fn data(&self) -> &Value {
        &self.body["data"]
    }

    pub fn id(&self) -> String {
        self.body["data"]["_id"]
            .as_str()
            .expect("an _id in data")
            .to_owned()
    }

    pub fn replayed(&self) -> bool {
        self.headers
            .get("idempotent-replayed")
            .is_some_and(|v| v == "true")
    }

    /// Asserts an error reply: status, `success: false` and the exact message.
    #[track_caller]
    pub fn assert_error(&self, status: u16, message: &str) {
        assert_eq!(
            (self.status.as_u16(), self.message()),
            (status, message),
            "body: {}",
            self.body
        );
        assert_eq!(self.body["success"], false, "body: {}", self.body);
    }
}

/// Every byte but the unreserved ones of RFC 3986 as `%XX`.
pub fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A fresh database URL for one test, and the directory that must outlive it.
pub async fn fresh_database(backend: Backend) -> (String, tempfile::TempDir) {
    fresh_database_with(backend, "").await
}

/// [`fresh_database`], a PostgreSQL one created with these options of `CREATE DATABASE`
/// (such as a locale); SQLite has no such options and ignores them.
pub async fn fresh_database_with(
    backend: Backend,
    postgres_options: &str,
) -> (String, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = match backend {
        Backend::Sqlite => format!("sqlite://{}", dir.path().join("boxoffice.db").display()),
        Backend::Postgres => {
            let admin_url = std::env::var("BOXOFFICE_TEST_POSTGRES_URL").expect(
                "BOXOFFICE_TEST_POSTGRES_URL is not set: run the tests with scripts/test, which \
                 starts PostgreSQL (or skip them with `-- --skip postgres::`)",
            );
            let name = format!("boxoffice_test_{}", boxoffice::domain::ObjectId::generate());
            let mut admin = sqlx::PgConnection::connect(&admin_url)
                .await
                .expect("connect to the test PostgreSQL cluster");
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "CREATE DATABASE {name} {postgres_options}"
            )))
            .execute(&mut admin)
            .await
            .expect("create a test database");
            let base = admin_url.rsplit_once('/').expect("a database in the URL").0;
            format!("{base}/{name}")
        }
    };
    (url, dir)
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, |_| {}).await
    }

    /// A server in `AUTH_MODE=jwt` with the test admin.
    pub async fn spawn_jwt(backend: Backend) -> Self {
        Self::spawn_with(backend, jwt_mode).await
    }

    pub async fn spawn_with(backend: Backend, configure: impl FnOnce(&mut Config)) -> Self {
        Self::spawn_with_database_options(backend, "", configure).await
    }

    /// [`Self::spawn_with`] on a PostgreSQL database created with these `CREATE DATABASE`
    /// options (a locale, say); on SQLite the options do not apply.
    pub async fn spawn_with_database_options(
        backend: Backend,
        postgres_options: &str,
        configure: impl FnOnce(&mut Config),
    ) -> Self {
        let (database_url, dir) = fresh_database_with(backend, postgres_options).await;
        let mut config = test_config();
        config.database_url = database_url.clone();
        configure(&mut config);
        Self::start(backend, config, dir).await
    }

    /// A server on a database the test provides.
    pub async fn spawn_on(
        backend: Backend,
        database_url: String,
        configure: impl FnOnce(&mut Config),
    ) -> Self {
        let mut config = test_config();
        config.database_url = database_url;
        configure(&mut config);
        Self::start(backend, config, tempfile::tempdir().unwrap()).await
    }

    /// Another server on the same database as `self` (a second instance).
    pub async fn another_instance(&self, configure: impl FnOnce(&mut Config)) -> Self {
        let mut config = test_config();
        config.database_url = self.database_url.clone();
        configure(&mut config);
        Self::start(self.backend, config, tempfile::tempdir().unwrap()).await
    }

    async fn start(backend: Backend, config: Config, dir: tempfile::TempDir) -> Self {
        let app = Application::build(&config)
            .await
            .expect("the server starts");
        let base = format!("http://{}", app.local_addr());
        let (shutdown, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until(async {
            let _ = stopped.await;
        }));
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(64)
            .build()
            .unwrap();
        Self {
            base,
            client,
            database_url: config.database_url,
            backend,
            shutdown: Some(shutdown),
            server: Some(server),
            _dir: dir,
        }
    }

    /// Stops the server gracefully and waits until it has closed the database. Returns the
    /// directory of a SQLite database, for a test that starts another server on it.
    pub async fn stop(mut self) -> tempfile::TempDir {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(server) = self.server.take() {
            server
                .await
                .expect("server task")
                .expect("server stops cleanly");
        }
        self._dir
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A view of a server started elsewhere (for instance a separate process).
    pub fn attach(base: String, database_url: String, backend: Backend) -> Self {
        Self {
            base,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
            database_url,
            backend,
            shutdown: None,
            server: None,
            _dir: tempfile::tempdir().unwrap(),
        }
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        self.try_send(request).await.expect("the server answers")
    }

    /// Like `send`, but a connection failure is `None` rather than a panic.
    pub async fn try_send(&self, request: reqwest::RequestBuilder) -> Option<Reply> {
        let response = request.send().await.ok()?;
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.ok()?;
        let body = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("a JSON body, got {status}: {text:?}"));
        Some(Reply {
            status,
            headers,
            body,
        })
    }

    pub async fn try_post(&self, path: &str, body: Value) -> Option<Reply> {
        self.try_send(self.client.post(self.url(path)).json(&body))
            .await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(self.client.get(self.url(path))).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.send(self.client.post(self.url(path)).json(&body))
            .await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Reply {
        self.send(self.client.patch(self.url(path)).json(&body))
            .await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.send(self.client.delete(self.url(path))).await
    }

    /// A GET with query parameters, percent-encoded as a client library would.
    pub async fn get_query(&self, path: &str, query: &[(&str, &str)]) -> Reply {
        let query: Vec<String> = query
            .iter()
            .map(|(key, value)| format!("{}={}", percent_encode(key), percent_encode(value)))
            .collect();
        self.get(&format!("{path}?{}", query.join("&"))).await
    }

    /// Any request, with a bearer token if given, and a JSON body if given.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut request = self.client.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        self.send(request).await
    }

    pub async fn get_as(&self, token: &str, path: &str) -> Reply {
        self.call(reqwest::Method::GET, path, Some(token), None)
            .await
    }

    pub async fn post_as(&self, token: &str, path: &str, body: Value) -> Reply {
        self.call(reqwest::Method::POST, path, Some(token), Some(body))
            .await
    }

    pub async fn login(&self, email: &str, password: &str) -> Reply {
        self.post(
            "/api/users/login",
            json!({"email": email, "password": password}),
        )
        .await
    }

    /// Logs in, asserting success; the bearer token.
    pub async fn token(&self, email: &str, password: &str) -> String {
        let reply = self.login(email, password).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.data()["token"].as_str().expect("a token").to_owned()
    }

    pub async fn admin_token(&self) -> String {
        self.token(ADMIN_EMAIL, ADMIN_PASSWORD).await
    }

    /// Registers a user with a unique email and the password [`PASSWORD`].
    pub async fn register_account(&self, name: &str) -> Account {
        let email = format!(
            "{}-{}@example.com",
            name.to_lowercase(),
            boxoffice::domain::ObjectId::generate()
        );
        let reply = self
            .post(
                "/api/users/register",
                json!({"name": name, "email": email, "password": PASSWORD}),
            )
            .await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        Account {
            id: reply.id(),
            email,
            password: PASSWORD.to_owned(),
        }
    }

    // The seed's steps, each asserting its success status.

    pub async fn register(&self, name: &str) -> String {
        self.register_account(name).await.id
    }

    pub async fn create_event(&self, total_seats: i64) -> String {
        let reply = self
            .post(
                "/api/events",
                json!({
                    "name": "Tech Summit 2027",
                    "description": "International technology conference",
                    "eventDate": "2099-06-15T10:00:00Z",
                    "totalSeats": total_seats,
                    "availableSeats": total_seats,
                }),
            )
            .await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        reply.id()
    }

    pub async fn try_lock(&self, event: &str, user: &str, seats: i64, key: &str) -> Reply {
        self.post(
            "/api/locks",
            json!({"eventId": event, "userId": user, "seats": seats, "idempotencyKey": key}),
        )
        .await
    }

    pub async fn lock(&self, event: &str, user: &str, seats: i64, key: &str) -> String {
        let reply = self.try_lock(event, user, seats, key).await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        reply.id()
    }

    pub async fn confirm(&self, lock: &str) -> Reply {
        self.post("/api/bookings/confirm", json!({"lockId": lock}))
            .await
    }

    pub async fn book(&self, lock: &str) -> String {
        let reply = self.confirm(lock).await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        reply.body["booking"]["_id"].as_str().unwrap().to_owned()
    }

    pub async fn pay(&self, booking: &str, force: &str) -> Reply {
        self.post(
            "/api/payments/intent",
            json!({"bookingId": booking, "force": force}),
        )
        .await
    }

    pub async fn cancel(&self, booking: &str) -> Reply {
        self.post(&format!("/api/bookings/{booking}/cancel"), json!({}))
            .await
    }

    pub async fn available(&self, event: &str) -> i64 {
        let reply = self.get(&format!("/api/events/{event}")).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.data()["availableSeats"].as_i64().unwrap()
    }

    /// The inventory, asserted consistent (the counter agrees with the rows).
    pub async fn inventory(&self, event: &str) -> Value {
        let reply = self.get(&format!("/api/events/{event}/inventory")).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(reply.data()["consistent"], true, "{}", reply.body);
        reply.data().clone()
    }

    /// [`Self::inventory`] with a bearer token (jwt mode: admins only).
    pub async fn inventory_as(&self, token: &str, event: &str) -> Value {
        let reply = self
            .get_as(token, &format!("/api/events/{event}/inventory"))
            .await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(reply.data()["consistent"], true, "{}", reply.body);
        reply.data().clone()
    }

    pub async fn lock_status(&self, lock: &str) -> String {
        let reply = self.get(&format!("/api/locks/{lock}")).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.data()["status"].as_str().unwrap().to_owned()
    }

    pub async fn booking_status(&self, booking: &str) -> String {
        let reply = self.get(&format!("/api/bookings/{booking}")).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.data()["status"].as_str().unwrap().to_owned()
    }

    /// Runs one SQL statement against the test's database, behind the server's back.
    pub async fn sql(&self, statement: &str) {
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(&self.database_url)
            .await
            .expect("connect to the test database");
        sqlx::raw_sql(sqlx::AssertSqlSafe(statement.to_owned()))
            .execute(&mut conn)
            .await
            .expect("statement runs");
    }

    /// How many payment attempts with this outcome a booking has on record.
    pub async fn payments(&self, booking: &str, outcome: &str) -> i64 {
        self.sql_text(&format!(
            "SELECT CAST(COUNT(*) AS TEXT) FROM payments \
             WHERE booking_id = '{booking}' AND outcome = '{outcome}'"
        ))
        .await
        .parse()
        .unwrap()
    }

    /// Runs a query returning one text value.
    pub async fn sql_text(&self, query: &str) -> String {
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(&self.database_url)
            .await
            .expect("connect to the test database");
        sqlx::query_scalar(sqlx::AssertSqlSafe(query.to_owned()))
            .fetch_one(&mut conn)
            .await
            .expect("query runs")
    }
}
