//! Schemas of the domain values the views show. They live here rather than in the domain,
//! which knows nothing of HTTP.

use std::borrow::Cow;

use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

use crate::domain::{BookingStatus, LockStatus, ObjectId, Role, Timestamp};

impl PartialSchema for ObjectId {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some("^[0-9a-f]{24}$"))
            .description(Some(
                "24 lowercase hex characters, laid out like a MongoDB ObjectId. A malformed id \
                 (upper-case hex included) names nothing: the resource's 404.",
            ))
            .examples(["65b7a1f2c3d4e5f6a7b8c9d0"])
            .into()
    }
}

impl ToSchema for ObjectId {}

impl PartialSchema for Timestamp {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .description(Some("UTC, RFC 3339 with milliseconds"))
            .examples(["2026-01-28T12:28:29.379Z"])
            .into()
    }
}

impl ToSchema for Timestamp {}

/// A string schema listing every value of one of the domain's status enums.
fn status_schema(values: impl IntoIterator<Item = &'static str>) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values))
        .into()
}

impl PartialSchema for LockStatus {
    fn schema() -> RefOr<Schema> {
        status_schema(Self::ALL.iter().map(|s| s.as_str()))
    }
}

impl ToSchema for LockStatus {}

impl PartialSchema for BookingStatus {
    fn schema() -> RefOr<Schema> {
        status_schema(Self::ALL.iter().map(|s| s.as_str()))
    }
}

impl ToSchema for BookingStatus {}

impl PartialSchema for Role {
    fn schema() -> RefOr<Schema> {
        status_schema(Self::ALL.iter().map(|s| s.as_str()))
    }
}

impl ToSchema for Role {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Role")
    }
}
