//! Who is calling, and what they may do: login tokens, whether their credentials still stand,
//! the caller a request acts as, the login throttle's rules, and the admin that the
//! configuration asks for.
//!
//! Nothing here knows about HTTP; `http::access` reads tokens from requests and enforces the
//! access each route declares.

mod admin;
mod caller;
mod sessions;
mod throttle;
mod token;

pub use admin::{AdminOutcome, ensure_admin};
pub use caller::Caller;
pub use sessions::{MAX_CREDENTIALS_CACHE, Sessions};
pub use throttle::{
    LOGIN_WINDOW_SECONDS, MAX_FAILURES_PER_CLIENT, MAX_FAILURES_PER_EMAIL, retry_at,
};
pub use token::{IssuedToken, TokenClaims, TokenError, Tokens};
