//! Best available: which FREE seats a request for N seats gets (CONTRACT.md, "Reserved
//! seating", rules 1–4). Deterministic: the same seat statuses and request give the same seats.
//!
//! The vocabulary is the contract's. *Candidates* are the FREE seats the request allows. A
//! *block* is N candidates next to each other in a row (consecutive in the row's order, not
//! across an aisle). A block *strands* a seat when, on either side of it, the run of FREE seats
//! up to the next taken or blocked seat, aisle or row end is exactly one seat long.
//!
//! Cost: one pass over the rows the request allows per block chosen, looking only at the seats
//! of rows whose longest run of FREE seats (kept per row in [`SeatPlan`]) could hold the
//! block; a row is recounted when its seats change. See `examples/seating.rs` for the figures
//! on a 5,000-seat hall: this matters because the hold path runs inside the write transaction.

use super::chart::SeatingChart;
use super::status::SeatStatus;

/// What a best-available request allows, resolved against a chart (see
/// [`super::BestAvailableRequest::resolve`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SeatFilter {
    /// Only seats of this category (index into the chart's categories).
    pub category: Option<usize>,
    /// Only seats of this section (index into the chart's sections).
    pub section: Option<usize>,
    /// Only accessible seats.
    pub accessible: bool,
    /// Refuse rather than split the seats (rule 3 does not apply).
    pub together: bool,
}

/// The seats chosen for a request, as seat indexes in chart order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pick {
    pub seats: Vec<usize>,
    /// Whether the seats are one block (rules 1 and 2) rather than several (rule 3).
    pub next_to_each_other: bool,
}

/// The seats of one event and their statuses, as a decision sees them. Seats that earlier
/// requests of the same batch took are marked taken here before the next request is decided.
#[derive(Clone, Debug)]
pub struct SeatPlan<'a> {
    chart: &'a SeatingChart,
    statuses: Vec<SeatStatus>,
    /// FREE seats per row, and the longest run of them not broken by a taken seat or an
    /// aisle: rows that cannot hold a block are skipped without looking at their seats.
    free_in_row: Vec<usize>,
    longest_in_row: Vec<usize>,
}

/// A block found in a row: its first position in `row.seats` and its doubled distance from
/// the row's middle.
#[derive(Clone, Copy, Debug)]
struct Block {
    start: usize,
    distance: usize,
}

impl<'a> SeatPlan<'a> {
    /// `statuses` holds one status per seat of `chart`, in chart order.
    ///
    /// # Panics
    /// If the lengths differ: the store builds both from the same event.
    pub fn new(chart: &'a SeatingChart, statuses: Vec<SeatStatus>) -> Self {
        assert_eq!(chart.seat_count(), statuses.len(), "one status per seat");
        let mut plan = Self {
            chart,
            statuses,
            free_in_row: vec![0; chart.rows().len()],
            longest_in_row: vec![0; chart.rows().len()],
        };
        for row in 0..chart.rows().len() {
            plan.recount(row);
        }
        plan
    }

    fn recount(&mut self, row: usize) {
        let range = self.chart.rows()[row].seats.clone();
        let (mut free, mut run, mut longest) = (0, 0, 0);
        for seat in range {
            if self.statuses[seat].is_free() {
                free += 1;
                run += 1;
                longest = longest.max(run);
            } else {
                run = 0;
            }
            if self.chart.seats()[seat].aisle_after {
                run = 0;
            }
        }
        self.free_in_row[row] = free;
        self.longest_in_row[row] = longest;
    }

