-- Idempotency-Key headers (CONTRACT.md, "Retrying any write"). A row is claimed before its
-- request runs (answer NULL, a lease against crashes) and completed, in the same transaction
-- as the request's change, with the status and body that were answered. Kept 24 hours, then
-- pruned by the sweeper. scope is the token's user in jwt mode, '' for the key alone.

CREATE TABLE idempotency_keys (
    scope           TEXT    NOT NULL,
    idempotency_key TEXT    NOT NULL,
    fingerprint     TEXT    NOT NULL,               -- SHA-256 of method, path and body, hex
    claim_token     TEXT    NOT NULL,               -- the run that may complete the row
    lease_until     BIGINT  NOT NULL,
    answer_status   BIGINT,                         -- NULL while the first request runs
    answer_body     TEXT,
    created_at      BIGINT  NOT NULL,
    PRIMARY KEY (scope, idempotency_key)
);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
