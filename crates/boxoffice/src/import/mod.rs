//! `boxoffice import-mongo DIR [--dry-run]`: moves the seed system's data over.
//!
//! Reads the four `mongoexport` files whole, decides about every document first (what is
//! imported, repaired or refused, and why), and only then writes, collection by collection, in
//! transactions of at most [`BATCH`] rows. Rows keep their `_id`; a row whose id is already
//! there is skipped, so running the import again changes nothing.
//!
//! Choices, where the seed's data does not say:
//! - Plaintext passwords are hashed with Argon2id; one that already is an `$argon2` PHC string
//!   is kept. Emails are unique by their lower-cased form: the later of two is refused.
//! - INITIATED bookings are refused (the seed never creates them: confirming makes a
//!   PAYMENT_PENDING booking); their lock, if any, is imported without a booking.
//! - A lock takes the status its booking implies (PAYMENT_PENDING → ACTIVE until the payment
//!   window closes, CONFIRMED → CONSUMED, FAILED/EXPIRED/CANCELLED → EXPIRED), because seats
//!   come back through the lock; a change is reported as a repair.
//! - A booking whose lock document is gone (the seed's TTL index deletes them) gets the lock
//!   recreated under its `seatLockId`, from the booking's user, event and seat count.
//! - Events are imported with no withheld seats (the seed cannot tell withheld seats from
//!   lost ones) and `availableSeats` recomputed from the imported locks and bookings.

mod ejson;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context as _;
use serde_json::{Map, Value};

use crate::domain::{
    Booking, BookingStatus, Event, LockStatus, ObjectId, Role, SeatLock, Timestamp, User, email_key,
};
use crate::store::{Insertion, SqlStore, Store as _};

/// Rows per transaction.
pub const BATCH: usize = 500;

/// How many refusals and repairs the summary lists.
const LISTED: usize = 20;

const COLLECTIONS: [&str; 4] = ["users", "events", "seatlocks", "bookings"];

/// What happened to one collection's documents.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub read: usize,
    pub imported: usize,
    pub skipped: usize,
    pub repaired: usize,
    pub refused: usize,
}

/// The outcome of an import (or of a dry run).
#[derive(Debug, Default)]
pub struct Summary {
    pub dry_run: bool,
    /// In the order of [`COLLECTIONS`].
    pub counts: [Counts; 4],
    pub refusals: Vec<String>,
    pub repairs: Vec<String>,
    pub notes: Vec<String>,
}

impl Summary {
    pub fn counts(&self, collection: &str) -> Counts {
        COLLECTIONS
            .iter()
            .position(|c| *c == collection)
            .map(|i| self.counts[i])
            .unwrap_or_default()
    }

    fn count(&mut self, collection: usize) -> &mut Counts {
        &mut self.counts[collection]
    }

    fn refuse(&mut self, collection: usize, what: &str, reason: impl std::fmt::Display) {
        self.counts[collection].refused += 1;
        self.refusals
            .push(format!("{}.json {what}: {reason}", COLLECTIONS[collection]));
    }

    /// The report printed at the end.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if self.dry_run {
            out.push_str(
                "DRY RUN: nothing was written (the database was not opened, so rows that an \
                 earlier import wrote count as imported here)\n",
            );
        }
        let _ = writeln!(
            out,
            "{:<10} {:>8} {:>9} {:>8} {:>9} {:>8}",
            "COLLECTION", "READ", "IMPORTED", "SKIPPED", "REPAIRED", "REFUSED"
        );
        for (name, c) in COLLECTIONS.iter().zip(&self.counts) {
            let _ = writeln!(
                out,
                "{:<10} {:>8} {:>9} {:>8} {:>9} {:>8}",
                name, c.read, c.imported, c.skipped, c.repaired, c.refused
            );
        }
        let total = |f: fn(&Counts) -> usize| self.counts.iter().map(f).sum::<usize>();
        let _ = writeln!(
            out,
            "imported {}, skipped {} (already there), repaired {}, refused {}",
            total(|c| c.imported),
            total(|c| c.skipped),
            total(|c| c.repaired),
            total(|c| c.refused)
        );
        for (title, list) in [("repaired", &self.repairs), ("refused", &self.refusals)] {
            if list.is_empty() {
                continue;
            }
            let _ = writeln!(
                out,
                "{title} ({} listed of {}):",
                list.len().min(LISTED),
                list.len()
            );
            for line in list.iter().take(LISTED) {
                let _ = writeln!(out, "  {line}");
            }
        }
        for note in &self.notes {
            let _ = writeln!(out, "note: {note}");
        }
        out
    }
}

