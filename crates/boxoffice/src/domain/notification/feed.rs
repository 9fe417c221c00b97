//! The feed's query: `GET /api/notifications?after&limit&type`.

use super::{NotificationType, Rejection};
use crate::domain::{Field, Integer, above_64_bits};

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
    /// `after`: digits (default 0, [`parse_after`]); `limit`: digits, 1 to 1000 (default 100);
    /// `type`: one type or several, comma-separated. Anything else is a 400 that names the
    /// parameter.
    pub fn parse(
        after: Option<&str>,
        limit: Option<&str>,
        types: Option<&str>,
    ) -> Result<Self, Rejection> {
        let after = parse_after(after.map_or(Field::Missing, query_integer))?;
        let limit = match limit {
            None => DEFAULT_FEED_LIMIT,
            Some(text) => Integer::from_digits(text)
                .map(Integer::saturating)
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

/// A query parameter's integer: only ASCII digits, as the listings' `limit` (no sign, no
/// spaces, no `1e3`), as many as given.
fn query_integer(text: &str) -> Field<Integer> {
    Integer::from_digits(text).map_or(Field::WrongType, Field::Given)
}

/// `after`, of the feed and of `POST /api/webhooks/:id/redeliver`: a sequence, 0 when absent.
/// Errors: 400 `after must be an integer ≥ 0`, or `after must be at most
/// 9223372036854775807` for an integer beyond 64 bits (no sequence reaches it).
pub fn parse_after(after: Field<Integer>) -> Result<i64, Rejection> {
    match after {
        Field::Missing => Ok(0),
        Field::Given(Integer::Within(n)) if n >= 0 => Ok(n),
        Field::Given(Integer::Above) => Err(above_64_bits("after")),
        _ => Err(Rejection::invalid("after must be an integer ≥ 0")),
    }
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
        for bad in ["", "-1", "+1", "1.0", "1e3", " 1", "x"] {
            assert_eq!(
                FeedQuery::parse(Some(bad), None, None)
                    .unwrap_err()
                    .to_string(),
                "after must be an integer ≥ 0",
                "after {bad:?}"
            );
        }
        // Every sequence 64 bits can hold; beyond, the range refusal.
        let most = FeedQuery::parse(Some("9223372036854775807"), None, None).unwrap();
        assert_eq!(most.after, i64::MAX);
        for beyond in ["9223372036854775808", "9999999999999999999999"] {
            assert_eq!(
                FeedQuery::parse(Some(beyond), None, None)
                    .unwrap_err()
                    .to_string(),
                "after must be at most 9223372036854775807",
                "after {beyond:?}"
            );
        }
        for bad in ["0", "1001", "", "-5", "ten", "99999999999999999999999"] {
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
