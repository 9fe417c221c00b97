//! Lists read page by page: what a page asks for, where it ends, and the rules for the
//! query-string values that shape it. Pages are keyset pages (the sort key and id of the last
//! item), never offsets, so rows added or changed meanwhile cause no duplicates or gaps.

use std::fmt;

use super::{BookingStatus, ObjectId, Rejection, Timestamp, caseless_key, parse_date};

pub const DEFAULT_PAGE_SIZE: i64 = 20;
pub const MAX_PAGE_SIZE: i64 = 100;

/// Where a page ended: the sort key and id of its last item. Clients see it as an opaque
/// string (16 hex digits of the key, then the 24 of the id) and hand it back unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub key: i64,
    pub id: ObjectId,
}

impl Cursor {
    /// A cursor as a client sent it; absent is `None`, anything malformed is a 400.
    pub fn parse(text: Option<&str>) -> Result<Option<Self>, Rejection> {
        let Some(text) = text else {
            return Ok(None);
        };
        let invalid = || Rejection::invalid("cursor is invalid");
        if text.len() != 40 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(invalid());
        }
        let (key, id) = text.split_at(16);
        let key = u64::from_str_radix(key, 16).map_err(|_| invalid())?;
        let id = ObjectId::parse(id).ok_or_else(invalid)?;
        Ok(Some(Self {
            // The key is any i64, stored as its two's-complement bits.
            key: key as i64,
            id,
        }))
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}{}", self.key as u64, self.id)
    }
}

/// One page of a list, and the cursor of the next one if there is more.
#[derive(Clone, Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<Cursor>,
}

impl<T> Page<T> {
    /// A page from up to `limit + 1` rows in list order: the extra row only says that
    /// another page follows, which then starts after this page's last item.
    pub fn from_rows(mut rows: Vec<T>, limit: i64, cursor_of: impl Fn(&T) -> Cursor) -> Self {
        let limit = usize::try_from(limit).unwrap_or(0);
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next = if more {
            rows.last().map(cursor_of)
        } else {
            None
        };
        Self { items: rows, next }
    }
}

impl<T> Page<T> {
    /// The page with each item replaced by what `f` makes of it, leaving out those it makes
    /// nothing of; the next page still starts where this one ended.
    pub fn filter_map<U>(self, f: impl FnMut(T) -> Option<U>) -> Page<U> {
        Page {
            items: self.items.into_iter().filter_map(f).collect(),
            next: self.next,
        }
    }
}

/// `limit`: an integer from 1 to 100, written as one; 20 when absent.
pub fn parse_limit(text: Option<&str>) -> Result<i64, Rejection> {
    let Some(text) = text else {
        return Ok(DEFAULT_PAGE_SIZE);
    };
    match text.parse::<i64>() {
        Ok(n) if (1..=MAX_PAGE_SIZE).contains(&n) && text.bytes().all(|b| b.is_ascii_digit()) => {
            Ok(n)
        }
        _ => Err(Rejection::invalid(
            "limit must be an integer between 1 and 100",
        )),
    }
}

/// A date bound such as `from` or `to`: any RFC 3339 form in the accepted range.
pub fn parse_date_bound(name: &str, text: Option<&str>) -> Result<Option<Timestamp>, Rejection> {
    text.map(|text| parse_date(name, text)).transpose()
}

/// Which events a page of the event list holds: ordered by date, then id.
#[derive(Clone, Debug)]
pub struct EventQuery {
    /// The earliest event date included.
    pub from: Timestamp,
    /// The first event date no longer included, if any.
    pub to: Option<Timestamp>,
    /// Part of the name, as a caseless key ([`caseless_key`]): it is matched against the
    /// events' name keys, so case-insensitively in every script and whatever the database's
    /// locale (the listing's `q` in CONTRACT.md).
    pub name_contains: Option<String>,
    pub after: Option<Cursor>,
    pub limit: i64,
}

