-- Failed logins, counted per email and per client address over a sliding window to throttle
-- password guessing. Shared by every instance; rows older than the window are pruned as new
-- failures arrive. email_key is the lower-cased email, whether or not such a user exists.

CREATE TABLE login_failures (
    id        TEXT    PRIMARY KEY NOT NULL,
    email_key TEXT    NOT NULL,
    client    TEXT    NOT NULL,                     -- the client's IP address
    failed_at BIGINT  NOT NULL
);
CREATE INDEX login_failures_by_email ON login_failures (email_key, failed_at);
CREATE INDEX login_failures_by_client ON login_failures (client, failed_at);
CREATE INDEX login_failures_by_time ON login_failures (failed_at);
