//! Black-box tests: the real server over real HTTP against a real database, on SQLite and on
//! PostgreSQL. One test binary, so the crate links once.

mod harness;

mod authentication;
mod authorization;
mod concurrency;
mod idempotency;
mod jwt_flow;
mod protection;
mod seed_flow;
mod startup;
mod time_rules;
mod validation;
