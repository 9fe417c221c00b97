//! Hand-worked cases for the chart rules and best available. Rows are drawn as text:
//! `.` a FREE seat, `w` a FREE accessible seat, `x` a HELD seat, `b` a BLOCKED seat, and `|`
//! an aisle after the seat before it. Seats are numbered 1…n.

use serde_json::{Value, json};

use super::*;

/// A chart of one section `S` (category `c` for every row) and the statuses the drawings say.
fn hall(rows: &[(&str, &str)]) -> (SeatingChart, Vec<SeatStatus>) {
    hall_in(&[("S", "c", rows)])
}

/// A row's key and its drawing.
type Drawing<'a> = (&'a str, &'a str);

/// Sections (key, category `c` or `d` of every row, rows).
fn hall_in(sections: &[(&str, &str, &[Drawing])]) -> (SeatingChart, Vec<SeatStatus>) {
    let mut statuses = Vec::new();
    let sections: Vec<Value> = sections
        .iter()
        .map(|(key, category, rows)| {
            let rows: Vec<Value> = rows
                .iter()
                .map(|(row, drawing)| {
                    let (mut n, mut aisles, mut accessible) = (0, vec![], vec![]);
                    for c in drawing.chars() {
                        if c == '|' {
                            aisles.push(n);
                            continue;
                        }
                        n += 1;
                        statuses.push(match c {
                            '.' | 'w' => SeatStatus::Free,
                            'x' => SeatStatus::Held,
                            'b' => SeatStatus::Blocked,
                            other => panic!("no such seat drawing {other}"),
                        });
                        if c == 'w' {
                            accessible.push(n);
                        }
                    }
                    json!({"key": row, "seats": n, "category": category,
                        "aisleAfter": aisles, "accessible": accessible})
                })
                .collect();
            json!({"key": key, "rows": rows})
        })
        .collect();
    let chart = json!({
        "categories": [{"key": "c", "price": 100, "currency": "EUR"},
                       {"key": "d", "price": 50, "currency": "EUR"}],
        "sections": sections,
    });
    (SeatingChart::parse(&chart).unwrap(), statuses)
}

/// The labels best available gives, and whether they are next to each other.
fn best(
    chart: &SeatingChart,
    statuses: &[SeatStatus],
    n: usize,
    filter: SeatFilter,
) -> Option<(Vec<String>, bool)> {
    let plan = SeatPlan::new(chart, statuses.to_vec());
    plan.best_available(n, &filter).map(|pick| {
        let labels = pick.seats.iter().map(|&s| chart.label(s)).collect();
        (labels, pick.next_to_each_other)
    })
}

fn labels(labels: &[&str]) -> Vec<String> {
    labels.iter().map(|l| l.to_string()).collect()
}

fn any() -> SeatFilter {
    SeatFilter::default()
}

fn together() -> SeatFilter {
    SeatFilter {
        together: true,
        ..SeatFilter::default()
    }
}

#[test]
fn a_block_nearest_the_middle_of_the_row() {
    let (chart, statuses) = hall(&[("A", "..........")]);
    // Ten seats: the middle is between 5 and 6.
    let got = best(&chart, &statuses, 2, any());
    assert_eq!(got, Some((labels(&["S-A-5", "S-A-6"]), true)));
    // Three seats: 4-6 and 5-7 are as near the middle; the lower one wins.
    let got = best(&chart, &statuses, 3, any());
    assert_eq!(got, Some((labels(&["S-A-4", "S-A-5", "S-A-6"]), true)));
}

#[test]
fn a_block_that_would_strand_a_seat_is_avoided() {
    // Seats 2-6 are FREE. Nearest the middle (4) would be 3-4, but it leaves seat 2 alone;
    // 4-5 leaves 6 alone. 2-3 and 5-6 strand nothing and are as near: the lower wins.
    let (chart, statuses) = hall(&[("A", "x.....x")]);
    let got = best(&chart, &statuses, 2, any());
    assert_eq!(got, Some((labels(&["S-A-2", "S-A-3"]), true)));
}

#[test]
fn blocked_seats_and_aisles_bound_the_runs_that_may_be_stranded() {
    // Seat 1 is blocked and an aisle follows seat 4: the runs are 2-4 and 5-9. Without the
    // aisle, 4-5 would be nearest the middle (5). In 2-4 every pair strands a seat; in 5-9,
    // 5-6 strands nothing and is as near the middle as 4-5 was.
    let (chart, statuses) = hall(&[("A", "b...|.....")]);
    let got = best(&chart, &statuses, 2, any());
    assert_eq!(got, Some((labels(&["S-A-5", "S-A-6"]), true)));
}

#[test]
fn the_first_row_without_stranding_wins_over_an_earlier_row_that_strands() {
    // Row A can only hold a pair that strands a seat; row B can without.
    let (chart, statuses) = hall(&[("A", "x...x"), ("B", "....")]);
    let got = best(&chart, &statuses, 2, any());
    assert_eq!(got, Some((labels(&["S-B-1", "S-B-2"]), true)));
}

#[test]
fn stranding_is_allowed_when_every_block_strands() {
    // Rule 2: the first row with any block; 2-3 and 3-4 are as near the middle (3).
    let (chart, statuses) = hall(&[("A", "x...x"), ("B", "x...x")]);
    let got = best(&chart, &statuses, 2, any());
    assert_eq!(got, Some((labels(&["S-A-2", "S-A-3"]), true)));
}

#[test]
fn blocks_do_not_cross_an_aisle() {
    // Seats 2 and 3 are FREE but an aisle runs between them.
    let (chart, statuses) = hall(&[("A", "x.|.x")]);
    assert_eq!(best(&chart, &statuses, 2, together()), None);
    let got = best(&chart, &statuses, 2, any());
    assert_eq!(got, Some((labels(&["S-A-2", "S-A-3"]), false)));
}

