//! Where a seat stands (CONTRACT.md, "Reserved seating", "Seat status"): every seat is in
//! exactly one status, always.

use super::SeatingChart;
use crate::domain::status_enum;

status_enum!(
    /// `HELD`: an ACTIVE lock without a booking holds it (a lapsed hold's seats stay HELD until
    /// the sweeper or a reclaim frees them); `PENDING_PAYMENT`: its lock backs a booking that
    /// awaits payment; `SOLD`: its lock is CONSUMED; `BLOCKED`: withheld by an admin.
    SeatStatus {
        Free => "FREE",
        Held => "HELD",
        PendingPayment => "PENDING_PAYMENT",
        Sold => "SOLD",
        Blocked => "BLOCKED",
    }
);

impl SeatStatus {
    pub const fn is_free(self) -> bool {
        matches!(self, Self::Free)
    }
}

/// How many seats are in each status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SeatCounts {
    pub free: i64,
    pub held: i64,
    pub pending_payment: i64,
    pub sold: i64,
    pub blocked: i64,
}

impl SeatCounts {
    /// Counts a list of statuses.
    pub fn of(statuses: impl IntoIterator<Item = SeatStatus>) -> Self {
        let mut counts = Self::default();
        for status in statuses {
            *counts.get_mut(status) += 1;
        }
        counts
    }

    /// The seats of each category of `chart` (in the chart's order of categories), counted
    /// by status among `statuses` (every seat's, in chart order).
    pub fn by_category(chart: &SeatingChart, statuses: &[SeatStatus]) -> Vec<Self> {
        let mut counts = vec![Self::default(); chart.categories().len()];
        for (run, category) in chart.category_runs() {
            for &status in statuses.get(run).unwrap_or_default() {
                *counts[category].get_mut(status) += 1;
            }
        }
        counts
    }

    /// The seats of each category of a chart whose seats are all FREE (a new seated event's).
    pub fn all_free(chart: &SeatingChart) -> Vec<Self> {
        Self::by_category(chart, &vec![SeatStatus::Free; chart.seat_count()])
    }

    pub const fn get(&self, status: SeatStatus) -> i64 {
        match status {
            SeatStatus::Free => self.free,
            SeatStatus::Held => self.held,
            SeatStatus::PendingPayment => self.pending_payment,
            SeatStatus::Sold => self.sold,
            SeatStatus::Blocked => self.blocked,
        }
    }

    pub fn get_mut(&mut self, status: SeatStatus) -> &mut i64 {
        match status {
            SeatStatus::Free => &mut self.free,
            SeatStatus::Held => &mut self.held,
            SeatStatus::PendingPayment => &mut self.pending_payment,
            SeatStatus::Sold => &mut self.sold,
            SeatStatus::Blocked => &mut self.blocked,
        }
    }

    pub const fn total(&self) -> i64 {
        self.free + self.held + self.pending_payment + self.sold + self.blocked
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_read_and_count() {
        assert_eq!(
            SeatStatus::parse("PENDING_PAYMENT"),
            Some(SeatStatus::PendingPayment)
        );
        assert_eq!(SeatStatus::parse("free"), None);
        let counts = SeatCounts::of([SeatStatus::Free, SeatStatus::Sold, SeatStatus::Free]);
        assert_eq!((counts.free, counts.sold, counts.total()), (2, 1, 3));
        assert_eq!(counts.get(SeatStatus::Held), 0);
    }
}
