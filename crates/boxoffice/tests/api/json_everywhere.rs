//! Every answer the application writes is the JSON envelope with a code: ids in paths that
//! are not even UTF-8, and paths under the Swagger UI that it does not serve, included.

use crate::backend_tests;
use crate::harness::TestApp;

backend_tests! {
    async fn a_path_id_that_is_not_utf8_is_the_resources_json_404(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        for (path, message) in [
            ("/api/events/%ff", "Event not found"),
            ("/api/events/%C3%28/inventory", "Event not found"),
            ("/api/users/%ff", "User not found"),
            ("/api/users/%ff/bookings", "User not found"),
            ("/api/locks/%ff", "Lock not found"),
            ("/api/bookings/%ff", "Booking not found"),
        ] {
            let reply = app.get(path).await;
            reply.assert_error(404, message);
            assert!(reply.body["code"].is_string(), "{path}: {}", reply.body);
        }
        for (method, path, message) in [
            (reqwest::Method::DELETE, "/api/locks/%ff", "Lock not found"),
            (reqwest::Method::POST, "/api/locks/%ff/extend", "INVALID_OR_EXPIRED_LOCK"),
            (reqwest::Method::POST, "/api/bookings/%ff/cancel", "Booking not found"),
            (reqwest::Method::PATCH, "/api/events/%ff", "Event not found"),
        ] {
            let body = match method {
                reqwest::Method::POST if path.ends_with("extend") => {
                    Some(serde_json::json!({"seconds": 60}))
                }
                reqwest::Method::DELETE => None,
                _ => Some(serde_json::json!({"name": "x"})),
            };
            app.call(method, path, None, body).await.assert_error(404, message);
        }
        app.stop().await;
    }

    async fn paths_under_the_docs_that_do_not_exist_are_json_404s(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        for path in ["/api/docs/anything", "/api/docs/a/b/c.js", "/api/docs/%ff"] {
            let reply = app.get(path).await;
            reply.assert_error(404, "Route not found");
            assert_eq!(reply.body["code"], "ROUTE_NOT_FOUND");
        }
        // The UI itself still answers.
        let page = app.client.get(app.url("/api/docs/")).send().await.unwrap();
        assert_eq!(page.status(), 200);
        app.stop().await;
    }
}
