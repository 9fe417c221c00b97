//! Writing the plan, collection by collection, in transactions of at most `BATCH` rows; then
//! making sure every touched event's counter agrees with its rows.

use std::collections::{BTreeMap, HashSet};

use super::plan::Plan;
use super::{BATCH, BOOKINGS, COLLECTIONS, EVENTS, LOCKS, Summary, USERS};
use crate::domain::{ObjectId, SeatLock, Timestamp, User, normalize_password};
use crate::store::{Insertion, Store};

/// Adds one batch's outcomes to a collection's counts; the ids not written.
fn tally(
    summary: &mut Summary,
    collection: usize,
    ids: impl Iterator<Item = (ObjectId, bool)>,
    outcomes: &[Insertion],
    conflict: &str,
) -> Vec<ObjectId> {
    let mut unwritten = Vec::new();
    for ((id, repaired), outcome) in ids.zip(outcomes) {
        match outcome {
            Insertion::Inserted if repaired => summary.count(collection).repaired += 1,
            Insertion::Inserted => summary.count(collection).imported += 1,
            Insertion::AlreadyThere => summary.count(collection).skipped += 1,
            Insertion::Conflicts => {
                summary.refuse(collection, &id.to_string(), conflict);
                unwritten.push(id);
            }
        }
    }
    unwritten
}

fn progress(summary: &Summary, collection: usize, done: usize, total: usize) {
    let c = summary.counts[collection];
    eprintln!(
        "{}: {done}/{total} written ({} imported, {} skipped, {} repaired, {} refused)",
        COLLECTIONS[collection], c.imported, c.skipped, c.repaired, c.refused
    );
}

pub(super) async fn write(
    store: &dyn Store,
    plan: Plan,
    summary: &mut Summary,
) -> anyhow::Result<()> {
    // Users and locks that could not be written: what refers to them is refused.
    let mut unwritten: HashSet<ObjectId> = HashSet::new();

    let total = plan.users.len();
    let mut done = 0;
    for chunk in plan.users.chunks(BATCH) {
        let mut rows = Vec::new();
        let mut hashing = tokio::task::JoinSet::new();
        for planned in chunk {
            if store.user(planned.user.id).await?.is_some() {
                summary.count(USERS).skipped += 1;
                continue;
            }
            if planned.hashed {
                let mut user = planned.user.clone();
                user.password_hash = planned.password.clone();
                rows.push(user);
            } else {
                let (user, password) = (planned.user.clone(), planned.password.clone());
                hashing.spawn(async move {
                    // In NFC, as registrations are (CONTRACT.md rule 10).
                    let hash = crate::password::hash(normalize_password(&password)).await;
                    hash.map(|password_hash| User {
                        password_hash,
                        ..user
                    })
                });
            }
        }
        while let Some(hashed) = hashing.join_next().await {
            rows.push(hashed??);
        }
        let outcomes = store.import_users(&rows).await?;
        unwritten.extend(tally(
            summary,
            USERS,
            rows.iter().map(|u| (u.id, false)),
            &outcomes,
            "its email was taken in the database meanwhile",
        ));
        done += chunk.len();
        progress(summary, USERS, done, total);
    }

    let total = plan.events.len();
    let mut done = 0;
    for chunk in plan.events.chunks(BATCH) {
        let outcomes = store.import_events(chunk).await?;
        tally(
            summary,
            EVENTS,
            chunk.iter().map(|e| (e.id, false)),
            &outcomes,
            "conflicts with a row in the database",
        );
        done += chunk.len();
        progress(summary, EVENTS, done, total);
    }

    let mut locks = Vec::new();
    for planned in plan.locks {
        if unwritten.contains(&planned.lock.user_id) {
            summary.refuse(
                LOCKS,
                &planned.lock.id.to_string(),
                format!("user {} was not written", planned.lock.user_id),
            );
            unwritten.insert(planned.lock.id);
        } else {
            locks.push(planned);
        }
    }
    let total = locks.len();
    let mut done = 0;
    for chunk in locks.chunks(BATCH) {
        let rows: Vec<SeatLock> = chunk.iter().map(|p| p.lock.clone()).collect();
        let outcomes = store.import_locks(&rows).await?;
        unwritten.extend(tally(
            summary,
            LOCKS,
            chunk.iter().map(|p| (p.lock.id, p.repaired)),
            &outcomes,
            "its user already has another lock with this idempotencyKey in the database",
        ));
        done += chunk.len();
        progress(summary, LOCKS, done, total);
    }

    let mut bookings = Vec::new();
    for booking in plan.bookings {
        if unwritten.contains(&booking.user_id) || unwritten.contains(&booking.seat_lock_id) {
            summary.refuse(
                BOOKINGS,
                &booking.id.to_string(),
                "its user or lock was not written",
            );
        } else {
            bookings.push(booking);
        }
    }
    let total = bookings.len();
    let mut done = 0;
    for chunk in bookings.chunks(BATCH) {
        let outcomes = store.import_bookings(chunk).await?;
        tally(
            summary,
            BOOKINGS,
            chunk.iter().map(|b| (b.id, false)),
            &outcomes,
            "its lock already has another booking in the database",
        );
        done += chunk.len();
        progress(summary, BOOKINGS, done, total);
    }

    // The counters were computed from the files; make sure they agree with the rows (an event
    // imported earlier may have rows from elsewhere).
    let events: BTreeMap<ObjectId, ()> = plan
        .events
        .iter()
        .map(|e| (e.id, ()))
        .chain(locks.iter().map(|p| (p.lock.event_id, ())))
        .chain(bookings.iter().map(|b| (b.event_id, ())))
        .collect();
    for event in events.into_keys() {
        let Some(inventory) = store.inventory(event).await? else {
            continue;
        };
        if inventory.is_consistent() {
            continue;
        }
        if inventory.expected_available() < 0 {
            summary.notes.push(format!(
                "event {event}: its rows take more seats than it has; counter left at {}",
                inventory.available_seats
            ));
            continue;
        }
        let repaired = store.repair_counter(event, Timestamp::now()).await?;
        summary.notes.push(format!(
            "event {event}: availableSeats {} -> {} to match its rows",
            inventory.available_seats, repaired.available_seats
        ));
    }
    Ok(())
}
