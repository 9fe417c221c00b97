//! Black-box tests: the real server over real HTTP against a real database, on SQLite and on
//! PostgreSQL. One test binary, so the crate links once.

mod harness;

mod cancellation;
mod concurrency;
mod event_changes;
mod hold_changes;
mod idempotency;
mod listing;
mod seed_flow;
mod time_rules;
mod validation;
