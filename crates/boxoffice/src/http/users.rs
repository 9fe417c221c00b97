use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ErrorBody;
use super::views::{BookingView, Data, List, UserView, bodies, data, list};
use super::{Access, ApiError, AppState, JsonObject, PathId, QueryParams, parse_id};
use crate::auth::Caller;
use crate::domain::{
    BookingQuery, BookingStatus, NewUser, ObjectId, Rejection, Role, Timestamp, normalize_password,
};
use crate::password;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(Access::Public.routes(routes!(register)))
        .routes(Access::Authenticated.routes(routes!(user)))
        .routes(Access::Authenticated.routes(routes!(user_bookings)))
}

/// Registers a user. Registration always makes a `user`: a `role` in the body is ignored.
#[utoipa::path(post, path = "/api/users/register", tag = "users",
    request_body = bodies::RegisterBody,
    responses(
        (status = 201, description = "Registered", body = Data<UserView>),
        (status = 400, description = "`name, email, and password are required`; `User with \
            this email already exists` (compared after NFC normalisation and full case \
            folding, CONTRACT.md rule 10); an invalid email (one with an invisible character \
            such as U+200B or U+00AD is invalid); a password shorter than 6 or longer than 128 \
            characters (counted in NFC); a name over 100", body = ErrorBody),
    ))]
async fn register(
    State(app): State<AppState>,
    body: JsonObject,
) -> Result<impl IntoResponse, ApiError> {
    let field = |key| body.text(key).map(|text| text.given().unwrap_or(""));
    let password = field("password")?;
    let (name, email) = NewUser::validate(field("name")?, field("email")?, password)?;
    // Hashed in NFC (CONTRACT.md rule 10), the form logins verify.
    let password_hash = password::hash(normalize_password(password))
        .await
        .map_err(ApiError::Internal)?;
    let user = NewUser {
        name,
        email,
        role: Role::User,
        password_hash,
    };
    let user = app.store.register_user(user, Timestamp::now()).await?;
    Ok((StatusCode::CREATED, data(UserView::from(user))))
}

/// A user's profile. A user reads only their own profile; someone else's is forbidden
/// (whether or not it exists).
#[utoipa::path(get, path = "/api/users/{id}", tag = "users",
    params(("id" = String, Path, description = "The user's id")),
    responses(
        (status = 200, description = "The user", body = Data<UserView>),
        (status = 403, description = "Someone else's profile (jwt mode, not an admin)", body = ErrorBody),
        (status = 404, description = "`User not found`", body = ErrorBody),
    ))]
async fn user(
    State(app): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
) -> Result<impl IntoResponse, ApiError> {
    let id = user_id_for(caller, &id)?;
    let user = app.store.user(id).await?.ok_or(Rejection::UserNotFound)?;
    Ok(data(UserView::from(user)))
}

/// The id of a user the caller acts on: 403 `Forbidden` for someone else's (before anything
/// else, so that ids cannot be probed), then 404 `User not found` for a malformed id.
pub(super) fn user_id_for(caller: Caller, id: &str) -> Result<ObjectId, ApiError> {
    if !caller.may_act_for_text(id) {
        return Err(ApiError::Forbidden);
    }
    parse_id(id, Rejection::UserNotFound)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct BookingListParams {
    /// Only bookings in this status.
    #[param(value_type = Option<BookingStatus>)]
    status: Option<String>,
    /// Page size, 1 to 100 (default 20), in digits.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// Where the page starts: a previous page's `nextCursor`, with the same `status` (another
    /// listing's cursor, or one the server did not issue, is a 400).
    #[param(pattern = "^[0-9a-f]{56}$")]
    cursor: Option<String>,
}

/// A user's bookings, newest first, a page at a time; `status` keeps only those in it.
/// A user reads only their own bookings (someone else's list is 403, before anything else, so
/// that ids cannot be probed); admins read anyone's.
#[utoipa::path(get, path = "/api/users/{id}/bookings", tag = "users",
    params(("id" = String, Path, description = "The user's id"), BookingListParams),
    responses(
        (status = 200, description = "A page of bookings", body = List<BookingView>),
        (status = 400, description = "A bad status, limit or cursor", body = ErrorBody),
        (status = 403, description = "Someone else's bookings (jwt mode, not an admin)", body = ErrorBody),
        (status = 404, description = "`User not found`", body = ErrorBody),
    ))]
async fn user_bookings(
    State(app): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    QueryParams(params): QueryParams<BookingListParams>,
) -> Result<impl IntoResponse, ApiError> {
    if !caller.may_act_for_text(&id) {
        return Err(ApiError::Forbidden);
    }
    let query = BookingQuery::parse(
        &id,
        params.status.as_deref(),
        params.limit.as_deref(),
        params.cursor.as_deref(),
        &app.cursors,
    )?;
    let scope = query.scope.clone();
    let id = parse_id(&id, Rejection::UserNotFound)?;
    let page = app.store.list_user_bookings(id, query).await?;
    Ok(list::<_, BookingView>(page, &app.cursors, &scope))
}
