//! The notification settings: the feed's retention and the webhook deliveries (CONTRACT.md,
//! "Notifications: webhooks and the feed").

use std::time::Duration;

use clap::Args;

/// Notifications: the feed's retention and the webhook deliveries (CONTRACT.md,
/// "Notifications: webhooks and the feed").
#[derive(Args, Debug, Clone)]
pub struct NotificationSettings {
    /// One delivery attempt's limit, in ms: from resolving the endpoint's name to its answer's
    /// status line.
    #[arg(long, env = "WEBHOOK_TIMEOUT_MS", value_name = "WEBHOOK_TIMEOUT_MS", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(100..=120_000), global = true)]
    pub webhook_timeout_ms: u64,

    /// How long a notification is retried before it is dead for an endpoint, in hours
    /// (fractions allowed, e.g. `0.5`).
    #[arg(long, env = "WEBHOOK_RETRY_HOURS", value_name = "WEBHOOK_RETRY_HOURS", default_value_t = 72.0,
          value_parser = parse_retry_hours, global = true)]
    pub webhook_retry_hours: f64,

    /// Allow endpoints on loopback, private, link-local and other non-public addresses
    /// (tests, one-machine set-ups). `false` refuses them when created and when connected to.
    #[arg(long, env = "WEBHOOK_ALLOW_PRIVATE", value_name = "WEBHOOK_ALLOW_PRIVATE",
          default_value = "false", value_parser = parse_flag, global = true)]
    pub webhook_allow_private: bool,

    /// Delivered or dead notifications older than this many days are pruned.
    #[arg(long, env = "NOTIFICATION_RETENTION_DAYS", value_name = "NOTIFICATION_RETENTION_DAYS",
          default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=36_500), global = true)]
    pub notification_retention_days: u32,
}

impl NotificationSettings {
    pub fn webhook_timeout(&self) -> Duration {
        Duration::from_millis(self.webhook_timeout_ms)
    }

    /// `WEBHOOK_RETRY_HOURS` in milliseconds.
    pub fn retry_window_millis(&self) -> i64 {
        // At most 10 years of milliseconds: far inside i64 and exact enough in f64.
        (self.webhook_retry_hours * 3_600_000.0).round() as i64
    }

    pub fn retention(&self) -> Duration {
        Duration::from_secs(u64::from(self.notification_retention_days) * 86_400)
    }
}

fn parse_retry_hours(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(hours) if hours.is_finite() && hours > 0.0 && hours <= 87_600.0 => Ok(hours),
        _ => {
            Err("WEBHOOK_RETRY_HOURS must be a number of hours above 0 (at most 87600)".to_owned())
        }
    }
}

fn parse_flag(text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" | "" => Ok(false),
        _ => Err(
            "WEBHOOK_ALLOW_PRIVATE must be true or false (also accepted, in any case: 1, yes, on; \
             0, no, off)"
                .to_owned(),
        ),
    }
}
