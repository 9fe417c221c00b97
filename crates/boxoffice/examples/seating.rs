//! Measures the pure parts of reserved seating on a 5,000-seat hall (rows of 20 to 40 seats,
//! two categories, an aisle in each row): drawing the seat map SVG (target ≤ 50 ms) and
//! choosing best available seats for requests of 1 to 8 until the hall is full.
//!
//! ```sh
//! cargo run --example seating            # debug build: an upper bound
//! cargo run --release --example seating  # the real figure
//! ```
//! Prints one line per measurement. Timings on a shared machine are noisy: compare within one run.

use std::time::{Duration, Instant};

use boxoffice::domain::seating::{SeatFilter, SeatPlan, SeatStatus, SeatingChart};
use boxoffice::seatmap::draw_seat_map;
use serde_json::json;

fn main() {
    let chart = hall(5000);
    assert_eq!(chart.seat_count(), 5000);

    // The SVG of the empty hall, and of the hall a third sold.
    let mut statuses = vec![SeatStatus::Free; chart.seat_count()];
    for (i, status) in statuses.iter_mut().enumerate() {
        if i % 3 == 0 {
            *status = SeatStatus::Sold;
        }
    }
    let runs = 20;
    let mut slowest = Duration::ZERO;
    let started = Instant::now();
    let mut bytes = 0;
    for _ in 0..runs {
        let one = Instant::now();
        bytes = draw_seat_map(&chart, &statuses, "Benchmark hall").len();
        slowest = slowest.max(one.elapsed());
    }
    println!(
        "seat map SVG, 5000 seats: {:.2} ms mean, {:.2} ms slowest of {runs}, {bytes} bytes",
        started.elapsed().as_secs_f64() * 1000.0 / f64::from(runs),
        slowest.as_secs_f64() * 1000.0
    );

    // Best available, requests of 1..=8 seats in turn, each granted, until nothing fits.
    let mut plan = SeatPlan::new(&chart, vec![SeatStatus::Free; chart.seat_count()]);
    let filter = SeatFilter::default();
    let (mut requests, mut slowest) = (0u32, Duration::ZERO);
    let started = Instant::now();
    loop {
        let n = 1 + (requests as usize % 8);
        let one = Instant::now();
        let Some(pick) = plan.best_available(n, &filter) else {
            break;
        };
        slowest = slowest.max(one.elapsed());
        plan.set(&pick.seats, SeatStatus::Held);
        requests += 1;
    }
    let free = plan.statuses().iter().filter(|s| s.is_free()).count();
    println!(
        "best available, 5000 seats, 1-8 a request: {requests} requests until full \
         ({free} seats left), {:.1} µs mean, {:.1} µs slowest",
        started.elapsed().as_secs_f64() * 1e6 / f64::from(requests),
        slowest.as_secs_f64() * 1e6
    );

    // The worst case: a hall sold every other seat, so that every request is split (rule 3)
    // into single seats; requests of 8 until it is full.
    let alternate = (0..chart.seat_count())
        .map(|i| {
            if i % 2 == 0 {
                SeatStatus::Sold
            } else {
                SeatStatus::Free
            }
        })
        .collect();
    let mut plan = SeatPlan::new(&chart, alternate);
    let (mut requests, mut slowest) = (0u32, Duration::ZERO);
    let started = Instant::now();
    while let Some(pick) = {
        let one = Instant::now();
        let pick = plan.best_available(8, &filter);
        slowest = slowest.max(one.elapsed());
        pick
    } {
        assert!(!pick.next_to_each_other);
        plan.set(&pick.seats, SeatStatus::Held);
        requests += 1;
    }
    println!(
        "best available, 5000 seats sold every other one, 8 a request (all split): \
         {requests} requests, {:.1} µs mean, {:.1} µs slowest",
        started.elapsed().as_secs_f64() * 1e6 / f64::from(requests),
        slowest.as_secs_f64() * 1e6
    );
}

/// Rows of 20 to 40 seats (an aisle in the middle), the front third "front", the rest "back",
/// in two sections, until `seats` seats; the last row takes what is left.
fn hall(seats: usize) -> SeatingChart {
    let mut sections = [vec![], vec![]];
    let (mut placed, mut row) = (0, 0);
    while placed < seats {
        let n = (20 + (row * 7) % 21).min(seats - placed);
        let category = if placed < seats / 3 { "front" } else { "back" };
        let section = usize::from(placed >= seats / 2);
        let mut r = json!({"key": format!("R{row}"), "seats": n, "category": category});
        if n > 1 {
            r["aisleAfter"] = json!([n / 2]);
        }
        sections[section].push(r);
        placed += n;
        row += 1;
    }
    SeatingChart::parse(&json!({
        "categories": [{"key": "front", "price": 8900, "currency": "EUR"},
                       {"key": "back", "price": 4900, "currency": "EUR"}],
        "sections": [{"key": "stalls", "name": "Stalls", "rows": sections[0]},
                     {"key": "circle", "name": "Circle", "rows": sections[1]}],
    }))
    .expect("a valid hall")
}
