//! Locks and bookings: each lock takes the status its booking implies, a booking whose lock
//! is gone gets it recreated, and what refers to a refused row is refused.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::super::documents::{Doc, describe};
use super::super::{BOOKINGS, LOCKS, Summary};
use super::{Plan, PlannedLock, References};
use crate::domain::{Booking, BookingStatus, LockStatus, ObjectId, SeatLock, Timestamp};

pub(in crate::import) async fn plan_locks(
    plan: &mut Plan,
    documents: &[Value],
    refs: &mut References<'_>,
    summary: &mut Summary,
    now: Timestamp,
) -> anyhow::Result<()> {
    let mut ids = HashSet::new();
    let mut keys = HashSet::new();
    for (index, document) in documents.iter().enumerate() {
        let what = describe(document, index);
        let Some(fields) = document.as_object() else {
            summary.refuse(LOCKS, &what, "not a JSON object");
            continue;
        };
        let doc = Doc(fields);
        let parsed = (|| -> Result<SeatLock, String> {
            let id = doc.id("_id")?;
            let seats = doc.integer("seats")?;
            if seats < 1 {
                return Err(format!("seats {seats} is less than 1"));
            }
            let status = doc.required_text("status")?;
            let status =
                LockStatus::parse(&status).ok_or_else(|| format!("unknown status {status:?}"))?;
            let (created_at, updated_at) = doc.times(now)?;
            Ok(SeatLock {
                id,
                event_id: doc.id("eventId")?,
                user_id: doc.id("userId")?,
                seats,
                status,
                expires_at: doc.required_date("expiresAt")?,
                idempotency_key: doc
                    .text("idempotencyKey")?
                    .filter(|key| !key.is_empty())
                    .unwrap_or_else(|| format!("import-{id}")),
                booking_id: None,
                details: Default::default(),
                created_at,
                updated_at,
            })
        })();
        let lock = match parsed {
            Ok(lock) => lock,
            Err(reason) => {
                summary.refuse(LOCKS, &what, reason);
                continue;
            }
        };
        if !ids.insert(lock.id) {
            summary.refuse(LOCKS, &what, "a second document with this _id");
            continue;
        }
        if let Some(reason) = refs.check(lock.user_id, lock.event_id).await? {
            summary.refuse(LOCKS, &what, reason);
            continue;
        }
        if !keys.insert((lock.user_id, lock.idempotency_key.clone())) {
            summary.refuse(
                LOCKS,
                &what,
                format!(
                    "idempotencyKey {:?} is used by an earlier lock of the same user",
                    lock.idempotency_key
                ),
            );
            continue;
        }
        plan.locks.push(PlannedLock {
            lock,
            repaired: false,
        });
    }
    // Refused locks' bookings are refused too, rather than given a recreated lock.
    let accepted: HashSet<ObjectId> = plan.locks.iter().map(|p| p.lock.id).collect();
    plan.refused_locks = ids.difference(&accepted).copied().collect();
    Ok(())
}

pub(in crate::import) async fn plan_bookings(
    plan: &mut Plan,
    documents: &[Value],
    refs: &mut References<'_>,
    summary: &mut Summary,
    now: Timestamp,
) -> anyhow::Result<()> {
    let mut locks: HashMap<ObjectId, usize> = plan
        .locks
        .iter()
        .enumerate()
        .map(|(i, p)| (p.lock.id, i))
        .collect();
    let mut ids = HashSet::new();
    for (index, document) in documents.iter().enumerate() {
        let what = describe(document, index);
        let Some(fields) = document.as_object() else {
            summary.refuse(BOOKINGS, &what, "not a JSON object");
            continue;
        };
        let doc = Doc(fields);
        let parsed = (|| -> Result<Booking, String> {
            let id = doc.id("_id")?;
            let status = doc.required_text("status")?;
            let status = BookingStatus::parse(&status)
                .ok_or_else(|| format!("unknown status {status:?}"))?;
            if status == BookingStatus::Initiated {
                return Err(
                    "INITIATED: never confirmed, so not a booking here (its lock, if \
                            any, is imported on its own)"
                        .to_owned(),
                );
            }
            let (created_at, updated_at) = doc.times(now)?;
            Ok(Booking {
                id,
                user_id: doc.id("user")?,
                event_id: doc.id("event")?,
                seats: 0,
                status,
                seat_lock_id: doc.id("seatLockId")?,
                payment_expires_at: doc.required_date("paymentExpiresAt")?,
                details: Default::default(),
                created_at,
                updated_at,
            })
        })();
        let mut booking = match parsed {
            Ok(booking) => booking,
            Err(reason) => {
                summary.refuse(BOOKINGS, &what, reason);
                continue;
            }
        };
        if !ids.insert(booking.id) {
            summary.refuse(BOOKINGS, &what, "a second document with this _id");
            continue;
        }
        if let Some(reason) = refs.check(booking.user_id, booking.event_id).await? {
            summary.refuse(BOOKINGS, &what, reason);
            continue;
        }
        let lock_id = booking.seat_lock_id;
        let wanted = booking.status.lock_status();
        if let Some(&at) = locks.get(&lock_id) {
            let planned = &mut plan.locks[at];
            let lock = &mut planned.lock;
            if let Some(other) = lock.booking_id {
                summary.refuse(
                    BOOKINGS,
                    &what,
                    format!("its lock {lock_id} already belongs to booking {other}"),
                );
                continue;
            }
            if lock.event_id != booking.event_id || lock.user_id != booking.user_id {
                summary.refuse(
                    BOOKINGS,
                    &what,
                    format!("its lock {lock_id} is for another user or event"),
                );
                continue;
            }
            booking.seats = lock.seats;
            lock.booking_id = Some(booking.id);
            if booking.status == BookingStatus::PaymentPending {
                // A pending booking's lock lives exactly as long as its payment window.
                lock.expires_at = booking.payment_expires_at;
            }
            if lock.status != wanted {
                summary.repairs.push(format!(
                    "seatlocks.json {lock_id}: status {} -> {wanted} to match booking {} ({})",
                    lock.status, booking.id, booking.status
                ));
                lock.status = wanted;
                planned.repaired = true;
            }
        } else if plan.refused_locks.contains(&lock_id) {
            summary.refuse(BOOKINGS, &what, format!("its lock {lock_id} was refused"));
            continue;
        } else {
            let Some(seats) = doc.seat_count() else {
                summary.refuse(
                    BOOKINGS,
                    &what,
                    format!("its lock {lock_id} is gone and its seats do not say how many"),
                );
                continue;
            };
            booking.seats = seats;
            summary.repairs.push(format!(
                "seatlocks.json {lock_id}: recreated {wanted} for booking {} ({}), its lock \
                 document being gone",
                booking.id, booking.status
            ));
            locks.insert(lock_id, plan.locks.len());
            plan.locks.push(PlannedLock {
                lock: SeatLock {
                    id: lock_id,
                    event_id: booking.event_id,
                    user_id: booking.user_id,
                    seats,
                    status: wanted,
                    expires_at: booking.payment_expires_at,
                    idempotency_key: format!("import-repair-{}", booking.id),
                    booking_id: Some(booking.id),
                    details: Default::default(),
                    created_at: booking.created_at,
                    updated_at: booking.updated_at,
                },
                repaired: true,
            });
        }
        plan.bookings.push(booking);
    }
    Ok(())
}
