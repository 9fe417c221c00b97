//! Measures what must not grow with the table: the sweeper draining lapsed holds, and lookups of
//! one hold or booking over HTTP. Seeds an empty database in bulk, then times the real code.
//!
//! ```sh
//! cargo run --release --example scale -- --url sqlite:///tmp/scale.db --rows 1000000 --lapsed 100000
//! ```
//! `--rows` settled holds (half of them paid bookings) make the table big; `--lapsed` ACTIVE holds
//! whose time is up are what the sweeper must drain. Prints one Markdown table row.

use std::time::{Duration, Instant};

use boxoffice::app::Application;
use boxoffice::config::Cli;
use boxoffice::domain::{NewEvent, ObjectId, Timestamp};
use boxoffice::store::{SqlStore, Store};
use boxoffice::sweeper;
use clap::Parser as _;
use sqlx::{AnyPool, AssertSqlSafe};

const CHUNK: usize = 1000;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let url = value("--url").expect("--url DATABASE_URL of an empty database");
    let rows: usize = value("--rows").map_or(Ok(10_000), |v| v.parse())?;
    let lapsed: usize = value("--lapsed").map_or(Ok(1_000), |v| v.parse())?;
    let lookups: usize = value("--lookups").map_or(Ok(2_000), |v| v.parse())?;

    let cli = Cli::parse_from([
        "boxoffice",
        "--database-url",
        &url,
        "--port",
        "0",
        "--log",
        "warn",
        "--sweep-interval-ms",
        "3600000",
    ]);
    let store = SqlStore::connect(&url, &boxoffice::app::pool_settings(&cli.config)).await?;
    let now = Timestamp::now();
    let user = store
        .register_user(
            boxoffice::domain::NewUser {
                name: "Scale".into(),
                email: format!("scale-{}@example.com", ObjectId::generate()),
                role: boxoffice::domain::Role::User,
                password_hash: "not-a-hash".into(),
            },
            now,
        )
        .await?;
    let total = (rows + lapsed) as i64;
    let event = store
        .create_event(
            NewEvent {
                name: "Scale".into(),
                description: String::new(),
                event_date: now.plus_seconds(86_400 * 365),
                total_seats: total,
                available_seats: total,
                seating: None,
                price: None,
            },
            now,
        )
        .await?;

    let seeding = Instant::now();
    let pool: AnyPool = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await?;
    let (lock_ids, booking_ids) = seed(&pool, &event.id, &user.id, rows, lapsed, now).await?;
    let seeded = seeding.elapsed();

    // The sweeper, exactly as the server runs it, on a table of `rows + lapsed` holds.
    let sweep = sweeper::sweep(&store, Timestamp::now(), None).await?;
    let inventory = store.inventory(event.id).await?.expect("the event");
    assert!(inventory.is_consistent(), "{inventory:?}");
    assert_eq!(sweep.expired.locks as usize, lapsed);
    store.close().await;

    // Lookups over HTTP against the same database.
    let app = Application::build(&cli.config).await?;
    let base = format!("http://{}", app.local_addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::new();
    let lock_latency = time_gets(&client, &base, "locks", &lock_ids, lookups).await?;
    let booking_latency = time_gets(&client, &base, "bookings", &booking_ids, lookups).await?;
    let _ = stop.send(());
    server.await??;

    println!(
        "| {} | {} | {} | {:.1} s | {:.0} ms | {} | {:.0} ms | {} | {} | {} | {} |",
        if url.starts_with("sqlite") {
            "SQLite"
        } else {
            "PostgreSQL"
        },
        rows + lapsed,
        lapsed,
        seeded.as_secs_f64(),
        sweep.elapsed.as_secs_f64() * 1000.0,
        sweep.batches,
        sweep.longest_batch.as_secs_f64() * 1000.0,
        micros(lock_latency.0),
        micros(lock_latency.1),
        micros(booking_latency.0),
        micros(booking_latency.1),
    );
    Ok(())
}

fn micros(d: Duration) -> String {
    format!("{} µs", d.as_micros())
}

/// `rows` settled holds (every other one a paid booking), then `lapsed` ACTIVE holds whose time
/// is up; the event's counter is set to match, so the inventory stays consistent.
async fn seed(
    pool: &AnyPool,
    event: &ObjectId,
    user: &ObjectId,
    rows: usize,
    lapsed: usize,
    now: Timestamp,
) -> anyhow::Result<(Vec<String>, Vec<String>)> {
    let past = now.millis() - 60_000;
    let mut lock_ids = Vec::new();
    let mut booking_ids = Vec::new();
    let mut confirmed = 0i64;
    let mut index = 0usize;
    while index < rows + lapsed {
        let end = (index + CHUNK).min(rows + lapsed);
        let mut locks = Vec::new();
        let mut bookings = Vec::new();
        for i in index..end {
            let id = ObjectId::generate().to_string();
            let (status, booking) = if i >= rows {
                ("ACTIVE", None)
            } else if i % 2 == 0 {
                confirmed += 1;
                ("CONSUMED", Some(ObjectId::generate().to_string()))
            } else {
                ("EXPIRED", None)
            };
            let booking_sql = booking
                .as_ref()
                .map_or("NULL".to_owned(), |b| format!("'{b}'"));
            locks.push(format!(
                "('{id}', '{event}', '{user}', 1, '{status}', {past}, 'k{i}', {booking_sql}, {past}, {past})"
            ));
            if let Some(booking) = booking {
                bookings.push(format!(
                    "('{booking}', '{user}', '{event}', 1, 'CONFIRMED', '{id}', {past}, {past}, {past})"
                ));
                if booking_ids.len() < 100_000 {
                    booking_ids.push(booking);
                }
            }
            if lock_ids.len() < 100_000 {
                lock_ids.push(id);
            }
        }
        let mut tx = pool.begin().await?;
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO seat_locks (id, event_id, user_id, seats, status, expires_at, \
             idempotency_key, booking_id, created_at, updated_at) VALUES {}",
            locks.join(", ")
        )))
        .execute(&mut *tx)
        .await?;
        if !bookings.is_empty() {
            sqlx::query(AssertSqlSafe(format!(
                "INSERT INTO bookings (id, user_id, event_id, seats, status, seat_lock_id, \
                 payment_expires_at, created_at, updated_at) VALUES {}",
                bookings.join(", ")
            )))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        index = end;
    }
    let available = (rows + lapsed) as i64 - confirmed - lapsed as i64;
    sqlx::query(AssertSqlSafe(format!(
        "UPDATE events SET available_seats = {available} WHERE id = '{event}'"
    )))
    .execute(pool)
    .await?;
    if pool
        .connect_options()
        .database_url
        .scheme()
        .starts_with("postgres")
    {
        sqlx::query("ANALYZE").execute(pool).await?;
    }
    Ok((lock_ids, booking_ids))
}

/// Sequential GETs of random ids: (p50, p99).
async fn time_gets(
    client: &reqwest::Client,
    base: &str,
    resource: &str,
    ids: &[String],
    count: usize,
) -> anyhow::Result<(Duration, Duration)> {
    let mut samples = Vec::with_capacity(count);
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..count {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let id = &ids[(seed % ids.len() as u64) as usize];
        let started = Instant::now();
        let response = client
            .get(format!("{base}/api/{resource}/{id}"))
            .send()
            .await?;
        anyhow::ensure!(
            response.status() == 200,
            "GET {resource}/{id}: {}",
            response.status()
        );
        response.bytes().await?;
        samples.push(started.elapsed());
    }
    samples.sort();
    Ok((samples[count / 2], samples[count * 99 / 100]))
}
