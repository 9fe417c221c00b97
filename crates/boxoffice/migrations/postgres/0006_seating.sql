-- Reserved seating (CONTRACT.md, "Reserved seating"; issue 11).
--
-- A seated event keeps its chart as JSON (the shape POST /api/events takes) and has one row
-- per seat in `seats`. A seat is taken by a conditional write on its row (status = 'FREE')
-- in the transaction that writes the lock, and the event's counter moves in that same
-- transaction. A seat row names at most one lock, the one holding it: the primary key
-- (event_id, seat_index) with a single lock_id column is the constraint that a seat is never
-- in two ACTIVE or CONSUMED locks, and the CHECK ties the status to the lock.

ALTER TABLE events ADD COLUMN seating_chart TEXT;       -- NULL: general admission
ALTER TABLE events ADD COLUMN price BIGINT;             -- minor units per seat (general admission)
ALTER TABLE events ADD COLUMN currency TEXT;            -- three capital letters, with a price

CREATE TABLE seats (
    event_id   TEXT    NOT NULL REFERENCES events (id),
    seat_index BIGINT  NOT NULL CHECK (seat_index >= 0),  -- position in chart order
    label      TEXT    NOT NULL,                        -- section-row-number
    status     TEXT    NOT NULL CHECK (status IN ('FREE', 'HELD', 'PENDING_PAYMENT', 'SOLD', 'BLOCKED')),
    lock_id    TEXT    REFERENCES seat_locks (id),      -- the ACTIVE or CONSUMED lock holding it
    PRIMARY KEY (event_id, seat_index),
    CHECK ((lock_id IS NULL) = (status IN ('FREE', 'BLOCKED')))
);
-- Every release path frees "the seats of this lock": found through this index.
CREATE INDEX seats_by_lock ON seats (lock_id) WHERE lock_id IS NOT NULL;

-- What a hold on a seated event got and asked for. seat_labels: a JSON array in chart order;
-- seat_request: the request's canonical JSON (its labels, or its bestAvailable), so that a
-- repeated idempotency key with another request is told apart from a replay.
ALTER TABLE seat_locks ADD COLUMN seat_labels TEXT;
ALTER TABLE seat_locks ADD COLUMN seat_request TEXT;
ALTER TABLE seat_locks ADD COLUMN next_to_each_other BIGINT;  -- 1/0, best available only
ALTER TABLE seat_locks ADD COLUMN amount BIGINT;              -- sum of the seats' prices
ALTER TABLE seat_locks ADD COLUMN currency TEXT;

-- A booking shows its lock's seats and price, copied when the lock is confirmed.
ALTER TABLE bookings ADD COLUMN seat_labels TEXT;
ALTER TABLE bookings ADD COLUMN amount BIGINT;
ALTER TABLE bookings ADD COLUMN currency TEXT;
