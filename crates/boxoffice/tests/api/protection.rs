//! Security headers on every answer; CORS and the per-client request limit only when
//! configured.

use reqwest::Method;

use crate::backend_tests;
use crate::harness::{Reply, TestApp};

const SECURITY_HEADERS: [(&str, &str); 5] = [
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
    (
        "content-security-policy",
        "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    ),
    ("cache-control", "no-store"),
];

#[track_caller]
fn assert_security_headers(reply: &Reply) {
    for (name, value) in SECURITY_HEADERS {
        assert_eq!(
            reply.headers.get(name).map(|v| v.to_str().unwrap()),
            Some(value),
            "{name} on a {} answer",
            reply.status
        );
    }
}

const ORIGIN: &str = "https://tickets.example.com";

backend_tests! {
    async fn every_answer_carries_the_security_headers(backend: Backend) {
        let app = TestApp::spawn_with(backend, |config| {
            crate::harness::jwt_mode(config);
            config.protection.rate_limit_per_second = Some(1);
            config.protection.rate_limit_burst = Some(3);
        })
        .await;
        let mut replies = vec![
            app.get("/health").await,
            app.get("/api/nowhere").await,
            app.call(Method::DELETE, "/health", None, None).await,
            app.get("/api/users/5f0000000000000000000000").await,
            app.login("nobody@example.com", "wrong-password").await,
        ];
        replies.push(app.get("/api/events/5f0000000000000000000000").await);
        let statuses: Vec<u16> = replies.iter().map(|reply| reply.status.as_u16()).collect();
        assert_eq!(statuses, [200, 404, 405, 401, 401, 429], "a burst of three, health aside");
        for reply in &replies {
            assert_security_headers(reply);
        }
        app.stop().await;
    }

    async fn cors_is_off_unless_origins_are_configured(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let preflight = app
            .client
            .request(Method::OPTIONS, app.url("/api/locks"))
            .header("origin", ORIGIN)
            .header("access-control-request-method", "POST")
            .send()
            .await
            .unwrap();
        assert!(preflight.headers().get("access-control-allow-origin").is_none());
        let reply = app.send(app.client.get(app.url("/health")).header("origin", ORIGIN)).await;
        assert_eq!(reply.status, 200);
        assert!(reply.headers.get("access-control-allow-origin").is_none());
        app.stop().await;

        let app = TestApp::spawn_with(backend, |config| {
            config.protection.cors_allowed_origins = vec![ORIGIN.to_owned(), "http://localhost:5173".to_owned()];
        })
        .await;
        let preflight = app
            .client
            .request(Method::OPTIONS, app.url("/api/locks"))
            .header("origin", ORIGIN)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "authorization, content-type")
            .send()
            .await
            .unwrap();
        assert!(preflight.status().is_success(), "{}", preflight.status());
        let headers = preflight.headers();
        assert_eq!(headers["access-control-allow-origin"], ORIGIN);
        let allowed = headers["access-control-allow-headers"].to_str().unwrap().to_lowercase();
        assert!(allowed.contains("authorization") && allowed.contains("content-type"), "{allowed}");
        assert!(headers["access-control-allow-methods"].to_str().unwrap().contains("POST"));

        let reply = app.send(app.client.get(app.url("/health")).header("origin", ORIGIN)).await;
        assert_eq!(reply.headers["access-control-allow-origin"], ORIGIN);
        let reply = app
            .send(app.client.get(app.url("/health")).header("origin", "https://evil.example.com"))
            .await;
        assert!(reply.headers.get("access-control-allow-origin").is_none());
        app.stop().await;
    }

    async fn the_per_client_limit_applies_only_when_configured(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        for _ in 0..30 {
            assert_eq!(app.get("/api/events/5f0000000000000000000000").await.status, 404);
        }
        app.stop().await;

        let app = TestApp::spawn_with(backend, |config| {
            config.protection.rate_limit_per_second = Some(1);
            config.protection.rate_limit_burst = Some(3);
        })
        .await;
        for _ in 0..3 {
            assert_eq!(app.get("/api/events/5f0000000000000000000000").await.status, 404);
        }
        let reply = app.get("/api/events/5f0000000000000000000000").await;
        reply.assert_error(429, "Too many requests; slow down");
        assert_eq!(reply.body["code"], "RATE_LIMITED");
        assert_eq!(reply.headers["retry-after"], "1");
        // Health checks are exempt.
        assert_eq!(app.get("/health").await.status, 200);
        // The bucket refills at the configured rate.
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        assert_eq!(app.get("/api/events/5f0000000000000000000000").await.status, 404);
        app.stop().await;
    }
}
