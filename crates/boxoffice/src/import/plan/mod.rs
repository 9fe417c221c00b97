//! Deciding about every document before anything is written: what is imported, repaired or
//! refused, and why. Users and events here; locks and bookings in `holds.rs`.

mod holds;

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::documents::{Doc, describe};
use super::{EVENTS, Summary, USERS};
use crate::domain::{
    Event, Inventory, MAX_TOTAL_SEATS, ObjectId, Role, SeatLock, SeatUse, Timestamp, User,
    email_key,
};
use crate::store::Store;

pub(super) use holds::{plan_bookings, plan_locks};

/// A user as decided, its password still to hash (unless it came hashed).
pub(super) struct PlannedUser {
    pub(super) user: User,
    pub(super) password: String,
    pub(super) hashed: bool,
}

/// A lock as decided, and whether it was recreated or changed to fit its booking (a repair).
pub(super) struct PlannedLock {
    pub(super) lock: SeatLock,
    pub(super) repaired: bool,
}

#[derive(Default)]
pub(super) struct Plan {
    pub(super) users: Vec<PlannedUser>,
    pub(super) events: Vec<Event>,
    /// Each event's `availableSeats` as the seed had it, for the report.
    pub(super) seed_available: HashMap<ObjectId, i64>,
    pub(super) locks: Vec<PlannedLock>,
    /// Locks whose documents were refused.
    pub(super) refused_locks: HashSet<ObjectId>,
    pub(super) bookings: Vec<crate::domain::Booking>,
}

/// Where ids that the files do not hold are looked up (not in a dry run).
pub(super) struct References<'a> {
    pub(super) store: Option<&'a dyn Store>,
    pub(super) users: HashMap<ObjectId, bool>,
    pub(super) events: HashMap<ObjectId, bool>,
}

impl References<'_> {
    async fn user(&mut self, id: ObjectId) -> anyhow::Result<bool> {
        if let Some(&known) = self.users.get(&id) {
            return Ok(known);
        }
        let found = match self.store {
            Some(store) => store.user(id).await?.is_some(),
            None => false,
        };
        self.users.insert(id, found);
        Ok(found)
    }

    async fn event(&mut self, id: ObjectId) -> anyhow::Result<bool> {
        if let Some(&known) = self.events.get(&id) {
            return Ok(known);
        }
        let found = match self.store {
            Some(store) => store.event(id).await?.is_some(),
            None => false,
        };
        self.events.insert(id, found);
        Ok(found)
    }

    async fn check(&mut self, user: ObjectId, event: ObjectId) -> anyhow::Result<Option<String>> {
        if !self.user(user).await? {
            return Ok(Some(format!("user {user} is not imported")));
        }
        if !self.event(event).await? {
            return Ok(Some(format!("event {event} is not imported")));
        }
        Ok(None)
    }
}

pub(super) async fn plan_users(
    plan: &mut Plan,
    documents: &[Value],
    store: Option<&dyn Store>,
    refs: &mut References<'_>,
    summary: &mut Summary,
    now: Timestamp,
) -> anyhow::Result<()> {
    let mut keys: HashSet<String> = HashSet::new();
    for (index, document) in documents.iter().enumerate() {
        let what = describe(document, index);
        let Some(fields) = document.as_object() else {
            summary.refuse(USERS, &what, "not a JSON object");
            continue;
        };
        let doc = Doc(fields);
        let parsed = (|| -> Result<PlannedUser, String> {
            let id = doc.id("_id")?;
            let name = doc.required_text("name")?;
            let email = doc.required_text("email")?.trim().to_owned();
            let password = doc.required_text("password")?;
            let role = match doc.text("role")? {
                None => Role::User,
                Some(role) => Role::parse(&role)
                    .ok_or_else(|| format!("role {role:?} is neither user nor admin"))?,
            };
            let (created_at, updated_at) = doc.times(now)?;
            let hashed = password.starts_with("$argon2");
            Ok(PlannedUser {
                user: User {
                    id,
                    name,
                    email,
                    role,
                    password_hash: String::new(),
                    credentials_version: 0,
                    created_at,
                    updated_at,
                },
                password,
                hashed,
            })
        })();
        let planned = match parsed {
            Ok(planned) => planned,
            Err(reason) => {
                summary.refuse(USERS, &what, reason);
                continue;
            }
        };
        let id = planned.user.id;
        if refs.users.contains_key(&id) {
            summary.refuse(USERS, &what, "a second document with this _id");
            continue;
        }
        let key = email_key(&planned.user.email);
        if !keys.insert(key.clone()) {
            summary.refuse(
                USERS,
                &what,
                format!(
                    "email {} is taken by an earlier user (emails are unique whatever their case)",
                    planned.user.email
                ),
            );
            refs.users.insert(id, false);
            continue;
        }
        if let Some(store) = store
            && let Some(holder) = store.user_by_email_key(&key).await?
            && holder.id != id
        {
            summary.refuse(
                USERS,
                &what,
                format!(
                    "email {} belongs to user {} already in the database",
                    planned.user.email, holder.id
                ),
            );
            refs.users.insert(id, false);
            continue;
        }
        refs.users.insert(id, true);
        plan.users.push(planned);
    }
    Ok(())
}

