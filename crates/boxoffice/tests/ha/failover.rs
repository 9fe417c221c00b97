//! Two instances through HAProxy under a bounded load of purchases; the leader's postmaster is
//! killed with SIGKILL, later a planned switchover. Nothing acknowledged is lost, nothing is
//! answered 500, every error is a JSON 503 in time, and both instances write again by themselves.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sqlx::Connection as _;

use crate::cluster::Cluster;
use crate::load::{Journal, Load};
use crate::server::Server;

const INSTANCES: usize = 2;
const WORKERS: usize = 8;
const EVENTS: usize = 4;
const REQUEST_TIMEOUT_MS: u64 = 3000;
/// How long writes must have succeeded everywhere before the next fault.
const QUIET: Duration = Duration::from_secs(2);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs the HA cluster of deploy/ha (CI runs it in its own step)"]
async fn a_leader_crash_and_a_switchover_lose_no_acknowledged_write() {
    let cluster = Cluster::from_env();
    let (url, _) = cluster.fresh_database("failover").await;
    let env = [
        ("DATABASE_URL", url.clone()),
        ("REQUEST_TIMEOUT_MS", REQUEST_TIMEOUT_MS.to_string()),
        ("DATABASE_ACQUIRE_TIMEOUT_MS", "1000".to_owned()),
        ("DATABASE_MAX_CONNECTIONS", "8".to_owned()),
        ("SWEEP_INTERVAL_MS", "500".to_owned()),
    ];
    let mut servers = Vec::new();
    for _ in 0..INSTANCES {
        servers.push(Server::start(&env).await);
    }
    let bases: Vec<String> = servers.iter().map(|s| s.base.clone()).collect();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(REQUEST_TIMEOUT_MS) + crate::load::MARGIN * 2)
        .build()
        .unwrap();

    let mut users = Vec::new();
    for i in 0..WORKERS {
        let body = json!({"name": format!("Buyer {i}"), "email": format!("buyer{i}@example.com"),
                          "password": "securepass123"});
        users.push(created(&client, &bases[0], "/api/users/register", &body).await);
    }
    let mut events = Vec::new();
    for i in 0..EVENTS {
        let body = json!({"name": format!("Flash sale {i}"), "eventDate": "2030-06-15T10:00:00Z",
                          "totalSeats": 100_000});
        events.push(created(&client, &bases[0], "/api/events", &body).await);
    }

    let journal = Arc::new(Journal::default());
    let stop = Arc::new(AtomicBool::new(false));
    let load = Arc::new(Load {
        bases: bases.clone(),
        users,
        events: events.clone(),
        request_timeout: Duration::from_millis(REQUEST_TIMEOUT_MS),
        journal: journal.clone(),
        stop: stop.clone(),
        client: client.clone(),
    });
    let workers: Vec<_> = (0..WORKERS)
        .map(|w| tokio::spawn(load.clone().worker(w)))
        .collect();
    println!(
        "failover test: {INSTANCES} instances, {WORKERS} buyers, HAProxy checks: {}",
        cluster.checks
    );

    quiet(&journal, "the warm-up").await;
    let killed = cluster.script(&["kill-leader"]).await;
    let crash = Instant::now();
    cluster.script(&["wait-healthy", "120"]).await;
    quiet(&journal, "the crash").await;

    let switched = Instant::now();
    let new_leader = cluster.script(&["switchover"]).await;
    cluster.script(&["wait-healthy", "120"]).await;
    quiet(&journal, "the switchover").await;
    let end = Instant::now();

    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        tokio::time::timeout(Duration::from_secs(60), worker)
            .await
            .expect("every buyer stops within a minute")
            .unwrap();
    }

    report(
        &format!("SIGKILL of {killed}'s postmaster"),
        &journal,
        crash,
        switched,
    );
    report(
        &format!("switchover to {new_leader}"),
        &journal,
        switched,
        end,
    );
    every_instance_writes_again(&journal);
    summarize(&journal);
    let violations = journal.violations.lock().unwrap().clone();
    assert!(violations.is_empty(), "broken promises: {violations:#?}");
    check_acknowledged(&cluster, &url, &journal).await;
    for event in &events {
        let inventory = get(
            &client,
            &bases[0],
            &format!("/api/events/{event}/inventory"),
        )
        .await;
        assert_eq!(inventory["data"]["consistent"], true, "{inventory}");
    }
    expiry_works_on_the_new_leader(&client, &bases, &load.users[0], &events[0]).await;
    for server in servers {
        server.stop().await;
    }
}

