//! Black-box tests: the real server over real HTTP against a real database, on SQLite and on
//! PostgreSQL. One test binary, so the crate links once.

mod harness;
mod pg_cluster;
mod process;
mod receiver;

mod authentication;
mod authorization;
mod batching;
mod cancellation;
mod commit_outcome;
mod concurrency;
mod connections;
mod crash_and_scale;
mod dates;
mod description_modes;
mod docs_and_metrics;
mod event_changes;
mod event_started;
mod expiry;
mod fuzz;
mod hold_changes;
mod honest_timeouts;
mod idempotency;
mod idempotency_header;
mod identities;
mod import_mongo;
mod json_everywhere;
mod jwt_flow;
mod listing;
mod notification_crash;
mod notifications;
mod outage;
mod protection;
mod replica_reads;
mod search;
mod seating;
mod seating_races;
mod seatmap_browser;
mod seed_flow;
mod sessions;
mod startup;
mod time_rules;
mod validation;
mod webhook_writes;
mod webhooks;
