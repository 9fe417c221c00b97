//! The hold path without HTTP: how many one-seat holds the hold queue and the store grant on
//! one hot event when `clients` tasks each send the next hold as soon as the last is answered
//! (what `boxoffice-bench --scenario hot-lock` does over HTTP). The difference between the two
//! is what the HTTP layer costs; this figure is the store's own ceiling on this machine
//! (docs/performance.md, "Where the hot path's time goes").
//!
//! ```sh
//! cargo build --release --example holds_alone
//! target/release/examples/holds_alone sqlite:///tmp/holds-alone.db 64 10
//! target/release/examples/holds_alone postgres://postgres@127.0.0.1:55432/holds_alone 64 10
//! ```
//!
//! Arguments: a `DATABASE_URL` (a fresh database: 64 users and one event are created), the
//! number of clients (64), the duration in seconds (10). Notifications are written as the
//! server writes them (the outbox rows are part of every hold), unless `OUTBOX=off` is in the
//! environment (then none are: what the outbox costs the hold path). Prints holds/s, the number of
//! batch transactions and their mean size, and checks that the event's counter went down by
//! exactly the seats granted.

use std::sync::Arc;
use std::time::{Duration, Instant};

use boxoffice::domain::{LockRequest, NewEvent, NewUser, ObjectId, Role, Timestamp};
use boxoffice::holds::HoldQueue;
use boxoffice::http::NotificationViews;
use boxoffice::store::{PoolSettings, SqlStore, Store};

const SEATS: i64 = 1_000_000;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .ok_or_else(|| anyhow::anyhow!("usage: holds_alone DATABASE_URL [CLIENTS] [SECONDS]"))?;
    let clients: usize = args.next().map_or(Ok(64), |n| n.parse())?;
    let seconds: u64 = args.next().map_or(Ok(10), |n| n.parse())?;
    let settings = PoolSettings {
        max_connections: 16,
        acquire_timeout: Duration::from_secs(30),
    };
    let store = SqlStore::connect(&url, &settings).await?;
    if std::env::var("OUTBOX").as_deref() != Ok("off") {
        store.record_notifications(Arc::new(NotificationViews));
    }
    let store = Arc::new(store);

    let now = Timestamp::now();
    let mut users = Vec::new();
    for i in 0..64 {
        let user = NewUser {
            name: format!("Client {i}"),
            email: format!("client-{i}@example.com"),
            role: Role::User,
            password_hash: "not a hash".to_owned(),
        };
        users.push(store.register_user(user, now).await?.id);
    }
    let event = NewEvent {
        name: "Hot".to_owned(),
        description: String::new(),
        event_date: now.plus_seconds(86_400),
        total_seats: SEATS,
        available_seats: SEATS,
        seating: None,
        price: None,
    };
    let event = store.create_event(event, now).await?.id;

    let queue = Arc::new(HoldQueue::new(store.clone(), true));
    let duration = Duration::from_secs(seconds);
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|client| {
            let (queue, user) = (queue.clone(), users[client % users.len()]);
            tokio::spawn(hold_until(queue, event, user, client, started + duration))
        })
        .collect();
    let mut granted = 0;
    for task in tasks {
        granted += task.await??;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let batches = queue.batches_run();
    println!(
        "{granted} holds in {elapsed:.2} s: {:.0} holds/s, {batches} batches of {:.1} on average",
        granted as f64 / elapsed,
        granted as f64 / batches.max(1) as f64
    );
    let left = store.event(event).await?.map(|event| event.available_seats);
    anyhow::ensure!(
        left == Some(SEATS - granted as i64),
        "the counter says {left:?} seats left, expected {}",
        SEATS - granted as i64
    );
    store.close().await;
    Ok(())
}

/// One client: one-seat holds with unique keys until `until`; how many it was granted.
async fn hold_until(
    queue: Arc<HoldQueue>,
    event: ObjectId,
    user: ObjectId,
    client: usize,
    until: Instant,
) -> anyhow::Result<u64> {
    let mut granted = 0;
    while Instant::now() < until {
        let now = Timestamp::now();
        let request = LockRequest {
            event_id: event,
            user_id: user,
            seats: 1,
            idempotency_key: format!("client-{client}-{granted}"),
            selection: Default::default(),
            now,
            expires_at: now.plus_seconds(3600),
        };
        let outcome = queue.hold(request).await?;
        anyhow::ensure!(!outcome.replayed, "a unique key was replayed");
        granted += 1;
    }
    Ok(granted)
}
