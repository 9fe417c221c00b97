//! Prometheus metrics: every metric's name, labels and meaning in one place, recorded through
//! the `metrics` facade and rendered by `GET /metrics` (no listener of the exporter's own).
//!
//! The recorder is global to the process. It is installed once, on first use, and every
//! server of the process (the tests start many) shares it: counters only ever grow, so a test
//! compares values before and after what it does.

use std::sync::OnceLock;
use std::time::Duration;

use metrics::{
    Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram,
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

pub const HTTP_REQUESTS: &str = "http_requests_total";
pub const HTTP_REQUEST_DURATION: &str = "http_request_duration_seconds";
pub const HOLDS_GRANTED: &str = "boxoffice_holds_granted_total";
pub const HOLDS_REFUSED: &str = "boxoffice_holds_refused_total";
pub const HOLDS_REPLAYED: &str = "boxoffice_holds_replayed_total";
pub const BOOKINGS_CONFIRMED: &str = "boxoffice_bookings_confirmed_total";
pub const PAYMENTS: &str = "boxoffice_payments_total";
pub const SEATS_RELEASED: &str = "boxoffice_seats_released_total";
pub const HOLDS_EXPIRED: &str = "boxoffice_sweeper_expired_total";
pub const SWEEP_BATCH_DURATION: &str = "boxoffice_sweeper_batch_duration_seconds";
pub const POOL_CONNECTIONS: &str = "boxoffice_db_pool_connections";
pub const WEBHOOK_DELIVERED: &str = "boxoffice_webhook_delivered_total";
pub const WEBHOOK_FAILED_ATTEMPTS: &str = "boxoffice_webhook_failed_attempts_total";
pub const WEBHOOK_DEAD: &str = "boxoffice_webhook_dead_total";
pub const WEBHOOK_LATENCY: &str = "boxoffice_webhook_delivery_latency_seconds";
pub const WEBHOOK_PENDING: &str = "boxoffice_webhook_pending";

/// Request and batch durations, in seconds: from a cached read to a request timing out.
const DURATION_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's recorder, installed on first call.
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), DURATION_BUCKETS)
            .expect("the duration buckets are not empty")
            .build_recorder();
        let handle = recorder.handle();
        match metrics::set_global_recorder(recorder) {
            Ok(()) => describe(),
            Err(_) => tracing::warn!(
                "another metrics recorder is already installed: GET /metrics will show nothing"
            ),
        }
        handle
    })
}

fn describe() {
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests answered, by method, route template and status"
    );
    describe_histogram!(
        HTTP_REQUEST_DURATION,
        Unit::Seconds,
        "Time to answer an HTTP request, by method and route template"
    );
    describe_counter!(HOLDS_GRANTED, "Seat holds granted (new locks)");
    describe_counter!(
        HOLDS_REFUSED,
        "Seat hold requests refused, by the error code of the answer"
    );
    describe_counter!(
        HOLDS_REPLAYED,
        "Seat hold requests answered with an earlier lock (same idempotency key)"
    );
    describe_counter!(
        BOOKINGS_CONFIRMED,
        "Locks turned into bookings awaiting payment (replays not counted)"
    );
    describe_counter!(PAYMENTS, "Simulated payment attempts, by outcome");
    describe_counter!(
        SEATS_RELEASED,
        "Seats returned to events by expiry: by the sweeper, or reclaimed by a hold request"
    );
    describe_counter!(
        HOLDS_EXPIRED,
        "Lapsed locks and unpaid bookings expired by the sweeper, by kind"
    );
    describe_histogram!(
        SWEEP_BATCH_DURATION,
        Unit::Seconds,
        "Duration of one sweeper transaction (at most one batch of rows)"
    );
    describe_counter!(WEBHOOK_DELIVERED, "Webhook deliveries answered 2xx");
    describe_counter!(
        WEBHOOK_FAILED_ATTEMPTS,
        "Webhook delivery attempts that failed (to be retried, or dead)"
    );
    describe_counter!(
        WEBHOOK_DEAD,
        "Webhook deliveries given up after WEBHOOK_RETRY_HOURS"
    );
    describe_histogram!(
        WEBHOOK_LATENCY,
        Unit::Seconds,
        "Time from a change's commit to its notification's delivery to an endpoint"
    );
    describe_gauge!(
        WEBHOOK_PENDING,
        "Webhook deliveries waiting (or being retried), over every instance, as last counted"
    );
    describe_gauge!(
        POOL_CONNECTIONS,
        "Database pool connections, by pool and state (in_use, idle), as of the last scrape"
    );
}

