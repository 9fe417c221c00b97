//! Request bodies: a JSON object read field by field, so that each field's error is the
//! contract's message and nothing is coerced (`"2"` and `2.0` are not the integer 2).

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use serde_json::{Map, Value};

use super::ApiError;
use crate::domain::{Field, Integer};

/// The body of a POST, which must be a JSON object sent as `application/json`.
/// Unknown fields are ignored, whatever they hold, and never trusted: only the fields a handler
/// reads are judged, so a NUL character in an unknown field is fine, and in a field that is
/// read it is the 400 `Text must not contain NUL characters` (CONTRACT.md, Errors beyond the
/// seed).
pub struct JsonObject(pub Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for JsonObject {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let axum::Json(object) = axum::Json::<Map<String, Value>>::from_request(req, state).await?;
        Ok(Self(object))
    }
}

/// The body of a POST whose fields are all optional (`POST /api/webhooks/:id/redeliver
/// {after?}`): no body, or an empty one, with or without a `Content-Type`, is `{}`, and so is
/// the JSON `null` (the API description's optional body is "the object or null"). A body that
/// is present is otherwise read as a [`JsonObject`] is: `application/json` (else 415), a JSON
/// object (else 400).
pub struct OptionalJsonObject(pub JsonObject);

impl<S: Send + Sync> FromRequest<S> for OptionalJsonObject {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let content_type = req.headers().get(CONTENT_TYPE).cloned();
        let body = Bytes::from_request(req, state).await.map_err(|rejection| {
            match rejection.status() {
                StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
                _ => ApiError::BadBody("Request body could not be read"),
            }
        })?;
        if body.is_empty() {
            return Ok(Self(JsonObject(Map::new())));
        }
        let mut present = Request::new(Body::from(body));
        if let Some(content_type) = content_type {
            present.headers_mut().insert(CONTENT_TYPE, content_type);
        }
        let axum::Json(object) =
            axum::Json::<Option<Map<String, Value>>>::from_request(present, state).await?;
        Ok(Self(JsonObject(object.unwrap_or_default())))
    }
}

/// PostgreSQL cannot store a NUL character in text, and no name, email or key needs one: such
/// input is refused up front, the same on both databases.
pub const NUL_REFUSED: &str = "Text must not contain NUL characters";

fn holds_nul(value: &Value) -> bool {
    match value {
        Value::String(text) => text.contains('\0'),
        Value::Array(values) => values.iter().any(holds_nul),
        Value::Object(object) => object.values().any(holds_nul),
        _ => false,
    }
}

impl JsonObject {
    /// A field as sent, `null` counting as missing; any text in it (nested too) must be free
    /// of NUL characters.
    pub fn value(&self, key: &str) -> Result<Option<&Value>, ApiError> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(value) if holds_nul(value) => Err(ApiError::BadBody(NUL_REFUSED)),
            Some(value) => Ok(Some(value)),
        }
    }

    /// A string field; `null` counts as missing.
    pub fn text(&self, key: &str) -> Result<Field<&str>, ApiError> {
        Ok(match self.value(key)? {
            None => Field::Missing,
            Some(Value::String(text)) => Field::Given(text),
            Some(_) => Field::WrongType,
        })
    }

    /// An integer field, of any size ([`Integer::from_json`]): one beyond 64 bits is
    /// [`Integer::Above`] or [`Integer::Below`], which the field's rule refuses with its range
    /// message. `null` counts as missing; a fraction (`2.5`, `2.0`), a string or any other
    /// value is the wrong type (CONTRACT.md, Conventions).
    pub fn integer(&self, key: &str) -> Field<Integer> {
        match self.0.get(key) {
            None | Some(Value::Null) => Field::Missing,
            Some(Value::Number(n)) => Integer::from_json(n).map_or(Field::WrongType, Field::Given),
            Some(_) => Field::WrongType,
        }
    }

    /// A required, non-empty string; anything else is `None`.
    pub fn required_text(&self, key: &str) -> Result<Option<&str>, ApiError> {
        Ok(match self.text(key)? {
            Field::Given(text) if !text.is_empty() => Some(text),
            _ => None,
        })
    }
}
