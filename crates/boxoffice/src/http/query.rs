//! Query strings: read into a struct of `Option<String>` fields by axum's `Query`, whose own
//! refusals (a repeated parameter, say) become our JSON 400s. The handlers then apply the
//! domain's rules to each value, so that each error names its parameter.
//!
//! Before that, the query string is checked strictly, because `Query` decodes it lossily (a
//! `%FF` becomes U+FFFD, a `%zz` stays as it is) and a search for what the client did not mean
//! would answer 200 with nothing: every `%` must start a `%XX` escape (RFC 3986, section 2.1)
//! and every name and value must decode to UTF-8 (the WHATWG URL standard's
//! `application/x-www-form-urlencoded`). Anything else is 400
//! `<name> must be percent-encoded UTF-8` (`VALIDATION_FAILED`), naming the parameter.

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use percent_encoding::percent_decode_str;
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
        let repeated = check_encoding(query)?;
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(params)) => Ok(Self(params)),
            // Every field is an optional string, so only a malformed query string lands here:
            // a parameter the route reads given twice (`limit must be given once`), as the
            // repeated name is the likely cause (repeats of names the route ignores pass).
            Err(_) => Err(match repeated {
                Some(name) => Rejection::invalid(format!("{name} must be given once")),
                None => Rejection::invalid("query string is invalid"),
            }
            .into()),
        }
    }
}

/// Refuses a query string whose escapes are malformed or do not decode to UTF-8, naming the
/// first parameter at fault (`query string is invalid` when its name itself is at fault).
/// Returns the first name given more than once, if any (decoded).
fn check_encoding(query: &str) -> Result<Option<String>, Rejection> {
    let mut seen = std::collections::HashSet::new();
    let mut repeated = None;
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let Some(name) = decode(name) else {
            return Err(Rejection::invalid("query string is invalid"));
        };
        if decode(value).is_none() {
            return Err(Rejection::invalid(format!(
                "{name} must be percent-encoded UTF-8"
            )));
        }
        if repeated.is_none() && !seen.insert(name.clone()) {
            repeated = Some(name);
        }
    }
    Ok(repeated)
}

/// A name or value of a query string as text (`+` is a space), if it is well encoded.
fn decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let escapes_whole = bytes.iter().enumerate().all(|(at, &byte)| {
        byte != b'%'
            || bytes
                .get(at + 1..at + 3)
                .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
    });
    if !escapes_whole {
        return None;
    }
    let text = text.replace('+', " ");
    percent_decode_str(&text)
        .decode_utf8()
        .ok()
        .map(|decoded| decoded.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_encoded_query_strings_pass() {
        for good in [
            "",
            "q=caf%C3%A9",
            "q=%c3%a9t%c3%a9&limit=5",
            "q=a+b&&limit=",
            "q=été",
            "q=100%25",
            "flag",
        ] {
            assert_eq!(check_encoding(good), Ok(None), "{good}");
        }
    }

    #[test]
    fn the_first_repeated_name_is_found() {
        assert_eq!(
            check_encoding("limit=1&q=a&limit=2&q=b"),
            Ok(Some("limit".to_owned()))
        );
        assert_eq!(
            check_encoding("st%61tus=A&status=B"),
            Ok(Some("status".to_owned()))
        );
    }

    #[test]
    fn malformed_escapes_and_bad_utf8_name_the_parameter() {
        for (bad, message) in [
            ("q=%FF%FE", "q must be percent-encoded UTF-8"),
            ("q=%zz", "q must be percent-encoded UTF-8"),
            ("limit=5&q=%", "q must be percent-encoded UTF-8"),
            ("q=%4", "q must be percent-encoded UTF-8"),
            ("cursor=%C3", "cursor must be percent-encoded UTF-8"),
            ("from=%E2%82", "from must be percent-encoded UTF-8"),
            ("%FF=1", "query string is invalid"),
            ("st%zzatus=1", "query string is invalid"),
        ] {
            assert_eq!(
                check_encoding(bad).unwrap_err().to_string(),
                message,
                "{bad}"
            );
        }
    }
}
