//! The HTTP API: one module per resource, each parsing requests and shaping answers, while
//! the domain decides and the store persists.

mod bookings;
mod error;
mod events;
mod health;
mod json;
mod locks;
mod middleware;
mod payments;
mod query;
mod users;
mod views;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::HeaderName;
use axum::http::HeaderValue;

pub use error::ApiError;
pub use json::JsonObject;
pub use query::QueryParams;

use crate::domain::ObjectId;
use crate::store::Store;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub lock_ttl_seconds: i64,
    pub payment_ttl_seconds: i64,
    /// How long after its creation a lock may be extended to.
    pub lock_max_lifetime_seconds: i64,
}

pub struct HttpSettings {
    pub request_timeout: Duration,
}

/// Bodies above this are refused with 413 before they are read whole.
pub const BODY_LIMIT_BYTES: usize = 1024 * 1024;

/// Marks an answer that repeats an earlier one instead of acting again.
pub const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

fn replayed_header() -> [(HeaderName, HeaderValue); 1] {
    [(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"))]
}

pub fn router(state: AppState, settings: &HttpSettings) -> Router {
    let router = Router::new()
        .merge(health::routes())
        .merge(users::routes())
        .merge(events::routes())
        .merge(locks::routes())
        .merge(bookings::routes())
        .merge(payments::routes())
        .fallback(async || ApiError::RouteNotFound)
        .method_not_allowed_fallback(async || ApiError::MethodNotAllowed)
        .with_state(state)
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES));
    middleware::apply(router, settings.request_timeout)
}

/// A path id that is not a well-formed ObjectId names nothing: the resource's 404.
fn parse_id(text: &str, not_found: crate::domain::Rejection) -> Result<ObjectId, ApiError> {
    ObjectId::parse(text).ok_or(ApiError::Rejected(not_found))
}
