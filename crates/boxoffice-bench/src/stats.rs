//! What the client tasks record while they run, merged at the end: one latency histogram per
//! operation and outcome, error counts, and the seats each task believes it took.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

/// Latencies are recorded in microseconds, up to a minute, to three significant digits.
const HIGHEST_US: u64 = 60_000_000;
const SIGNIFICANT_DIGITS: u8 = 3;

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, HIGHEST_US, SIGNIFICANT_DIGITS)
        .expect("constant histogram bounds are valid")
}

/// How one request ended, as far as the scenario is concerned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The answer the scenario hoped for.
    Ok,
    /// A correct refusal the scenario expects under load (a lock on a sold-out event).
    Refused,
    /// Anything else: `status` 0 is a transport failure (no answer).
    Failed { status: u16, message: String },
}

/// Errors are grouped by status, and by message for 4xx and transport failures (5xx messages
/// are generic and would only split the group).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ErrorKey {
    pub operation: &'static str,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

pub struct OpStats {
    pub ok: Histogram<u64>,
    pub refused: Histogram<u64>,
    pub failed: u64,
}

impl OpStats {
    fn new() -> Self {
        Self {
            ok: histogram(),
            refused: histogram(),
            failed: 0,
        }
    }

    pub fn requests(&self) -> u64 {
        self.ok.len() + self.refused.len() + self.failed
    }
}

/// Seats one task took from (or gave back to) each event, by the answers it got.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SeatLedger {
    /// Seats held (lock 201) minus seats released (payment failure 200).
    pub net_taken: i64,
    /// Seats of lock requests with no clear answer (5xx, timeout): perhaps taken.
    pub maybe_taken: i64,
    /// Seats of failed payments with no clear answer: perhaps given back.
    pub maybe_released: i64,
}

impl SeatLedger {
    fn add(&mut self, other: &Self) {
        self.net_taken += other.net_taken;
        self.maybe_taken += other.maybe_taken;
        self.maybe_released += other.maybe_released;
    }
}

#[derive(Default)]
pub struct Recorder {
    pub ops: BTreeMap<&'static str, OpStats>,
    pub errors: BTreeMap<ErrorKey, u64>,
    /// Indexed like the scenario's events.
    pub seats: Vec<SeatLedger>,
    /// Since the run started: the last successful hold and the first sold-out refusal.
    pub last_hold: Option<Duration>,
    pub first_refusal: Option<Duration>,
    /// Lock answers marked `Idempotent-Replayed: true`. Every key the bench sends is new, so
    /// any replay means keys collided and the holds/s would count repeats: it must stay 0.
    pub replayed: u64,
}

impl Recorder {
    pub fn new(events: usize) -> Self {
        Self {
            seats: vec![SeatLedger::default(); events],
            ..Self::default()
        }
    }

    pub fn record(&mut self, operation: &'static str, outcome: Outcome, latency: Duration) {
        let stats = self.ops.entry(operation).or_insert_with(OpStats::new);
        let micros = u64::try_from(latency.as_micros())
            .unwrap_or(HIGHEST_US)
            .clamp(1, HIGHEST_US);
        match outcome {
            Outcome::Ok => stats.ok.saturating_record(micros),
            Outcome::Refused => stats.refused.saturating_record(micros),
            Outcome::Failed { status, message } => {
                stats.failed += 1;
                let message = (status < 500).then_some(message);
                *self
                    .errors
                    .entry(ErrorKey {
                        operation,
                        status,
                        message,
                    })
                    .or_default() += 1;
            }
        }
    }

    pub fn ledger(&mut self, event: usize) -> &mut SeatLedger {
        if self.seats.len() <= event {
            self.seats.resize(event + 1, SeatLedger::default());
        }
        &mut self.seats[event]
    }

    pub fn merge(&mut self, other: Recorder) {
        for (operation, stats) in other.ops {
            let mine = self.ops.entry(operation).or_insert_with(OpStats::new);
            mine.ok
                .add(&stats.ok)
                .expect("histograms with equal bounds merge");
            mine.refused
                .add(&stats.refused)
                .expect("histograms with equal bounds merge");
            mine.failed += stats.failed;
        }
        self.replayed += other.replayed;
        for (key, count) in other.errors {
            *self.errors.entry(key).or_default() += count;
        }
        for (event, ledger) in other.seats.iter().enumerate() {
            self.ledger(event).add(ledger);
        }
        self.last_hold = self.last_hold.max(other.last_hold);
        self.first_refusal = match (self.first_refusal, other.first_refusal) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }

    pub fn requests(&self) -> u64 {
        self.ops.values().map(OpStats::requests).sum()
    }

    pub fn ok(&self, operation: &str) -> u64 {
        self.ops.get(operation).map_or(0, |s| s.ok.len())
    }

    pub fn refused(&self, operation: &str) -> u64 {
        self.ops.get(operation).map_or(0, |s| s.refused.len())
    }
}

