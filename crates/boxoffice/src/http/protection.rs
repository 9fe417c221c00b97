//! Protection around every route: who the client is (its address, for throttling), a general
//! per-client request limit, CORS when configured, and security headers on every answer.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts, Request};
use axum::http::header::{
    AUTHORIZATION, CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY,
    RETRY_AFTER, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;

use super::{ApiError, IDEMPOTENT_REPLAYED};
use crate::config::{CorsOrigins, RateLimit};

/// The address of the client a request comes from: the TCP peer, or, when the peer is a
/// trusted proxy, the address it forwarded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddress(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<ClientAddress>()
            .copied()
            .unwrap_or_else(|| {
                ClientAddress(peer(&parts.extensions).unwrap_or(IpAddr::from([0, 0, 0, 0])))
            }))
    }
}

fn peer(extensions: &axum::http::Extensions) -> Option<IpAddr> {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(address)| address.ip().to_canonical())
}

/// The client behind `peer`: `peer` itself unless it is a trusted proxy, in which case the
/// right-most address in `X-Forwarded-For` that is not a trusted proxy (what the proxies in
/// front of us saw; anything to its left the client could have written itself).
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map_while(|hop| hop.trim().parse::<IpAddr>().ok())
        .map(|address| address.to_canonical())
        .collect();
    forwarded
        .iter()
        .rev()
        .find(|hop| !trusted.contains(hop))
        .or(forwarded.first())
        .copied()
        .unwrap_or(peer)
}

pub async fn identify_client(trusted: Arc<[IpAddr]>, mut request: Request, next: Next) -> Response {
    if let Some(peer) = peer(request.extensions()) {
        let client = client_address(peer, request.headers(), &trusted);
        request.extensions_mut().insert(ClientAddress(client));
    }
    next.run(request).await
}

/// A token bucket per client address: `burst` requests at once, refilled at `per_second`.
/// Kept in memory by each instance, so with N instances a client may make up to N times as
/// many; it is a brake on abuse, not a quota.
pub struct RateLimiter {
    limit: RateLimit,
    buckets: Mutex<Buckets>,
}

struct Buckets {
    by_client: HashMap<IpAddr, Bucket>,
    /// When the map grows past this, full buckets (idle clients) are dropped.
    prune_at: usize,
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

const MIN_PRUNE_AT: usize = 4096;

impl RateLimiter {
    pub fn new(limit: RateLimit) -> Self {
        Self {
            limit,
            buckets: Mutex::new(Buckets {
                by_client: HashMap::new(),
                prune_at: MIN_PRUNE_AT,
            }),
        }
    }

    /// Takes a token for `client`, or says in how many seconds one will be there.
    pub fn take(&self, client: IpAddr, now: Instant) -> Result<(), u64> {
        let RateLimit { per_second, burst } = self.limit;
        let refill = |bucket: Bucket| {
            let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
            (bucket.tokens + elapsed * per_second).min(burst)
        };
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        if buckets.by_client.len() >= buckets.prune_at {
            buckets
                .by_client
                .retain(|_, bucket| refill(*bucket) < burst);
            buckets.prune_at = (buckets.by_client.len() * 2).max(MIN_PRUNE_AT);
        }
        let bucket = buckets.by_client.entry(client).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        let tokens = refill(*bucket);
        if tokens >= 1.0 {
            *bucket = Bucket {
                tokens: tokens - 1.0,
                at: now,
            };
            Ok(())
        } else {
            *bucket = Bucket { tokens, at: now };
            // Whole seconds, rounded up, and at least one: what Retry-After can say.
            Err(((1.0 - tokens) / per_second).ceil().max(1.0) as u64)
        }
    }
}

/// Health checks are exempt: a load balancer probing from one address must not be throttled
/// into declaring the instance dead.
pub async fn limit_rate(limiter: Arc<RateLimiter>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if path == "/health" || path.starts_with("/health/") {
        return next.run(request).await;
    }
    let client = request
        .extensions()
        .get::<ClientAddress>()
        .map_or(IpAddr::from([0, 0, 0, 0]), |client| client.0);
    match limiter.take(client, Instant::now()) {
        Ok(()) => next.run(request).await,
        Err(retry_after_seconds) => ApiError::RateLimited {
            retry_after_seconds,
        }
        .into_response(),
    }
}

/// Cross-origin access for the configured browser origins; `None` when CORS is off.
pub fn cors(origins: &CorsOrigins) -> Option<CorsLayer> {
    let allow_origin = match origins {
        CorsOrigins::Off => return None,
        CorsOrigins::Any => AllowOrigin::any(),
        CorsOrigins::List(origins) => AllowOrigin::list(
            origins
                .iter()
                .filter_map(|origin| HeaderValue::from_str(origin).ok()),
        ),
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow_origin)
            .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
            .allow_headers([AUTHORIZATION, CONTENT_TYPE])
            .expose_headers([
                RETRY_AFTER,
                IDEMPOTENT_REPLAYED,
                HeaderName::from_static("x-request-id"),
            ])
            .max_age(Duration::from_secs(600)),
    )
}

/// Headers that tell browsers to treat every answer as data: never sniffed, framed, cached,
/// or allowed to load anything. A route that needs otherwise (a documentation page) may set
/// its own; these only fill in what is missing.
pub fn security_headers() -> [SetResponseHeaderLayer<HeaderValue>; 5] {
    let header =
        |name, value| SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value));
    [
        header(X_CONTENT_TYPE_OPTIONS, "nosniff"),
        header(X_FRAME_OPTIONS, "DENY"),
        header(REFERRER_POLICY, "no-referrer"),
        header(
            CONTENT_SECURITY_POLICY,
            "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
        ),
        header(CACHE_CONTROL, "no-store"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let client: IpAddr = "203.0.113.7".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_static("1.2.3.4, 203.0.113.7, 10.0.0.1"),
        );
        assert_eq!(client_address(proxy, &headers, &[]), proxy);
        assert_eq!(client_address(client, &headers, &[proxy]), client);
        assert_eq!(client_address(proxy, &headers, &[proxy]), client);
        assert_eq!(client_address(proxy, &HeaderMap::new(), &[proxy]), proxy);
    }

    #[test]
    fn buckets_allow_a_burst_then_the_rate() {
        let limiter = RateLimiter::new(RateLimit {
            per_second: 2.0,
            burst: 3.0,
        });
        let me: IpAddr = "192.0.2.1".parse().unwrap();
        let you: IpAddr = "192.0.2.2".parse().unwrap();
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.take(me, start), Ok(()));
        }
        assert_eq!(limiter.take(me, start), Err(1));
        assert_eq!(limiter.take(you, start), Ok(()));
        assert_eq!(limiter.take(me, start + Duration::from_millis(500)), Ok(()));
        assert_eq!(limiter.take(me, start + Duration::from_millis(500)), Err(1));
    }
}