/// Reads one export file; a missing file is an empty collection.
fn read_collection(dir: &Path, name: &str) -> anyhow::Result<Vec<Value>> {
    let path = dir.join(format!("{name}.json"));
    if !path.exists() {
        eprintln!(
            "{name}: {} not found, treated as an empty collection",
            path.display()
        );
        return Ok(Vec::new());
    }
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let documents =
        ejson::documents(&text).map_err(|error| anyhow::anyhow!("{}: {error}", path.display()))?;
    eprintln!("{name}: {} document(s) read", documents.len());
    Ok(documents)
}

/// A user as decided, its password still to hash (unless it came hashed).
struct PlannedUser {
    user: User,
    password: String,
    hashed: bool,
}

/// A lock as decided, and whether it was recreated or changed to fit its booking (a repair).
struct PlannedLock {
    lock: SeatLock,
    repaired: bool,
}

#[derive(Default)]
struct Plan {
    users: Vec<PlannedUser>,
    events: Vec<Event>,
    /// Each event's `availableSeats` as the seed had it, for the report.
    seed_available: HashMap<ObjectId, i64>,
    locks: Vec<PlannedLock>,
    /// Locks whose documents were refused.
    refused_locks: HashSet<ObjectId>,
    bookings: Vec<Booking>,
}

/// Fields of one document, with errors worded for the summary.
struct Doc<'a>(&'a Map<String, Value>);

impl Doc<'_> {
    fn id(&self, name: &str) -> Result<ObjectId, String> {
        let value = ejson::field(self.0, name).ok_or_else(|| format!("no {name}"))?;
        ejson::object_id(value).map_err(|e| format!("{name}: {e}"))
    }

    fn text(&self, name: &str) -> Result<Option<String>, String> {
        match ejson::field(self.0, name) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(other) => Err(format!("{name}: not a string: {other}")),
        }
    }

    fn required_text(&self, name: &str) -> Result<String, String> {
        match self.text(name)? {
            Some(text) if !text.trim().is_empty() => Ok(text),
            _ => Err(format!("no {name}")),
        }
    }

    fn integer(&self, name: &str) -> Result<i64, String> {
        let value = ejson::field(self.0, name).ok_or_else(|| format!("no {name}"))?;
        ejson::integer(value).map_err(|e| format!("{name}: {e}"))
    }

    fn date(&self, name: &str) -> Result<Option<Timestamp>, String> {
        ejson::field(self.0, name)
            .map(|value| ejson::date(value).map_err(|e| format!("{name}: {e}")))
            .transpose()
    }

    fn required_date(&self, name: &str) -> Result<Timestamp, String> {
        self.date(name)?.ok_or_else(|| format!("no {name}"))
    }

    /// `createdAt` and `updatedAt` (mongoose sets both; absent ones default sensibly).
    fn times(&self, now: Timestamp) -> Result<(Timestamp, Timestamp), String> {
        let created = self.date("createdAt")?;
        let updated = self.date("updatedAt")?;
        let created = created.or(updated).unwrap_or(now);
        Ok((created, updated.unwrap_or(created)))
    }

    /// The seed's `seats: ["2"]` (a count cast to strings by mongoose), or seat labels, or a
    /// number.
    fn seat_count(&self) -> Option<i64> {
        match ejson::field(self.0, "seats")? {
            Value::Array(items) => match items.as_slice() {
                [Value::String(only)] if only.trim().parse::<i64>().is_ok() => {
                    only.trim().parse().ok()
                }
                [only] if ejson::integer(only).is_ok() => ejson::integer(only).ok(),
                items => i64::try_from(items.len()).ok(),
            },
            other => ejson::integer(other).ok(),
        }
        .filter(|&count| count >= 1)
    }
}

