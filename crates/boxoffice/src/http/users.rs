use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};

use serde::Deserialize;

use super::views::{BookingView, UserView, data, list};
use super::{Access, ApiError, AppState, JsonObject, QueryParams, parse_id};
use crate::auth::Caller;
use crate::domain::{BookingQuery, NewUser, Rejection, Role, Timestamp};
use crate::password;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/users/register", Access::Public.on(post(register)))
        .route("/api/users/{id}", Access::Authenticated.on(get(user)))
        .route(
            "/api/users/{id}/bookings",
            Access::Authenticated.on(get(user_bookings)),
        )
}

/// Registration always makes a `user`: a `role` in the body is ignored.
async fn register(
    State(app): State<AppState>,
    body: JsonObject,
) -> Result<impl IntoResponse, ApiError> {
    let field = |key| body.text(key).given().unwrap_or("");
    let password = field("password");
    let (name, email) = NewUser::validate(field("name"), field("email"), password)?;
    let password_hash = password::hash(password.to_owned())
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

/// A user reads only their own profile; someone else's is forbidden (whether or not it exists).
async fn user(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    if !caller.may_act_for_text(&id) {
        return Err(ApiError::Forbidden);
    }
    let id = parse_id(&id, Rejection::UserNotFound)?;
    let user = app.store.user(id).await?.ok_or(Rejection::UserNotFound)?;
    Ok(data(UserView::from(user)))
}

#[derive(Deserialize)]
struct BookingListParams {
    status: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

/// A user's bookings, newest first, a page at a time; `status` keeps only those in it.
/// A user reads only their own bookings (someone else's list is 403, before anything else, so
/// that ids cannot be probed); admins read anyone's.
async fn user_bookings(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    QueryParams(params): QueryParams<BookingListParams>,
) -> Result<impl IntoResponse, ApiError> {
    if !caller.may_act_for_text(&id) {
        return Err(ApiError::Forbidden);
    }
    let query = BookingQuery::parse(
        params.status.as_deref(),
        params.limit.as_deref(),
        params.cursor.as_deref(),
    )?;
    let id = parse_id(&id, Rejection::UserNotFound)?;
    let page = app.store.list_user_bookings(id, query).await?;
    Ok(list::<_, BookingView>(page))
}
