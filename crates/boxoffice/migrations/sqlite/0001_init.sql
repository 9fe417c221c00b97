-- Times are milliseconds since the Unix epoch (UTC); ids are 24 lowercase hex characters.
-- No job ever deletes a lock or a booking: statuses record what happened.

CREATE TABLE users (
    id            TEXT    PRIMARY KEY NOT NULL,
    name          TEXT    NOT NULL,
    email         TEXT    NOT NULL,
    email_key     TEXT    NOT NULL UNIQUE,          -- lower-cased: emails are unique case-insensitively
    password_hash TEXT    NOT NULL,                 -- Argon2id PHC string, never a password
    role          TEXT    NOT NULL CHECK (role IN ('user', 'admin')),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

CREATE TABLE events (
    id              TEXT    PRIMARY KEY NOT NULL,
    name            TEXT    NOT NULL,
    description     TEXT    NOT NULL DEFAULT '',
    event_date      INTEGER NOT NULL,
    total_seats     INTEGER NOT NULL CHECK (total_seats >= 1),
    available_seats INTEGER NOT NULL CHECK (available_seats >= 0),
    withheld_seats  INTEGER NOT NULL DEFAULT 0 CHECK (withheld_seats >= 0),
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX events_by_date ON events (event_date, id);

CREATE TABLE seat_locks (
    id              TEXT    PRIMARY KEY NOT NULL,
    event_id        TEXT    NOT NULL REFERENCES events (id),
    user_id         TEXT    NOT NULL REFERENCES users (id),
    seats           INTEGER NOT NULL CHECK (seats >= 1),
    status          TEXT    NOT NULL CHECK (status IN ('ACTIVE', 'EXPIRED', 'CONSUMED')),
    expires_at      INTEGER NOT NULL,
    idempotency_key TEXT    NOT NULL,
    booking_id      TEXT,                           -- set when the lock is confirmed
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    UNIQUE (user_id, idempotency_key)               -- idempotency keys are per user
);
-- What the sweeper scans: its cost follows the lapsed rows, not the table.
CREATE INDEX seat_locks_lapsing ON seat_locks (expires_at)
    WHERE status = 'ACTIVE' AND booking_id IS NULL;
CREATE INDEX seat_locks_by_event ON seat_locks (event_id, status, expires_at);

CREATE TABLE bookings (
    id                 TEXT    PRIMARY KEY NOT NULL,
    user_id            TEXT    NOT NULL REFERENCES users (id),
    event_id           TEXT    NOT NULL REFERENCES events (id),
    seats              INTEGER NOT NULL CHECK (seats >= 1),
    status             TEXT    NOT NULL CHECK (status IN
                           ('INITIATED', 'PAYMENT_PENDING', 'CONFIRMED', 'FAILED', 'EXPIRED', 'CANCELLED')),
    seat_lock_id       TEXT    NOT NULL UNIQUE REFERENCES seat_locks (id),  -- one booking per lock
    payment_expires_at INTEGER NOT NULL,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
);
CREATE INDEX bookings_lapsing ON bookings (payment_expires_at) WHERE status = 'PAYMENT_PENDING';
CREATE INDEX bookings_by_event ON bookings (event_id, status, payment_expires_at);
CREATE INDEX bookings_by_user ON bookings (user_id, id);

CREATE TABLE payments (
    id         TEXT    PRIMARY KEY NOT NULL,
    booking_id TEXT    NOT NULL REFERENCES bookings (id),
    outcome    TEXT    NOT NULL CHECK (outcome IN ('SUCCESS', 'FAILED', 'TIMEOUT', 'REFUND')),
    created_at INTEGER NOT NULL
);
CREATE INDEX payments_by_booking ON payments (booking_id);
