//! POST /api/users/:id/logout-all: ends every token issued so far for a user ("Tokens end with
//! their credentials" in CONTRACT.md; `auth::Sessions` enforces it).

use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ErrorBody;
use super::users::user_id_for;
use super::views::{Data, UserView, data};
use super::{Access, ApiError, AppState, PathId};
use crate::auth::Caller;
use crate::domain::Rejection;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(Access::Authenticated.routes(routes!(logout_all)))
}

/// Ends every token issued so far for the user: they are refused with 401 `Invalid or expired
/// token`, by this instance at once and by every other within `CREDENTIALS_CACHE_MS`. Logging
/// in again gives a token that works. A user may end their own tokens (someone else's are 403,
/// whether or not that user exists); an admin anyone's.
#[utoipa::path(post, path = "/api/users/{id}/logout-all", tag = "users",
    params(("id" = String, Path, description = "The user's id")),
    responses(
        (status = 200, description = "Every token issued so far for this user has ended; the \
            user", body = Data<UserView>),
        (status = 403, description = "Someone else's tokens (jwt mode, not an admin)", body = ErrorBody),
        (status = 404, description = "`User not found`", body = ErrorBody),
    ))]
async fn logout_all(
    State(app): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
) -> Result<axum::Json<Data<UserView>>, ApiError> {
    let id = user_id_for(caller, &id)?;
    let user = app
        .store
        .end_sessions(id)
        .await?
        .ok_or(Rejection::UserNotFound)?;
    app.auth.sessions.forget(id);
    Ok(data(UserView::from(user)))
}