    pub fn chart(&self) -> &'a SeatingChart {
        self.chart
    }

    pub fn statuses(&self) -> &[SeatStatus] {
        &self.statuses
    }

    /// Sets seats' status (e.g. HELD once a request of a batch got them).
    pub fn set(&mut self, seats: &[usize], status: SeatStatus) {
        let mut touched: Option<usize> = None;
        for &seat in seats {
            let row = self.chart.seats()[seat].row as usize;
            self.statuses[seat] = status;
            // Seats come in chart order, mostly a row at a time: recount each row once.
            if touched.is_some_and(|t| t != row) {
                self.recount(touched.unwrap_or(row));
            }
            touched = Some(row);
        }
        if let Some(row) = touched {
            self.recount(row);
        }
    }

    /// The seats of `seats` that are not FREE, in the order given.
    pub fn unavailable(&self, seats: &[usize]) -> Vec<usize> {
        seats
            .iter()
            .copied()
            .filter(|&s| !self.statuses[s].is_free())
            .collect()
    }

    /// The best `n` seats for a request (rules 1–3), or `None` when there are not enough
    /// (rule 4; with `together`, when no block of `n` exists). Nothing is marked: the caller
    /// does that with [`Self::set`] if it grants them.
    pub fn best_available(&self, n: usize, filter: &SeatFilter) -> Option<Pick> {
        if n == 0 {
            return None;
        }
        if let Some(start) = self.choose_block(n, filter) {
            return Some(Pick {
                seats: (start..start + n).collect(),
                next_to_each_other: true,
            });
        }
        if filter.together || self.candidate_count(filter) < n {
            return None;
        }
        // Rule 3: greedily, the block rules 1 and 2 choose for the seats still wanted, or for
        // as many as the longest run of candidates can give.
        let mut plan = self.clone();
        let mut seats = Vec::with_capacity(n);
        while seats.len() < n {
            let size = (n - seats.len()).min(plan.longest_run(filter));
            let start = plan.choose_block(size, filter)?;
            let block: Vec<usize> = (start..start + size).collect();
            plan.set(&block, SeatStatus::Held);
            seats.extend(block);
        }
        seats.sort_unstable();
        Some(Pick {
            seats,
            next_to_each_other: false,
        })
    }

    /// Rules 1 and 2 for a block of `size`: the first seat of the block chosen, if any.
    fn choose_block(&self, size: usize, filter: &SeatFilter) -> Option<usize> {
        let mut fallback = None;
        for row in self.allowed_rows(filter) {
            if self.longest_in_row[row] < size {
                continue;
            }
            let (clean, any) = self.best_blocks_in_row(row, size, filter);
            let first = self.chart.rows()[row].seats.start;
            if let Some(block) = clean {
                return Some(first + block.start);
            }
            if fallback.is_none() {
                fallback = any.map(|block| first + block.start);
            }
        }
        fallback
    }

    /// In one row, the best block of `size` that strands no seat and the best block of all,
    /// each nearest the row's middle, then lowest.
    fn best_blocks_in_row(
        &self,
        row: usize,
        size: usize,
        filter: &SeatFilter,
    ) -> (Option<Block>, Option<Block>) {
        let range = self.chart.rows()[row].seats.clone();
        let seats = &self.chart.seats()[range.clone()];
        let statuses = &self.statuses[range];
        let k = seats.len();
        let (mut clean, mut any): (Option<Block>, Option<Block>) = (None, None);
        let better =
            |best: &Option<Block>, block: Block| best.is_none_or(|b| block.distance < b.distance);
        // Walk segments: maximal runs of FREE seats not broken by an aisle.
        let mut segment_start = 0;
        while segment_start < k {
            if !statuses[segment_start].is_free() {
                segment_start += 1;
                continue;
            }
            let mut segment_end = segment_start; // inclusive
            while !seats[segment_end].aisle_after
                && segment_end + 1 < k
                && statuses[segment_end + 1].is_free()
            {
                segment_end += 1;
            }
            // Within the segment, every window of `size` candidates is a block.
            let mut run = 0;
            for (p, seat) in seats
                .iter()
                .enumerate()
                .take(segment_end + 1)
                .skip(segment_start)
            {
                run = if self.allows(seat, filter) {
                    run + 1
                } else {
                    0
                };
                if run < size {
                    continue;
                }
                let start = p + 1 - size;
                // Positions are 1-based in the contract; the doubled distance of the block's
                // middle from the row's middle is |(start + end) - (k + 1)| with 1-based ends.
                let block = Block {
                    start,
                    distance: (2 * start + size + 1).abs_diff(k + 1),
                };
                let left = start - segment_start;
                let right = segment_end - p;
                if left != 1 && right != 1 && better(&clean, block) {
                    clean = Some(block);
                }
                if better(&any, block) {
                    any = Some(block);
                }
            }
            segment_start = segment_end + 1;
        }
        (clean, any)
    }

    /// The longest block the request could get anywhere.
    fn longest_run(&self, filter: &SeatFilter) -> usize {
        if !filter.accessible {
            // Every FREE seat of an allowed row is a candidate.
            return self
                .allowed_rows(filter)
                .map(|row| self.longest_in_row[row])
                .max()
                .unwrap_or(0);
        }
        let mut longest = 0;
        for row in self.allowed_rows(filter) {
            let range = self.chart.rows()[row].seats.clone();
            let mut run = 0;
            for seat in range {
                let s = &self.chart.seats()[seat];
                run = if self.is_candidate(seat, filter) {
                    run + 1
                } else {
                    0
                };
                longest = longest.max(run);
                if s.aisle_after {
                    run = 0;
                }
            }
        }
        longest
    }

    fn candidate_count(&self, filter: &SeatFilter) -> usize {
        let rows = self.allowed_rows(filter);
        if !filter.accessible {
            return rows.map(|row| self.free_in_row[row]).sum();
        }
        rows.flat_map(|row| self.chart.rows()[row].seats.clone())
            .filter(|&seat| self.is_candidate(seat, filter))
            .count()
    }

    fn is_candidate(&self, seat: usize, filter: &SeatFilter) -> bool {
        self.statuses[seat].is_free() && self.allows(&self.chart.seats()[seat], filter)
    }

    /// Whether the request allows this seat, whatever its status (its row is allowed).
    fn allows(&self, seat: &super::Seat, filter: &SeatFilter) -> bool {
        !filter.accessible || seat.accessible
    }

    /// The rows of the request's section and category, in chart order.
    fn allowed_rows<'p>(&'p self, filter: &'p SeatFilter) -> impl Iterator<Item = usize> + 'p {
        let rows = match filter.section {
            Some(section) => self.chart.sections()[section].rows.clone(),
            None => 0..self.chart.rows().len(),
        };
        rows.filter(move |&row| {
            filter
                .category
                .is_none_or(|category| self.chart.rows()[row].category == category)
        })
    }
}