pub(super) fn plan_events(
    plan: &mut Plan,
    documents: &[Value],
    refs: &mut References<'_>,
    summary: &mut Summary,
    now: Timestamp,
) {
    for (index, document) in documents.iter().enumerate() {
        let what = describe(document, index);
        let Some(fields) = document.as_object() else {
            summary.refuse(EVENTS, &what, "not a JSON object");
            continue;
        };
        let doc = Doc(fields);
        let parsed = (|| -> Result<Event, String> {
            let id = doc.id("_id")?;
            let total_seats = doc.integer("totalSeats")?;
            if total_seats < 1 {
                return Err(format!("totalSeats {total_seats} is less than 1"));
            }
            if total_seats > MAX_TOTAL_SEATS {
                return Err(format!(
                    "totalSeats {total_seats} is more than {MAX_TOTAL_SEATS}"
                ));
            }
            let (created_at, updated_at) = doc.times(now)?;
            Ok(Event {
                id,
                name: doc.required_text("name")?,
                description: doc.text("description")?.unwrap_or_default(),
                event_date: doc.required_date("eventDate")?,
                total_seats,
                // Recomputed from the locks and bookings once they are known.
                available_seats: total_seats,
                withheld_seats: 0,
                seating: None,
                price: None,
                created_at,
                updated_at,
            })
        })();
        match parsed {
            Ok(event) if refs.events.contains_key(&event.id) => {
                summary.refuse(EVENTS, &what, "a second document with this _id");
            }
            Ok(event) => {
                refs.events.insert(event.id, true);
                if let Ok(seed) = doc.integer("availableSeats") {
                    plan.seed_available.insert(event.id, seed);
                }
                plan.events.push(event);
            }
            Err(reason) => summary.refuse(EVENTS, &what, reason),
        }
    }
}

/// Sets each planned event's counter from its planned locks and bookings: the inventory
/// arithmetic of `domain::Inventory`, with no withheld seats.
pub(super) fn recount(plan: &mut Plan, summary: &mut Summary) {
    let mut inventories: HashMap<ObjectId, Inventory> = plan
        .events
        .iter()
        .map(|event| (event.id, Inventory::new(event.id, event.total_seats, 0, 0)))
        .collect();
    let uses = plan
        .locks
        .iter()
        .map(|planned| {
            (
                planned.lock.event_id,
                SeatUse::of_lock(&planned.lock),
                planned.lock.seats,
            )
        })
        .chain(plan.bookings.iter().map(|booking| {
            (
                booking.event_id,
                SeatUse::of_booking(booking),
                booking.seats,
            )
        }));
    for (event_id, used, seats) in uses {
        if let (Some(used), Some(inventory)) = (used, inventories.get_mut(&event_id)) {
            inventory.count(used, seats);
        }
    }
    for event in &mut plan.events {
        let expected = inventories
            .get(&event.id)
            .map_or(event.total_seats, Inventory::expected_available);
        if expected < 0 {
            summary.notes.push(format!(
                "event {}: its locks and bookings take {} seats more than its totalSeats {}; \
                 availableSeats is set to 0 and `boxoffice check` will report it",
                event.id, -expected, event.total_seats
            ));
        }
        event.available_seats = expected.max(0);
        if let Some(&seed) = plan.seed_available.get(&event.id) {
            eprintln!(
                "events: {}: availableSeats {seed} in the seed, {} recomputed",
                event.id, event.available_seats
            );
            if seed != event.available_seats {
                summary.notes.push(format!(
                    "event {}: availableSeats was {seed} in the seed, recomputed to {}",
                    event.id, event.available_seats
                ));
            }
        }
    }
}