/// How a document is named in the summary: its `_id`, or its position.
fn describe(document: &Value, index: usize) -> String {
    match document.get("_id").map(ejson::object_id) {
        Some(Ok(id)) => id.to_string(),
        _ => format!("document #{}", index + 1),
    }
}

/// Where ids that the files do not hold are looked up (not in a dry run).
struct References<'a> {
    store: Option<&'a SqlStore>,
    users: HashMap<ObjectId, bool>,
    events: HashMap<ObjectId, bool>,
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

const USERS: usize = 0;
const EVENTS: usize = 1;
const LOCKS: usize = 2;
const BOOKINGS: usize = 3;

/// Runs the import from `dir`: with a store, writes; without one (`--dry-run`), only decides.
/// Fails only if a file cannot be read or is not JSON (before anything is written), or on a
/// database error.
pub async fn run(store: Option<&SqlStore>, dir: &Path) -> anyhow::Result<Summary> {
    let mut files = Vec::new();
    for name in COLLECTIONS {
        files.push(read_collection(dir, name)?);
    }
    let mut summary = Summary {
        dry_run: store.is_none(),
        ..Summary::default()
    };
    for (i, documents) in files.iter().enumerate() {
        summary.count(i).read = documents.len();
    }
    let now = Timestamp::now();
    let mut refs = References {
        store,
        users: HashMap::new(),
        events: HashMap::new(),
    };
    let mut plan = Plan::default();

    plan_users(
        &mut plan,
        &files[USERS],
        store,
        &mut refs,
        &mut summary,
        now,
    )
    .await?;
    plan_events(&mut plan, &files[EVENTS], &mut refs, &mut summary, now);
    plan_locks(&mut plan, &files[LOCKS], &mut refs, &mut summary, now).await?;
    plan_bookings(&mut plan, &files[BOOKINGS], &mut refs, &mut summary, now).await?;
    recount(&mut plan, &mut summary);

    match store {
        None => {
            summary.count(USERS).imported = plan.users.len();
            summary.count(EVENTS).imported = plan.events.len();
            for planned in &plan.locks {
                let counts = summary.count(LOCKS);
                counts.imported += usize::from(!planned.repaired);
                counts.repaired += usize::from(planned.repaired);
            }
            summary.count(BOOKINGS).imported = plan.bookings.len();
        }
        Some(store) => write(store, plan, &mut summary).await?,
    }
    Ok(summary)
}

async fn plan_users(
    plan: &mut Plan,
    documents: &[Value],
    store: Option<&SqlStore>,
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

fn plan_events(
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

async fn plan_locks(
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

/// The lock status that a booking in `status` implies.
fn lock_status_for(status: BookingStatus) -> LockStatus {
    match status {
        BookingStatus::Initiated | BookingStatus::PaymentPending => LockStatus::Active,
        BookingStatus::Confirmed => LockStatus::Consumed,
        BookingStatus::Failed | BookingStatus::Expired | BookingStatus::Cancelled => {
            LockStatus::Expired
        }
    }
}

async fn plan_bookings(
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
        let wanted = lock_status_for(booking.status);
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

/// Sets each planned event's counter from its planned locks and bookings.
fn recount(plan: &mut Plan, summary: &mut Summary) {
    let mut taken: HashMap<ObjectId, i64> = HashMap::new();
    for planned in &plan.locks {
        let lock = &planned.lock;
        if lock.status == LockStatus::Active && lock.booking_id.is_none() {
            *taken.entry(lock.event_id).or_default() += lock.seats;
        }
    }
    for booking in &plan.bookings {
        if matches!(
            booking.status,
            BookingStatus::PaymentPending | BookingStatus::Confirmed
        ) {
            *taken.entry(booking.event_id).or_default() += booking.seats;
        }
    }
    for event in &mut plan.events {
        let expected = event.total_seats - taken.get(&event.id).copied().unwrap_or(0);
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

async fn write(store: &SqlStore, plan: Plan, summary: &mut Summary) -> anyhow::Result<()> {
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
                    let hash = crate::password::hash(password).await;
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
