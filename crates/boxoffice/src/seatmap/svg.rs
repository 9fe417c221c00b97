//! The seat map as an SVG image: a legend with the count of each status, then each section
//! under its name, each row centred with its key at its start, each seat one `<rect>` coloured
//! by status whose `<title>` is its label (and whose `data-status` names the status, for tests
//! and scripts). Accessible seats are drawn round; aisles are gaps.

use std::fmt::Write;

use quick_xml::escape::escape;

use crate::domain::seating::{SeatCounts, SeatStatus, SeatingChart};

/// A seat's side and the space between seats, in SVG user units (pixels).
const SEAT: u32 = 14;
const PITCH: u32 = 18;
/// The extra gap an aisle makes.
const AISLE: u32 = 14;
const MARGIN: u32 = 16;
/// Room at the start of a row for its key.
const ROW_KEY: u32 = 40;
const TITLE_HEIGHT: u32 = 30;
const LEGEND_HEIGHT: u32 = 30;
const SECTION_HEADING: u32 = 26;
const SECTION_GAP: u32 = 14;

/// The fill of a seat in each status.
pub const fn status_colour(status: SeatStatus) -> &'static str {
    match status {
        SeatStatus::Free => "#2e9d57",
        SeatStatus::Held => "#f0b429",
        SeatStatus::PendingPayment => "#e8731a",
        SeatStatus::Sold => "#9aa5b1",
        SeatStatus::Blocked => "#323f4b",
    }
}

/// Draws the seat map of `chart` with `statuses` (one per seat, in chart order) under
/// `title` (the event's name). Returns a standalone SVG document (`image/svg+xml`).
///
/// # Panics
/// If `statuses` does not hold one status per seat.
pub fn draw_seat_map(chart: &SeatingChart, statuses: &[SeatStatus], title: &str) -> String {
    assert_eq!(chart.seat_count(), statuses.len(), "one status per seat");
    let seats = chart.seats();
    let row_width = |row: &crate::domain::seating::Row| -> u32 {
        let aisles = seats[row.seats.clone()]
            .iter()
            .take(row.seats.len().saturating_sub(1))
            .filter(|s| s.aisle_after)
            .count() as u32;
        row.seats.len() as u32 * PITCH + aisles * AISLE
    };
    let widest = chart.rows().iter().map(row_width).max().unwrap_or(0);
    // Wide enough for the legend (about 640 units) too.
    let width = (2 * MARGIN + ROW_KEY + widest).max(660);
    let height = MARGIN
        + TITLE_HEIGHT
        + LEGEND_HEIGHT
        + chart.sections().len() as u32 * (SECTION_HEADING + SECTION_GAP)
        + chart.rows().len() as u32 * PITCH
        + MARGIN;

    // About 150 bytes a seat; reserving it up front keeps drawing a single pass.
    let mut out = String::with_capacity(2048 + seats.len() * 150);
    let _ = write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12"><rect width="100%" height="100%" fill="#ffffff"/>"##
    );
    let _ = write!(
        out,
        r##"<text x="{MARGIN}" y="{}" font-size="18" font-weight="bold" fill="#1f2933">{}</text>"##,
        MARGIN + 16,
        escape(title)
    );
    legend(
        &mut out,
        SeatCounts::of(statuses.iter().copied()),
        MARGIN + TITLE_HEIGHT,
    );

    let mut y = MARGIN + TITLE_HEIGHT + LEGEND_HEIGHT;
    for section in chart.sections() {
        let _ = write!(
            out,
            r##"<text x="{}" y="{}" font-size="14" font-weight="bold" fill="#1f2933" text-anchor="middle" class="section">{}</text>"##,
            MARGIN + ROW_KEY + widest / 2,
            y + 16,
            escape(section.name.as_str())
        );
        y += SECTION_HEADING;
        for row in &chart.rows()[section.rows.clone()] {
            let mut x = MARGIN + ROW_KEY + (widest - row_width(row)) / 2;
            // Keys are A-Z a-z 0-9 _ only (the chart's rule): nothing in them needs escaping.
            let _ = write!(
                out,
                r##"<text x="{}" y="{}" text-anchor="end" fill="#52606d" class="row">{}</text>"##,
                x - 6,
                y + SEAT - 2,
                row.key
            );
            for index in row.seats.clone() {
                let seat = &seats[index];
                let status = statuses[index];
                let corner = if seat.accessible { SEAT / 2 } else { 3 };
                let _ = write!(
                    out,
                    r#"<rect class="seat" x="{x}" y="{y}" width="{SEAT}" height="{SEAT}" rx="{corner}" fill="{}" data-status="{}"><title>{}-{}-{}</title></rect>"#,
                    status_colour(status),
                    status.as_str(),
                    chart.sections()[row.section].key,
                    row.key,
                    seat.number
                );
                x += PITCH;
                if seat.aisle_after {
                    x += AISLE;
                }
            }
            y += PITCH;
        }
        y += SECTION_GAP;
    }
    out.push_str("</svg>");
    out
}

