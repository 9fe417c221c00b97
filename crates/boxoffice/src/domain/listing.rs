//! Lists read page by page: what a page asks for, where it ends, and the rules for the
//! query-string values that shape it. Pages are keyset pages (the sort key and id of the last
//! item), never offsets, so rows added or changed meanwhile cause no duplicates or gaps.

use super::notification::AttemptStatus;
use super::{
    Allowed, BookingStatus, Cursor, CursorKey, ObjectId, Rejection, Timestamp, caseless_key,
    optional_choice, parse_date_bound_up,
};

pub const DEFAULT_PAGE_SIZE: i64 = 20;
pub const MAX_PAGE_SIZE: i64 = 100;

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

/// A date bound such as `from` or `to`: any RFC 3339 form in the accepted range, a fraction
/// finer than a millisecond rounded up (README, "Bounds at the edge"), so that `from` stays
/// inclusive and `to` exclusive of the instants kept in milliseconds.
pub fn parse_date_bound(name: &str, text: Option<&str>) -> Result<Option<Timestamp>, Rejection> {
    text.map(|text| parse_date_bound_up(name, text)).transpose()
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
    /// What the page's cursors are sealed for: this listing and its filters (not `limit`).
    pub scope: String,
}

impl EventQuery {
    /// Upcoming events (dated after `now`) unless `from` is given; `to` is exclusive. The
    /// cursor must be one sealed with `cursors` for the same `from`, `to` and `q`.
    pub fn parse(
        limit: Option<&str>,
        cursor: Option<&str>,
        from: Option<&str>,
        to: Option<&str>,
        q: Option<&str>,
        now: Timestamp,
        cursors: &CursorKey,
    ) -> Result<Self, Rejection> {
        let limit = parse_limit(limit)?;
        let from_given = parse_date_bound("from", from)?;
        let to = parse_date_bound("to", to)?;
        let name_contains = q.filter(|q| !q.is_empty()).map(caseless_key);
        let millis = |bound: Option<Timestamp>| bound.map(|t| t.millis().to_string());
        let scope = format!(
            "events\nfrom={}\nto={}\nq={}",
            millis(from_given).unwrap_or_else(|| "upcoming".to_owned()),
            millis(to).unwrap_or_default(),
            name_contains.as_deref().unwrap_or_default(),
        );
        let after = Cursor::open(cursor, cursors, &scope)?;
        Ok(Self {
            from: from_given.unwrap_or(now.plus_millis(1)),
            to,
            name_contains,
            after,
            limit,
            scope,
        })
    }
}

/// Which bookings a page of a user's bookings holds: newest first.
#[derive(Clone, Debug)]
pub struct BookingQuery {
    pub status: Option<BookingStatus>,
    pub after: Option<Cursor>,
    pub limit: i64,
    /// What the page's cursors are sealed for: this user's list and its status filter.
    pub scope: String,
}

impl BookingQuery {
    /// The bookings of `user` (the path's id as given) in `status`, the cursor one sealed
    /// with `cursors` for the same user and status.
    pub fn parse(
        user: &str,
        status: Option<&str>,
        limit: Option<&str>,
        cursor: Option<&str>,
        cursors: &CursorKey,
    ) -> Result<Self, Rejection> {
        let status = optional_choice(
            "status",
            status,
            BookingStatus::ALL,
            BookingStatus::as_str,
            Allowed::OneOf,
        )?;
        let scope = format!(
            "bookings\nuser={user}\nstatus={}",
            status.map(BookingStatus::as_str).unwrap_or_default()
        );
        Ok(Self {
            status,
            limit: parse_limit(limit)?,
            after: Cursor::open(cursor, cursors, &scope)?,
            scope,
        })
    }
}

/// Which delivery attempts of a webhook endpoint a page holds: newest first (by id, which
/// grows with time; the cursor's sort key is 0).
#[derive(Clone, Debug)]
pub struct DeliveryQuery {
    pub status: Option<AttemptStatus>,
    /// The page starts after (below) this attempt.
    pub before: Option<ObjectId>,
    pub limit: i64,
    /// What the page's cursors are sealed for: this endpoint's attempts and the status filter.
    pub scope: String,
}

impl DeliveryQuery {
    /// The attempts of `endpoint` in `status`, the cursor one sealed with `cursors` for the
    /// same endpoint and status (README, "Bounds at the edge").
    pub fn parse(
        endpoint: ObjectId,
        status: Option<&str>,
        limit: Option<&str>,
        cursor: Option<&str>,
        cursors: &CursorKey,
    ) -> Result<Self, Rejection> {
        let status = optional_choice(
            "status",
            status,
            AttemptStatus::ALL,
            AttemptStatus::as_str,
            Allowed::Alternatives,
        )?;
        let limit = parse_limit(limit)?;
        let scope = format!(
            "deliveries\nendpoint={endpoint}\nstatus={}",
            status.map(AttemptStatus::as_str).unwrap_or_default()
        );
        let before = Cursor::open(cursor, cursors, &scope)?.map(|cursor| cursor.id);
        Ok(Self {
            status,
            before,
            limit,
            scope,
        })
    }

