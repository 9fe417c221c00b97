-- Identities and names as people read them, and sessions that end with their credentials
-- (issue 9; CONTRACT.md rule 10, the listing's `q`, "Tokens end with their credentials").
--
-- Unicode case folding and normalisation cannot be computed in SQL on both databases, so the
-- keys are computed by the server (domain/folding.rs) and stored. Rows written before this
-- migration are re-keyed once, at start-up, before the server serves (store/sql/rekey.rs).

-- email_key becomes NFC(full case fold(NFD(email))); it was the lower-cased email. Rows keyed
-- the old way are marked until start-up re-keys them.
ALTER TABLE users ADD COLUMN email_key_pending INTEGER NOT NULL DEFAULT 0;
UPDATE users SET email_key_pending = 1;
CREATE INDEX users_email_key_pending ON users (id) WHERE email_key_pending = 1;

-- Raised whenever the user's password or role changes, or the user logs out everywhere; a
-- login token carries the value it was issued under and is refused once it is lower.
ALTER TABLE users ADD COLUMN credentials_version INTEGER NOT NULL DEFAULT 0;

-- The event's name as the search compares it: NFC(full case fold(NFD(name))). NULL until
-- start-up computes it for rows written before this migration.
ALTER TABLE events ADD COLUMN name_key TEXT;
CREATE INDEX events_name_key_pending ON events (id) WHERE name_key IS NULL;

-- `q` matches a substring of name_key, which no b-tree can serve. An FTS5 trigram index can: it
-- answers `name_key GLOB '*…*'` from the trigrams of the pattern's literal runs (SQLite then
-- re-checks each candidate). It follows the events table through these triggers; holds and
-- payments, which never change a name, never fire them.
CREATE VIRTUAL TABLE events_name_trigrams USING fts5(
    name_key, content = 'events', content_rowid = 'rowid', tokenize = 'trigram case_sensitive 1'
);
CREATE TRIGGER events_name_trigrams_insert AFTER INSERT ON events BEGIN
    INSERT INTO events_name_trigrams (rowid, name_key) VALUES (new.rowid, new.name_key);
END;
CREATE TRIGGER events_name_trigrams_update AFTER UPDATE OF name_key ON events BEGIN
    INSERT INTO events_name_trigrams (events_name_trigrams, rowid, name_key)
        VALUES ('delete', old.rowid, old.name_key);
    INSERT INTO events_name_trigrams (rowid, name_key) VALUES (new.rowid, new.name_key);
END;
CREATE TRIGGER events_name_trigrams_delete AFTER DELETE ON events BEGIN
    INSERT INTO events_name_trigrams (events_name_trigrams, rowid, name_key)
        VALUES ('delete', old.rowid, old.name_key);
END;
