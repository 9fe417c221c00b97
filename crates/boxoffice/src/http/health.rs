use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::views::{Health, Readiness};
use super::{Access, AppState};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(Access::Public.routes(routes!(health)))
        .routes(Access::Public.routes(routes!(ready)))
}

/// Alive: the process answers.
#[utoipa::path(get, path = "/health", tag = "health",
    responses((status = 200, description = "The process answers", body = Health)))]
async fn health() -> Json<Health> {
    Json(Health { status: "OK" })
}

/// Ready when the database answers within two seconds.
#[utoipa::path(get, path = "/health/ready", tag = "health",
    responses(
        (status = 200, description = "The database answers", body = Readiness),
        (status = 503, description = "The database does not answer", body = Readiness),
    ))]
async fn ready(State(app): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let database = match tokio::time::timeout(Duration::from_secs(2), app.store.ping()).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(format!("{error:#}")),
        Err(_) => Err("no answer within 2 seconds".to_owned()),
    };
    match database {
        Ok(()) => (
            StatusCode::OK,
            Json(Readiness {
                status: "OK",
                database: "OK".to_owned(),
            }),
        ),
        Err(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Readiness {
                status: "UNAVAILABLE",
                database: reason,
            }),
        ),
    }
}
