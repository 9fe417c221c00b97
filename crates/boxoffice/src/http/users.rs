use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};

use super::views::{UserView, data};
use super::{Access, ApiError, AppState, JsonObject, parse_id};
use crate::auth::Caller;
use crate::domain::{NewUser, Rejection, Role, Timestamp};
use crate::password;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/users/register", Access::Public.on(post(register)))
        .route("/api/users/{id}", Access::Authenticated.on(get(user)))
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
