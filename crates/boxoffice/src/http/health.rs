use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use serde_json::{Value, json};

use super::{Access, AppState};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/health",
            Access::Public.on(get(async || Json(json!({"status": "OK"})))),
        )
        .route("/health/ready", Access::Public.on(get(ready)))
}

/// Ready when the database answers within two seconds.
async fn ready(State(app): State<AppState>) -> (StatusCode, Json<Value>) {
    let database = match tokio::time::timeout(Duration::from_secs(2), app.store.ping()).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(format!("{error:#}")),
        Err(_) => Err("no answer within 2 seconds".to_owned()),
    };
    match database {
        Ok(()) => (
            StatusCode::OK,
            Json(json!({"status": "OK", "database": "OK"})),
        ),
        Err(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "UNAVAILABLE", "database": reason})),
        ),
    }
}
