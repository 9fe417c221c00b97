//! The HTTP API: one module per resource, each parsing requests and shaping answers, while
//! the domain decides and the store persists.

mod access;
mod bookings;
mod error;
mod events;
mod health;
mod idempotency;
mod json;
mod locks;
mod login;
mod logout;
mod middleware;
mod notifications;
pub mod openapi;
mod path;
mod payments;
mod protection;
mod query;
mod scrape;
mod seat_views;
mod seats;
mod text_schemas;
mod users;
mod views;
mod webhooks;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::HeaderName;
use axum::http::HeaderValue;
use axum::{Extension, Router};
use utoipa_axum::router::OpenApiRouter;

pub use access::{Access, Authenticator};
pub use error::ApiError;
pub use idempotency::IDEMPOTENCY_KEY;
pub use json::{JsonObject, OptionalJsonObject};
pub use notifications::NotificationViews;
pub use path::PathId;
pub use protection::ClientAddress;
pub use query::QueryParams;

use crate::config::{CorsOrigins, RateLimit};
use crate::domain::{CursorKey, Lifetimes, ObjectId};
use crate::holds::HoldQueue;
use crate::store::{Notifications, Store};
use crate::webhooks::WebhookClient;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    /// Where lock requests go: group commit per event (`crate::holds`).
    pub holds: Arc<HoldQueue>,
    /// How long holds and payment windows last.
    pub lifetimes: Lifetimes,
    pub auth: Arc<Authenticator>,
    /// The feed and the webhook endpoints.
    pub notifications: Arc<dyn Notifications>,
    /// Checks new endpoints' URLs as deliveries will (`WEBHOOK_ALLOW_PRIVATE`).
    pub webhooks: Arc<WebhookClient>,
    /// Seals the cursors of paged lists (`domain::Cursor`), the same on every instance.
    pub cursors: CursorKey,
    /// Seat maps drawn once per event per second, a bounded number at once (`seatmap::SeatMaps`).
    pub seat_maps: Arc<crate::seatmap::SeatMaps>,
}

pub struct HttpSettings {
    pub request_timeout: Duration,
    /// The general per-client request limit, if any.
    pub rate_limit: Option<RateLimit>,
    pub cors: CorsOrigins,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<IpAddr>,
}

/// Bodies above this are refused with 413 before they are read whole.
pub const BODY_LIMIT_BYTES: usize = 1024 * 1024;

/// Marks an answer that repeats an earlier one instead of acting again.
pub const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

fn replayed_header() -> [(HeaderName, HeaderValue); 1] {
    [(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"))]
}

/// Every documented route, with the access it requires declared beside it (see [`Access`]):
/// one declaration gives both the router and its OpenAPI description.
fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::base())
        .merge(health::routes())
        .merge(users::routes())
        .merge(login::routes())
        .merge(logout::routes())
        .merge(events::routes())
        .merge(locks::routes())
        .merge(bookings::routes())
        .merge(payments::routes())
        .merge(seats::routes())
        .merge(notifications::routes())
        .merge(webhooks::routes())
        .merge(scrape::routes())
}

/// The OpenAPI description of every route of [`router`] but the documentation's own, as a
/// server with every option on describes itself ([`openapi::Deployment::FULL`]; the committed
/// `docs/openapi.json`).
pub fn openapi_spec() -> utoipa::openapi::OpenApi {
    openapi::finish(api().into_openapi(), openapi::Deployment::FULL)
}

/// Every route, with the access it requires declared beside it (see [`Access`]), and the
/// API's description with its Swagger UI.
pub fn router(state: AppState, settings: &HttpSettings) -> Router {
    let authenticator = state.auth.clone();
    let deployment = openapi::Deployment {
        auth_mode: authenticator.mode,
        rate_limited: settings.rate_limit.is_some(),
        metrics_token: authenticator.metrics_token.is_some(),
    };
    let (api, spec) = api().split_for_parts();
    let router = api
        // Every write route (not the fallbacks): the `Idempotency-Key` header.
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            idempotency::keep_answers,
        ))
        .merge(openapi::docs_routes(&openapi::finish(spec, deployment)))
        .fallback(async || ApiError::RouteNotFound)
        .method_not_allowed_fallback(async || ApiError::MethodNotAllowed)
        .with_state(state)
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(Extension(authenticator));
    middleware::apply(router, settings)
}

/// A path id that is not a well-formed ObjectId names nothing: the resource's 404.
fn parse_id(text: &str, not_found: crate::domain::Rejection) -> Result<ObjectId, ApiError> {
    ObjectId::parse(text).ok_or(ApiError::Rejected(not_found))
}

/// Someone else's lock is not found, as if it did not exist (`hidden_as` says which "not found").
/// A lock's owner never changes, so checking before the use case's transaction is as good as
/// checking in it. Admins (and everyone in open mode) skip the read.
async fn ensure_owns_lock(
    app: &AppState,
    caller: &crate::auth::Caller,
    id: ObjectId,
    hidden_as: crate::domain::Rejection,
) -> Result<(), ApiError> {
    if !caller.is_admin() {
        app.store
            .lock(id)
            .await?
            .filter(|lock| caller.may_act_for(lock.user_id))
            .ok_or(hidden_as)?;
    }
    Ok(())
}

/// Someone else's booking is not found, as if it did not exist; see [`ensure_owns_lock`].
async fn ensure_owns_booking(
    app: &AppState,
    caller: &crate::auth::Caller,
    id: ObjectId,
) -> Result<(), ApiError> {
    if !caller.is_admin() {
        app.store
            .booking(id)
            .await?
            .filter(|booking| caller.may_act_for(booking.user_id))
            .ok_or(crate::domain::Rejection::BookingNotFound)?;
    }
    Ok(())
}