/// Latency percentiles, in milliseconds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Latency {
    pub count: u64,
    pub mean_ms: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Latency {
    pub fn of(histogram: &Histogram<u64>) -> Option<Self> {
        if histogram.is_empty() {
            return None;
        }
        let ms = |micros: u64| micros as f64 / 1000.0;
        Some(Self {
            count: histogram.len(),
            mean_ms: histogram.mean() / 1000.0,
            p50_ms: ms(histogram.value_at_quantile(0.50)),
            p90_ms: ms(histogram.value_at_quantile(0.90)),
            p99_ms: ms(histogram.value_at_quantile(0.99)),
            max_ms: ms(histogram.max()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn percentiles_of_a_known_distribution() {
        let mut recorder = Recorder::new(0);
        for i in 1..=1000 {
            recorder.record("lock", Outcome::Ok, Duration::from_micros(i * 10));
        }
        let latency = Latency::of(&recorder.ops["lock"].ok).unwrap();
        assert_eq!(latency.count, 1000);
        // Three significant digits: within 0.1 %.
        assert!((latency.p50_ms - 5.0).abs() < 0.01, "{latency:?}");
        assert!((latency.p90_ms - 9.0).abs() < 0.01, "{latency:?}");
        assert!((latency.p99_ms - 9.9).abs() < 0.01, "{latency:?}");
        assert!((latency.max_ms - 10.0).abs() < 0.01, "{latency:?}");
        assert!((latency.mean_ms - 5.005).abs() < 0.01, "{latency:?}");
    }

    #[test]
    fn an_empty_histogram_has_no_latency() {
        assert_eq!(Latency::of(&histogram()), None);
    }

    #[test]
    fn extreme_latencies_are_clamped_not_lost() {
        let mut recorder = Recorder::new(0);
        recorder.record("read", Outcome::Ok, Duration::ZERO);
        recorder.record("read", Outcome::Ok, Duration::from_secs(3600));
        assert_eq!(recorder.ok("read"), 2);
        let latency = Latency::of(&recorder.ops["read"].ok).unwrap();
        assert!(latency.max_ms >= 59_000.0);
    }

    #[test]
    fn outcomes_are_counted_apart_and_errors_grouped() {
        let mut recorder = Recorder::new(1);
        recorder.record("lock", Outcome::Ok, ms(1));
        recorder.record("lock", Outcome::Refused, ms(2));
        for _ in 0..3 {
            recorder.record(
                "lock",
                Outcome::Failed {
                    status: 503,
                    message: "Service unavailable".into(),
                },
                ms(3),
            );
        }
        recorder.record(
            "lock",
            Outcome::Failed {
                status: 404,
                message: "Event not found".into(),
            },
            ms(1),
        );
        assert_eq!(recorder.ok("lock"), 1);
        assert_eq!(recorder.refused("lock"), 1);
        assert_eq!(recorder.requests(), 6);
        let groups: Vec<_> = recorder.errors.iter().collect();
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].0.status, 404);
        assert_eq!(groups[0].0.message.as_deref(), Some("Event not found"));
        assert_eq!(groups[1].0.status, 503);
        assert_eq!(groups[1].0.message, None, "5xx are grouped by status alone");
        assert_eq!(*groups[1].1, 3);
    }

    #[test]
    fn merging_adds_everything_up() {
        let mut a = Recorder::new(2);
        a.record("lock", Outcome::Ok, ms(1));
        a.ledger(0).net_taken += 1;
        a.last_hold = Some(ms(100));
        a.first_refusal = Some(ms(300));
        let mut b = Recorder::new(1);
        b.record("lock", Outcome::Ok, ms(9));
        b.record("read", Outcome::Ok, ms(1));
        b.record(
            "read",
            Outcome::Failed {
                status: 0,
                message: "timeout".into(),
            },
            ms(1),
        );
        b.ledger(0).net_taken += 2;
        b.ledger(2).maybe_taken += 1;
        b.last_hold = Some(ms(200));
        b.first_refusal = Some(ms(250));
        a.merge(b);
        assert_eq!(a.ok("lock"), 2);
        assert_eq!(a.requests(), 4);
        assert_eq!(a.seats.len(), 3);
        assert_eq!(a.seats[0].net_taken, 3);
        assert_eq!(a.seats[2].maybe_taken, 1);
        assert_eq!(a.last_hold, Some(ms(200)));
        assert_eq!(a.first_refusal, Some(ms(250)));
        let lock = Latency::of(&a.ops["lock"].ok).unwrap();
        assert!((lock.max_ms - 9.0).abs() < 0.01);
        assert_eq!(a.errors.values().sum::<u64>(), 1);
        let only = a.errors.keys().next().unwrap();
        assert_eq!((only.status, only.message.as_deref()), (0, Some("timeout")));
    }
}
