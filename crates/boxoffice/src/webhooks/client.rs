//! One delivery attempt: a signed `POST` of a notification to one endpoint, and what happened
//! (CONTRACT.md, "Delivery").
//!
//! Safe outbound requests: the name is resolved here, every address [`is_public`] refuses is
//! dropped, and the connection is made to one of the addresses that remain, by address, so
//! **the address checked is the address connected to** (no second lookup that a rebinding
//! DNS server could answer differently). One HTTP/1.1 request per connection (`Connection:
//! close`), so nothing follows redirects and no proxy from the environment is involved. The
//! whole attempt — lookup, connection, TLS, request and the answer's status line — is bounded
//! by `WEBHOOK_TIMEOUT_MS`; the answer's body is not read. `https` is spoken with rustls
//! (the `ring` provider), checking the server's certificate against the operating system's
//! roots.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use http_body_util::Full;
use hyper::Request;
use hyper::header::{AUTHORIZATION, CONNECTION, CONTENT_TYPE, HOST, USER_AGENT};
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use url::{Host, Position, Url};

use super::SignedHeaders;
use super::address::{UrlRefusal, is_public};

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
    /// No answer in time: refused address, DNS failure, connection or TLS failure, timeout.
    /// To be retried.
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

/// Why an attempt got no answer; the text goes into the deliveries list.
#[derive(Debug, thiserror::Error)]
enum NoAnswer {
    #[error("{0}")]
    Refused(UrlRefusal),
    #[error("could not resolve {host}: {error}")]
    Resolve { host: String, error: std::io::Error },
    #[error("connection failed: {0}")]
    Connect(std::io::Error),
    #[error("TLS failed: {0}")]
    Tls(String),
    #[error("HTTP failed: {0}")]
    Http(#[from] hyper::Error),
}

/// The outbound HTTP client of the delivery workers; cheap to share.
pub struct WebhookClient {
    settings: DeliverySettings,
    extra_roots: Vec<CertificateDer<'static>>,
    /// Built on the first `https` attempt: reading the system's roots may fail (a host
    /// without CA certificates), and that must only fail `https` deliveries.
    tls: OnceLock<Result<TlsConnector, String>>,
}

impl std::fmt::Debug for WebhookClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookClient")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl WebhookClient {
    pub fn new(settings: DeliverySettings) -> Self {
        Self::with_extra_roots(settings, Vec::new())
    }

    /// Also trusts these root certificates for `https` (a private certificate authority).
    pub fn with_extra_roots(
        settings: DeliverySettings,
        extra_roots: Vec<CertificateDer<'static>>,
    ) -> Self {
        Self {
            settings,
            extra_roots,
            tls: OnceLock::new(),
        }
    }

    /// Whether endpoints on private addresses are allowed (`WEBHOOK_ALLOW_PRIVATE`).
    pub fn allow_private(&self) -> bool {
        self.settings.allow_private
    }

    /// Whether `url`'s name resolves, now, to an address that would be refused: checked when
    /// an endpoint is created, for an early answer. A name that does not resolve now is let
    /// through; every attempt resolves and checks again, and connects only to what passed.
    pub async fn resolves_to_private(&self, url: &Url) -> bool {
        if self.settings.allow_private {
            return false;
        }
        let (Some(Host::Domain(name)), Some(port)) = (url.host(), url.port_or_known_default())
        else {
            return false;
        };
        match tokio::time::timeout(self.settings.timeout, tokio::net::lookup_host((name, port)))
            .await
        {
            Ok(Ok(found)) => found.into_iter().any(|addr| !is_public(addr.ip())),
            _ => false,
        }
    }

    /// `POST`s `body` (a notification's JSON) to `url` with the Standard Webhooks headers.
    /// Never fails: whatever happens is the returned [`Attempt`].
    pub async fn deliver(&self, url: &Url, headers: &SignedHeaders, body: Vec<u8>) -> Attempt {
        let started = Instant::now();
        let outcome =
            tokio::time::timeout(self.settings.timeout, self.post(url, headers, body)).await;
        let elapsed = started.elapsed();
        match outcome {
            Ok(Ok(status)) if (200..300).contains(&status) => {
                Attempt::Delivered { status, elapsed }
            }
            Ok(Ok(status)) => Attempt::Answered { status, elapsed },
            Ok(Err(error)) => Attempt::Failed {
                error: error.to_string(),
                elapsed,
            },
            Err(_) => Attempt::Failed {
                error: format!("timed out after {} ms", self.settings.timeout.as_millis()),
                elapsed,
            },
        }
    }