impl EventQuery {
    /// Upcoming events (dated after `now`) unless `from` is given; `to` is exclusive.
    pub fn parse(
        limit: Option<&str>,
        cursor: Option<&str>,
        from: Option<&str>,
        to: Option<&str>,
        q: Option<&str>,
        now: Timestamp,
    ) -> Result<Self, Rejection> {
        let limit = parse_limit(limit)?;
        let after = Cursor::parse(cursor)?;
        let from = parse_date_bound("from", from)?.unwrap_or(now.plus_millis(1));
        let to = parse_date_bound("to", to)?;
        let name_contains = q.filter(|q| !q.is_empty()).map(caseless_key);
        Ok(Self {
            from,
            to,
            name_contains,
            after,
            limit,
        })
    }
}

/// Which bookings a page of a user's bookings holds: newest first.
#[derive(Clone, Debug)]
pub struct BookingQuery {
    pub status: Option<BookingStatus>,
    pub after: Option<Cursor>,
    pub limit: i64,
}

impl BookingQuery {
    pub fn parse(
        status: Option<&str>,
        limit: Option<&str>,
        cursor: Option<&str>,
    ) -> Result<Self, Rejection> {
        let status = status
            .map(|text| {
                BookingStatus::parse(text).ok_or_else(|| {
                    let names: Vec<_> = BookingStatus::ALL.iter().map(|s| s.as_str()).collect();
                    Rejection::invalid(format!("status must be one of {}", names.join(", ")))
                })
            })
            .transpose()?;
        Ok(Self {
            status,
            limit: parse_limit(limit)?,
            after: Cursor::parse(cursor)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_anything_else() {
        let id = ObjectId::parse("697a00af215688d2a9fca5c8").unwrap();
        for key in [0, 1_781_517_600_000, -5, i64::MIN, i64::MAX] {
            let cursor = Cursor { key, id };
            let text = cursor.to_string();
            assert_eq!(text.len(), 40);
            assert_eq!(Cursor::parse(Some(&text)), Ok(Some(cursor)));
        }
        assert_eq!(Cursor::parse(None), Ok(None));
        for bad in [
            "",
            "abc",
            "zz00000000000000697a00af215688d2a9fca5c8",
            "0000000000000000697a00af215688d2a9fca5c",
            "+000000000000000697a00af215688d2a9fca5c8",
            "00000000000000é697a00af215688d2a9fca5c",
        ] {
            assert_eq!(
                Cursor::parse(Some(bad)).unwrap_err().to_string(),
                "cursor is invalid",
                "{bad}"
            );
        }
    }

    #[test]
    fn limits_are_integers_from_1_to_100() {
        assert_eq!(parse_limit(None), Ok(20));
        assert_eq!(parse_limit(Some("1")), Ok(1));
        assert_eq!(parse_limit(Some("100")), Ok(100));
        for bad in ["", "0", "101", "-1", "+5", "2.5", "abc", " 5", "1e1"] {
            assert!(parse_limit(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_page_says_whether_more_follow() {
        let id = ObjectId::parse("697a00af215688d2a9fca5c8").unwrap();
        let cursor_of = |n: &i64| Cursor { key: *n, id };
        let page = Page::from_rows(vec![1, 2, 3], 2, cursor_of);
        assert_eq!(page.items, [1, 2]);
        assert_eq!(page.next, Some(Cursor { key: 2, id }));
        let page = Page::from_rows(vec![1, 2], 2, cursor_of);
        assert_eq!(page.items, [1, 2]);
        assert_eq!(page.next, None);
    }

    #[test]
    fn booking_statuses_are_checked() {
        let query = BookingQuery::parse(Some("CONFIRMED"), None, None).unwrap();
        assert_eq!(query.status, Some(BookingStatus::Confirmed));
        assert_eq!(
            BookingQuery::parse(Some("confirmed"), None, None)
                .unwrap_err()
                .to_string(),
            "status must be one of INITIATED, PAYMENT_PENDING, CONFIRMED, FAILED, EXPIRED, \
             CANCELLED"
        );
    }
}
