//! The result of a run, as a table for people and as one JSON document for machines.

use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;

use crate::check::{EventCheck, Verdict};
use crate::stats::{Latency, Recorder};
use crate::usage::ServerUsage;

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    pub scenario: String,
    pub url: String,
    pub client: String,
    pub clients: usize,
    pub users: usize,
    pub events: usize,
    pub seats_per_event: i64,
    pub duration_s: f64,
    /// `--rate`: steps a second asked for, when the clients were paced.
    pub target_rate_per_s: Option<f64>,
    pub elapsed_s: f64,
    /// `duration`, `sold out` (hot-lock), or `all clients refused` (flash-sale).
    pub ended: String,
    pub requests: u64,
    pub requests_per_s: f64,
    pub holds: u64,
    pub holds_per_s: f64,
    pub refusals: u64,
    pub failures: u64,
    /// Lock answers marked `Idempotent-Replayed: true` (must be 0: every key is new).
    pub replayed: u64,
    /// When the last hold was granted, if the event sold out.
    pub sold_out_after_s: Option<f64>,
    pub operations: Vec<OperationReport>,
    pub errors: Vec<ErrorCount>,
    pub bench_cpu_seconds: Option<f64>,
    pub bench_cpu_us_per_request: Option<f64>,
    pub server: Option<ServerUsage>,
    pub checks: Vec<EventCheck>,
    pub check_passed: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationReport {
    pub operation: String,
    /// `ok` or `refused`.
    pub outcome: String,
    pub count: u64,
    pub per_s: f64,
    pub latency: Latency,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ErrorCount {
    pub operation: String,
    /// 0 when no answer came (connection failure, timeout).
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    pub count: u64,
}

/// What the caller knows about the run beyond what the tasks recorded.
pub struct RunInfo {
    pub label: Option<String>,
    pub scenario: String,
    pub url: String,
    pub client: String,
    pub clients: usize,
    pub users: usize,
    pub events: usize,
    pub seats_per_event: i64,
    pub duration: Duration,
    pub rate: Option<f64>,
    pub elapsed: Duration,
    pub ended: String,
    pub bench_cpu_seconds: Option<f64>,
    pub server: Option<ServerUsage>,
    pub checks: Vec<EventCheck>,
}

impl Report {
    pub fn new(info: RunInfo, recorder: &Recorder) -> Self {
        let seconds = info.elapsed.as_secs_f64().max(1e-9);
        let rate = |n: u64| n as f64 / seconds;
        let mut operations = Vec::new();
        for (name, stats) in &recorder.ops {
            for (outcome, histogram) in [("ok", &stats.ok), ("refused", &stats.refused)] {
                if let Some(latency) = Latency::of(histogram) {
                    operations.push(OperationReport {
                        operation: (*name).to_owned(),
                        outcome: outcome.to_owned(),
                        count: latency.count,
                        per_s: rate(latency.count),
                        latency,
                    });
                }
            }
        }
        let errors = recorder
            .errors
            .iter()
            .map(|(key, count)| ErrorCount {
                operation: key.operation.to_owned(),
                status: key.status,
                message: key.message.clone(),
                count: *count,
            })
            .collect();
        let requests = recorder.requests();
        let holds = recorder.ok("lock");
        let refusals = recorder.refused("lock");
        let failures = recorder.ops.values().map(|s| s.failed).sum();
        let sold_out_after_s = recorder
            .first_refusal
            .and(recorder.last_hold)
            .map(|at| at.as_secs_f64());
        let check_passed =
            recorder.replayed == 0 && info.checks.iter().all(|c| c.verdict == Verdict::Ok);
        Self {
            label: info.label,
            scenario: info.scenario,
            url: info.url,
            client: info.client,
            clients: info.clients,
            users: info.users,
            events: info.events,
            seats_per_event: info.seats_per_event,
            duration_s: info.duration.as_secs_f64(),
            target_rate_per_s: info.rate,
            elapsed_s: info.elapsed.as_secs_f64(),
            ended: info.ended,
            requests,
            requests_per_s: rate(requests),
            holds,
            holds_per_s: rate(holds),
            refusals,
            failures,
            replayed: recorder.replayed,
            sold_out_after_s,
            operations,
            errors,
            bench_cpu_us_per_request: info
                .bench_cpu_seconds
                .map(|cpu| cpu * 1e6 / requests.max(1) as f64),
            bench_cpu_seconds: info.bench_cpu_seconds,
            server: info.server,
            checks: info.checks,
            check_passed,
        }
    }

    /// The table printed on stdout.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let label = self
            .label
            .as_deref()
            .map(|l| format!(" [{l}]"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "boxoffice-bench{label}: {} against {} ({} client, {} clients, {} users)",
            self.scenario, self.url, self.client, self.clients, self.users
        );
        let paced = self
            .target_rate_per_s
            .map(|r| format!(", paced at {r:.0} steps/s"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "ran {:.2} s of {:.0} s (ended: {}{paced})",
            self.elapsed_s, self.duration_s, self.ended
        );
        let _ = writeln!(
            out,
            "requests {:>10} {:>12.1}/s",
            self.requests, self.requests_per_s
        );
        let _ = writeln!(
            out,
            "holds    {:>10} {:>12.1}/s   refusals {}   failures {}   replayed {}",
            self.holds, self.holds_per_s, self.refusals, self.failures, self.replayed
        );
        if let Some(at) = self.sold_out_after_s {
            let _ = writeln!(out, "sold out after {at:.3} s (last hold granted)");
        }
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{:<12} {:<8} {:>9} {:>10} {:>9} {:>9} {:>9} {:>9}",
            "operation", "outcome", "count", "per s", "p50 ms", "p90 ms", "p99 ms", "max ms"
        );
        for op in &self.operations {
            let l = &op.latency;
            let _ = writeln!(
                out,
                "{:<12} {:<8} {:>9} {:>10.1} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
                op.operation,
                op.outcome,
                op.count,
                op.per_s,
                l.p50_ms,
                l.p90_ms,
                l.p99_ms,
                l.max_ms
            );
        }
        if !self.errors.is_empty() {
            let _ = writeln!(out);
            let _ = writeln!(out, "errors:");
            for error in &self.errors {
                let status = match error.status {
                    0 => "no answer".to_owned(),
                    s => s.to_string(),
                };
                let message = error
                    .message
                    .as_deref()
                    .map(|m| format!(" {m}"))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "  {:>7} × {} {status}{message}",
                    error.count, error.operation
                );
            }
        }
        let _ = writeln!(out);
        if let (Some(cpu), Some(per)) = (self.bench_cpu_seconds, self.bench_cpu_us_per_request) {
            let _ = writeln!(out, "bench CPU {cpu:.2} s ({per:.0} µs/request)");
        }
        if let Some(server) = &self.server {
            let kib = |k: Option<u64>| {
                k.map(|k| format!("{:.1} MiB", k as f64 / 1024.0))
                    .unwrap_or_else(|| "?".to_owned())
            };
            let _ = writeln!(
                out,
                "server pid {}: CPU {:.2} s ({:.0} % of one core), RSS {} at start, peak {}, \
                 VmHWM {}",
                server.pid,
                server.cpu_seconds,
                server.cpu_percent,
                kib(server.rss_before_kib),
                kib(server.rss_peak_kib),
                kib(server.vm_hwm_kib)
            );
        }
        for check in &self.checks {
            let inventory = match (check.inventory_consistent, check.inventory_status) {
                (Some(true), _) => "consistent".to_owned(),
                (Some(false), _) => "INCONSISTENT".to_owned(),
                (None, Some(status)) => format!("not checked ({status})"),
                (None, None) => "not checked".to_owned(),
            };
            let unclear = if check.maybe_taken + check.maybe_released > 0 {
                format!(
                    " (+{} / -{} unclear)",
                    check.maybe_taken, check.maybe_released
                )
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "check {}: available {} → {}, net holds {}{unclear}, inventory {inventory}: {}",
                check.event_id,
                check.available_before,
                check.available_after,
                check.net_taken,
                verdict_word(check.verdict)
            );
        }
        if !self.checks.is_empty() {
            let _ = writeln!(
                out,
                "check: {}",
                if self.check_passed {
                    "PASSED"
                } else {
                    "FAILED"
                }
            );
        }
        out
    }
}

