//! The outbox: a change's notifications, written in the change's own transaction, so that a
//! notification exists if and only if its change committed (CONTRACT.md). They carry no
//! sequence number yet: the sequencer numbers them after commit (`sequencer.rs` says why).

use std::fmt::Write as _;

use sqlx::AssertSqlSafe;

use crate::domain::Timestamp;
use crate::domain::notification::{NewNotification, NotificationType, ShowResource};
use crate::domain::seating::SeatCounts;
use crate::domain::{Booking, Event, SeatLock};
use crate::store::StoreResult;
use crate::store::sql::seat_counts::category_seat_counts_in;
use crate::store::sql::{SqlStore, Tx};

/// How many notifications one INSERT writes at most (5 parameters each, well inside both
/// databases' limits on bound parameters).
const RECORD_CHUNK: usize = 500;

/// Writes `notifications` in `tx`: one statement for up to [`RECORD_CHUNK`] of them (a batch
/// of holds writes all of its `lock.created` at once).
async fn record(tx: &mut Tx, notifications: &[NewNotification]) -> StoreResult<()> {
    for chunk in notifications.chunks(RECORD_CHUNK) {
        let mut sql = String::from(
            "INSERT INTO notifications (id, type, ordering_key, data, created_at) VALUES ",
        );
        for i in 0..chunk.len() {
            let p = i * 5;
            let comma = if i == 0 { "" } else { ", " };
            let _ = write!(
                sql,
                "{comma}(${}, ${}, ${}, ${}, ${})",
                p + 1,
                p + 2,
                p + 3,
                p + 4,
                p + 5
            );
        }
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for n in chunk {
            query = query
                .bind(n.id)
                .bind(n.kind.as_str())
                .bind(n.ordering_key.id())
                .bind(n.data.to_string())
                .bind(n.created_at);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

impl SqlStore {
    /// The views the server gave this store, if any. A store without them (the `check` and
    /// `import-mongo` commands, which make no notifications) records none.
    fn shown(&self) -> Option<&dyn ShowResource> {
        self.show.get().map(|show| show.as_ref())
    }

    /// The event as GET shows it right after the change (CONTRACT.md: `data` is "the resource
    /// as GET shows it"), a seated event with its categories' seats: `seat_counts` when the
    /// change knows them from what it wrote or read in `tx` (per category, in the chart's
    /// order), else counted here, in `tx`, after the change's own writes.
    pub(in crate::store::sql) async fn notify_event(
        &self,
        tx: &mut Tx,
        kind: NotificationType,
        event: &Event,
        seat_counts: Option<Vec<SeatCounts>>,
        now: Timestamp,
    ) -> StoreResult<()> {
        let Some(show) = self.shown() else {
            return Ok(());
        };
        let seat_counts = match seat_counts {
            Some(known) => Some(known),
            None if event.seating.is_some() => {
                category_seat_counts_in(tx, std::slice::from_ref(event))
                    .await?
                    .remove(&event.id)
            }
            None => None,
        };
        let made = NewNotification::of_event(show, kind, event, seat_counts.as_deref(), now);
        record(tx, &[made]).await
    }

    /// One notification per lock, in one statement.
    pub(in crate::store::sql) async fn notify_locks<'a>(
        &self,
        tx: &mut Tx,
        kind: NotificationType,
        locks: impl IntoIterator<Item = &'a SeatLock>,
        now: Timestamp,
    ) -> StoreResult<()> {
        let Some(show) = self.shown() else {
            return Ok(());
        };
        let made: Vec<NewNotification> = locks
            .into_iter()
            .map(|lock| NewNotification::of_lock(show, kind, lock, now))
            .collect();
        record(tx, &made).await
    }

    /// One notification per booking, in one statement.
    pub(in crate::store::sql) async fn notify_bookings<'a>(
        &self,
        tx: &mut Tx,
        kind: NotificationType,
        bookings: impl IntoIterator<Item = (&'a Booking, Option<crate::domain::notification::Refund>)>,
        now: Timestamp,
    ) -> StoreResult<()> {
        let Some(show) = self.shown() else {
            return Ok(());
        };
        let made: Vec<NewNotification> = bookings
            .into_iter()
            .map(|(booking, refund)| NewNotification::of_booking(show, kind, booking, refund, now))
            .collect();
        record(tx, &made).await
    }
}