#[test]
fn the_greedy_split_takes_the_largest_block_first() {
    // No four seats together: a block of three (1-3 and 4-6 are as near the middle; the
    // lower wins), then one more, where it strands nothing: 4 (6 would be farther).
    let (chart, statuses) = hall(&[("A", "...|...")]);
    let got = best(&chart, &statuses, 4, any());
    assert_eq!(
        got,
        Some((labels(&["S-A-1", "S-A-2", "S-A-3", "S-A-4"]), false))
    );
    assert_eq!(best(&chart, &statuses, 4, together()), None);
}

#[test]
fn the_greedy_split_moves_on_to_later_rows() {
    // A pair in row A, then one seat in row B, where both seats strand the other: rule 2
    // takes the middle one.
    let (chart, statuses) = hall(&[("A", "..x"), ("B", "x..")]);
    let got = best(&chart, &statuses, 3, any());
    assert_eq!(got, Some((labels(&["S-A-1", "S-A-2", "S-B-2"]), false)));
}

#[test]
fn not_enough_seats() {
    let (chart, statuses) = hall(&[("A", "x..x"), ("B", "xxx.")]);
    assert_eq!(best(&chart, &statuses, 4, any()), None);
    assert!(best(&chart, &statuses, 3, any()).is_some());
}

#[test]
fn categories_and_sections_narrow_the_candidates() {
    let (chart, statuses) = hall_in(&[
        ("stalls", "c", &[("A", "....")]),
        ("circle", "d", &[("A", "....")]),
        ("box", "c", &[("A", "..")]),
    ]);
    let cheap = SeatFilter {
        category: Some(1),
        ..any()
    };
    let got = best(&chart, &statuses, 2, cheap);
    assert_eq!(got, Some((labels(&["circle-A-1", "circle-A-2"]), true)));
    let boxed = SeatFilter {
        section: Some(2),
        ..any()
    };
    let got = best(&chart, &statuses, 2, boxed);
    assert_eq!(got, Some((labels(&["box-A-1", "box-A-2"]), true)));
    let none = SeatFilter {
        section: Some(2),
        category: Some(1),
        ..any()
    };
    assert_eq!(best(&chart, &statuses, 1, none), None);
}

#[test]
fn accessible_seats_only_when_asked() {
    // Candidates are seats 3 and 6; the FREE seats around them still count for stranding.
    let (chart, statuses) = hall(&[("A", "..w..w")]);
    let wheelchair = SeatFilter {
        accessible: true,
        ..any()
    };
    let got = best(&chart, &statuses, 1, wheelchair);
    assert_eq!(got, Some((labels(&["S-A-3"]), true)));
    let got = best(&chart, &statuses, 2, wheelchair);
    assert_eq!(got, Some((labels(&["S-A-3", "S-A-6"]), false)));
    let both = SeatFilter {
        together: true,
        ..wheelchair
    };
    assert_eq!(best(&chart, &statuses, 2, both), None);
}

#[test]
fn seats_taken_by_earlier_requests_of_a_batch_are_taken() {
    let (chart, statuses) = hall(&[("A", "......")]);
    let mut plan = SeatPlan::new(&chart, statuses);
    let first = plan.best_available(2, &any()).unwrap();
    assert_eq!(first.seats, vec![2, 3]); // S-A-3, S-A-4
    plan.set(&first.seats, SeatStatus::Held);
    let second = plan.best_available(2, &any()).unwrap();
    assert_eq!(second.seats, vec![0, 1]);
    assert_eq!(plan.unavailable(&[0, 2, 5]), vec![2]);
    plan.set(&[2], SeatStatus::Free);
    assert_eq!(plan.unavailable(&[0, 2, 5]), Vec::<usize>::new());
}

#[test]
fn explicit_numbers_are_positions_in_the_rows_order() {
    let chart = SeatingChart::parse(&json!({
        "categories": [{"key": "c", "price": 0, "currency": "USD"}],
        "sections": [{"key": "S", "rows": [{"key": "B", "numbers": [2, 4, 6, 8, 10], "category": "c"}]}],
    }))
    .unwrap();
    let plan = SeatPlan::new(&chart, vec![SeatStatus::Free; 5]);
    let pick = plan.best_available(1, &any()).unwrap();
    assert_eq!(chart.label(pick.seats[0]), "S-B-6");
}

#[test]
fn seats_are_counted_by_category_over_runs_of_rows() {
    // Rows of c, c, d, c: three runs, c's two apart.
    let (chart, statuses) = hall_in(&[
        ("S", "c", &[("A", "..x"), ("B", "b.")]),
        ("T", "d", &[("A", "x.|.")]),
        ("U", "c", &[("A", "w")]),
    ]);
    assert_eq!(
        chart.category_runs(),
        [(0..5, 0), (5..8, 1), (8..9, 0)],
        "rows next to each other with one category make one run"
    );
    let counts = SeatCounts::by_category(&chart, &statuses);
    let c = SeatCounts {
        free: 4,
        held: 1,
        blocked: 1,
        ..SeatCounts::default()
    };
    let d = SeatCounts {
        free: 2,
        held: 1,
        ..SeatCounts::default()
    };
    assert_eq!(counts, [c, d]);
}

#[test]
fn a_new_charts_seats_are_all_free_in_every_category() {
    let (chart, _) = hall_in(&[
        ("S", "c", &[("A", "..x"), ("B", "b.")]),
        ("T", "d", &[("A", "x.|.")]),
        ("U", "c", &[("A", "w")]),
    ]);
    let free = |n| SeatCounts {
        free: n,
        ..SeatCounts::default()
    };
    assert_eq!(SeatCounts::all_free(&chart), [free(6), free(3)]);
}
