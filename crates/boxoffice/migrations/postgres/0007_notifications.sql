-- Notifications (CONTRACT.md, "Notifications: webhooks and the feed"): the outbox and the
-- feed, the webhook endpoints, and the deliveries to them. Times are epoch milliseconds.

-- One row per state change, inserted in the change's own transaction (the outbox). `position`
-- is the insertion order; `sequence` stays NULL until the sequencer numbers the row after
-- its change committed (see store/sql/notifications.rs for why numbers are given then, and
-- never inside the change's transaction). The feed shows only numbered rows.
CREATE TABLE notifications (
    position     BIGSERIAL PRIMARY KEY,
    id           TEXT    NOT NULL UNIQUE,           -- the webhook-id of every delivery of it
    sequence     BIGINT  UNIQUE,                    -- gap-free, in commit order, once numbered
    type         TEXT    NOT NULL,                  -- event.created, lock.created, …
    ordering_key TEXT    NOT NULL,                  -- the purchase (lock id) or the event id
    data         TEXT    NOT NULL,                  -- the resource as GET showed it, as JSON
    created_at   BIGINT  NOT NULL
);
CREATE INDEX notifications_unsequenced ON notifications (position) WHERE sequence IS NULL;
CREATE INDEX notifications_by_type ON notifications (type, sequence);
CREATE INDEX notifications_by_time ON notifications (created_at);

-- The last sequence number given. Only the sequencer writes it, under its row lock, so
-- sequencers on several instances take turns and never give one number twice; writers of
-- notifications never touch it.
CREATE TABLE notification_sequencer (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    last_sequence BIGINT  NOT NULL
);
INSERT INTO notification_sequencer (id, last_sequence) VALUES (1, 0);

CREATE TABLE webhook_endpoints (
    id                    TEXT    PRIMARY KEY NOT NULL,
    url                   TEXT    NOT NULL,
    types                 TEXT    NOT NULL,         -- comma-separated; '' means every type
    description           TEXT    NOT NULL DEFAULT '',
    secret                TEXT    NOT NULL,         -- whsec_…: needed to sign, so not hashed
    previous_secret       TEXT,                     -- also signs until previous_secret_until
    previous_secret_until BIGINT,
    created_at            BIGINT  NOT NULL,
    updated_at            BIGINT  NOT NULL,
    deleted_at            BIGINT                    -- deleted endpoints get nothing more
);

-- One row per notification and endpoint, made when the notification is numbered.
CREATE TABLE webhook_deliveries (
    id              BIGSERIAL PRIMARY KEY,
    endpoint_id     TEXT    NOT NULL REFERENCES webhook_endpoints (id),
    notification_id TEXT    NOT NULL REFERENCES notifications (id),
    sequence        BIGINT  NOT NULL,
    ordering_key    TEXT    NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts        BIGINT  NOT NULL DEFAULT 0,
    queued_at       BIGINT  NOT NULL,               -- the retry window counts from here
    next_attempt_at BIGINT  NOT NULL,
    leased_until    BIGINT  NOT NULL DEFAULT 0,     -- in flight from one instance until then
    finished_at     BIGINT,
    UNIQUE (endpoint_id, notification_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_in_order ON webhook_deliveries (endpoint_id, ordering_key, sequence)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (endpoint_id, status, sequence);
CREATE INDEX webhook_deliveries_by_notification ON webhook_deliveries (notification_id);

-- Every attempt, for GET /api/webhooks/:id/deliveries.
CREATE TABLE webhook_attempts (
    id              TEXT    PRIMARY KEY NOT NULL,
    endpoint_id     TEXT    NOT NULL REFERENCES webhook_endpoints (id),
    notification_id TEXT    NOT NULL REFERENCES notifications (id),
    attempt         BIGINT  NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('delivered', 'failed', 'dead')),
    http_status     BIGINT,
    error           TEXT,
    at              BIGINT  NOT NULL
);
CREATE INDEX webhook_attempts_by_endpoint ON webhook_attempts (endpoint_id, id);
CREATE INDEX webhook_attempts_by_notification ON webhook_attempts (notification_id);
