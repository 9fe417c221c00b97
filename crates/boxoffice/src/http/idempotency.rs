//! The `Idempotency-Key` header on every write (CONTRACT.md, "Retrying any write"), as a layer
//! around the write routes, so that no handler has to know about it.
//!
//! A request with the header claims its key first (its own short transaction). A key already
//! completed for the same method, path and body replays the kept status and body with
//! `Idempotent-Replayed: true`; for another request it is a 422; while its first use still
//! runs, the repeat waits for it (polling) and replays its answer, or gets a 409 with
//! `Retry-After: 1` if it cannot wait. A claimed request runs inside a unit of work
//! (`store::UnitOfWork`): its change is written, but not committed, and the answer is then
//! written into the same transaction and committed with it. So a key is completed if and only
//! if its change happened, and a retry after a lost answer replays it, or runs it if it did
//! not. Answers of 5xx (nothing changed) and of 401, 403 and 429 (decided about the caller,
//! not the request) are not kept: the claim is given up and a retry runs again.
//!
//! `POST /api/locks` keeps the seed's body field `idempotencyKey` and its rules (rule 2): a
//! header there must equal it, and the route's own replay applies. Logging in is not a change
//! and its answer (a token) is not stored: the header is ignored there.

use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::seats::SeatsChanged;
use super::{Access, ApiError, AppState, Authenticator, BODY_LIMIT_BYTES, replayed_header};
use crate::deadline;
use crate::domain::{
    IdempotencyKey, KeptAnswer, KeyClaim, ObjectId, Rejection, Repeat, Timestamp,
    request_fingerprint,
};
use crate::store::UnitOfWork;
use tokio::task::JoinHandle;
use utoipa::openapi::Required;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};

pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");

/// How long a repeat waits for the first use of its key to finish, at most (and never more
/// than half of what is left of its own time).
const MAX_WAIT: Duration = Duration::from_secs(5);
const POLL: Duration = Duration::from_millis(25);
/// How long a claim outlives its request's deadline before another request may take it over
/// (a crash in between): long enough for a COMMIT that began just in time.
const LEASE_MARGIN: Duration = Duration::from_secs(30);

/// The layer: see the module's description.
pub async fn keep_answers(State(app): State<AppState>, request: Request, next: Next) -> Response {
    if !matches!(
        *request.method(),
        Method::POST | Method::PATCH | Method::DELETE
    ) || request.uri().path() == "/api/users/login"
    {
        return next.run(request).await;
    }
    let mut headers = request.headers().get_all(IDEMPOTENCY_KEY).iter();
    let Some(header) = headers.next() else {
        return next.run(request).await;
    };
    if headers.next().is_some() {
        return ApiError::from(IdempotencyKey::repeated()).into_response();
    }
    let key = match IdempotencyKey::parse(header.as_bytes()) {
        Ok(key) => key,
        Err(refusal) => return ApiError::from(refusal).into_response(),
    };
    let Some(scope) = scope(&app.auth, request.headers()).await else {
        // A token that is not valid: the route's guard answers 401, and nothing is kept.
        return next.run(request).await;
    };
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, BODY_LIMIT_BYTES).await else {
        return ApiError::PayloadTooLarge.into_response();
    };
    if parts.method == Method::POST && parts.uri.path() == "/api/locks" {
        if let Some(refusal) = differs_from_body_key(&key, &body) {
            return ApiError::from(refusal).into_response();
        }
        return next.run(Request::from_parts(parts, Body::from(body))).await;
    }
    let now = Timestamp::now();
    let claim = KeyClaim {
        scope,
        fingerprint: request_fingerprint(parts.method.as_str(), parts.uri.path(), &body),
        key,
        token: ObjectId::generate(),
        now,
        lease_until: now.plus_millis(lease().as_millis().try_into().unwrap_or(i64::MAX)),
    };
    // The claim runs in a task of its own, so that dropping this request (the time bound
    // gave it up, or the client went) cannot cut it midway; the guard, armed before it, then
    // waits for it to end before giving a claim it made up.
    let unit = UnitOfWork::new();
    let mut held = HeldClaim {
        app: app.clone(),
        unit: unit.clone(),
        claim: Some(claim.clone()),
        claiming: Some(tokio::spawn(repeat_of(
            app.clone(),
            claim.clone(),
            wait_until(),
        ))),
    };
    let repeat = match held.claiming.as_mut() {
        Some(claiming) => claiming.await,
        None => Ok(None),
    };
    held.claiming = None;
    match repeat {
        Ok(None) => {}
        Ok(Some(answer)) => {
            held.claim = None;
            return answer;
        }
        Err(_) => {
            return ApiError::Internal(anyhow::anyhow!("claiming an idempotency key panicked"))
                .into_response();
        }
    }
    let response = unit
        .scope(next.run(Request::from_parts(parts, Body::from(body))))
        .await;
    let status = response.status();
    if !kept(status) {
        held.release().await;
        return response;
    }
    let (parts, body) = response.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_else(|_| Bytes::new());
    let answer = KeptAnswer {
        status: status.as_u16(),
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    match app.store.keep_answer(&unit, &claim, &answer).await {
        Ok(()) => {
            held.claim = None;
            // Committed only now: the seat maps drawn meanwhile are not of the change.
            if let Some(SeatsChanged(event)) = parts.extensions.get() {
                app.seat_maps.changed(*event);
            }
            Response::from_parts(parts, Body::from(body))
        }
        Err(error) => {
            // Nothing was committed (or, if the connection died during COMMIT, the key says
            // whether it was): a claim left incomplete is given up so that a retry runs.
            held.release().await;
            ApiError::from(error).into_response()
        }
    }
}

