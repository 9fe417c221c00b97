//! Layers around every route: request ids in the logs, a time bound, and panics turned into
//! JSON 500s instead of dropped connections.

use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderName, Response};
use axum::middleware::Next;
use axum::response::IntoResponse;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;

use super::ApiError;
use crate::domain::ObjectId;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

#[derive(Clone, Copy)]
struct NewRequestId;

impl MakeRequestId for NewRequestId {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        ObjectId::generate()
            .to_string()
            .parse()
            .ok()
            .map(RequestId::new)
    }
}

/// Wraps the router in the layers every request passes through, outermost first.
pub fn apply(router: Router, request_timeout: Duration) -> Router {
    router.layer(
        ServiceBuilder::new()
            .layer(SetRequestIdLayer::new(REQUEST_ID, NewRequestId))
            .layer(TraceLayer::new_for_http().make_span_with(request_span))
            .layer(PropagateRequestIdLayer::new(REQUEST_ID))
            .layer(CatchPanicLayer::custom(|_panic| {
                ApiError::Internal(anyhow::anyhow!("a handler panicked")).into_response()
            }))
            .layer(axum::middleware::from_fn(
                move |request: Request, next: Next| time_bound(request, next, request_timeout),
            )),
    )
}

fn request_span(request: &Request) -> tracing::Span {
    let id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), id)
}

/// A request that takes longer than the bound is answered 503 and its work dropped: the
/// transaction it was in, if any, rolls back.
async fn time_bound(request: Request, next: Next, bound: Duration) -> Response<axum::body::Body> {
    match tokio::time::timeout(bound, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::Timeout.into_response(),
    }
}
