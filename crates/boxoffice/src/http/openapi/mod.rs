//! The OpenAPI 3.1 description of the API, generated from the code: each handler's
//! `#[utoipa::path]` (path, method, body, answers), collected by utoipa-axum's `routes!` into the
//! same `OpenApiRouter` that serves them, with each route's [`Access`](super::Access) written in by
//! [`Access::routes`](super::Access::routes). Served at `GET /api/openapi.json`, with a Swagger UI at `/api/docs`;
//! committed as `docs/openapi.json`, which a test keeps equal to what the code generates.
//!
//! Its parts: `answers` writes the answers every route may give and what its access asks;
//! `docs` serves the description and the Swagger UI; `schemas` describes the domain's values.

mod answers;
mod docs;
mod schemas;

use utoipa::openapi::OpenApi as Spec;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::{Modify, OpenApi};

pub(crate) use answers::add_answer;
use answers::add_common_answers;
pub use answers::declare_access;
pub use docs::docs_routes;

use super::error::ErrorBody;
use crate::config::AuthMode;
use crate::domain::{ObjectId, Timestamp};

/// Where the description is served.
pub const SPEC_PATH: &str = "/api/openapi.json";
/// Where the Swagger UI is served.
pub const DOCS_PATH: &str = "/api/docs";

/// The bearer security scheme of every route that needs a login token.
pub const BEARER: &str = "bearer";
/// The bearer security scheme of `GET /metrics` when `METRICS_TOKEN` is set.
pub const METRICS_TOKEN: &str = "metricsToken";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "boxoffice",
        description = "An event-booking API: seat holds, bookings and simulated payments that \
            never oversell. Every answer is JSON; errors are `{\"success\": false, \"message\", \
            \"code\"}`. Authentication applies only with `AUTH_MODE=jwt`: in open mode (the \
            default on a loopback address) no route needs a token.",
        license(name = "MIT OR Apache-2.0"),
    ),
    components(schemas(ErrorBody, ObjectId, Timestamp)),
    modifiers(&SecuritySchemes),
    tags(
        (name = "health", description = "Liveness and readiness"),
        (name = "users", description = "Registration, login, profiles, a user's bookings"),
        (name = "events", description = "Events and their seat inventory"),
        (name = "locks", description = "Seat holds"),
        (name = "bookings", description = "Bookings awaiting payment, confirmed, cancelled"),
        (name = "payments", description = "Simulated payments"),
        (name = "operations", description = "Metrics for monitoring"),
    ),
)]
struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, spec: &mut Spec) {
        let components = spec.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "A token from `POST /api/users/login`, sent as `Authorization: Bearer \
                         <token>`. Needed only with `AUTH_MODE=jwt`; in open mode no token is \
                         needed and none is looked at. A requirement listing `admin` needs a \
                         token of an admin.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            METRICS_TOKEN,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The value of `METRICS_TOKEN`, for a metrics scraper. When it is unset, \
                         `/metrics` is public in open mode and for admins in jwt mode.",
                    ))
                    .build(),
            ),
        );
    }
}

/// What the API's `OpenApiRouter` starts from: everything but the paths.
pub fn base() -> Spec {
    ApiDoc::openapi()
}

/// The settings that decide which answers the API can give, so that the served description
/// is exact for the server that serves it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deployment {
    pub auth_mode: AuthMode,
    /// `RATE_LIMIT_PER_SECOND` is set: any route but health may answer 429.
    pub rate_limited: bool,
    /// `METRICS_TOKEN` is set: `/metrics` needs it (or, in jwt mode, an admin's token).
    pub metrics_token: bool,
}

impl Deployment {
    /// Everything on (jwt mode, a request limit, a metrics token): the fullest description,
    /// the one committed as `docs/openapi.json`.
    pub const FULL: Self = Self {
        auth_mode: AuthMode::Jwt,
        rate_limited: true,
        metrics_token: true,
    };
}

/// The description the API's `OpenApiRouter` collected, made exact for `deployment`: the
/// answers the layers around every route can give are added to each operation, and in open
/// mode no operation asks for a login token or answers 401/403 (only `/metrics` asks for
/// `METRICS_TOKEN`, when it is set).
pub fn finish(mut spec: Spec, deployment: Deployment) -> Spec {
    for (path, item) in spec.paths.paths.iter_mut() {
        let is_health = path.starts_with("/health");
        for operation in [&mut item.post, &mut item.patch, &mut item.delete]
            .into_iter()
            .filter_map(Option::as_mut)
        {
            super::idempotency::describe(operation, path);
        }
        for operation in operations_mut(item) {
            if deployment.auth_mode == AuthMode::Open {
                drop_login_requirement(operation, deployment.metrics_token);
            }
            add_common_answers(operation, is_health, deployment.rate_limited);
        }
    }
    if let Some(components) = spec.components.as_mut() {
        if deployment.auth_mode == AuthMode::Open {
            components.security_schemes.remove(BEARER);
        }
        if !deployment.metrics_token {
            components.security_schemes.remove(METRICS_TOKEN);
        }
    }
    spec
}

/// Open mode: the operation needs no login token, so it never answers 401 or 403; but with
/// `METRICS_TOKEN` set, `/metrics` still needs that token (a wrong or missing one is a 401).
fn drop_login_requirement(operation: &mut Operation, metrics_token: bool) {
    let Some(security) = operation.security.take() else {
        return;
    };
    let scraper = SecurityRequirement::new(METRICS_TOKEN, Vec::<String>::new());
    let responses = &mut operation.responses.responses;
    responses.remove("403");
    if metrics_token && security.contains(&scraper) {
        operation.security = Some(vec![scraper]);
    } else {
        responses.remove("401");
    }
}

/// The operations of one path, whatever their methods.
pub fn operations_mut(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.options,
        &mut item.head,
        &mut item.patch,
        &mut item.trace,
    ]
    .into_iter()
    .filter_map(Option::as_mut)
}
