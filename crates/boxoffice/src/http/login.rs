//! POST /api/users/login: email and password in, a bearer token out; failures throttled per
//! email and per client address (see `auth::throttle`).

use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::access::Access;
use super::error::ErrorBody;
use super::protection::ClientAddress;
use super::views::{Data, UserView, bodies, data};
use super::{ApiError, AppState, JsonObject};
use crate::auth::{self, LOGIN_WINDOW_SECONDS, MAX_FAILURES_PER_CLIENT, MAX_FAILURES_PER_EMAIL};
use crate::domain::{Rejection, Timestamp, email_key, normalize_password};
use crate::password::{self, PasswordCheck};
use crate::store::FailureScope;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(Access::Public.routes(routes!(login)))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoggedIn {
    /// An HS256 JWT, sent as `Authorization: Bearer <token>`.
    token: String,
    #[schema(value_type = String, examples("Bearer"))]
    token_type: &'static str,
    /// Seconds until the token expires.
    expires_in: i64,
    user: UserView,
}

/// A wrong password and an unknown email get the same answer, after the same work: an unknown
/// email is checked against a dummy hash. The email is looked up by its caseless key and the
/// password checked in NFC (CONTRACT.md rule 10); a hash stored before that rule, of the
/// password as typed, still matches and is replaced by a hash of the NFC form. The token
/// carries the user's credentials version, so it ends when the password or role changes. In open mode the route answers too (with a token
/// that open mode does not need), so clients can be written once for both modes.
#[utoipa::path(post, path = "/api/users/login", tag = "users",
    request_body = bodies::LoginBody,
    responses(
        (status = 200, description = "A bearer token", body = Data<LoggedIn>),
        (status = 400, description = "`email and password are required`", body = ErrorBody),
        (status = 401, description = "`Invalid email or password` (the same for an unknown email)", body = ErrorBody),
        (status = 429, description = "Too many failed attempts for this email from this \
            address (10), or from this address (30), within 15 minutes; see `Retry-After`",
            body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ))]
async fn login(
    State(app): State<AppState>,
    ClientAddress(client): ClientAddress,
    body: JsonObject,
) -> Result<axum::Json<Data<LoggedIn>>, ApiError> {
    let (Some(email), Some(password)) = (
        body.required_text("email")?,
        body.required_text("password")?,
    ) else {
        return Err(Rejection::invalid("email and password are required").into());
    };
    let key = email_key(email);
    let client = client.to_string();
    let now = Timestamp::now();
    let since = now.plus_seconds(-LOGIN_WINDOW_SECONDS);
    let store = &app.store;
    let email_nth = store
        .nth_login_failure(
            FailureScope::EmailFromClient {
                email: &key,
                client: &client,
            },
            MAX_FAILURES_PER_EMAIL,
            since,
        )
        .await?;
    let client_nth = store
        .nth_login_failure(
            FailureScope::Client(&client),
            MAX_FAILURES_PER_CLIENT,
            since,
        )
        .await?;
    if let Some(retry_at) = auth::retry_at(email_nth, client_nth) {
        // Whole seconds, rounded up, and at least one: what Retry-After can say.
        let wait_millis = u64::try_from(retry_at.millis() - now.millis()).unwrap_or(0);
        return Err(ApiError::TooManyLoginAttempts {
            retry_after_seconds: wait_millis.div_ceil(1000).max(1),
        });
    }

    let user = store.user_by_email_key(&key).await?;
    let hash = user.as_ref().map_or_else(
        || app.auth.dummy_password_hash.clone(),
        |user| user.password_hash.clone(),
    );
    let checked = password::check(password, &hash)
        .await
        .map_err(ApiError::Internal)?;
    let user = match user {
        Some(user) if checked != PasswordCheck::NoMatch => user,
        _ => {
            store
                .record_login_failure(&key, &client, now, since)
                .await?;
            return Err(ApiError::InvalidCredentials);
        }
    };
    if checked == PasswordCheck::MatchesAsTyped {
        let upgraded = password::hash(normalize_password(password))
            .await
            .map_err(ApiError::Internal)?;
        store
            .upgrade_password_hash(user.id, &user.password_hash, upgraded)
            .await?;
    }
    let issued = app
        .auth
        .tokens
        .issue(&user, now)
        .map_err(ApiError::Internal)?;
    Ok(data(LoggedIn {
        token: issued.token,
        token_type: "Bearer",
        expires_in: issued.expires_in,
        user: user.into(),
    }))
}
