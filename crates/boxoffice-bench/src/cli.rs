use clap::Parser;

use crate::client::ClientKind;
use crate::scenario::Scenario;

/// Drives a running boxoffice server (or any server speaking the seed's event-booking API)
/// over HTTP with concurrent keep-alive clients, then checks that no seat was oversold.
///
/// Set-up goes through the API: users are registered and events created (dated 2099), so the
/// server needs no preparation. After the run the bench compares, per event, the seats that
/// left `availableSeats` with the holds it was granted, and asks GET /api/events/:id/inventory
/// whether the server's counter agrees with its rows (skipped if that endpoint is missing).
/// Exit status: 0 when the check passes, 1 on any oversell or inconsistency, 2 when the run
/// could not be made. The check assumes no hold lapses during the run (the server's
/// LOCK_TTL_SECONDS longer than --duration).
#[derive(Parser, Debug)]
#[command(name = "boxoffice-bench", version, about, long_about)]
pub struct Cli {
    /// Base URL of the server (plain http).
    #[arg(long, env = "BENCH_URL", default_value = "http://127.0.0.1:3000")]
    pub url: String,

    /// What the clients do.
    #[arg(long, value_enum, default_value = "hot-lock")]
    pub scenario: Scenario,

    /// Concurrent clients: one task and one keep-alive connection each.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=20_000))]
    pub clients: u32,

    /// How long to run, in seconds (flash-sale and hot-lock also end when the event sells out).
    #[arg(long, default_value_t = 10.0, value_parser = positive_seconds)]
    pub duration: f64,

    /// Pace the clients to this many steps a second in all (a step is one request, or one
    /// lock → confirm → pay), instead of each sending as fast as it gets answers. Latency then
    /// counts from when a request was due, so a server that falls behind shows it.
    #[arg(long, value_parser = positive_rate)]
    pub rate: Option<f64>,

    /// Seats of each event created. Default: 1000000000 for hot-lock (it never sells out),
    /// 1000 for flash-sale, 1000000 for flow and mixed.
    #[arg(long, value_parser = clap::value_parser!(i64).range(1..))]
    pub seats: Option<i64>,

    /// Events that flow and mixed spread over (the other scenarios use one).
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub events: u32,

    /// Users to register for the locking scenarios; client i locks as user i mod users.
    /// Default: as many as clients, at most 64 (registration hashes a password, which is slow).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub users: Option<u32>,

    /// HTTP client: `hyper` (one connection per task) or `reqwest` (a shared pool), to
    /// measure the bench's own overhead.
    #[arg(long, value_enum, default_value = "hyper")]
    pub client: ClientKind,

    /// A request with no answer after this many seconds counts as failed.
    #[arg(long, default_value_t = 30.0, value_parser = positive_seconds)]
    pub timeout: f64,

    /// Pid of the server process, to report its CPU time and resident memory (Linux /proc).
    #[arg(long)]
    pub server_pid: Option<u32>,

    /// Print one JSON document on stdout instead of the table.
    #[arg(long)]
    pub json: bool,

    /// A label carried into the table and the JSON (e.g. "sqlite c=64").
    #[arg(long)]
    pub label: Option<String>,

    /// No progress line on stderr.
    #[arg(long, short)]
    pub quiet: bool,

    /// Seed of the clients' random choices (events, mixed operations).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

fn positive_seconds(text: &str) -> Result<f64, String> {
    match text.trim_end_matches('s').parse::<f64>() {
        Ok(s) if s > 0.0 && s.is_finite() && s <= 86_400.0 => Ok(s),
        _ => Err("expected a number of seconds, more than 0".to_owned()),
    }
}

fn positive_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(r) if r > 0.0 && r.is_finite() => Ok(r),
        _ => Err("expected a rate in steps per second, more than 0".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn durations_accept_a_seconds_suffix() {
        assert_eq!(positive_seconds("10"), Ok(10.0));
        assert_eq!(positive_seconds("2.5s"), Ok(2.5));
        assert!(positive_seconds("0").is_err());
        assert!(positive_seconds("-1").is_err());
        assert!(positive_seconds("soon").is_err());
    }

    #[test]
    fn defaults_and_flags_parse() {
        let cli = Cli::try_parse_from(["boxoffice-bench"]).unwrap();
        assert_eq!(cli.scenario, Scenario::HotLock);
        assert_eq!(cli.clients, 64);
        let cli = Cli::try_parse_from([
            "boxoffice-bench",
            "--scenario",
            "flash-sale",
            "--clients",
            "256",
            "--seats",
            "500",
            "--json",
        ])
        .unwrap();
        assert_eq!(cli.scenario, Scenario::FlashSale);
        assert_eq!((cli.clients, cli.seats, cli.json), (256, Some(500), true));
    }
}
