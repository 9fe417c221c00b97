//! Lists, page by page: keyset pagination (`WHERE (key, id) > cursor`), never OFFSET, so a
//! page costs the same however deep it is. Events walk the `events_by_date` index; a user's
//! bookings are found by `bookings_by_user` and sorted, newest first. Each page is one
//! statement, so one snapshot.
//!
//! The name search (`q`) compares caseless keys computed by the server (`events.name_key`,
//! `domain::folding`), never `lower()`, whose answer depends on the database's locale. A
//! substring match cannot use a b-tree, so each database serves it from a trigram index
//! (migration 0003): PostgreSQL `name_key LIKE '%…%'` from a pg_trgm GIN index, SQLite
//! `name_key GLOB '*…*'` from an FTS5 trigram table. Both re-check every candidate row, so the
//! answer is exact; a `q` shorter than three characters has no trigram to look up, and then
//! the index is read whole (still without reading the events table).

use sqlx::any::AnyRow;
use sqlx::{AnyPool, FromRow, Row};

use super::Dialect;
use super::rows::{booking_columns, event_columns};
use crate::domain::{Booking, BookingQuery, Cursor, Event, EventQuery, ObjectId, Page, Rejection};
use crate::store::{StoreError, StoreResult};

/// Absent filters are bound as values that let every row through, so that one statement
/// serves every combination of dates and cursor: `$2` no upper bound, `$3, $4` before the first
/// row. `$5` is the page size; a name search binds its pattern as `$6`.
macro_rules! event_page {
    ($name_filter:literal) => {
        concat!(
            "SELECT ",
            event_columns!(),
            " FROM events \
             WHERE event_date >= $1 AND event_date < $2 AND (event_date, id) > ($3, $4) ",
            $name_filter,
            " ORDER BY event_date, id LIMIT $5"
        )
    };
}
const EVENT_PAGE: &str = event_page!("");
/// pg_trgm serves `LIKE` on the GIN index `events_name_key_trigrams`.
const EVENT_PAGE_NAMED_POSTGRES: &str = event_page!("AND name_key LIKE $6 ESCAPE '\\'");
/// FTS5's trigram tokenizer, case-sensitive (the keys are folded already), serves `GLOB`.
const EVENT_PAGE_NAMED_SQLITE: &str =
    event_page!("AND rowid IN (SELECT rowid FROM events_name_trigrams WHERE name_key GLOB $6)");

/// `$2` NULL for any status; `$3, $4` after the newest row when there is no cursor.
const BOOKING_PAGE: &str = concat!(
    "SELECT ",
    booking_columns!(),
    " FROM bookings \
     WHERE user_id = $1 AND status = COALESCE($2, status) AND (created_at, id) < ($3, $4) \
     ORDER BY created_at DESC, id DESC LIMIT $5"
);

pub(super) async fn event_page(
    db: &AnyPool,
    dialect: Dialect,
    query: EventQuery,
) -> StoreResult<Page<Event>> {
    let (after_date, after_id) = match query.after {
        Some(cursor) => (cursor.key, cursor.id.to_string()),
        None => (i64::MIN, String::new()),
    };
    let (statement, pattern) = match (query.name_contains.as_deref(), dialect) {
        (None, _) => (EVENT_PAGE, None),
        (Some(text), Dialect::Postgres) => (EVENT_PAGE_NAMED_POSTGRES, Some(like_pattern(text))),
        (Some(text), Dialect::Sqlite) => (EVENT_PAGE_NAMED_SQLITE, Some(glob_pattern(text))),
    };
    // The cursor's id is bound as text: "" sorts before every id.
    let mut page = sqlx::query(statement)
        .bind(query.from)
        .bind(query.to.map_or(i64::MAX, |to| to.millis()))
        .bind(after_date)
        .bind(after_id)
        .bind(query.limit + 1);
    if let Some(pattern) = pattern {
        page = page.bind(pattern);
    }
    let rows: Vec<AnyRow> = page.fetch_all(db).await?;
    page_of(rows, query.limit, "event_date")
}

/// The user's bookings, or `User not found`; read in one transaction, so from one snapshot.
pub(super) async fn booking_page(
    db: &AnyPool,
    user_id: ObjectId,
    query: BookingQuery,
) -> StoreResult<Page<Booking>> {
    let mut tx = db.begin().await?;
    let user_exists = sqlx::query("SELECT id FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?
        .is_some();
    if !user_exists {
        return Err(Rejection::UserNotFound.into());
    }
    let (before_created, before_id) = match query.after {
        Some(cursor) => (cursor.key, cursor.id.to_string()),
        None => (i64::MAX, String::new()),
    };
    let rows: Vec<AnyRow> = sqlx::query(BOOKING_PAGE)
        .bind(user_id)
        .bind(query.status)
        .bind(before_created)
        .bind(before_id)
        .bind(query.limit + 1)
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    page_of(rows, query.limit, "created_at")
}

/// A page of the rows, each read into an item on its own: a row that cannot be shown (a
/// value written behind the API's back, such as an instant outside 1970 to 9999) is logged
/// and left out, so it fails alone (its own GET answers 500), never the list; the page's
/// cursor (`key_column` and the id, read raw) still moves past it.
fn page_of<T>(rows: Vec<AnyRow>, limit: i64, key_column: &str) -> StoreResult<Page<T>>
where
    T: for<'r> FromRow<'r, AnyRow>,
{
    let rows = rows
        .into_iter()
        .map(|row| {
            let cursor = Cursor {
                key: row.try_get(key_column)?,
                id: row.try_get("id")?,
            };
            Ok((cursor, T::from_row(&row)))
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(Page::from_rows(rows, limit, |(cursor, _)| *cursor).filter_map(showable))
}

fn showable<T>((cursor, item): (Cursor, sqlx::Result<T>)) -> Option<T> {
    item.map_err(StoreError::from)
        .inspect_err(|error| {
            tracing::error!(
                error = format!("{error:#}"),
                row = %cursor.id,
                "a row that cannot be shown is left out of a list"
            );
        })
        .ok()
}

/// A LIKE pattern matching names that contain `text` literally: `%`, `_` and the escape
/// character itself match only themselves.
fn like_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// A GLOB pattern matching names that contain `text` literally: `*`, `?` and `[` are put in
/// brackets, where they match only themselves (GLOB has no escape character).
fn glob_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('*');
    for c in text.chars() {
        match c {
            '*' | '?' | '[' => {
                pattern.push('[');
                pattern.push(c);
                pattern.push(']');
            }
            _ => pattern.push(c),
        }
    }
    pattern.push('*');
    pattern
}

#[cfg(test)]
mod tests {
    use super::{glob_pattern, like_pattern};

    #[test]
    fn like_wildcards_match_literally() {
        assert_eq!(like_pattern(""), "%%");
        assert_eq!(like_pattern("Rock"), "%Rock%");
        assert_eq!(like_pattern("100%_a\\b"), "%100\\%\\_a\\\\b%");
    }

    #[test]
    fn glob_wildcards_match_literally() {
        assert_eq!(glob_pattern("rock"), "*rock*");
        assert_eq!(glob_pattern("a*b?c[d]%_"), "*a[*]b[?]c[[]d]%_*");
    }
}
