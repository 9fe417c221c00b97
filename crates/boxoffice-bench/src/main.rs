//! boxoffice-bench: a load generator for the event-booking API. See `--help`.

mod api;
mod check;
mod cli;
mod client;
mod driver;
mod report;
mod scenario;
mod stats;
mod usage;

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::Parser as _;

use crate::cli::Cli;
use crate::client::{ClientFactory, Target};
use crate::driver::RunOptions;
use crate::report::{Report, RunInfo};
use crate::scenario::{Plan, Scenario};
use crate::usage::ServerUsage;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(error) => {
            eprintln!("boxoffice-bench: {error:#}");
            ExitCode::from(2)
        }
    }
}

/// Runs the scenario and prints the report; `Ok(false)` when the check failed.
async fn run(cli: Cli) -> anyhow::Result<bool> {
    let target = Target::parse(&cli.url)?;
    let clients = cli.clients as usize;
    let factory = ClientFactory::new(
        cli.client,
        target,
        Duration::from_secs_f64(cli.timeout),
        clients,
    )?;
    let plan = Plan {
        events: cli.events as usize,
        seats: cli.seats.unwrap_or(cli.scenario.default_seats()),
        users: cli.users.map_or(clients.min(64), |u| u as usize),
    };
    let setup = cli.scenario.prepare(&factory, &plan, run_id()).await?;
    let setup = Arc::new(setup);
    let mut checker = factory.client();
    let before = check::snapshot(&mut checker, &setup.events).await?;

    let options = RunOptions {
        clients,
        duration: Duration::from_secs_f64(cli.duration),
        progress: !cli.quiet,
        seed: cli.seed,
        rate: cli.rate,
    };
    let server_pid = cli.server_pid.map(|pid| pid.to_string());
    let server_cpu_before = server_pid.as_deref().and_then(usage::cpu_seconds);
    let bench_cpu_before = usage::cpu_seconds("self");
    let rss_before = server_pid
        .as_deref()
        .and_then(|pid| usage::status_kib(pid, "VmRSS"));
    let rss_peak = Arc::new(AtomicU64::new(0));
    let sampler = server_pid
        .clone()
        .map(|pid| tokio::spawn(sample_rss(pid, rss_peak.clone())));

    let run = cli.scenario.run(&factory, setup.clone(), &options).await?;

    if let Some(sampler) = sampler {
        sampler.abort();
    }
    let bench_cpu = usage::cpu_seconds("self")
        .zip(bench_cpu_before)
        .map(|(after, before)| after - before);
    let server = match (cli.server_pid, server_pid.as_deref(), server_cpu_before) {
        (Some(pid), Some(pid_text), Some(before)) => {
            let cpu_seconds = usage::cpu_seconds(pid_text).unwrap_or(before) - before;
            let peak = rss_peak.load(Ordering::Relaxed);
            Some(ServerUsage {
                pid,
                cpu_seconds,
                cpu_percent: 100.0 * cpu_seconds / run.elapsed.as_secs_f64().max(1e-9),
                rss_before_kib: rss_before,
                rss_peak_kib: (peak > 0).then_some(peak),
                vm_hwm_kib: usage::status_kib(pid_text, "VmHWM"),
            })
        }
        _ => None,
    };
    let checks = check::verify(&mut checker, &setup.events, &before, &run.recorder.seats).await?;

    let ended = match (run.ended_early, cli.scenario) {
        (false, _) => "duration",
        (true, Scenario::FlashSale) => "all clients refused",
        (true, _) => "sold out",
    };
    let report = Report::new(
        RunInfo {
            label: cli.label,
            scenario: cli.scenario.name().to_owned(),
            url: cli.url,
            client: cli.client.name().to_owned(),
            clients,
            users: setup.users.len(),
            events: setup.events.len(),
            seats_per_event: plan.seats,
            duration: options.duration,
            rate: cli.rate,
            elapsed: run.elapsed,
            ended: ended.to_owned(),
            bench_cpu_seconds: bench_cpu,
            server,
            checks,
        },
        &run.recorder,
    );
    if cli.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.table());
    }
    Ok(report.check_passed)
}

/// The server's resident memory, once a second (and at once), keeping the highest.
async fn sample_rss(pid: String, peak: Arc<AtomicU64>) {
    let mut ticker = tokio::time::interval(Duration::from_millis(500));
    loop {
        ticker.tick().await;
        if let Some(rss) = usage::status_kib(&pid, "VmRSS") {
            peak.fetch_max(rss, Ordering::Relaxed);
        }
    }
}

/// Names and idempotency keys of this run differ from every other run's.
fn run_id() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{:x}{:x}", nanos & 0xffff_ffff_ffff, std::process::id())
}