/// One swatch and count per status, plus the accessible-seat key.
fn legend(out: &mut String, counts: SeatCounts, top: u32) {
    let mut x = MARGIN;
    for &status in SeatStatus::ALL {
        let text = format!("{} {}", status.as_str(), counts.get(status));
        let _ = write!(
            out,
            r#"<rect x="{x}" y="{top}" width="{SEAT}" height="{SEAT}" rx="3" fill="{}"/><text x="{}" y="{}" class="legend" data-status="{}">{text}</text>"#,
            status_colour(status),
            x + SEAT + 5,
            top + SEAT - 2,
            status.as_str(),
        );
        // About 7 units a character at font-size 12, then a gap.
        x += SEAT + 5 + 7 * text.len() as u32 + 18;
    }
    let _ = write!(
        out,
        r##"<rect x="{x}" y="{top}" width="{SEAT}" height="{SEAT}" rx="{}" fill="none" stroke="#52606d"/><text x="{}" y="{}">accessible</text>"##,
        SEAT / 2,
        x + SEAT + 5,
        top + SEAT - 2
    );
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn chart() -> SeatingChart {
        SeatingChart::parse(&json!({
            "categories": [{"key": "c", "name": "Stalls <front>", "price": 100, "currency": "EUR"}],
            "sections": [{"key": "stalls", "name": "Stalls & \"Pit\"", "rows": [
                {"key": "A", "seats": 4, "category": "c", "aisleAfter": [2], "accessible": [1]},
                {"key": "B", "numbers": [2, 4], "category": "c"}]}]
        }))
        .unwrap()
    }

    #[test]
    fn one_shape_per_seat_with_its_label_and_status() {
        let chart = chart();
        let statuses = [
            SeatStatus::Free,
            SeatStatus::Held,
            SeatStatus::Sold,
            SeatStatus::Free,
            SeatStatus::Blocked,
            SeatStatus::PendingPayment,
        ];
        let svg = draw_seat_map(&chart, &statuses, "Hamlet <tonight> & more");
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.ends_with("</svg>"));
        assert_eq!(svg.matches("class=\"seat\"").count(), 6);
        for label in ["stalls-A-1", "stalls-A-4", "stalls-B-2", "stalls-B-4"] {
            assert!(svg.contains(&format!("<title>{label}</title>")), "{label}");
        }
        assert!(svg.contains(r##"fill="#f0b429" data-status="HELD"><title>stalls-A-2</title>"##));
        assert!(svg.contains(r#"data-status="FREE">FREE 2</text>"#));
        assert!(svg.contains(r#"data-status="SOLD">SOLD 1</text>"#));
        // Names are escaped, never copied raw.
        assert!(svg.contains("Hamlet &lt;tonight&gt; &amp; more"));
        assert!(svg.contains("Stalls &amp; &quot;Pit&quot;"));
        assert!(!svg.contains("<tonight>"));
        // The row keys are drawn.
        assert!(svg.contains(r#"class="row">A</text>"#));
        assert!(svg.contains(r#"class="row">B</text>"#));
    }

    #[test]
    fn aisles_are_gaps() {
        let chart = chart();
        let svg = draw_seat_map(&chart, &[SeatStatus::Free; 6], "x");
        let x_of = |label: &str| -> u32 {
            let end = svg.find(&format!("<title>{label}</title>")).unwrap();
            let start = svg[..end].rfind("<rect class=\"seat\" x=\"").unwrap() + 22;
            svg[start..].split('"').next().unwrap().parse().unwrap()
        };
        assert_eq!(x_of("stalls-A-2") - x_of("stalls-A-1"), PITCH);
        assert_eq!(x_of("stalls-A-3") - x_of("stalls-A-2"), PITCH + AISLE);
    }
}
