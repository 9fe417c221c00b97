//! Who may call each route. Every route states its [`Access`] where it is declared:
//!
//! ```text
//! .route("/api/events", Access::Admin.on(post(create_event)))
//! ```
//!
//! and a layer on that route enforces it before the handler runs, then hands the handler the
//! [`Caller`] (an extractor) for the ownership checks that depend on the data: a user's own
//! locks and bookings, or a profile. A handler that asks for a `Caller` on a route that never
//! declared its access fails closed with a 500, so a forgotten declaration cannot open a route
//! that needs the caller.
//!
//! Documented routes declare their access on the output of utoipa-axum's `routes!`:
//!
//! ```text
//! .routes(Access::Admin.routes(routes!(create_event)))
//! ```
//!
//! which both guards the method router and writes the matching security requirement (and the
//! 401/403 answers) into the OpenAPI operation, so the spec cannot disagree with the guard.

use std::sync::Arc;

use axum::extract::{FromRequestParts, Request};
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use utoipa_axum::router::UtoipaMethodRouter;

use super::{ApiError, openapi};
use crate::auth::{Caller, Sessions, Tokens};
use crate::config::AuthMode;
use crate::domain::Role;

/// What a route asks of its caller (in `AUTH_MODE=jwt`; in open mode everything is allowed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone, without a token; the token, if sent, is not even looked at.
    Public,
    /// A valid bearer token of any role. Ownership is then the handler's to check.
    Authenticated,
    /// A valid bearer token with role `admin`.
    Admin,
    /// The metrics scraper: `Authorization: Bearer <METRICS_TOKEN>` when `METRICS_TOKEN` is set
    /// (in either mode); otherwise anyone in open mode, and admins in jwt mode. An admin's
    /// token is accepted in jwt mode even with `METRICS_TOKEN` set.
    Metrics,
}

impl Access {
    /// `route`, callable only by callers this access admits. Several methods of one path may
    /// each declare their own: `.route(p, Access::Public.on(get(a)))` and
    /// `.route(p, Access::Admin.on(patch(b)))` merge.
    pub fn on<S: Clone + Send + Sync + 'static>(self, route: MethodRouter<S>) -> MethodRouter<S> {
        route.route_layer(axum::middleware::from_fn(
            move |request: Request, next: Next| admit(self, request, next),
        ))
    }

    /// Like [`Access::on`] for handlers documented with `#[utoipa::path]` and collected by
    /// `utoipa_axum::routes!`: guards their method router and records the same access in their
    /// OpenAPI operations (security requirement, 401 and 403 answers).
    pub fn routes<S: Clone + Send + Sync + 'static>(
        self,
        (schemas, mut paths, router): UtoipaMethodRouter<S>,
    ) -> UtoipaMethodRouter<S> {
        for item in paths.paths.values_mut() {
            for operation in openapi::operations_mut(item) {
                openapi::declare_access(operation, self);
            }
        }
        (schemas, paths, self.on(router))
    }
}

/// Turns requests into callers: the mode in force, and the keys of login tokens.
pub struct Authenticator {
    pub mode: AuthMode,
    pub tokens: Tokens,
    /// An Argon2id hash (with the parameters of real ones) that logins for unknown emails are
    /// checked against, so that they take as long as logins with a wrong password.
    pub dummy_password_hash: String,
    /// The bearer token that admits a metrics scraper to `GET /metrics` (`METRICS_TOKEN`).
    pub metrics_token: Option<String>,
    /// Whether a token's credentials still stand (not changed, not logged out everywhere).
    pub sessions: Sessions,
}

impl Authenticator {
    /// The caller a request acts as on a route with `access`, or why it may not call it. A
    /// token issued before its user's credentials last changed is refused like an expired one.
    pub async fn caller(&self, access: Access, headers: &HeaderMap) -> Result<Caller, ApiError> {
        if let (Access::Metrics, Some(expected)) = (access, &self.metrics_token) {
            match bearer_token(headers) {
                Ok(token) if constant_time_eq(token.as_bytes(), expected.as_bytes()) => {
                    return Ok(Caller::Anonymous);
                }
                // In open mode the token is the only way in; in jwt mode an admin's is another.
                Ok(_) if self.mode == AuthMode::Open => return Err(ApiError::InvalidToken),
                Err(error) if self.mode == AuthMode::Open => return Err(error),
                _ => {}
            }
        }
        if self.mode == AuthMode::Open {
            return Ok(Caller::Anyone);
        }
        if access == Access::Public {
            return Ok(Caller::Anonymous);
        }
        let token = bearer_token(headers)?;
        let claims = self.tokens.verify(token).map_err(|error| {
            tracing::debug!(%error, "bearer token refused");
            ApiError::InvalidToken
        })?;
        if !self.sessions.still_valid(&claims).await? {
            tracing::debug!(user = %claims.user, "token issued before its credentials changed");
            return Err(ApiError::InvalidToken);
        }
        if matches!(access, Access::Admin | Access::Metrics) && claims.role != Role::Admin {
            return Err(ApiError::Forbidden);
        }
        Ok(Caller::User {
            id: claims.user,
            role: claims.role,
        })
    }
}

