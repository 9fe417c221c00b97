//! Abuse protection around the API: the per-client request limit, CORS, trusted proxies and the
//! metrics token (each from its environment variable; see the README's configuration table).

use std::net::IpAddr;

use clap::Args;

/// Abuse protection around the API: a general per-client request limit, CORS, and which
/// proxies may name the client. Everything here is off unless set.
#[derive(Args, Debug, Clone, Default)]
pub struct Protection {
    /// Requests per second that one client address may make on average (a token bucket per
    /// address, kept by each instance). Unset: no general limit. Health checks are exempt.
    #[arg(long, env = "RATE_LIMIT_PER_SECOND", value_name = "RATE_LIMIT_PER_SECOND",
          value_parser = clap::value_parser!(u32).range(1..=1_000_000), global = true)]
    pub rate_limit_per_second: Option<u32>,

    /// How many requests one client address may make in a burst before RATE_LIMIT_PER_SECOND
    /// applies; defaults to RATE_LIMIT_PER_SECOND. Needs RATE_LIMIT_PER_SECOND.
    #[arg(long, env = "RATE_LIMIT_BURST", value_name = "RATE_LIMIT_BURST",
          value_parser = clap::value_parser!(u32).range(1..=1_000_000), global = true)]
    pub rate_limit_burst: Option<u32>,

    /// Browser origins allowed to call the API cross-origin, comma-separated
    /// (`https://tickets.example.com,https://admin.example.com`), or `*` for any. Unset: no
    /// CORS headers, so browsers allow same-origin calls only.
    #[arg(
        long,
        env = "CORS_ALLOWED_ORIGINS",
        value_name = "CORS_ALLOWED_ORIGINS",
        value_delimiter = ',',
        global = true
    )]
    pub cors_allowed_origins: Vec<String>,

    /// Addresses of reverse proxies, comma-separated, whose `X-Forwarded-For` names the client
    /// (for login throttling and the request limit). Unset: the TCP peer is the client and
    /// `X-Forwarded-For` is ignored, since any client can send one.
    #[arg(
        long,
        env = "TRUSTED_PROXIES",
        value_name = "TRUSTED_PROXIES",
        value_delimiter = ',',
        value_parser = parse_address,
        global = true
    )]
    pub trusted_proxies: Vec<IpAddr>,

    /// Bearer token that a Prometheus scraper sends to read `GET /metrics` (at least 16
    /// characters). Unset: `/metrics` is public in open mode and for admins in jwt mode.
    #[arg(
        long,
        env = "METRICS_TOKEN",
        value_name = "METRICS_TOKEN",
        hide_env_values = true,
        value_parser = parse_metrics_token,
        global = true
    )]
    pub metrics_token: Option<String>,
}

fn parse_metrics_token(text: &str) -> Result<String, String> {
    if text.chars().count() < 16 {
        return Err("METRICS_TOKEN must be at least 16 characters".to_owned());
    }
    if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("METRICS_TOKEN must not contain spaces or control characters".to_owned());
    }
    Ok(text.to_owned())
}

/// The request limit in force, if any.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateLimit {
    pub per_second: f64,
    pub burst: f64,
}

/// Which browser origins may call the API cross-origin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CorsOrigins {
    Off,
    Any,
    List(Vec<String>),
}

impl Protection {
    pub fn rate_limit(&self) -> Result<Option<RateLimit>, String> {
        match (self.rate_limit_per_second, self.rate_limit_burst) {
            (None, None) => Ok(None),
            (None, Some(_)) => Err("RATE_LIMIT_BURST needs RATE_LIMIT_PER_SECOND".to_owned()),
            (Some(rate), burst) => Ok(Some(RateLimit {
                per_second: f64::from(rate),
                burst: f64::from(burst.unwrap_or(rate)),
            })),
        }
    }

    pub fn cors_origins(&self) -> Result<CorsOrigins, String> {
        let origins: Vec<String> = self
            .cors_allowed_origins
            .iter()
            .map(|origin| origin.trim().to_owned())
            .filter(|origin| !origin.is_empty())
            .collect();
        if origins.is_empty() {
            return Ok(CorsOrigins::Off);
        }
        if origins.iter().any(|origin| origin == "*") {
            return if origins.len() == 1 {
                Ok(CorsOrigins::Any)
            } else {
                Err("CORS_ALLOWED_ORIGINS: `*` cannot be combined with other origins".to_owned())
            };
        }
        for origin in &origins {
            if !is_origin(origin) {
                return Err(format!(
                    "CORS_ALLOWED_ORIGINS: {origin:?} is not an origin like https://example.com \
                     (a scheme and a host, optionally a port, no path)"
                ));
            }
        }
        Ok(CorsOrigins::List(origins))
    }
}

/// An IP address, spaces around it allowed (`10.0.0.1, 10.0.0.2`).
fn parse_address(text: &str) -> Result<IpAddr, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("{text:?} is not an IP address"))
}

/// `scheme://host[:port]`, nothing more: browsers send origins exactly so.
fn is_origin(text: &str) -> bool {
    let Some((scheme, rest)) = text.split_once("://") else {
        return false;
    };
    matches!(scheme, "http" | "https")
        && !rest.is_empty()
        && !rest.contains(['/', '?', '#', '@'])
        && text.chars().all(|c| c.is_ascii_graphic())
}