    async fn post(
        &self,
        url: &Url,
        headers: &SignedHeaders,
        body: Vec<u8>,
    ) -> Result<u16, NoAnswer> {
        let https = match url.scheme() {
            "http" => false,
            "https" => true,
            _ => return Err(NoAnswer::Refused(UrlRefusal::NotHttp)),
        };
        let host = url.host().ok_or(NoAnswer::Refused(UrlRefusal::NotHttp))?;
        let port = url
            .port_or_known_default()
            .ok_or(NoAnswer::Refused(UrlRefusal::NotHttp))?;
        // Checked again here for an endpoint stored before port 0 was refused at creation.
        if port == 0 {
            return Err(NoAnswer::Refused(UrlRefusal::PortZero));
        }
        let addresses = self.addresses(&host, port).await?;
        let tcp = connect(&addresses).await?;
        let request = build_request(url, headers, body)?;
        if https {
            let server_name = match host {
                Host::Domain(name) => ServerName::try_from(name.to_owned())
                    .map_err(|error| NoAnswer::Tls(error.to_string()))?,
                Host::Ipv4(ip) => ServerName::IpAddress(std::net::IpAddr::V4(ip).into()),
                Host::Ipv6(ip) => ServerName::IpAddress(std::net::IpAddr::V6(ip).into()),
            };
            let tls = self
                .tls_connector()?
                .connect(server_name, tcp)
                .await
                .map_err(|error| NoAnswer::Tls(error.to_string()))?;
            send(tls, request).await
        } else {
            send(tcp, request).await
        }
    }

    /// The addresses this attempt may connect to: an address literal as it is, a name as the
    /// system resolver answers; without `WEBHOOK_ALLOW_PRIVATE`, only the public ones.
    async fn addresses(&self, host: &Host<&str>, port: u16) -> Result<Vec<SocketAddr>, NoAnswer> {
        let found: Vec<SocketAddr> = match host {
            Host::Ipv4(ip) => vec![SocketAddr::new((*ip).into(), port)],
            Host::Ipv6(ip) => vec![SocketAddr::new((*ip).into(), port)],
            Host::Domain(name) => tokio::net::lookup_host((*name, port))
                .await
                .map_err(|error| NoAnswer::Resolve {
                    host: (*name).to_owned(),
                    error,
                })?
                .collect(),
        };
        allowed_addresses(found, self.settings.allow_private)
    }

    fn tls_connector(&self) -> Result<TlsConnector, NoAnswer> {
        self.tls
            .get_or_init(|| tls_connector(self.extra_roots.clone()))
            .clone()
            .map_err(NoAnswer::Tls)
    }
}

/// The addresses that may be connected to, in the resolver's order; refused when none is
/// left.
fn allowed_addresses(
    found: Vec<SocketAddr>,
    allow_private: bool,
) -> Result<Vec<SocketAddr>, NoAnswer> {
    let kept: Vec<SocketAddr> = found
        .into_iter()
        .filter(|addr| allow_private || is_public(addr.ip()))
        .collect();
    if kept.is_empty() {
        Err(NoAnswer::Refused(UrlRefusal::Private))
    } else {
        Ok(kept)
    }
}

/// Connects to the first of the checked addresses that accepts.
async fn connect(addresses: &[SocketAddr]) -> Result<TcpStream, NoAnswer> {
    let mut last = None;
    for address in addresses {
        match TcpStream::connect(address).await {
            Ok(stream) => {
                // The request goes in one write; don't wait for more.
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            Err(error) => last = Some(error),
        }
    }
    Err(NoAnswer::Connect(last.unwrap_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::NotFound, "no address to connect to")
    })))
}

fn build_request(
    url: &Url,
    headers: &SignedHeaders,
    body: Vec<u8>,
) -> Result<Request<Full<Bytes>>, NoAnswer> {
    let host = match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_owned(),
        (None, _) => return Err(NoAnswer::Refused(UrlRefusal::NotHttp)),
    };
    let mut request = Request::post(&url[Position::BeforePath..Position::AfterQuery])
        .header(HOST, host)
        .header(CONTENT_TYPE, "application/json")
        .header(
            USER_AGENT,
            concat!("boxoffice-webhooks/", env!("CARGO_PKG_VERSION")),
        )
        .header(CONNECTION, "close")
        .header(SignedHeaders::ID, &headers.id)
        .header(SignedHeaders::TIMESTAMP, headers.timestamp.to_string())
        .header(SignedHeaders::SIGNATURE, &headers.signature);
    if !url.username().is_empty() {
        let credentials = format!(
            "{}:{}",
            percent_decoded(url.username()),
            percent_decoded(url.password().unwrap_or(""))
        );
        request = request.header(
            AUTHORIZATION,
            format!("Basic {}", BASE64.encode(credentials)),
        );
    }
    request
        .body(Full::new(Bytes::from(body)))
        .map_err(|_| NoAnswer::Refused(UrlRefusal::NotHttp))
}

fn percent_decoded(text: &str) -> String {
    url::form_urlencoded::parse(format!("x={text}").as_bytes())
        .next()
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default()
}

/// Sends one request on a fresh connection and returns the answer's status; the connection
/// is dropped as soon as the status line is in.
async fn send<S>(stream: S, request: Request<Full<Bytes>>) -> Result<u16, NoAnswer>
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    let driver = tokio::spawn(connection);
    let answer = sender.send_request(request).await;
    driver.abort();
    Ok(answer?.status().as_u16())
}

fn tls_connector(extra_roots: Vec<CertificateDer<'static>>) -> Result<TlsConnector, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier =
        rustls_platform_verifier::Verifier::new_with_extra_roots(extra_roots, provider.clone())
            .map_err(|error| format!("no trusted root certificates: {error}"))?;
    // "dangerous" is rustls's name for any verifier but its own: this one is the platform's
    // (rustls's WebPKI verification with the system's roots), not a weaker one.
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| error.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
