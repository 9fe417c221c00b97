//! `boxoffice check [--repair]`: compares every event's seat counter with what its lock and
//! booking rows say, the same computation as `GET /api/events/:id/inventory`.

use std::fmt::Write as _;

use crate::domain::{Inventory, Timestamp};
use crate::store::Store;

/// Prints the table; returns whether every counter agrees (after repairing, if asked).
pub async fn run(store: &dyn Store, repair: bool) -> anyhow::Result<bool> {
    let inventories = store.inventories().await?;
    print!("{}", table(&inventories));
    let mismatched: Vec<&Inventory> = inventories.iter().filter(|i| !i.is_consistent()).collect();
    println!(
        "{} event(s) checked, {} mismatch(es)",
        inventories.len(),
        mismatched.len()
    );
    if mismatched.is_empty() {
        return Ok(true);
    }
    if !repair {
        println!("run `boxoffice check --repair` to set each counter to what its rows say");
        return Ok(false);
    }
    for inventory in mismatched {
        let repaired = store
            .repair_counter(inventory.event_id, Timestamp::now())
            .await?;
        println!(
            "repaired {}: availableSeats {} -> {}",
            repaired.event_id, inventory.available_seats, repaired.available_seats
        );
    }
    let still_wrong = store
        .inventories()
        .await?
        .iter()
        .filter(|i| !i.is_consistent())
        .count();
    Ok(still_wrong == 0)
}

fn table(inventories: &[Inventory]) -> String {
    let mut out = format!(
        "{:<24} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}  {}\n",
        "EVENT",
        "TOTAL",
        "AVAILABLE",
        "EXPECTED",
        "HELD",
        "PENDING",
        "CONFIRMED",
        "WITHHELD",
        "STATE"
    );
    for i in inventories {
        let _ = writeln!(
            out,
            "{:<24} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}  {}",
            i.event_id.to_string(),
            i.total_seats,
            i.available_seats,
            i.expected_available(),
            i.held_seats,
            i.pending_payment_seats,
            i.confirmed_seats,
            i.withheld_seats,
            state(i)
        );
    }
    out
}

fn state(inventory: &Inventory) -> String {
    match (inventory.is_consistent(), inventory.seat_rows) {
        (true, _) => "ok".to_owned(),
        (false, None) => "MISMATCH".to_owned(),
        (false, Some(rows)) => format!(
            "MISMATCH (seat rows: {} free, {} blocked, {} stray, {} locks short of seats)",
            rows.free, rows.blocked, rows.stray, rows.short_locks
        ),
    }
}
