-- Failed logins are counted per (email, client address) and per client address, never per
-- email alone, so that an attacker's guesses lock only the attacker out of an account.

DROP INDEX login_failures_by_email;
CREATE INDEX login_failures_by_client_and_email ON login_failures (client, email_key, failed_at);
