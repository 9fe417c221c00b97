//! The answers an operation may give besides its handler's own: what its access refuses
//! (401/403), and what the layers around every route answer (400 for NUL or a body that is not
//! a JSON object, 413, 415, 429, hyper's 414 and 431, 500, 503).

use axum::http::StatusCode;
use utoipa::ToSchema;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{Content, Ref, RefOr, Response};

use super::{BEARER, METRICS_TOKEN};
use crate::http::Access;
use crate::http::error::ErrorBody;

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
pub(super) fn add_common_answers(operation: &mut Operation, is_health: bool, rate_limited: bool) {
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
pub(crate) fn add_answer(operation: &mut Operation, status: StatusCode, description: &str) {
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
