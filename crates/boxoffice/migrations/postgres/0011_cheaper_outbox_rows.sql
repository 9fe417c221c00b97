-- A notification row costs fewer index inserts per hold (docs/performance.md,
-- "Notifications (issue 14)"):
-- - `sequence` stays unique once numbered, but through a partial unique index: the writer of
--   a notification (sequence NULL) no longer inserts into it; the sequencer does when it
--   numbers the row. Every query on `sequence` compares it (`sequence > $1`), which implies
--   `sequence IS NOT NULL`, so the planner uses the partial index.
-- - `notifications_by_type` serves only the feed's type filter, which reads numbered rows: partial
--   in the same way.
-- - `notifications_by_time` goes: pruning walks `position` order from the oldest row
--   (store/sql/notifications/feed.rs).
ALTER TABLE notifications DROP CONSTRAINT notifications_sequence_key;
CREATE UNIQUE INDEX notifications_by_sequence ON notifications (sequence)
    WHERE sequence IS NOT NULL;
DROP INDEX notifications_by_type;
CREATE INDEX notifications_by_type ON notifications (type, sequence) WHERE sequence IS NOT NULL;
DROP INDEX notifications_by_time;