    /// Where a page that ends with attempt `id` ends.
    pub const fn cursor_after(id: ObjectId) -> Cursor {
        Cursor { key: 0, id }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ObjectId;

    #[test]
    fn limits_are_integers_from_1_to_100() {
        assert_eq!(parse_limit(None), Ok(20));
        assert_eq!(parse_limit(Some("1")), Ok(1));
        assert_eq!(parse_limit(Some("100")), Ok(100));
        for bad in ["", "0", "101", "-1", "+5", "2.5", "abc", " 5", "1e1"] {
            assert!(parse_limit(Some(bad)).is_err(), "{bad}");
        }
    }

    const KEY: CursorKey = CursorKey::new([1; 32]);

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
    fn a_cursor_serves_only_the_listing_and_filters_it_was_sealed_for() {
        let now = Timestamp::from_millis(1_700_000_000_000);
        let events = |cursor, q| EventQuery::parse(None, cursor, None, None, q, now, &KEY);
        let at = Cursor {
            key: 5,
            id: ObjectId::parse("697a00af215688d2a9fca5c8").unwrap(),
        };
        let query = events(None, Some("Été")).unwrap();
        let sealed = at.seal(&KEY, &query.scope);
        // Case is folded before sealing: `été` asks for what `Été` asked for.
        assert_eq!(events(Some(&sealed), Some("été")).unwrap().after, Some(at));
        for other in [None, Some("ete")] {
            assert!(events(Some(&sealed), other).is_err(), "{other:?}");
        }
        let dated = EventQuery::parse(
            None,
            Some(&sealed),
            Some("2030-01-01T00:00:00Z"),
            None,
            Some("Été"),
            now,
            &KEY,
        );
        assert!(dated.is_err());
        let user = "697a00af215688d2a9fca5c8";
        let bookings = BookingQuery::parse(user, None, None, None, &KEY).unwrap();
        let sealed = at.seal(&KEY, &bookings.scope);
        assert!(BookingQuery::parse(user, None, None, Some(&sealed), &KEY).is_ok());
        let someone_else = "697a00af215688d2a9fca5c9";
        assert!(BookingQuery::parse(someone_else, None, None, Some(&sealed), &KEY).is_err());
        assert!(BookingQuery::parse(user, Some("FAILED"), None, Some(&sealed), &KEY).is_err());
    }

    #[test]
    fn a_deliveries_cursor_serves_only_its_endpoint_and_status() {
        let endpoint = ObjectId::parse("697a00af215688d2a9fca5c8").unwrap();
        let other = ObjectId::parse("697a00af215688d2a9fca5c9").unwrap();
        let attempt = ObjectId::parse("697a00af215688d2a9fca5ca").unwrap();
        let query = DeliveryQuery::parse(endpoint, Some("failed"), None, None, &KEY).unwrap();
        let sealed = DeliveryQuery::cursor_after(attempt).seal(&KEY, &query.scope);
        let again = DeliveryQuery::parse(endpoint, Some("failed"), Some("5"), Some(&sealed), &KEY);
        assert_eq!(again.unwrap().before, Some(attempt));
        for (on, status) in [
            (other, Some("failed")),
            (endpoint, None),
            (endpoint, Some("dead")),
        ] {
            let refused = DeliveryQuery::parse(on, status, None, Some(&sealed), &KEY).unwrap_err();
            assert_eq!(refused.to_string(), "cursor is invalid", "{on} {status:?}");
        }
        // The attempt's id alone, as earlier versions took it, is refused too.
        let bare = attempt.to_string();
        assert!(DeliveryQuery::parse(endpoint, Some("failed"), None, Some(&bare), &KEY).is_err());
    }

    #[test]
    fn delivery_statuses_are_checked() {
        let endpoint = ObjectId::parse("697a00af215688d2a9fca5c8").unwrap();
        let query = DeliveryQuery::parse(endpoint, Some("dead"), None, None, &KEY).unwrap();
        assert_eq!(query.status, Some(AttemptStatus::Dead));
        assert_eq!(
            DeliveryQuery::parse(endpoint, Some("DEAD"), None, None, &KEY)
                .unwrap_err()
                .to_string(),
            "status must be delivered, failed or dead"
        );
    }

    #[test]
    fn booking_statuses_are_checked() {
        let user = "697a00af215688d2a9fca5c8";
        let query = BookingQuery::parse(user, Some("CONFIRMED"), None, None, &KEY).unwrap();
        assert_eq!(query.status, Some(BookingStatus::Confirmed));
        assert_eq!(
            BookingQuery::parse(user, Some("confirmed"), None, None, &KEY)
                .unwrap_err()
                .to_string(),
            "status must be one of INITIATED, PAYMENT_PENDING, CONFIRMED, FAILED, EXPIRED, \
             CANCELLED"
        );
    }
}
