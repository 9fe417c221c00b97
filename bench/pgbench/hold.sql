-- What one seat hold costs PostgreSQL without batching: one transaction that takes a seat with
-- the conditional UPDATE and writes the lock row, as crates/boxoffice/src/store/sql.rs does
-- (minus its three reads: the idempotency-key lookup, the event and the user).
-- Variables from run.sh: :event (the hot event's id), :user (a user's id).
-- The lock id and idempotency key are random 24-hex strings (like the server's ObjectIds);
-- times are milliseconds since the epoch, as in the schema.
\set lock_ttl_ms 300000
BEGIN;
UPDATE events SET available_seats = available_seats - 1,
                  updated_at = (extract(epoch FROM clock_timestamp()) * 1000)::bigint
 WHERE id = :event AND available_seats >= 1;
INSERT INTO seat_locks (id, event_id, user_id, seats, status, expires_at, idempotency_key,
                        booking_id, created_at, updated_at)
SELECT id, :event, :user, 1, 'ACTIVE', now_ms + :lock_ttl_ms, 'pgbench-' || id, NULL, now_ms, now_ms
  FROM (SELECT left(md5(random()::text || clock_timestamp()::text), 24) AS id,
               (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS now_ms) AS fresh
ON CONFLICT (user_id, idempotency_key) DO NOTHING;
END;
