//! Layers around every route: security headers, request ids in the logs, panics turned into
//! JSON 500s instead of dropped connections, CORS when configured, the client's address, the
//! per-client request limit when configured, a time bound, and request metrics.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, Method, Response};
use axum::middleware::Next;
use axum::response::IntoResponse;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;

use super::protection::{self, RateLimiter};
use super::{ApiError, HttpSettings};
use crate::deadline::{self, Deadline};
use crate::domain::ObjectId;
use crate::telemetry;

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

/// Wraps the router in the layers every request passes through; each `layer` call below wraps
/// the ones before it, so the last is the outermost.
pub fn apply(mut router: Router, settings: &HttpSettings) -> Router {
    let request_timeout = settings.request_timeout;
    router = router.layer(axum::middleware::from_fn(
        move |request: Request, next: Next| time_bound(request, next, request_timeout),
    ));
    if let Some(limit) = settings.rate_limit {
        let limiter = Arc::new(RateLimiter::new(limit));
        router = router.layer(axum::middleware::from_fn(
            move |request: Request, next: Next| {
                protection::limit_rate(limiter.clone(), request, next)
            },
        ));
    }
    let trusted: Arc<[IpAddr]> = settings.trusted_proxies.clone().into();
    router = router.layer(axum::middleware::from_fn(
        move |request: Request, next: Next| {
            protection::identify_client(trusted.clone(), request, next)
        },
    ));
    // Outside the limit, so that browsers can read a 429; preflights are answered here.
    if let Some(cors) = protection::cors(&settings.cors) {
        router = router.layer(cors);
    }
    router = router.layer(
        ServiceBuilder::new()
            .layer(SetRequestIdLayer::new(REQUEST_ID, NewRequestId))
            .layer(TraceLayer::new_for_http().make_span_with(request_span))
            .layer(PropagateRequestIdLayer::new(REQUEST_ID))
            .layer(CatchPanicLayer::custom(|_panic| {
                ApiError::Internal(anyhow::anyhow!("a handler panicked")).into_response()
            })),
    );
    // Outside the panic catcher, the time bound and the limit, so that their answers count.
    router = router.layer(axum::middleware::from_fn(record_request));
    // Outermost, so that every answer carries them, whoever made it.
    for header in protection::security_headers() {
        router = router.layer(header);
    }
    router
}

fn request_span(request: &Request) -> tracing::Span {
    let id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), id)
}

/// A request that takes longer than the bound is answered 503 `Request timed out`, and then
/// nothing has changed (CONTRACT.md rule 8): its deadline is in scope for its writes, which
/// roll back rather than COMMIT past it (`crate::deadline`), and its work is dropped. A request
/// whose COMMIT has begun cannot be given up: it is answered with the commit's outcome, late.
async fn time_bound(request: Request, next: Next, bound: Duration) -> Response<axum::body::Body> {
    let deadline = Deadline::after(bound);
    let work = deadline::within(vec![deadline.clone()].into(), next.run(request));
    tokio::pin!(work);
    tokio::select! {
        response = &mut work => return response,
        () = tokio::time::sleep_until(deadline.at().into()) => {}
    }
    if deadline.abandon() {
        ApiError::Timeout.into_response()
    } else {
        work.await
    }
}

/// Counts and times each request by method, route template and status. The template
/// (`/api/locks/{id}`), never the raw path: ids in labels would make a series per id.
async fn record_request(request: Request, next: Next) -> Response<axum::body::Body> {
    let started = Instant::now();
    let method = match *request.method() {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        // Anything a client can make up stays one series.
        _ => "OTHER",
    };
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_owned());
    let response = next.run(request).await;
    telemetry::http_request(
        method,
        route.as_deref().unwrap_or("unmatched"),
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}