/// What writes saw between `fault` and `until`, printed for the README's figures: when the
/// fault was felt (the first failed write; patronictl itself takes a while on a busy machine),
/// how long after that the first write begun after it succeeded (for all instances and for
/// each), and when the last failed write ended.
fn report(what: &str, journal: &Journal, fault: Instant, until: Instant) {
    let attempts = journal.attempts.lock().unwrap();
    let window: Vec<_> = attempts
        .iter()
        .filter(|a| a.started >= fault && a.started < until)
        .collect();
    let failures: Vec<_> = window.iter().filter(|a| !a.succeeded()).collect();
    let Some(felt) = failures.iter().map(|a| a.started).min() else {
        println!("{what}: no write failed");
        return;
    };
    let last = failures.iter().map(|a| a.started + a.elapsed).max();
    let first_success = |instance: Option<usize>| {
        window
            .iter()
            .filter(|a| a.succeeded() && a.started >= felt)
            .filter(|a| instance.is_none_or(|i| a.instance == i))
            .map(|a| a.started + a.elapsed)
            .min()
    };
    let secs = |at: Option<Instant>| {
        at.map_or_else(
            || "never".to_owned(),
            |at| format!("{:.2} s", at.saturating_duration_since(felt).as_secs_f64()),
        )
    };
    println!(
        "{what}: felt {:.2} s after the command; first successful write {} after that \
         (per instance: {}); last failed write ended {} after it; {} answers of 503",
        (felt - fault).as_secs_f64(),
        secs(first_success(None)),
        (0..INSTANCES)
            .map(|i| secs(first_success(Some(i))))
            .collect::<Vec<_>>()
            .join(", "),
        secs(last),
        failures.len()
    );
}