/// The text exposition format, for `GET /metrics`.
pub fn render() -> String {
    handle().render()
}

/// Drains the histograms' recent samples so that they do not grow without bound between
/// scrapes; run every few seconds.
pub fn run_upkeep() {
    handle().run_upkeep();
}

/// `route` is the matched route template (`/api/locks/{id}`), never the raw path.
pub fn http_request(method: &str, route: &str, status: u16, elapsed: Duration) {
    counter!(
        HTTP_REQUESTS,
        "method" => method.to_owned(),
        "route" => route.to_owned(),
        "status" => status.to_string(),
    )
    .increment(1);
    histogram!(
        HTTP_REQUEST_DURATION,
        "method" => method.to_owned(),
        "route" => route.to_owned(),
    )
    .record(elapsed.as_secs_f64());
}

pub fn hold_granted() {
    counter!(HOLDS_GRANTED).increment(1);
}

pub fn hold_replayed() {
    counter!(HOLDS_REPLAYED).increment(1);
}

/// `reason` is the error code of the answer (`NOT_ENOUGH_SEATS`, …): a small, fixed set.
pub fn hold_refused(reason: &'static str) {
    counter!(HOLDS_REFUSED, "reason" => reason).increment(1);
}

/// Seats a hold request found in lapsed, unswept holds of its event and released.
pub fn seats_reclaimed(seats: i64) {
    if let Ok(seats @ 1..) = u64::try_from(seats) {
        counter!(SEATS_RELEASED, "by" => "reclaim").increment(seats);
    }
}

pub fn booking_confirmed() {
    counter!(BOOKINGS_CONFIRMED).increment(1);
}

/// `outcome`: `success`, `failure` or `timeout`.
pub fn payment(outcome: &'static str) {
    counter!(PAYMENTS, "outcome" => outcome).increment(1);
}

/// One sweeper transaction: how long it took and what it expired.
pub fn sweep_batch(elapsed: Duration, locks: u64, bookings: u64, seats: i64) {
    histogram!(SWEEP_BATCH_DURATION).record(elapsed.as_secs_f64());
    counter!(HOLDS_EXPIRED, "kind" => "locks").increment(locks);
    counter!(HOLDS_EXPIRED, "kind" => "bookings").increment(bookings);
    if let Ok(seats @ 1..) = u64::try_from(seats) {
        counter!(SEATS_RELEASED, "by" => "sweeper").increment(seats);
    }
}

/// Connections of one database pool, sampled when `/metrics` is scraped.
pub fn pool_connections(pool: &'static str, in_use: u32, idle: u32) {
    gauge!(POOL_CONNECTIONS, "pool" => pool, "state" => "in_use").set(in_use);
    gauge!(POOL_CONNECTIONS, "pool" => pool, "state" => "idle").set(idle);
}

/// A webhook delivery answered 2xx, `latency` after its change committed.
pub fn webhook_delivered(latency: Duration) {
    counter!(WEBHOOK_DELIVERED).increment(1);
    histogram!(WEBHOOK_LATENCY).record(latency.as_secs_f64());
}

/// A failed webhook attempt; `dead` when it was the last one.
pub fn webhook_failed(dead: bool) {
    counter!(WEBHOOK_FAILED_ATTEMPTS).increment(1);
    if dead {
        counter!(WEBHOOK_DEAD).increment(1);
    }
}

/// Deliveries still pending, over every instance.
pub fn webhook_pending(pending: i64) {
    #[allow(clippy::cast_precision_loss)]
    gauge!(WEBHOOK_PENDING).set(pending as f64);
}
