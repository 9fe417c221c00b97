//! After a run: do the seats that left each event match the holds the clients were granted?
//! And does the server's own inventory (when it has one) say the counter agrees with the rows?

use serde::Serialize;

use crate::api;
use crate::client::Client;
use crate::stats::SeatLedger;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Ok,
    /// More seats were granted than the event had.
    Oversold,
    /// The server's inventory says its counter and its rows disagree.
    Inconsistent,
    /// The seats gone from the event are not the seats the clients were granted.
    Mismatch,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventCheck {
    pub event_id: String,
    pub available_before: i64,
    pub available_after: i64,
    /// Holds granted minus seats given back by failed payments, as the clients were told.
    pub net_taken: i64,
    /// Requests without a clear answer (5xx, timeouts), which may or may not have acted.
    pub maybe_taken: i64,
    pub maybe_released: i64,
    /// `None` when the server has no inventory endpoint (or refused to show it).
    pub inventory_consistent: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inventory_status: Option<u16>,
    pub verdict: Verdict,
}

/// Judges one event from its counter before and after, what the clients were told, and the
/// inventory's answer (`Err(status)` when there is none).
pub fn evaluate(
    event_id: &str,
    before: i64,
    after: i64,
    ledger: &SeatLedger,
    inventory: Result<bool, u16>,
) -> EventCheck {
    let gone = before - after;
    let fewest = ledger.net_taken - ledger.maybe_released;
    let most = ledger.net_taken + ledger.maybe_taken;
    let verdict = if after < 0 || fewest > before {
        Verdict::Oversold
    } else if inventory == Ok(false) {
        Verdict::Inconsistent
    } else if gone < fewest || gone > most {
        Verdict::Mismatch
    } else {
        Verdict::Ok
    };
    EventCheck {
        event_id: event_id.to_owned(),
        available_before: before,
        available_after: after,
        net_taken: ledger.net_taken,
        maybe_taken: ledger.maybe_taken,
        maybe_released: ledger.maybe_released,
        inventory_consistent: inventory.ok(),
        inventory_status: inventory.err(),
        verdict,
    }
}

pub async fn snapshot(client: &mut Client, events: &[String]) -> anyhow::Result<Vec<i64>> {
    let mut available = Vec::with_capacity(events.len());
    for event in events {
        available.push(api::available_seats(client, event).await?);
    }
    Ok(available)
}

pub async fn verify(
    client: &mut Client,
    events: &[String],
    before: &[i64],
    ledgers: &[SeatLedger],
) -> anyhow::Result<Vec<EventCheck>> {
    let after = snapshot(client, events).await?;
    let mut checks = Vec::with_capacity(events.len());
    for (i, event) in events.iter().enumerate() {
        let inventory = api::inventory_consistent(client, event).await?;
        let ledger = ledgers.get(i).cloned().unwrap_or_default();
        checks.push(evaluate(event, before[i], after[i], &ledger, inventory));
    }
    Ok(checks)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ledger(net_taken: i64, maybe_taken: i64, maybe_released: i64) -> SeatLedger {
        SeatLedger {
            net_taken,
            maybe_taken,
            maybe_released,
        }
    }

    #[test]
    fn seats_gone_equal_to_holds_pass() {
        let check = evaluate("e", 100, 60, &ledger(40, 0, 0), Ok(true));
        assert_eq!(check.verdict, Verdict::Ok);
        assert_eq!(check.inventory_consistent, Some(true));
    }

    #[test]
    fn a_missing_inventory_endpoint_is_skipped() {
        let check = evaluate("e", 100, 60, &ledger(40, 0, 0), Err(404));
        assert_eq!(check.verdict, Verdict::Ok);
        assert_eq!(check.inventory_consistent, None);
        assert_eq!(check.inventory_status, Some(404));
    }

    #[test]
    fn more_holds_than_seats_is_an_oversell() {
        let check = evaluate("e", 10, 0, &ledger(11, 0, 0), Ok(true));
        assert_eq!(check.verdict, Verdict::Oversold);
        let check = evaluate("e", 10, -1, &ledger(10, 0, 0), Err(404));
        assert_eq!(check.verdict, Verdict::Oversold);
    }

    #[test]
    fn seats_gone_without_holds_is_a_mismatch() {
        assert_eq!(
            evaluate("e", 100, 50, &ledger(40, 0, 0), Ok(true)).verdict,
            Verdict::Mismatch
        );
        assert_eq!(
            evaluate("e", 100, 70, &ledger(40, 0, 0), Ok(true)).verdict,
            Verdict::Mismatch
        );
    }

    #[test]
    fn unclear_answers_widen_what_is_accepted() {
        // Two locks timed out: 40 to 42 seats may be gone.
        assert_eq!(
            evaluate("e", 100, 58, &ledger(40, 2, 0), Ok(true)).verdict,
            Verdict::Ok
        );
        assert_eq!(
            evaluate("e", 100, 57, &ledger(40, 2, 0), Ok(true)).verdict,
            Verdict::Mismatch
        );
        // One failed payment had no clear answer: its seat may have come back.
        assert_eq!(
            evaluate("e", 100, 61, &ledger(40, 0, 1), Ok(true)).verdict,
            Verdict::Ok
        );
    }

    #[test]
    fn an_inconsistent_inventory_fails_even_when_counts_match() {
        let check = evaluate("e", 100, 60, &ledger(40, 0, 0), Ok(false));
        assert_eq!(check.verdict, Verdict::Inconsistent);
    }
}