/// A claim this request holds until its answer is kept. Given up when the answer is not kept,
/// and also when the request is dropped midway (the time bound gave it up, or the client
/// went): then in a task of its own, so that a retry need not wait for the lease to run out.
struct HeldClaim {
    app: AppState,
    unit: UnitOfWork,
    claim: Option<KeyClaim>,
    /// The claim's task, while it runs.
    claiming: Option<JoinHandle<Option<Response>>>,
}

impl HeldClaim {
    /// Disarmed only once done: if the request is dropped meanwhile, `drop` releases again.
    async fn release(&mut self) {
        if let Some(claim) = &self.claim {
            release(&self.app, &self.unit, claim).await;
            self.claim = None;
        }
    }
}

impl Drop for HeldClaim {
    fn drop(&mut self) {
        if let Some(claim) = self.claim.take() {
            let (app, unit, claiming) = (self.app.clone(), self.unit.clone(), self.claiming.take());
            tokio::spawn(async move {
                if let Some(claiming) = claiming {
                    let _ = claiming.await;
                }
                release(&app, &unit, &claim).await;
            });
        }
    }
}

async fn release(app: &AppState, unit: &UnitOfWork, claim: &KeyClaim) {
    if let Err(error) = app.store.release_idempotency_key(unit, claim).await {
        tracing::warn!(
            error = format!("{error:#}"),
            "giving an idempotency key up failed"
        );
    }
}

/// Whose key it is: the token's user in jwt mode, `""` for the key alone (open mode, or no
/// token at all); `None` for a token that is not valid (including one whose credentials
/// changed since it was issued).
async fn scope(auth: &Authenticator, headers: &HeaderMap) -> Option<String> {
    match auth.caller(Access::Authenticated, headers).await {
        Ok(caller) => Some(
            caller
                .user_id()
                .map(|id| id.to_string())
                .unwrap_or_default(),
        ),
        Err(ApiError::Unauthenticated) => Some(String::new()),
        Err(_) => None,
    }
}

/// Whether an answer with this status is kept under its key.
fn kept(status: StatusCode) -> bool {
    KeptAnswer::is_kept(status.as_u16())
        && !matches!(
            status,
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::TOO_MANY_REQUESTS
        )
}

/// How long a claim stands if its run never completes it.
fn lease() -> Duration {
    let left = deadline::current().map_or(Duration::ZERO, |deadline| {
        deadline.at().saturating_duration_since(Instant::now())
    });
    left + LEASE_MARGIN
}

