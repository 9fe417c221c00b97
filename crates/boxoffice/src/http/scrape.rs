//! GET /metrics: the Prometheus text exposition of `crate::telemetry`, for a scraper.

use axum::extract::State;
use axum::http::HeaderValue;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Access, AppState};
use crate::telemetry;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(Access::Metrics.routes(routes!(metrics)))
}

/// Prometheus metrics, in the text exposition format: requests by route template and status,
/// durations, holds, bookings, payments, seats released by expiry, the sweeper, and database
/// pool connections. Public in open mode unless `METRICS_TOKEN` is set; in jwt mode, an
/// admin's token or `METRICS_TOKEN`.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "The metrics of this instance",
        content_type = "text/plain; version=0.0.4", body = String)))]
async fn metrics(State(app): State<AppState>) -> impl IntoResponse {
    for pool in app.store.pool_usage() {
        telemetry::pool_connections(pool.pool, pool.in_use, pool.idle);
    }
    (
        [(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        telemetry::render(),
    )
}