/// Waits (at most two minutes) until writes have succeeded on every instance, with no failure,
/// for [`QUIET`]: the previous fault is over for clients too (HAProxy may lead to the new
/// leader well after Patroni has elected it), so that the next one is measured alone.
async fn quiet(journal: &Journal, after: &str) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let now = Instant::now();
        let calm = {
            let attempts = journal.attempts.lock().unwrap();
            let recent = || attempts.iter().filter(|a| a.started + QUIET >= now);
            recent().all(|a| a.succeeded())
                && (0..INSTANCES).all(|i| recent().any(|a| a.instance == i))
                && attempts
                    .iter()
                    .all(|a| a.succeeded() || a.started + a.elapsed + QUIET <= now)
        };
        if calm {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "writes did not settle within 120 s after {after}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every instance wrote successfully after its last failed write: service resumed by itself.
fn every_instance_writes_again(journal: &Journal) {
    let attempts = journal.attempts.lock().unwrap();
    for instance in 0..INSTANCES {
        let mine = attempts.iter().filter(|a| a.instance == instance);
        let last_failure = mine
            .clone()
            .filter(|a| !a.succeeded())
            .map(|a| a.started)
            .max();
        let recovered = mine
            .filter(|a| a.succeeded())
            .any(|a| last_failure.is_none_or(|failed| a.started > failed));
        assert!(
            recovered,
            "instance {instance} wrote nothing after its last failure"
        );
    }
}

fn summarize(journal: &Journal) {
    let mut counts: BTreeMap<(String, u16, String), usize> = BTreeMap::new();
    for a in journal.attempts.lock().unwrap().iter() {
        *counts
            .entry((format!("{:?}", a.step), a.status, a.code.clone()))
            .or_default() += 1;
    }
    println!("answers (step, status, code: count):");
    for ((step, status, code), n) in &counts {
        println!("  {step:8} {status} {code:16} {n}");
    }
    let purchases = journal.purchases.lock().unwrap();
    let paid = purchases.iter().filter(|p| p.paid.is_some()).count();
    println!("{} purchases begun, {paid} paid", purchases.len());
    assert!(
        !counts.keys().any(|(_, status, _)| *status == 500),
        "no answer is a 500"
    );
    assert!(
        counts
            .keys()
            .any(|(step, status, _)| step == "Pay" && *status == 200),
        "the load made payments"
    );
    assert!(
        counts.keys().any(|(_, status, _)| *status == 503),
        "the faults were felt (503s)"
    );
}

/// Every acknowledged hold, booking and payment is in the database, with its status or a later
/// legal one.
async fn check_acknowledged(cluster: &Cluster, url: &str, journal: &Journal) {
    let mut conn = cluster.connect(url).await;
    let purchases = journal.purchases.lock().unwrap().clone();
    let mut checked = 0;
    for p in &purchases {
        let Some(lock) = &p.lock else { continue };
        let lock_status: Option<String> =
            sqlx::query_scalar("SELECT status FROM seat_locks WHERE id = $1")
                .bind(lock)
                .fetch_optional(&mut conn)
                .await
                .unwrap();
        let lock_status = lock_status.unwrap_or_else(|| panic!("acknowledged lock {lock} is lost"));
        assert!(
            ["ACTIVE", "CONSUMED", "EXPIRED"].contains(&lock_status.as_str()),
            "lock {lock}: {lock_status}"
        );
        checked += 1;
        let Some(booking) = &p.booking else { continue };
        let status: Option<String> =
            sqlx::query_scalar("SELECT status FROM bookings WHERE id = $1")
                .bind(booking)
                .fetch_optional(&mut conn)
                .await
                .unwrap();
        let status = status.unwrap_or_else(|| panic!("acknowledged booking {booking} is lost"));
        checked += 1;
        match p.paid {
            Some("CONFIRMED") => {
                assert_eq!(status, "CONFIRMED", "paid booking {booking}");
                assert_eq!(lock_status, "CONSUMED", "lock of paid booking {booking}");
            }
            Some(_) => {
                assert_eq!(status, "FAILED", "failed booking {booking}");
                assert_eq!(lock_status, "EXPIRED", "lock of failed booking {booking}");
            }
            None => assert!(
                ["PAYMENT_PENDING", "CONFIRMED", "FAILED"].contains(&status.as_str()),
                "booking {booking}: {status}"
            ),
        }
    }
    conn.close().await.ok();
    println!("{checked} acknowledged holds and bookings found in the database, none lost");
}

/// The sweeper runs on the new leader: a hold shortened to one second expires by itself.
async fn expiry_works_on_the_new_leader(
    client: &reqwest::Client,
    bases: &[String],
    user: &str,
    event: &str,
) {
    let body = json!({"eventId": event, "userId": user, "seats": 1, "idempotencyKey": "expiry"});
    let lock = created(client, &bases[1], "/api/locks", &body).await;
    let shortened = client
        .post(format!("{}/api/locks/{lock}/extend", bases[0]))
        .json(&json!({"seconds": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(shortened.status(), 200);
    for _ in 0..100 {
        let read = get(client, &bases[0], &format!("/api/locks/{lock}")).await;
        if read["data"]["status"] == "EXPIRED" {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("a lapsed hold was not expired by the sweeper after the failovers");
}

async fn created(client: &reqwest::Client, base: &str, path: &str, body: &Value) -> String {
    for _ in 0..50 {
        let response = client
            .post(format!("{base}{path}"))
            .json(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let reply: Value = response.json().await.unwrap();
        if status == 201 {
            return reply["data"]["_id"].as_str().unwrap().to_owned();
        }
        assert_eq!(status, 503, "{path}: {reply}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{path} kept failing")
}

async fn get(client: &reqwest::Client, base: &str, path: &str) -> Value {
    let response = client.get(format!("{base}{path}")).send().await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}