fn verdict_word(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Ok => "ok",
        Verdict::Oversold => "OVERSOLD",
        Verdict::Inconsistent => "INCONSISTENT",
        Verdict::Mismatch => "MISMATCH",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::evaluate;
    use crate::stats::{Outcome, SeatLedger};

    fn sample() -> Report {
        let mut recorder = Recorder::new(1);
        for i in 1..=100 {
            recorder.record("lock", Outcome::Ok, Duration::from_millis(i));
        }
        recorder.record("lock", Outcome::Refused, Duration::from_millis(5));
        recorder.record(
            "lock",
            Outcome::Failed {
                status: 503,
                message: "Service unavailable".into(),
            },
            Duration::from_millis(5),
        );
        recorder.last_hold = Some(Duration::from_millis(1500));
        recorder.first_refusal = Some(Duration::from_millis(1600));
        let ledger = SeatLedger {
            net_taken: 100,
            maybe_taken: 1,
            maybe_released: 0,
        };
        let info = RunInfo {
            label: Some("sqlite c=64".into()),
            scenario: "flash-sale".into(),
            url: "http://127.0.0.1:3000".into(),
            client: "hyper".into(),
            clients: 64,
            users: 64,
            events: 1,
            seats_per_event: 100,
            duration: Duration::from_secs(10),
            rate: None,
            elapsed: Duration::from_secs(2),
            ended: "all clients refused".into(),
            bench_cpu_seconds: Some(0.5),
            server: None,
            checks: vec![evaluate("e1", 100, 0, &ledger, Ok(true))],
        };
        Report::new(info, &recorder)
    }

    #[test]
    fn rates_are_counts_over_elapsed_time() {
        let report = sample();
        assert_eq!(report.requests, 102);
        assert_eq!(report.holds, 100);
        assert!((report.holds_per_s - 50.0).abs() < 1e-9);
        assert!((report.requests_per_s - 51.0).abs() < 1e-9);
        assert_eq!(report.refusals, 1);
        assert_eq!(report.failures, 1);
        assert_eq!(report.sold_out_after_s, Some(1.5));
        assert!(report.check_passed);
        let per_request = report.bench_cpu_us_per_request.unwrap();
        assert!((per_request - 0.5e6 / 102.0).abs() < 1e-6);
    }

    #[test]
    fn the_table_shows_rates_latencies_errors_and_the_check() {
        let table = sample().table();
        let expected_lines = [
            "boxoffice-bench [sqlite c=64]: flash-sale against http://127.0.0.1:3000 (hyper client, 64 clients, 64 users)",
            "ran 2.00 s of 10 s (ended: all clients refused)",
            "requests        102         51.0/s",
            "holds           100         50.0/s   refusals 1   failures 1   replayed 0",
            "sold out after 1.500 s (last hold granted)",
            "operation    outcome      count      per s    p50 ms    p90 ms    p99 ms    max ms",
            "lock         ok             100       50.0     50.02     90.05     99.01    100.03",
            "lock         refused          1        0.5      5.00      5.00      5.00      5.00",
            "        1 × lock 503",
            "check e1: available 100 → 0, net holds 100 (+1 / -0 unclear), inventory consistent: ok",
            "check: PASSED",
        ];
        for line in expected_lines {
            assert!(
                table.lines().any(|l| l.trim_end() == line),
                "missing line {line:?} in\n{table}"
            );
        }
    }

    #[test]
    fn a_failed_check_is_loud() {
        let mut report = sample();
        report.checks[0].verdict = Verdict::Oversold;
        report.check_passed = false;
        let table = report.table();
        assert!(table.contains("OVERSOLD"));
        assert!(table.contains("check: FAILED"));
    }

    #[test]
    fn the_json_document_has_the_headline_numbers() {
        let json = serde_json::to_value(sample()).unwrap();
        assert_eq!(json["scenario"], "flash-sale");
        assert_eq!(json["holds"], 100);
        assert_eq!(json["operations"][0]["operation"], "lock");
        assert_eq!(json["operations"][0]["latency"]["count"], 100);
        assert_eq!(json["errors"][0]["status"], 503);
        assert!(json["errors"][0].get("message").is_none());
        assert_eq!(json["checks"][0]["verdict"], "ok");
        assert_eq!(json["checkPassed"], true);
    }
}
