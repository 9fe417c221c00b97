//! The OpenAPI 3.1 description of the API, generated from the code: each handler's
//! `#[utoipa::path]` (path, method, body, answers), collected by utoipa-axum's `routes!` into the
//! same `OpenApiRouter` that serves them, with each route's [`Access`] written in by
//! [`Access::routes`]. Served at `GET /api/openapi.json`, with a Swagger UI at `/api/docs`;
//! committed as `docs/openapi.json`, which a test keeps equal to what the code generates.

use std::borrow::Cow;
use std::sync::Arc;

use axum::Router;
use axum::http::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{Content, OpenApi as Spec, Ref, RefOr, Response, Schema};
use utoipa::{Modify, OpenApi, PartialSchema, ToSchema};
use utoipa_swagger_ui::{Config, SwaggerUi};

use super::Access;
use super::error::ErrorBody;
use crate::config::AuthMode;
use crate::domain::{BookingStatus, LockStatus, ObjectId, Role, Timestamp};

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

/// Writes what `access` asks of callers into `operation`: its security requirement (roles as
/// the requirement's list, as OpenAPI 3.1 allows for non-OAuth schemes) and the answers a
/// refused caller gets.
pub fn declare_access(operation: &mut Operation, access: Access) {
    let admin = || SecurityRequirement::new(BEARER, ["admin"]);
    let not_admin = Some("The token is not an admin's (jwt mode)");
    let unauthenticated = "No bearer token, or one that is malformed, tampered with or \
        expired (jwt mode)";
    let (security, unauthenticated, forbidden) = match access {
        Access::Public => return,
        Access::Authenticated => (
            vec![SecurityRequirement::new(BEARER, Vec::<String>::new())],
            unauthenticated,
            None,
        ),
        Access::Admin => (vec![admin()], unauthenticated, not_admin),
        Access::Metrics => (
            vec![
                SecurityRequirement::new(METRICS_TOKEN, Vec::<String>::new()),
                admin(),
            ],
            "Neither `METRICS_TOKEN` nor a valid token (in jwt mode, or whenever \
             `METRICS_TOKEN` is set)",
            not_admin,
        ),
    };
    operation.security = Some(security);
    add_answer(operation, StatusCode::UNAUTHORIZED, unauthenticated);
    if let Some(forbidden) = forbidden {
        add_answer(operation, StatusCode::FORBIDDEN, forbidden);
    }
}

/// Answers the layers around every route may give, whatever the handler does.
fn add_common_answers(operation: &mut Operation, is_health: bool, rate_limited: bool) {
    let reads_text = operation.request_body.is_some()
        || operation.parameters.iter().flatten().any(|parameter| {
            matches!(parameter, RefOr::T(parameter)
                if parameter.parameter_in == utoipa::openapi::path::ParameterIn::Query)
        });
    if reads_text {
        extend_answer(
            operation,
            StatusCode::BAD_REQUEST,
            "A text that is read (a body field or a query parameter) holds a NUL character: \
             `Text must not contain NUL characters`",
        );
    }
    if operation.request_body.is_some() {
        extend_answer(
            operation,
            StatusCode::BAD_REQUEST,
            "The body is not a JSON object: `Request body is not valid JSON`, `Request body \
             must be a JSON object`",
        );
        add_answer(
            operation,
            StatusCode::PAYLOAD_TOO_LARGE,
            "The body is larger than 1 MiB",
        );
        add_answer(
            operation,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "The body is not sent as `application/json`",
        );
    }
    if rate_limited && !is_health {
        extend_answer(
            operation,
            StatusCode::TOO_MANY_REQUESTS,
            "Over the per-client request limit (`RATE_LIMIT_PER_SECOND`); see `Retry-After`",
        );
    }
    // hyper's own answers, with an empty body, to a request head it will not read.
    add_bare_answer(
        operation,
        StatusCode::URI_TOO_LONG,
        "The request target is longer than 65,534 bytes (answered by the HTTP layer, with no \
         body)",
    );
    add_bare_answer(
        operation,
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        "The request head is larger than 128 KiB or has more than 100 headers (answered by the \
         HTTP layer, with no body)",
    );
    add_answer(
        operation,
        StatusCode::INTERNAL_SERVER_ERROR,
        "An unexpected error (logged)",
    );
    add_answer(
        operation,
        StatusCode::SERVICE_UNAVAILABLE,
        "The database is unreachable or busy, or the request took longer than \
         `REQUEST_TIMEOUT_MS`",
    );
}

