//! `boxoffice import-mongo`: the seed's Testing Flow final state, as mongoexport writes it
//! (one lock document deleted by the seed's TTL index), imported and then served.

use std::path::Path;

use crate::backend_tests;
use crate::harness::fresh_database;
use crate::process::{ServerProcess, run};

const USER: &str = "65b6f1a2c3d4e5f600000001";
const OTHER_USER: &str = "65b6f1a2c3d4e5f600000002";
const EVENT: &str = "65b6f1a2c3d4e5f600000010";
const LOCK_CONFIRMED: &str = "65b6f1a2c3d4e5f600000011"; // deleted by the TTL index
const LOCK_FAILED: &str = "65b6f1a2c3d4e5f600000012";
const LOCK_PENDING: &str = "65b6f1a2c3d4e5f600000013";
const BOOKING_CONFIRMED: &str = "65b6f1a2c3d4e5f600000021";
const BOOKING_FAILED: &str = "65b6f1a2c3d4e5f600000022";
const BOOKING_PENDING: &str = "65b6f1a2c3d4e5f600000023";

/// The export, in the forms mongoexport writes: users as a `--jsonArray` in canonical Extended
/// JSON, events and locks one per line in relaxed form, bookings one per line in canonical form.
fn write_export(dir: &Path) {
    let day_ahead = boxoffice::domain::Timestamp::now()
        .plus_seconds(86_400)
        .millis();
    let created = "{\"$date\":\"2026-01-28T12:28:29.379Z\"}";
    let created_canonical = "{\"$date\":{\"$numberLong\":\"1769603309379\"}}";
    let users = format!(
        "[{{\"_id\":{{\"$oid\":\"{USER}\"}},\"name\":\"Alice Johnson\",\"email\":\"alice@example.com\",\
         \"password\":\"securepass123\",\"role\":\"user\",\"createdAt\":{created_canonical},\
         \"updatedAt\":{created_canonical},\"__v\":{{\"$numberInt\":\"0\"}}}},\n\
         {{\"_id\":{{\"$oid\":\"{OTHER_USER}\"}},\"name\":\"Alice Again\",\"email\":\"ALICE@example.com\",\
         \"password\":\"otherpass123\",\"role\":\"user\",\"createdAt\":{created_canonical},\
         \"updatedAt\":{created_canonical}}}]\n"
    );
    let events = format!(
        "{{\"_id\":{{\"$oid\":\"{EVENT}\"}},\"name\":\"Tech Summit 2026\",\
         \"description\":\"International technology conference\",\
         \"eventDate\":{{\"$date\":\"2099-06-15T10:00:00Z\"}},\"totalSeats\":100,\"availableSeats\":96,\
         \"createdAt\":{created},\"updatedAt\":{created},\"__v\":0}}\n"
    );
    let lock = |id: &str, status: &str, key: &str| {
        format!(
            "{{\"_id\":{{\"$oid\":\"{id}\"}},\"eventId\":{{\"$oid\":\"{EVENT}\"}},\
             \"userId\":{{\"$oid\":\"{USER}\"}},\"seats\":2,\"status\":\"{status}\",\
             \"expiresAt\":{{\"$date\":{day_ahead}}},\"idempotencyKey\":\"{key}\",\
             \"createdAt\":{created},\"updatedAt\":{created},\"__v\":0}}\n"
        )
    };
    let locks =
        lock(LOCK_FAILED, "EXPIRED", "lock-002") + &lock(LOCK_PENDING, "ACTIVE", "lock-003");
    let booking = |id: &str, lock: &str, status: &str| {
        format!(
            "{{\"_id\":{{\"$oid\":\"{id}\"}},\"user\":{{\"$oid\":\"{USER}\"}},\
             \"event\":{{\"$oid\":\"{EVENT}\"}},\"seats\":[\"2\"],\"status\":\"{status}\",\
             \"seatLockId\":{{\"$oid\":\"{lock}\"}},\
             \"paymentExpiresAt\":{{\"$date\":{{\"$numberLong\":\"{day_ahead}\"}}}},\
             \"createdAt\":{created_canonical},\"updatedAt\":{created_canonical},\
             \"__v\":{{\"$numberInt\":\"0\"}}}}\n"
        )
    };
    let bookings = booking(BOOKING_CONFIRMED, LOCK_CONFIRMED, "CONFIRMED")
        + &booking(BOOKING_FAILED, LOCK_FAILED, "FAILED")
        + &booking(BOOKING_PENDING, LOCK_PENDING, "PAYMENT_PENDING");
    for (name, text) in [
        ("users.json", users),
        ("events.json", events),
        ("seatlocks.json", locks),
        ("bookings.json", bookings),
    ] {
        std::fs::write(dir.join(name), text).unwrap();
    }
}

