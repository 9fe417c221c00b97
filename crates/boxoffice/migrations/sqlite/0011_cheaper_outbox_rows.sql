-- A notification row costs fewer index inserts inside the write lock the holds queue for
-- (docs/performance.md, "Notifications (issue 14)"):
-- - `notifications_by_type` serves only the feed's type filter, which reads numbered rows
--   (`sequence > $after`, a comparison that implies `sequence IS NOT NULL`, so SQLite uses the
--   partial index): the writer of a notification (sequence NULL) no longer touches it; the
--   sequencer adds the entry when it numbers the row.
-- - `notifications_by_time` goes: pruning walks `position` order from the oldest row
--   (store/sql/notifications/feed.rs).
-- The `sequence UNIQUE` column constraint stays: SQLite cannot drop it without rebuilding the
-- table, which webhook_deliveries and webhook_attempts reference by foreign key (enforced:
-- PRAGMA foreign_keys = ON), and migrations run inside a transaction, where that pragma cannot
-- be turned off; a rebuild was not proven safe on a database with deliveries, so it is not done.
DROP INDEX notifications_by_type;
CREATE INDEX notifications_by_type ON notifications (type, sequence) WHERE sequence IS NOT NULL;
DROP INDEX notifications_by_time;
