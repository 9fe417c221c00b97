//! When a failed delivery is tried again, and when it is given up (CONTRACT.md, "Delivery":
//! "exponential backoff and jitter (about 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, then every
//! 2 h) until `WEBHOOK_RETRY_HOURS`, then the notification is `dead` for that endpoint").

use super::Timestamp;

const SECOND: i64 = 1000;
const MINUTE: i64 = 60 * SECOND;
const HOUR: i64 = 60 * MINUTE;

/// The delay after the first, second, … failed attempt; every later one waits [`LAST_DELAY`].
const BACKOFF: [i64; 6] = [
    5 * SECOND,
    30 * SECOND,
    2 * MINUTE,
    10 * MINUTE,
    30 * MINUTE,
    HOUR,
];
const LAST_DELAY: i64 = 2 * HOUR;

/// Jitter spreads a delay over ±20 %, so that receivers that come back after an outage are not
/// hit by every queued retry in the same second.
const JITTER: f64 = 0.2;

/// What to do with a delivery whose latest attempt failed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RetryDecision {
    /// Try again at this instant.
    RetryAt(Timestamp),
    /// The retry window is over: the notification is dead for this endpoint (an admin may
    /// queue it again with redeliver).
    Dead,
}

/// The backoff schedule and how long a delivery is retried (`WEBHOOK_RETRY_HOURS`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct RetrySchedule {
    retry_for_millis: i64,
}

impl RetrySchedule {
    /// Retries for `retry_for_millis` milliseconds from when the delivery was queued.
    pub const fn new(retry_for_millis: i64) -> Self {
        Self { retry_for_millis }
    }

    pub const fn from_hours(hours: i64) -> Self {
        Self::new(hours.saturating_mul(HOUR))
    }

    /// The delay, in milliseconds and before jitter, that follows the `failed_attempts`-th
    /// failure (1 for the first).
    pub fn base_delay_millis(failed_attempts: u32) -> i64 {
        let index = usize::try_from(failed_attempts.saturating_sub(1)).unwrap_or(usize::MAX);
        BACKOFF.get(index).copied().unwrap_or(LAST_DELAY)
    }

    /// Decides after the `failed_attempts`-th failure (1 for the first) since a delivery was
    /// queued at `queued_at` (its notification's commit, or the redeliver that queued it
    /// again: a redeliver starts the schedule afresh, so its next failure counts as the first). `jitter_sample` is uniform in `[0, 1)` (the caller draws it; tests pick it):
    /// the delay is scaled by `0.8 + 0.4 × jitter_sample`. No attempt is scheduled after the
    /// retry window: when the next one would fall beyond it, the delivery is dead now.
    pub fn after_failure(
        &self,
        failed_attempts: u32,
        queued_at: Timestamp,
        now: Timestamp,
        jitter_sample: f64,
    ) -> RetryDecision {
        let sample = if jitter_sample.is_finite() {
            jitter_sample.clamp(0.0, 1.0)
        } else {
            0.5
        };
        let base = Self::base_delay_millis(failed_attempts);
        // At most 2 h × 1.2 in f64: exact enough, and far inside i64.
        #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
        let delay = (base as f64 * (1.0 - JITTER + 2.0 * JITTER * sample)).round() as i64;
        let next = now.plus_millis(delay);
        if next > queued_at.plus_millis(self.retry_for_millis) {
            RetryDecision::Dead
        } else {
            RetryDecision::RetryAt(next)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Timestamp = Timestamp::from_millis(1_800_000_000_000);

    #[test]
    fn the_schedule_is_the_contracts() {
        let delays: Vec<i64> = (1..=9).map(RetrySchedule::base_delay_millis).collect();
        assert_eq!(
            delays,
            [
                5 * SECOND,
                30 * SECOND,
                2 * MINUTE,
                10 * MINUTE,
                30 * MINUTE,
                HOUR,
                2 * HOUR,
                2 * HOUR,
                2 * HOUR
            ]
        );
        assert_eq!(RetrySchedule::base_delay_millis(u32::MAX), 2 * HOUR);
        assert_eq!(RetrySchedule::base_delay_millis(0), 5 * SECOND);
    }

    #[test]
    fn jitter_spreads_a_delay_over_plus_minus_twenty_percent() {
        let schedule = RetrySchedule::from_hours(72);
        let at = |sample| match schedule.after_failure(1, T0, T0, sample) {
            RetryDecision::RetryAt(t) => t.millis() - T0.millis(),
            RetryDecision::Dead => panic!("dead"),
        };
        assert_eq!(at(0.0), 4_000);
        assert_eq!(at(0.5), 5_000);
        assert_eq!(at(0.999_999), 6_000);
        assert_eq!(
            at(f64::NAN),
            5_000,
            "a broken sample falls back to no jitter"
        );
        assert_eq!(at(7.0), 6_000, "out of range is clamped");
    }

    #[test]
    fn retries_until_the_window_then_dead() {
        let schedule = RetrySchedule::from_hours(72);
        let mut now = T0;
        let mut failures = 0;
        loop {
            failures += 1;
            match schedule.after_failure(failures, T0, now, 0.5) {
                RetryDecision::RetryAt(next) => {
                    assert!(next > now);
                    assert!(next.millis() - T0.millis() <= 72 * HOUR);
                    now = next;
                }
                RetryDecision::Dead => break,
            }
        }
        // 5 s + 30 s + 2 min + 10 min + 30 min + 1 h ≈ 1 h 42 min, then every 2 h up to 72 h.
        assert_eq!(
            failures,
            6 + 35 + 1,
            "the last failure is the one that gives up"
        );
        assert!(now.millis() - T0.millis() > 70 * HOUR);
    }

    #[test]
    fn a_short_window_gives_up_at_the_first_delay_past_it() {
        let schedule = RetrySchedule::new(10 * SECOND);
        assert_eq!(
            schedule.after_failure(1, T0, T0, 0.5),
            RetryDecision::RetryAt(T0.plus_millis(5 * SECOND))
        );
        let later = T0.plus_millis(5 * SECOND);
        assert_eq!(
            schedule.after_failure(2, T0, later, 0.5),
            RetryDecision::Dead
        );
        let queued_again = T0.plus_seconds(3600);
        assert!(
            matches!(
                schedule.after_failure(1, queued_again, queued_again, 0.5),
                RetryDecision::RetryAt(_)
            ),
            "a redeliver starts a new window"
        );
    }
}
