//! `DATABASE_REPLICA_URL` on a real streaming replica (HAProxy's replica port): with replay
//! paused on every replica, public reads are stale and a user's own reads are not.

use std::time::Duration;

use serde_json::{Value, json};
use sqlx::Connection as _;

use crate::cluster::Cluster;
use crate::server::Server;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the HA cluster of deploy/ha (CI runs it in its own step)"]
async fn with_replay_paused_public_reads_are_stale_and_a_users_own_reads_are_not() {
    let cluster = Cluster::from_env();
    let (url, replica_url) = cluster.fresh_database("replica").await;
    // The new database reaches the replicas a moment after CREATE DATABASE; until then a
    // connection through the replica port fails, and the server would (rightly) leave the
    // replica alone for a few seconds and read from the leader.
    assert!(
        replicas_serve(&replica_url).await,
        "the new database reaches the replicas"
    );
    let server =
        Server::start(&[("DATABASE_URL", url), ("DATABASE_REPLICA_URL", replica_url)]).await;
    let client = reqwest::Client::new();
    let base = server.base.clone();
    let user = post(
        &client,
        &base,
        "/api/users/register",
        json!({"name": "Ada", "email": "ada@example.com", "password": "securepass123"}),
    )
    .await;
    let user = user["data"]["_id"].as_str().unwrap().to_owned();
    // Replicas have everything so far once this event is readable through them.
    let first = post(
        &client,
        &base,
        "/api/events",
        event_body("Before the pause"),
    )
    .await;
    let first = first["data"]["_id"].as_str().unwrap().to_owned();
    assert!(
        eventually_readable(&client, &base, &first).await,
        "replication works"
    );

    let mut replicas = Vec::new();
    for node in &cluster.node_urls {
        let mut conn = cluster.connect(node).await;
        let in_recovery: bool = sqlx::query_scalar("SELECT pg_is_in_recovery()")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        if in_recovery {
            sqlx::query("SELECT pg_wal_replay_pause()")
                .execute(&mut conn)
                .await
                .unwrap();
            // A pause is a request, honoured at the next WAL record: wait until it is.
            let mut paused = false;
            for _ in 0..100 {
                let state: String =
                    sqlx::query_scalar("SELECT pg_get_wal_replay_pause_state()::text")
                        .fetch_one(&mut conn)
                        .await
                        .unwrap();
                if state == "paused" {
                    paused = true;
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            assert!(paused, "replay pauses on {node}");
            replicas.push(conn);
        }
    }
    assert_eq!(replicas.len(), 2, "two replicas behind the replica port");

    // Writes go on (synchronous replication waits for the standby's flush, not its replay).
    let event = post(
        &client,
        &base,
        "/api/events",
        event_body("During the pause"),
    )
    .await;
    let event = event["data"]["_id"].as_str().unwrap().to_owned();
    // The public read comes from a paused replica: the event is not there yet. (Should a
    // replica connection have failed just before, the leader answers for a few seconds, as it
    // should: ask again for a while rather than once.)
    let mut stale = None;
    for _ in 0..80 {
        let public = client
            .get(format!("{base}/api/events/{event}"))
            .send()
            .await
            .unwrap();
        stale = Some(public.status());
        if public.status() == 404 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let lock = post(
        &client,
        &base,
        "/api/locks",
        json!({"eventId": event, "userId": user,
        "seats": 2, "idempotencyKey": "paused"}),
    )
    .await;
    let lock = lock["data"]["_id"].as_str().unwrap().to_owned();
    let read_lock = get(&client, &base, &format!("/api/locks/{lock}")).await;
    let booking = post(
        &client,
        &base,
        "/api/bookings/confirm",
        json!({"lockId": lock}),
    )
    .await;
    let booking = booking["booking"]["_id"].as_str().unwrap().to_owned();
    let read_booking = get(&client, &base, &format!("/api/bookings/{booking}")).await;
    let mine = get(&client, &base, &format!("/api/users/{user}/bookings")).await;

    for conn in &mut replicas {
        sqlx::query("SELECT pg_wal_replay_resume()")
            .execute(&mut *conn)
            .await
            .unwrap();
    }
    for conn in replicas {
        conn.close().await.ok();
    }
    assert_eq!(
        stale.map(|s| s.as_u16()),
        Some(404),
        "the public read came from a paused replica"
    );
    assert_eq!(read_lock["data"]["status"], "ACTIVE");
    assert_eq!(read_booking["data"]["status"], "PAYMENT_PENDING");
    assert_eq!(mine["data"][0]["_id"], booking.as_str());
    assert!(
        eventually_readable(&client, &base, &event).await,
        "once replay resumes, the replica catches up"
    );
    server.stop().await;
}

fn event_body(name: &str) -> Value {
    json!({"name": name, "eventDate": "2030-06-15T10:00:00Z", "totalSeats": 100})
}

async fn eventually_readable(client: &reqwest::Client, base: &str, event: &str) -> bool {
    for _ in 0..100 {
        let read = client
            .get(format!("{base}/api/events/{event}"))
            .send()
            .await
            .unwrap();
        if read.status() == 200 {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// Whether connections through the replica port reach the database (every replica behind it
/// has it), waiting up to ten seconds.
async fn replicas_serve(replica_url: &str) -> bool {
    for _ in 0..100 {
        let mut all = true;
        for _ in 0..4 {
            match sqlx::AnyConnection::connect(replica_url).await {
                Ok(conn) => {
                    conn.close().await.ok();
                }
                Err(_) => all = false,
            }
        }
        if all {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

async fn post(client: &reqwest::Client, base: &str, path: &str, body: Value) -> Value {
    let response = client
        .post(format!("{base}{path}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    response.json().await.unwrap()
}

async fn get(client: &reqwest::Client, base: &str, path: &str) -> Value {
    let response = client.get(format!("{base}{path}")).send().await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}
