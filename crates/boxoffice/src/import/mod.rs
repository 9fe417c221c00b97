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

mod documents;
mod ejson;
mod plan;
mod write;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use crate::domain::Timestamp;
use crate::store::Store;
use documents::read_collection;
use plan::{Plan, References, plan_bookings, plan_events, plan_locks, plan_users, recount};
use write::write;

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

const USERS: usize = 0;
const EVENTS: usize = 1;
const LOCKS: usize = 2;
const BOOKINGS: usize = 3;
/// Runs the import from `dir`: with a store, writes; without one (`--dry-run`), only decides.
/// Fails only if a file cannot be read or is not JSON (before anything is written), or on a
/// database error.
pub async fn run(store: Option<&dyn Store>, dir: &Path) -> anyhow::Result<Summary> {
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