/// The token of an `Authorization: Bearer <token>` header (the scheme in any case, RFC 7235).
fn bearer_token(headers: &HeaderMap) -> Result<&str, ApiError> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return Err(ApiError::Unauthenticated);
    };
    let value = value.to_str().map_err(|_| ApiError::Unauthenticated)?;
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
            let token = token.trim();
            if token.is_empty() {
                Err(ApiError::Unauthenticated)
            } else {
                Ok(token)
            }
        }
        _ => Err(ApiError::Unauthenticated),
    }
}

/// Equality that takes as long wherever the first difference is (the length is not secret).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

async fn admit(access: Access, mut request: Request, next: Next) -> Response {
    let Some(authenticator) = request.extensions().get::<Arc<Authenticator>>().cloned() else {
        return ApiError::Internal(anyhow::anyhow!(
            "no Authenticator in the request extensions"
        ))
        .into_response();
    };
    match authenticator.caller(access, request.headers()).await {
        Ok(caller) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Err(error) => error.into_response(),
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        parts.extensions.get::<Caller>().copied().ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!(
                "{} {} asks for the caller but declares no Access",
                parts.method,
                parts.uri.path()
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{HeaderValue, StatusCode};
    use axum::routing::{get, post};
    use axum::{Extension, Router};
    use tower::ServiceExt as _;

    use std::time::Duration;

    use super::*;
    use crate::domain::{NewUser, Timestamp};
    use crate::store::{PoolSettings, SqlStore, Store};

    #[tokio::test]
    async fn methods_of_one_path_keep_their_own_access() {
        let tokens = Tokens::new(&[1; 32], 60);
        // The tokens' users exist in a real store, since a token's credentials are checked.
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("access.db").display());
        let settings = PoolSettings {
            max_connections: 2,
            acquire_timeout: Duration::from_secs(60),
        };
        let store: Arc<dyn Store> = Arc::new(SqlStore::connect(&url, &settings).await.unwrap());
        let mut users = Vec::new();
        for (email, role) in [
            ("a@example.com", Role::User),
            ("b@example.com", Role::Admin),
        ] {
            let new = NewUser {
                name: "A".to_owned(),
                email: email.to_owned(),
                role,
                password_hash: String::new(),
            };
            let user = store.register_user(new, Timestamp::now()).await.unwrap();
            users.push(tokens.issue(&user, Timestamp::now()).unwrap().token);
        }
        let (user, admin) = (users[0].clone(), users[1].clone());
        let authenticator = Arc::new(Authenticator {
            mode: AuthMode::Jwt,
            tokens,
            dummy_password_hash: String::new(),
            metrics_token: None,
            sessions: Sessions::new(store, Duration::from_secs(1)),
        });
        let router = Router::new()
            .route("/thing", Access::Public.on(get(async || "read")))
            .route("/thing", Access::Admin.on(post(async || "changed")))
            .route(
                "/mine",
                Access::Authenticated.on(get(async |caller: Caller| {
                    format!("{:?}", caller.user_id().is_some())
                })),
            )
            .route("/forgot", get(async |_caller: Caller| "never"))
            .layer(Extension(authenticator));
        let status = |method: &str, path: &str, token: Option<&str>| {
            let mut request = Request::builder().method(method).uri(path);
            if let Some(token) = token {
                request = request.header(AUTHORIZATION, format!("Bearer {token}"));
            }
            let router = router.clone();
            async move {
                router
                    .oneshot(request.body(Body::empty()).unwrap())
                    .await
                    .unwrap()
                    .status()
            }
        };
        assert_eq!(status("GET", "/thing", None).await, StatusCode::OK);
        assert_eq!(
            status("POST", "/thing", None).await,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            status("POST", "/thing", Some(&user)).await,
            StatusCode::FORBIDDEN
        );
        assert_eq!(status("POST", "/thing", Some(&admin)).await, StatusCode::OK);
        assert_eq!(status("GET", "/mine", None).await, StatusCode::UNAUTHORIZED);
        assert_eq!(status("GET", "/mine", Some(&user)).await, StatusCode::OK);
        // A handler that wants the caller on a route without declared access fails closed.
        assert_eq!(
            status("GET", "/forgot", Some(&admin)).await,
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }

    fn headers(authorization: &[&'static str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in authorization {
            headers.append(AUTHORIZATION, HeaderValue::from_static(value));
        }
        headers
    }

    #[test]
    fn only_one_well_formed_bearer_header_yields_a_token() {
        assert_eq!(bearer_token(&headers(&["Bearer abc"])).unwrap(), "abc");
        assert_eq!(bearer_token(&headers(&["bearer  abc "])).unwrap(), "abc");
        for bad in [
            &[][..],
            &["Bearer"],
            &["Bearer "],
            &["Basic abc"],
            &["abc"],
            &["Bearer a", "Bearer b"],
        ] {
            assert!(bearer_token(&headers(bad)).is_err(), "{bad:?}");
        }
    }
}
