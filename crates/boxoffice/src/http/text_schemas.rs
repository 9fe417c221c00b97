//! Schemas of request text that state the handlers' rules exactly (CONTRACT.md;
//! `NewUser::validate`, `NewEvent::parse`), for the request bodies in `views::bodies`: a
//! request is valid by the description if and only if the rules let it through, so that a
//! fuzzer working from the description (scripts/fuzz-api) finds real disagreements only.
//!
//! No text that is read may hold a NUL character (`^[^\u0000]*$`); names are trimmed of the
//! whitespace Rust's `char::is_whitespace` knows (listed by code point, since regex dialects
//! disagree on `\s`) and must keep 1 to N characters; an email is trimmed, then has one `@`, no
//! whitespace or control characters, and a dotted domain that neither starts nor ends with a
//! dot.

use utoipa::openapi::schema::{Object, ObjectBuilder, SchemaType, Type};

/// What `char::is_whitespace` (Unicode White_Space) matches, as a regex class body.
const WHITESPACE: &str =
    "\\u0009-\\u000D\\u0020\\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000";
/// What `char::is_control` (Unicode Cc) matches.
const CONTROL: &str = "\\u0000-\\u001F\\u007F-\\u009F";

/// A string that keeps 1 to `max` characters once trimmed, and holds no NUL.
fn trimmed_text(max: usize, description: &str) -> Object {
    let w = WHITESPACE;
    let inner = max - 2;
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .pattern(Some(format!(
            "^[{w}]*[^{w}\\u0000](?:[^\\u0000]{{0,{inner}}}[^{w}\\u0000])?[{w}]*$"
        )))
        .build()
}

pub fn user_name() -> Object {
    trimmed_text(100, "1 to 100 characters once trimmed")
}

pub fn event_name() -> Object {
    trimmed_text(200, "1 to 200 characters once trimmed")
}

/// A change of name: as at creation, or `null` for no change.
pub fn event_name_change() -> Object {
    let mut schema = event_name();
    schema.schema_type = SchemaType::from_iter([Type::String, Type::Null]);
    schema
}

pub fn email() -> Object {
    let (w, c) = (WHITESPACE, CONTROL);
    let part = format!("[^@{w}{c}]");
    let end = format!("[^@.{w}{c}]");
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(
            "Compared after NFC normalisation and case folding; at most 254 bytes once \
             trimmed",
        ))
        .pattern(Some(format!(
            "^[{w}]*{part}+@{end}{part}*\\.{part}*{end}[{w}]*$"
        )))
        .build()
}
