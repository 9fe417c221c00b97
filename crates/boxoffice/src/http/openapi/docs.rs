//! Serving the description: `GET /api/openapi.json` and the Swagger UI under `/api/docs`.

use std::sync::Arc;

use axum::Router;
use axum::http::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa::openapi::OpenApi as Spec;
use utoipa_swagger_ui::{Config, SwaggerUi};

use super::{DOCS_PATH, SPEC_PATH};
use crate::http::{Access, ApiError};

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
        StatusCode::NOT_FOUND | StatusCode::BAD_REQUEST => ApiError::RouteNotFound.into_response(),
        StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed.into_response(),
        status if status.is_server_error() => {
            ApiError::Internal(anyhow::anyhow!("Swagger UI answered {status}")).into_response()
        }
        _ => response,
    }
}
