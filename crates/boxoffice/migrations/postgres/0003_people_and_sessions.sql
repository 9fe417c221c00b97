-- Identities and names as people read them, and sessions that end with their credentials
-- (issue 9; CONTRACT.md rule 10, the listing's `q`, "Tokens end with their credentials").
--
-- Unicode case folding and normalisation are computed by the server (domain/folding.rs), not by
-- lower() or the database's collation, so that the answer does not depend on the locale the
-- database was created with (in the C locale, lower('É') is 'É'). The keys are stored; rows
-- written before this migration are re-keyed once, at start-up, before the server serves.

-- email_key becomes NFC(full case fold(NFD(email))); it was the lower-cased email. Rows keyed
-- the old way are marked until start-up re-keys them.
ALTER TABLE users ADD COLUMN email_key_pending SMALLINT NOT NULL DEFAULT 0;
UPDATE users SET email_key_pending = 1;
CREATE INDEX users_email_key_pending ON users (id) WHERE email_key_pending = 1;

-- Raised whenever the user's password or role changes, or the user logs out everywhere; a
-- login token carries the value it was issued under and is refused once it is lower.
ALTER TABLE users ADD COLUMN credentials_version BIGINT NOT NULL DEFAULT 0;

-- The event's name as the search compares it: NFC(full case fold(NFD(name))). NULL until
-- start-up computes it for rows written before this migration.
ALTER TABLE events ADD COLUMN name_key TEXT;
CREATE INDEX events_name_key_pending ON events (id) WHERE name_key IS NULL;

-- `q` matches a substring of name_key (`name_key LIKE '%…%'`), which no b-tree can serve. A
-- trigram GIN index can: pg_trgm extracts the trigrams of the pattern's literal text and the
-- index returns the rows that have them all, which PostgreSQL then re-checks. pg_trgm ships
-- with PostgreSQL (contrib) and is a trusted extension: a role with CREATE on the database may
-- create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX events_name_key_trigrams ON events USING gin (name_key gin_trgm_ops);