/// Until when a repeat waits for the first use of its key: [`MAX_WAIT`], and never more than
/// half of what is left of the request's time.
fn wait_until() -> Instant {
    let left = deadline::current().map_or(MAX_WAIT, |deadline| {
        deadline.at().saturating_duration_since(Instant::now())
    });
    Instant::now() + MAX_WAIT.min(left / 2)
}

/// The answer to a request whose key is already stored (`None`: the key is now claimed for
/// this request). A first use still running is waited for while there is time.
async fn repeat_of(app: AppState, mut claim: KeyClaim, wait_until: Instant) -> Option<Response> {
    loop {
        let repeat = match app.store.claim_idempotency_key(&claim).await {
            Ok(repeat) => repeat?,
            Err(error) => return Some(ApiError::from(error).into_response()),
        };
        match repeat {
            Repeat::Replay(answer) => return Some(replay(answer)),
            Repeat::Reused => {
                return Some(ApiError::from(Rejection::IdempotencyHeaderReused).into_response());
            }
            Repeat::InProgress | Repeat::Claim if Instant::now() < wait_until => {
                tokio::time::sleep(POLL).await;
                claim.now = Timestamp::now();
            }
            Repeat::InProgress | Repeat::Claim => {
                return Some(ApiError::from(Rejection::IdempotencyInProgress).into_response());
            }
        }
    }
}

/// A kept answer, again.
fn replay(answer: KeptAnswer) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    let content_type = [(CONTENT_TYPE, HeaderValue::from_static("application/json"))];
    (status, content_type, replayed_header(), answer.body).into_response()
}

/// On `POST /api/locks`, a header that is not the body's `idempotencyKey` (rule 2).
fn differs_from_body_key(key: &IdempotencyKey, body: &[u8]) -> Option<Rejection> {
    let body: serde_json::Value = serde_json::from_slice(body).ok()?;
    match body.get("idempotencyKey")?.as_str() {
        Some(given) if given == key.as_str() => None,
        _ => Some(Rejection::IdempotencyKeysDiffer),
    }
}

/// Declares the header on a write operation of the OpenAPI description, with the answers it
/// adds (409, 422, and the replay's `Idempotent-Replayed`).
pub fn describe(operation: &mut Operation, path: &str) {
    if path == "/api/users/login" {
        return;
    }
    let description = if path == "/api/locks" {
        "Optional; must equal the body's `idempotencyKey`, whose rules apply (rule 2)"
    } else {
        "Optional: 1–255 visible ASCII characters. The first request with a key runs and its \
         status and body are kept for 24 hours (written in the same transaction as its \
         change); a repeat with the same method, path and body gets them again, with \
         `Idempotent-Replayed: true`, and changes nothing. 5xx, 401, 403 and 429 answers are \
         not kept. Keys belong to the token's user (jwt mode), or stand alone (open mode)."
    };
    let schema = ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(255));
    let header = ParameterBuilder::new()
        .name(IDEMPOTENCY_KEY.as_str())
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(description))
        .schema(Some(schema))
        .build();
    operation
        .parameters
        .get_or_insert_with(Vec::new)
        .push(utoipa::openapi::RefOr::T(header));
    // A malformed key is refused before anything runs, on every route that takes one, also
    // on routes whose body (if any) has no 400 of its own.
    super::openapi::add_answer(
        operation,
        StatusCode::BAD_REQUEST,
        "`Idempotency-Key must be 1 to 255 visible ASCII characters`; `Idempotency-Key must be \
         given once, not in several headers`",
    );
    if path == "/api/locks" {
        super::openapi::add_answer(
            operation,
            StatusCode::BAD_REQUEST,
            "`Idempotency-Key must equal idempotencyKey`",
        );
        return;
    }
    super::openapi::add_answer(
        operation,
        StatusCode::CONFLICT,
        "`A request with this Idempotency-Key is in progress` (`IDEMPOTENCY_IN_PROGRESS`): \
         retry after `Retry-After` seconds",
    );
    super::openapi::add_answer(
        operation,
        StatusCode::UNPROCESSABLE_ENTITY,
        "`Idempotency-Key was already used with a different request` \
         (`IDEMPOTENCY_KEY_REUSED`)",
    );
}