/// An error answer with the error envelope; if the operation already describes `status`, the
/// description gains this case.
fn extend_answer(operation: &mut Operation, status: StatusCode, description: &str) {
    if let Some(RefOr::T(response)) = operation.responses.responses.get_mut(status.as_str()) {
        response.description = format!("{}; or: {description}", response.description);
        return;
    }
    add_answer(operation, status, description);
}

/// An answer without a body, unless the operation already describes `status`.
fn add_bare_answer(operation: &mut Operation, status: StatusCode, description: &str) {
    operation
        .responses
        .responses
        .entry(status.as_str().to_owned())
        .or_insert_with(|| RefOr::T(Response::new(description)));
}

/// An error answer with the error envelope, unless the operation already describes `status`.
pub(super) fn add_answer(operation: &mut Operation, status: StatusCode, description: &str) {
    operation
        .responses
        .responses
        .entry(status.as_u16().to_string())
        .or_insert_with(|| {
            let mut response = Response::new(description);
            response.content.insert(
                "application/json".to_owned(),
                RefOr::T(Content::new(Some(Ref::from_schema_name(ErrorBody::name())))),
            );
            RefOr::T(response)
        });
}

/// `GET /api/openapi.json` and the Swagger UI under `/api/docs`, both public. The UI page
/// runs its own scripts and styles (embedded from the crate, served from here): its routes
/// carry a Content-Security-Policy that allows exactly that, which the deny-all default
/// (set only where none is) then leaves alone.
pub fn docs_routes<S: Clone + Send + Sync + 'static>(spec: &Spec) -> Router<S> {
    let json: Arc<str> = spec
        .to_pretty_json()
        .expect("the OpenAPI description serializes")
        .into();
    let serve_spec = get(async move || {
        (
            [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
            json.to_string(),
        )
            .into_response()
    });
    let swagger: Router<S> = SwaggerUi::new(DOCS_PATH)
        .config(
            Config::new([SPEC_PATH])
                // No badge fetched from validator.swagger.io: nothing leaves this server.
                .validator_url("none")
                .try_it_out_enabled(true),
        )
        .into();
    // The UI's own answers for files it does not have are empty; ours are the JSON envelope.
    let swagger = swagger.layer(axum::middleware::map_response(json_errors));
    let swagger = swagger.layer(SetResponseHeaderLayer::overriding(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
             img-src 'self' data:; font-src 'self' data:; connect-src 'self'; \
             frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
        ),
    ));
    Router::new()
        .route(SPEC_PATH, Access::Public.on(serve_spec))
        .merge(swagger)
}

/// The Swagger UI's error answers as the API's JSON envelope: a file it does not have, or a
/// path that is not even UTF-8, is `Route not found`; a failure to render its configuration
/// `Internal server error`.
async fn json_errors(response: axum::response::Response) -> axum::response::Response {
    match response.status() {
        StatusCode::NOT_FOUND | StatusCode::BAD_REQUEST => {
            super::ApiError::RouteNotFound.into_response()
        }
        StatusCode::METHOD_NOT_ALLOWED => super::ApiError::MethodNotAllowed.into_response(),
        status if status.is_server_error() => {
            super::ApiError::Internal(anyhow::anyhow!("Swagger UI answered {status}"))
                .into_response()
        }
        _ => response,
    }
}

// Schemas of the domain values the views show. They live here rather than in the domain,
// which knows nothing of HTTP.

impl PartialSchema for ObjectId {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some("^[0-9a-f]{24}$"))
            .description(Some(
                "24 lowercase hex characters, laid out like a MongoDB ObjectId. A malformed id \
                 names nothing: the resource's 404.",
            ))
            .examples(["65b7a1f2c3d4e5f6a7b8c9d0"])
            .into()
    }
}

impl ToSchema for ObjectId {}

impl PartialSchema for Timestamp {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .description(Some("UTC, RFC 3339 with milliseconds"))
            .examples(["2026-01-28T12:28:29.379Z"])
            .into()
    }
}

impl ToSchema for Timestamp {}

/// A string schema listing every value of one of the domain's status enums.
fn status_schema(values: impl IntoIterator<Item = &'static str>) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values))
        .into()
}

impl PartialSchema for LockStatus {
    fn schema() -> RefOr<Schema> {
        status_schema(Self::ALL.iter().map(|s| s.as_str()))
    }
}

impl ToSchema for LockStatus {}

impl PartialSchema for BookingStatus {
    fn schema() -> RefOr<Schema> {
        status_schema(Self::ALL.iter().map(|s| s.as_str()))
    }
}

impl ToSchema for BookingStatus {}

impl PartialSchema for Role {
    fn schema() -> RefOr<Schema> {
        status_schema(Self::ALL.iter().map(|s| s.as_str()))
    }
}

impl ToSchema for Role {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Role")
    }
}
