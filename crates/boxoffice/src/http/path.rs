//! Ids in paths (`/api/events/{id}`), read as text for [`super::parse_id`] to judge.

use axum::extract::path::ErrorKind;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;

use super::ApiError;

/// The `{id}` of a route's path, as text. A segment that is not even UTF-8 once
/// percent-decoded (`/api/events/%ff`) is no id either: it is read as the empty text, which
/// names nothing, so the handler answers the resource's JSON 404 like any malformed id
/// (CONTRACT.md, Conventions), never axum's plain-text 400.
pub struct PathId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PathId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(id)) => Ok(Self(id)),
            Err(PathRejection::FailedToDeserializePathParams(error))
                if matches!(error.kind(), ErrorKind::InvalidUtf8InPathParam { .. }) =>
            {
                Ok(Self(String::new()))
            }
            // A route declared without its `{id}`: our bug, not the client's.
            Err(other) => Err(ApiError::Internal(anyhow::anyhow!("path id: {other}"))),
        }
    }
}
