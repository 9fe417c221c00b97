//! The feed's query: `GET /api/notifications?after&limit&type`.

use super::{NotificationType, Rejection};

pub const DEFAULT_FEED_LIMIT: i64 = 100;
pub const MAX_FEED_LIMIT: i64 = 1000;

/// Numbered notifications after `after`, in sequence order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedQuery {
    pub after: i64,
    /// 1 to [`MAX_FEED_LIMIT`].
    pub limit: i64,
    /// Only these types; empty means every type.
    pub types: Vec<NotificationType>,
}

impl FeedQuery {
    /// `after`: digits (default 0); `limit`: digits, 1 to 1000 (default 100); `type`: one
    /// type or several, comma-separated. Anything else is a 400 that names the parameter.
    pub fn parse(
        after: Option<&str>,
        limit: Option<&str>,
        types: Option<&str>,
    ) -> Result<Self, Rejection> {
        let after = match after {
            None => 0,
            Some(text) => {
                digits(text).ok_or_else(|| Rejection::invalid("after must be an integer ≥ 0"))?
            }
        };
        let limit = match limit {
            None => DEFAULT_FEED_LIMIT,
            Some(text) => digits(text)
                .filter(|n| (1..=MAX_FEED_LIMIT).contains(n))
                .ok_or_else(|| Rejection::invalid("limit must be an integer between 1 and 1000"))?,
        };
        let types = match types {
            None => Vec::new(),
            Some(text) => NotificationType::parse_list(text.split(','))
                .map_err(|unknown| Rejection::invalid(unknown.to_string()))?,
        };
        Ok(Self {
            after,
            limit,
            types,
        })
    }
}

/// Only ASCII digits, as the listings' `limit` (no sign, no spaces, no `1e3`).
fn digits(text: &str) -> Option<i64> {
    if text.is_empty() || text.len() > 18 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_bounds() {
        assert_eq!(
            FeedQuery::parse(None, None, None),
            Ok(FeedQuery {
                after: 0,
                limit: 100,
                types: vec![]
            })
        );
        let q = FeedQuery::parse(
            Some("1042"),
            Some("1000"),
            Some("booking.confirmed,lock.created"),
        )
        .unwrap();
        assert_eq!(q.after, 1042);
        assert_eq!(q.limit, 1000);
        assert_eq!(
            q.types,
            [
                NotificationType::BookingConfirmed,
                NotificationType::LockCreated
            ]
        );
        for bad in [
            "",
            "-1",
            "+1",
            "1.0",
            "1e3",
            " 1",
            "x",
            "9999999999999999999999",
        ] {
            assert!(
                FeedQuery::parse(Some(bad), None, None).is_err(),
                "after {bad:?}"
            );
        }
        for bad in ["0", "1001", "", "-5", "ten"] {
            assert!(
                FeedQuery::parse(None, Some(bad), None).is_err(),
                "limit {bad:?}"
            );
        }
        for bad in ["", "lock", "lock.created,", "LOCK.CREATED"] {
            assert!(
                FeedQuery::parse(None, None, Some(bad)).is_err(),
                "type {bad:?}"
            );
        }
    }
}