backend_tests! {
    async fn the_seed_flow_export_imports_and_serves(backend: Backend) {
        let export = tempfile::tempdir().unwrap();
        write_export(export.path());
        let dir = export.path().to_str().unwrap();

        // A dry run on a fresh database writes nothing.
        let (fresh, _fresh_dir) = fresh_database(backend).await;
        let (status, out) = run(&fresh, &["import-mongo", dir, "--dry-run"], &[]).await;
        assert!(status.success(), "{out}");
        assert!(out.contains("DRY RUN"), "{out}");
        assert!(out.contains("imported 7, skipped 0 (already there), repaired 1, refused 1"), "{out}");
        let (status, out) = run(&fresh, &["check"], &[]).await;
        assert!(status.success(), "{out}");
        assert!(out.contains("0 event(s) checked"), "{out}");

        let (url, _db_dir) = fresh_database(backend).await;
        let (status, out) = run(&url, &["import-mongo", dir], &[]).await;
        assert!(status.success(), "{out}");
        assert!(out.contains("imported 7, skipped 0 (already there), repaired 1, refused 1"), "{out}");
        assert!(out.contains("ALICE@example.com is taken"), "{out}");
        assert!(out.contains(&format!("seatlocks.json {LOCK_CONFIRMED}: recreated CONSUMED")), "{out}");
        assert!(out.contains("availableSeats 96 in the seed, 96 recomputed"), "{out}");

        let (status, out) = run(&url, &["check"], &[]).await;
        assert!(status.success(), "{out}");
        assert!(out.contains("1 event(s) checked, 0 mismatch(es)"), "{out}");

        let server = ServerProcess::start(backend, &url, &[]).await;
        let app = server.app();
        let reply = app.get(&format!("/api/users/{USER}")).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(reply.data()["email"], "alice@example.com");
        assert_eq!(reply.data()["createdAt"], "2026-01-28T12:28:29.379Z");
        assert_eq!(app.get(&format!("/api/users/{OTHER_USER}")).await.status, 404);

        let reply = app.get(&format!("/api/events/{EVENT}")).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(reply.data()["_id"], EVENT);
        assert_eq!(reply.data()["totalSeats"], 100);
        assert_eq!(reply.data()["availableSeats"], 96);
        let inventory = app.inventory(EVENT).await;
        assert_eq!(inventory["heldSeats"], 0, "{inventory}");
        assert_eq!(inventory["pendingPaymentSeats"], 2, "{inventory}");
        assert_eq!(inventory["confirmedSeats"], 2, "{inventory}");

        assert_eq!(app.lock_status(LOCK_CONFIRMED).await, "CONSUMED");
        assert_eq!(app.lock_status(LOCK_FAILED).await, "EXPIRED");
        assert_eq!(app.lock_status(LOCK_PENDING).await, "ACTIVE");
        assert_eq!(app.booking_status(BOOKING_CONFIRMED).await, "CONFIRMED");
        assert_eq!(app.booking_status(BOOKING_FAILED).await, "FAILED");
        assert_eq!(app.booking_status(BOOKING_PENDING).await, "PAYMENT_PENDING");

        // The seed's plaintext password works, and was not stored as it was.
        let reply = app.login("alice@example.com", "securepass123").await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_ne!(app.login("alice@example.com", "otherpass123").await.status, 200);
        let hash = app.sql_text(&format!("SELECT password_hash FROM users WHERE id = '{USER}'")).await;
        assert!(hash.starts_with("$argon2id$"), "{hash}");

        // The pending booking can still be paid for, and its seats stay sold.
        assert_eq!(app.pay(BOOKING_PENDING, "success").await.status, 200);
        assert_eq!(app.available(EVENT).await, 96);

        // Again: nothing is imported twice, and the paid booking is left as it is.
        let (status, out) = run(&url, &["import-mongo", dir], &[]).await;
        assert!(status.success(), "{out}");
        assert!(out.contains("imported 0, skipped 8 (already there), repaired 0, refused 1"), "{out}");
        assert_eq!(app.booking_status(BOOKING_PENDING).await, "CONFIRMED");
        assert_eq!(app.available(EVENT).await, 96);
        let inventory = app.inventory(EVENT).await;
        assert_eq!(inventory["confirmedSeats"], 4, "{inventory}");
        let (status, out) = run(&url, &["check"], &[]).await;
        assert!(status.success(), "{out}");

        // A file that is not JSON fails the command, before anything is written.
        std::fs::write(export.path().join("events.json"), "{not json\n").unwrap();
        let (status, out) = run(&url, &["import-mongo", dir], &[]).await;
        assert!(!status.success(), "{out}");
        assert!(out.contains("line 1: not JSON"), "{out}");
    }
}
