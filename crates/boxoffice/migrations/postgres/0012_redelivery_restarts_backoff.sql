-- A redeliver starts the retry schedule afresh (README, "Notifications"): the backoff after a
-- failure counts the attempts made since the delivery was last queued, while `attempts` keeps
-- counting every attempt (it numbers them in webhook_attempts, so no number repeats).
-- `attempts_at_queue` is `attempts` as it was when the delivery was queued: 0 when the
-- sequencer made it, the attempts so far when a redeliver queued it again.
ALTER TABLE webhook_deliveries ADD COLUMN attempts_at_queue BIGINT NOT NULL DEFAULT 0;
