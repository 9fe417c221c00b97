//! One delivery attempt: a signed `POST` of a notification to one endpoint, and what happened
//! (CONTRACT.md, "Delivery").
//!
//! Safe outbound requests: the HTTP client (reqwest) resolves names through
//! [`GuardedResolver`], which drops every address [`is_public`] refuses before the connector
//! sees it, so **the address checked is the address connected to** (no second lookup that a
//! rebinding DNS server could answer differently). Address literals never reach a resolver,
//! so [`WebhookClient::deliver`] checks them itself. Redirects are not followed, proxies from
//! the environment are ignored (the proxy would be what is connected to), and each attempt
//! is bounded by `WEBHOOK_TIMEOUT_MS` from connection to the answer's status line.

use std::error::Error as StdError;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{CONTENT_TYPE, HeaderValue};
use url::Url;

use super::SignedHeaders;
use super::address::{UrlRefusal, host_is_private, is_public};

/// How deliveries are made: `WEBHOOK_TIMEOUT_MS` and `WEBHOOK_ALLOW_PRIVATE`.
#[derive(Clone, Copy, Debug)]
pub struct DeliverySettings {
    pub timeout: Duration,
    pub allow_private: bool,
}

/// What one attempt came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Attempt {
    /// The receiver answered 2xx in time: delivered.
    Delivered { status: u16, elapsed: Duration },
    /// The receiver answered, with anything but 2xx (a 3xx included: redirects are not
    /// followed): to be retried.
    Answered { status: u16, elapsed: Duration },
    /// No answer: refused address, DNS failure, connection failure, timeout. To be retried.
    Failed { error: String, elapsed: Duration },
}

impl Attempt {
    pub fn is_delivered(&self) -> bool {
        matches!(self, Self::Delivered { .. })
    }

    /// The receiver's HTTP status, if it answered.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Self::Delivered { status, .. } | Self::Answered { status, .. } => Some(*status),
            Self::Failed { .. } => None,
        }
    }

    /// Why the attempt did not deliver, in words for the deliveries list; `None` once
    /// delivered.
    pub fn error(&self) -> Option<String> {
        match self {
            Self::Delivered { .. } => None,
            Self::Answered { status, .. } if (300..400).contains(status) => {
                Some(format!("HTTP {status}: redirects are not followed"))
            }
            Self::Answered { status, .. } => Some(format!("HTTP {status}")),
            Self::Failed { error, .. } => Some(error.clone()),
        }
    }

    pub fn elapsed(&self) -> Duration {
        match self {
            Self::Delivered { elapsed, .. }
            | Self::Answered { elapsed, .. }
            | Self::Failed { elapsed, .. } => *elapsed,
        }
    }
}

/// The outbound HTTP client of the delivery workers; cheap to clone (one connection pool).
#[derive(Clone, Debug)]
pub struct WebhookClient {
    http: reqwest::Client,
    settings: DeliverySettings,
}

impl WebhookClient {
    /// A client for `https` endpoints too: TLS by rustls with the `ring` provider, server
    /// certificates checked against the operating system's roots.
    pub fn new(settings: DeliverySettings) -> Result<Self, reqwest::Error> {
        // Another part of the process may have chosen the provider first: then it stays.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(settings.timeout)
            .dns_resolver(Arc::new(GuardedResolver {
                allow_private: settings.allow_private,
            }))
            .user_agent(concat!("boxoffice-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { http, settings })
    }

    /// `POST`s `body` (a notification's JSON) to `url` with the Standard Webhooks headers.
    /// Never fails: whatever happens is the returned [`Attempt`].
    pub async fn deliver(&self, url: &Url, headers: &SignedHeaders, body: Vec<u8>) -> Attempt {
        let started = Instant::now();
        if !self.settings.allow_private && host_is_private(url) {
            return Attempt::Failed {
                error: UrlRefusal::Private.to_string(),
                elapsed: started.elapsed(),
            };
        }
        let sent = self
            .http
            .post(url.clone())
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .header(SignedHeaders::ID, &headers.id)
            .header(SignedHeaders::TIMESTAMP, headers.timestamp.to_string())
            .header(SignedHeaders::SIGNATURE, &headers.signature)
            .body(body)
            .send()
            .await;
        let elapsed = started.elapsed();
        match sent {
            Ok(answer) if answer.status().is_success() => Attempt::Delivered {
                status: answer.status().as_u16(),
                elapsed,
            },
            Ok(answer) => Attempt::Answered {
                status: answer.status().as_u16(),
                elapsed,
            },
            Err(error) => Attempt::Failed {
                error: self.describe(&error),
                elapsed,
            },
        }
    }

    fn describe(&self, error: &reqwest::Error) -> String {
        if error.is_timeout() {
            return format!("timed out after {} ms", self.settings.timeout.as_millis());
        }
        let mut source: Option<&(dyn StdError + 'static)> = Some(error);
        let mut innermost = error.to_string();
        while let Some(cause) = source {
            if cause.is::<PrivateAddress>() {
                return UrlRefusal::Private.to_string();
            }
            innermost = cause.to_string();
            source = cause.source();
        }
        if error.is_connect() {
            format!("connection failed: {innermost}")
        } else {
            format!("request failed: {innermost}")
        }
    }
}

/// Every address a name resolved to was refused.
#[derive(Debug, thiserror::Error)]
#[error("url points to a private address")]
struct PrivateAddress;

/// Resolves with the system resolver, then keeps only the addresses that may be connected to.
#[derive(Debug)]
struct GuardedResolver {
    allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            if found.is_empty() {
                return Err(format!("{} has no address", name.as_str()).into());
            }
            let kept = allowed_addresses(found, allow_private)?;
            Ok(Box::new(kept.into_iter()) as Addrs)
        })
    }
}

/// The addresses that may be connected to, in the resolver's order; an error when none is
/// left.
fn allowed_addresses(
    found: impl IntoIterator<Item = SocketAddr>,
    allow_private: bool,
) -> Result<Vec<SocketAddr>, PrivateAddress> {
    let kept: Vec<SocketAddr> = found
        .into_iter()
        .filter(|addr| allow_private || is_public(addr.ip()))
        .collect();
    if kept.is_empty() {
        Err(PrivateAddress)
    } else {
        Ok(kept)
    }
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
