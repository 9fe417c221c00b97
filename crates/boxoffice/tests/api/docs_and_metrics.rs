//! The API description (`/api/openapi.json`, the Swagger UI at `/api/docs`, the committed
//! `docs/openapi.json`) and the Prometheus metrics at `/metrics`.
//!
//! The metrics recorder is shared by every server of this test process, so the metric tests
//! compare values before and after what they do, and only ask that they grew by at least
//! that much (other tests run at the same time).

use std::collections::{BTreeMap, BTreeSet};

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::backend_tests;
use crate::harness::{Backend, TestApp, jwt_mode};

/// Every route of the router, as the contract lists them (plus the metrics). The description
/// must list exactly these; the documentation's own routes are not part of it.
const ROUTES: &[(&str, &str)] = &[
    ("GET", "/health"),
    ("GET", "/health/ready"),
    ("POST", "/api/users/register"),
    ("POST", "/api/users/login"),
    ("GET", "/api/users/{id}"),
    ("GET", "/api/users/{id}/bookings"),
    ("POST", "/api/users/{id}/logout-all"),
    ("POST", "/api/events"),
    ("GET", "/api/events"),
    ("GET", "/api/events/{id}"),
    ("PATCH", "/api/events/{id}"),
    ("GET", "/api/events/{id}/inventory"),
    ("GET", "/api/events/{id}/seats"),
    ("GET", "/api/events/{id}/seatmap.svg"),
    ("GET", "/seatmap/{id}"),
    ("POST", "/api/events/{id}/seats/block"),
    ("POST", "/api/events/{id}/seats/unblock"),
    ("POST", "/api/locks"),
    ("GET", "/api/locks/{id}"),
    ("DELETE", "/api/locks/{id}"),
    ("POST", "/api/locks/{id}/extend"),
    ("POST", "/api/bookings/confirm"),
    ("GET", "/api/bookings/{id}"),
    ("POST", "/api/bookings/{id}/cancel"),
    ("POST", "/api/payments/intent"),
    ("GET", "/api/notifications"),
    ("POST", "/api/webhooks"),
    ("GET", "/api/webhooks"),
    ("GET", "/api/webhooks/{id}"),
    ("DELETE", "/api/webhooks/{id}"),
    ("POST", "/api/webhooks/{id}/rotate-secret"),
    ("GET", "/api/webhooks/{id}/deliveries"),
    ("POST", "/api/webhooks/{id}/redeliver"),
    ("GET", "/metrics"),
];

const SNAPSHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");
const UPDATE: &str = "BOXOFFICE_UPDATE_OPENAPI";

#[test]
fn the_committed_description_is_what_the_code_generates() {
    let generated = boxoffice::http::openapi_spec()
        .to_pretty_json()
        .expect("the description serializes")
        + "\n";
    if std::env::var_os(UPDATE).is_some_and(|v| v == "1") {
        std::fs::write(SNAPSHOT, &generated).expect("write docs/openapi.json");
        return;
    }
    let committed = std::fs::read_to_string(SNAPSHOT).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/openapi.json is not what the code generates (the API or its documentation \
         changed). Review the change, then regenerate it with\n\n    \
         {UPDATE}=1 cargo test --test api the_committed_description\n\nand commit it."
    );
}

/// The operations of a description: (method, path) → operation.
fn operations(spec: &Value) -> BTreeMap<(String, String), Value> {
    let mut operations = BTreeMap::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            operations.insert((method.to_uppercase(), path.clone()), operation.clone());
        }
    }
    operations
}

