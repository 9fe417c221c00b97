//! High availability on PostgreSQL (CONTRACT.md, "High availability on PostgreSQL", rule 8),
//! against the Patroni + etcd + HAProxy cluster of `deploy/ha/`. These tests need that cluster,
//! so they are `#[ignore]`d in the ordinary suite; CI's own step runs them (see `.ci/run`):
//!
//! ```sh
//! deploy/ha/cluster start fast && source /tmp/boxoffice-ha/env
//! cargo test -p boxoffice --test ha -- --ignored --nocapture --test-threads 1
//! deploy/ha/cluster checks example   # Patroni's example HAProxy timing; run the test again
//! deploy/ha/cluster stop
//! ```

mod cluster;
mod failover;
mod load;
mod replica;
mod server;
