//! The served OpenAPI description is exact for the mode the server runs in: security and
//! 401/403 only where a token can be asked for, 429 only where a limit can answer it, typed
//! query parameters, the body rules as schema constraints, and the HTTP layer's 414 and 431.

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::harness::{Backend, TestApp, jwt_mode};

async fn spec_of(app: &TestApp) -> Value {
    let reply = app.get("/api/openapi.json").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body
}

/// Every operation: (method path, operation).
fn operations(spec: &Value) -> Vec<(String, Value)> {
    let mut all = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            all.push((
                format!("{} {path}", method.to_uppercase()),
                operation.clone(),
            ));
        }
    }
    all
}

fn answers(operation: &Value) -> Vec<&str> {
    operation["responses"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect()
}

fn parameter<'a>(spec: &'a Value, path: &str, name: &str) -> &'a Value {
    spec["paths"][path]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|parameter| parameter["name"] == name)
        .unwrap_or_else(|| panic!("{path} has no parameter {name}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_open_mode_nothing_asks_for_a_token() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let spec = spec_of(&app).await;
    assert!(
        spec["components"]["securitySchemes"]
            .get("bearer")
            .is_none(),
        "{}",
        spec["components"]
    );
    for (operation_name, operation) in operations(&spec) {
        assert!(operation.get("security").is_none(), "{operation_name}");
        let answers = answers(&operation);
        assert!(!answers.contains(&"403"), "{operation_name}");
        // Only a login's wrong password is a 401, and only a login's throttle a 429.
        let login = operation_name == "POST /api/users/login";
        assert_eq!(answers.contains(&"401"), login, "{operation_name}");
        assert_eq!(answers.contains(&"429"), login, "{operation_name}");
        assert!(
            answers.contains(&"414") && answers.contains(&"431"),
            "{operation_name}"
        );
    }
    // What the description says is what the server does: no token needed anywhere.
    let user = app.register("Olga").await;
    let reply = app.get(&format!("/api/users/{user}/bookings")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_open_mode_the_metrics_token_is_the_only_security() {
    let app = TestApp::spawn_with(Backend::Sqlite, |config| {
        config.protection.metrics_token = Some("scraper-token-0123456789".to_owned());
    })
    .await;
    let spec = spec_of(&app).await;
    let schemes = spec["components"]["securitySchemes"].as_object().unwrap();
    assert_eq!(schemes.keys().collect::<Vec<_>>(), ["metricsToken"]);
    for (operation_name, operation) in operations(&spec) {
        if operation_name == "GET /metrics" {
            assert_eq!(
                operation["security"],
                serde_json::json!([{"metricsToken": []}])
            );
            assert!(answers(&operation).contains(&"401"));
            assert!(!answers(&operation).contains(&"403"));
        } else {
            assert!(operation.get("security").is_none(), "{operation_name}");
        }
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_jwt_mode_with_a_request_limit_every_limited_route_may_answer_429() {
    let app = TestApp::spawn_with(Backend::Sqlite, |config| {
        jwt_mode(config);
        config.protection.rate_limit_per_second = Some(1000);
    })
    .await;
    let spec = spec_of(&app).await;
    assert!(
        spec["components"]["securitySchemes"]
            .get("bearer")
            .is_some()
    );
    assert!(
        spec["components"]["securitySchemes"]
            .get("metricsToken")
            .is_none()
    );
    for (operation_name, operation) in operations(&spec) {
        let answers = answers(&operation);
        assert_eq!(
            answers.contains(&"429"),
            !operation_name.contains(" /health"),
            "{operation_name}"
        );
        if operation.get("security").is_some() {
            assert!(answers.contains(&"401"), "{operation_name}");
        }
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_parameters_and_bodies_carry_their_rules() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let spec = spec_of(&app).await;
    let limit = &parameter(&spec, "/api/events", "limit")["schema"];
    assert_eq!(
        (
            limit["type"].as_str(),
            limit["minimum"].as_i64(),
            limit["maximum"].as_i64()
        ),
        (Some("integer"), Some(1), Some(100)),
        "{limit}"
    );
    for name in ["from", "to"] {
        assert_eq!(
            parameter(&spec, "/api/events", name)["schema"]["format"],
            "date-time"
        );
    }
    assert!(parameter(&spec, "/api/events", "cursor")["schema"]["pattern"].is_string());
    let status = &parameter(&spec, "/api/users/{id}/bookings", "status")["schema"];
    let status = if status["$ref"].is_string() {
        &spec["components"]["schemas"]["BookingStatus"]
    } else {
        status
    };
    assert_eq!(status["enum"].as_array().map(Vec::len), Some(6), "{status}");

    let schemas = &spec["components"]["schemas"];
    let register = &schemas["RegisterBody"]["properties"];
    assert_eq!(
        (
            register["password"]["minLength"].as_i64(),
            register["password"]["maxLength"].as_i64()
        ),
        (Some(6), Some(128))
    );
    assert!(register["name"]["pattern"].is_string(), "{register}");
    assert!(register["email"]["pattern"].is_string(), "{register}");
    assert_eq!(
        schemas["LockBody"]["properties"]["idempotencyKey"]["maxLength"],
        255
    );
    assert_eq!(
        schemas["NewEventBody"]["properties"]["description"]["maxLength"],
        5000
    );
    let created = &spec["paths"]["/api/events"]["post"]["responses"]["400"]["description"];
    assert!(
        created
            .as_str()
            .unwrap()
            .contains("Text must not contain NUL characters"),
        "{created}"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_http_layer_answers_414_and_431_as_described() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    // Longer than any client library will send: spoken over a raw socket.
    let mut stream = TcpStream::connect(app.base.trim_start_matches("http://"))
        .await
        .unwrap();
    let request = format!(
        "GET /api/events?q={} HTTP/1.1\r\nHost: x\r\n\r\n",
        "a".repeat(70_000)
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).await.unwrap();
    assert_eq!(&head, b"HTTP/1.1 414");
    // A head over 128 KiB.
    let mut stream = TcpStream::connect(app.base.trim_start_matches("http://"))
        .await
        .unwrap();
    let padding = "p".repeat(140_000);
    let request = format!("GET /api/events HTTP/1.1\r\nHost: x\r\nX-Padding: {padding}\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).await.unwrap();
    assert_eq!(&head, b"HTTP/1.1 431");
    assert_eq!(app.get("/health").await.status, 200);
    app.stop().await;
}