/// The status of a request without a body, and its JSON body if it has one (`/metrics` has not).
async fn status_of(
    app: &TestApp,
    method: &str,
    path: &str,
    token: Option<&str>,
) -> (StatusCode, Value) {
    let method = Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = app.client.request(method, app.url(&concrete(path)));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A concrete path for a template: every `{id}` a well-formed id of nothing.
fn concrete(path: &str) -> String {
    path.replace("{id}", "0123456789abcdef01234567")
}

async fn spec_of(app: &TestApp) -> Value {
    let reply = app.get("/api/openapi.json").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(
        reply.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    reply.body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_description_lists_every_route_of_the_router() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let spec = spec_of(&app).await;
    assert!(
        spec["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        spec["openapi"]
    );
    let listed: BTreeSet<(String, String)> = operations(&spec).into_keys().collect();
    let expected: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(method, path)| ((*method).to_owned(), (*path).to_owned()))
        .collect();
    assert_eq!(listed, expected);
    // And the router serves every operation the description lists.
    for (method, path) in &listed {
        let (_, body) = status_of(&app, method, path, None).await;
        assert!(
            !matches!(
                body["code"].as_str(),
                Some("ROUTE_NOT_FOUND" | "METHOD_NOT_ALLOWED")
            ),
            "{method} {path} is described but not routed: {body}"
        );
    }
    // Every error answer is the error envelope, but the HTTP layer's own bodiless 414 and 431.
    for ((method, path), operation) in operations(&spec) {
        for (status, response) in operation["responses"].as_object().unwrap() {
            if ["414", "431"].contains(&status.as_str()) {
                assert!(
                    response.get("content").is_none(),
                    "{method} {path} {status}"
                );
            } else if status.starts_with('4')
                || (status.starts_with('5') && path != "/health/ready")
            {
                assert_eq!(
                    response["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ErrorBody",
                    "{method} {path} {status}"
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_swagger_ui_is_served_from_the_binary_with_its_own_csp() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    // `/api/docs` sends the browser on to `/api/docs/`, whose relative asset links then work.
    let response = app.client.get(app.url("/api/docs")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.url().path(), "/api/docs/");
    let headers = response.headers().clone();
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-eval"), "{csp}");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let page = response.text().await.unwrap();
    assert!(page.contains("swagger-ui"), "{page}");
    for asset in [
        "swagger-ui-bundle.js",
        "swagger-ui.css",
        "swagger-initializer.js",
    ] {
        let response = app
            .client
            .get(app.url(&format!("/api/docs/{asset}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{asset}");
        if asset == "swagger-initializer.js" {
            let script = response.text().await.unwrap();
            assert!(script.contains("/api/openapi.json"), "{script}");
        }
    }
    // The JSON routes keep the deny-all policy.
    let reply = app.get("/api/openapi.json").await;
    assert!(
        reply.headers["content-security-policy"]
            .to_str()
            .unwrap()
            .starts_with("default-src 'none'")
    );
}

/// In jwt mode the guards do what the description says: an operation with a security
/// requirement refuses a request without a token (401), one without lets it through, and an
/// operation that asks for the `admin` role refuses a user's token (403). The documentation
/// itself is public.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_jwt_mode_the_guards_match_the_described_security() {
    let app = TestApp::spawn_jwt(Backend::Sqlite).await;
    let spec = spec_of(&app).await;
    let user = app.register_account("Ursula").await;
    let user_token = app.token(&user.email, &user.password).await;
    let admin_token = app.admin_token().await;
    for ((method, path), operation) in operations(&spec) {
        let security = operation["security"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let (status, body) = status_of(&app, &method, &path, None).await;
        if security.is_empty() {
            assert_ne!(status, 401, "{method} {path}: {body}");
        } else {
            assert_eq!(status, 401, "{method} {path}: {body}");
            assert_eq!(body["code"], "AUTHENTICATION_REQUIRED", "{method} {path}");
        }
        let admin_only = !security.is_empty()
            && security
                .iter()
                .any(|requirement| requirement.to_string().contains("admin"));
        let (status, body) = status_of(&app, &method, &path, Some(&user_token)).await;
        if admin_only {
            assert_eq!(status, 403, "{method} {path}: {body}");
            assert_eq!(body["code"], "FORBIDDEN", "{method} {path}");
        }
        let (status, body) = status_of(&app, &method, &path, Some(&admin_token)).await;
        assert!(
            ![401, 403].contains(&status.as_u16()),
            "{method} {path}: {body}"
        );
    }
    for path in ["/api/openapi.json", "/api/docs/"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
}

/// Sends a GET, possibly with a bearer token, and returns the status and the text.
async fn fetch(app: &TestApp, path: &str, token: Option<&str>) -> (StatusCode, String) {
    let mut request = app.client.get(app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

const SCRAPER: &str = "scraper-token-0123456789";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_need_the_metrics_token_or_an_admin_in_jwt_mode() {
    let app = TestApp::spawn_with(Backend::Sqlite, |config| {
        jwt_mode(config);
        config.protection.metrics_token = Some(SCRAPER.to_owned());
    })
    .await;
    let user = app.register_account("Ursula").await;
    let user_token = app.token(&user.email, &user.password).await;
    let admin_token = app.admin_token().await;
    assert_eq!(fetch(&app, "/metrics", None).await.0, 401);
    assert_eq!(fetch(&app, "/metrics", Some("wrong-token")).await.0, 401);
    assert_eq!(fetch(&app, "/metrics", Some(&user_token)).await.0, 403);
    assert_eq!(fetch(&app, "/metrics", Some(SCRAPER)).await.0, 200);
    assert_eq!(fetch(&app, "/metrics", Some(&admin_token)).await.0, 200);
    // The scraper's token opens nothing else.
    let reply = app
        .get_as(SCRAPER, &format!("/api/users/{}", user.id))
        .await;
    assert_eq!(reply.status, 401, "{}", reply.body);

    // Without METRICS_TOKEN, jwt mode: admins only.
    let app = TestApp::spawn_jwt(Backend::Sqlite).await;
    let admin_token = app.admin_token().await;
    assert_eq!(fetch(&app, "/metrics", None).await.0, 401);
    assert_eq!(fetch(&app, "/metrics", Some(SCRAPER)).await.0, 401);
    assert_eq!(fetch(&app, "/metrics", Some(&admin_token)).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_public_in_open_mode_unless_a_metrics_token_is_set() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    assert_eq!(fetch(&app, "/health", None).await.0, 200);
    let (status, text) = fetch(&app, "/metrics", None).await;
    assert_eq!(status, 200);
    assert!(
        text.contains("# TYPE http_requests_total counter"),
        "{text}"
    );

    let app = TestApp::spawn_with(Backend::Sqlite, |config| {
        config.protection.metrics_token = Some(SCRAPER.to_owned());
    })
    .await;
    assert_eq!(fetch(&app, "/metrics", None).await.0, 401);
    assert_eq!(fetch(&app, "/metrics", Some("not-the-token")).await.0, 401);
    assert_eq!(fetch(&app, "/metrics", Some(SCRAPER)).await.0, 200);
    // Everything else stays open.
    assert_eq!(fetch(&app, "/health", None).await.0, 200);
}

/// The value of the series `name` whose labels include `labels`, summed over matches (0 when
/// there is none yet).
fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (series_name, series_labels) = match series.split_once('{') {
                Some((series_name, rest)) => (series_name, rest.trim_end_matches('}')),
                None => (series, ""),
            };
            let matches = series_name == name
                && labels.iter().all(|(key, value)| {
                    series_labels
                        .split(',')
                        .any(|pair| pair == format!("{key}=\"{value}\""))
                });
            matches.then(|| value.parse::<f64>().ok()).flatten()
        })
        .sum()
}

async fn scrape(app: &TestApp) -> String {
    let (status, text) = fetch(app, "/metrics", None).await;
    assert_eq!(status, 200, "{text}");
    text
}

backend_tests! {
    async fn metrics_count_holds_bookings_payments_and_requests_by_route(backend: Backend) {
        // No sweeps during the test: the lapsed hold below is reclaimed by a hold request.
        let app = TestApp::spawn_with(backend, |config| config.sweep_interval_ms = 3_600_000).await;
        let before = scrape(&app).await;

        let user = app.register("Alice").await;
        let event = app.create_event(2).await;
        let lock = app.lock(&event, &user, 2, "metrics-1").await;
        let replay = app.try_lock(&event, &user, 2, "metrics-1").await;
        assert!(replay.replayed(), "{}", replay.body);
        app.try_lock(&event, &user, 1, "metrics-2").await
            .assert_error(400, "Not enough available seats");
        assert_eq!(app.get(&format!("/api/locks/{lock}")).await.status, 200);
        let booking = app.book(&lock).await;
        let reply = app.pay(&booking, "success").await;
        assert_eq!(reply.body["paymentStatus"], "SUCCESS", "{}", reply.body);

        // A hold that lapsed unswept is reclaimed by the next request that needs its seats.
        let other = app.create_event(2).await;
        let lapsed = app.lock(&other, &user, 2, "metrics-3").await;
        app.sql(&format!("UPDATE seat_locks SET expires_at = 0 WHERE id = '{lapsed}'")).await;
        app.lock(&other, &user, 2, "metrics-4").await;

        let after = scrape(&app).await;
        let grew = |name: &str, labels: &[(&str, &str)]| {
            value(&after, name, labels) - value(&before, name, labels)
        };
        assert!(grew("boxoffice_holds_granted_total", &[]) >= 2.0);
        assert!(grew("boxoffice_holds_replayed_total", &[]) >= 1.0);
        assert!(grew("boxoffice_holds_refused_total", &[("reason", "NOT_ENOUGH_SEATS")]) >= 1.0);
        assert!(grew("boxoffice_bookings_confirmed_total", &[]) >= 1.0);
        assert!(grew("boxoffice_payments_total", &[("outcome", "success")]) >= 1.0);
        assert!(grew("boxoffice_seats_released_total", &[("by", "reclaim")]) >= 2.0);
        let route = [("method", "GET"), ("route", "/api/locks/{id}"), ("status", "200")];
        assert!(grew("http_requests_total", &route) >= 1.0, "{after}");
        assert!(grew("http_requests_total", &[("route", "/api/locks"), ("status", "201")]) >= 2.0);
        assert!(
            grew("http_request_duration_seconds_count", &[("route", "/api/locks/{id}")]) >= 1.0
        );
        // Route templates, never raw paths: no id appears in a label.
        for id in [&lock, &booking, &event, &user] {
            assert!(!after.contains(id.as_str()), "{id} in the metrics");
        }
        // The start-up sweep ran at least one batch; the pools are sampled at each scrape.
        assert!(value(&after, "boxoffice_sweeper_batch_duration_seconds_count", &[]) >= 1.0);
        assert!(after.contains("boxoffice_db_pool_connections{"), "{after}");
        assert!(after.contains("# TYPE http_request_duration_seconds histogram"), "{after}");
    }
}
