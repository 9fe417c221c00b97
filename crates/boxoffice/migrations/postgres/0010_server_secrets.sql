-- Secrets every instance on this database shares, made by the first instance that needs one
-- and never changed: 'cursor' seals the cursors of paged lists (README, "Bounds at the edge"),
-- so that a cursor issued by one instance is good on every other one, and after restarts.

CREATE TABLE server_secrets (
    name   TEXT NOT NULL PRIMARY KEY,
    secret TEXT NOT NULL            -- 64 hex digits
);
