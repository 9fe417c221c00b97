//! Login throttling: after too many failed logins within a window, for one email from one client
//! address or from one client address for any email, further attempts from that address are
//! refused until the window has moved past enough of them. Failures are never counted per email
//! alone, so that guessing from one address locks only that address out of the account, never
//! its owner elsewhere (CONTRACT.md, Authentication and roles). The failures themselves are
//! kept in the database, so every instance counts the same ones.

use crate::domain::Timestamp;

/// How far back failed logins count.
pub const LOGIN_WINDOW_SECONDS: i64 = 15 * 60;
/// Failed logins for one email from one client address within the window before attempts for
/// that email from that address are refused.
pub const MAX_FAILURES_PER_EMAIL: u32 = 10;
/// Failed logins from one client address (any email) within the window before attempts are
/// refused. A successful login does not reset it.
pub const MAX_FAILURES_PER_CLIENT: u32 = 30;

/// When attempts may start again, given the `MAX`-th most recent failure within the window for
/// the email and for the client (`None`: fewer failures than the limit). The count drops below
/// the limit when that failure leaves the window.
pub fn retry_at(email_nth: Option<Timestamp>, client_nth: Option<Timestamp>) -> Option<Timestamp> {
    [email_nth, client_nth]
        .into_iter()
        .flatten()
        .map(|failed_at| failed_at.plus_seconds(LOGIN_WINDOW_SECONDS))
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_later_of_the_two_limits_decides() {
        assert_eq!(retry_at(None, None), None);
        let early = Timestamp::from_millis(1_000);
        let late = Timestamp::from_millis(5_000);
        assert_eq!(
            retry_at(Some(early), Some(late)),
            Some(late.plus_seconds(LOGIN_WINDOW_SECONDS))
        );
        assert_eq!(
            retry_at(Some(early), None),
            Some(early.plus_seconds(LOGIN_WINDOW_SECONDS))
        );
    }
}
