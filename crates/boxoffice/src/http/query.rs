//! Query strings: read into a struct of `Option<String>` fields by axum's `Query`, whose own
//! refusals (a repeated parameter, say) become our JSON 400s. The handlers then apply the
//! domain's rules to each value, so that each error names its parameter.

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::ApiError;
use crate::domain::Rejection;

pub struct QueryParams<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        if query.contains("%00") {
            return Err(ApiError::BadBody(super::json::NUL_REFUSED));
        }
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(params)) => Ok(Self(params)),
            // Every field is an optional string, so only a malformed query string (such as a
            // parameter given twice) lands here.
            Err(_) => Err(Rejection::invalid("query string is invalid").into()),
        }
    }
}
