//! The HTTP client of one simulated user: a keep-alive HTTP/1.1 connection.
//!
//! Two implementations, so that the load generator's own cost can be measured (`--client`):
//! `hyper` keeps exactly one connection per client task and talks to it directly, with no pool
//! and no URL parsing per request; `reqwest` shares one pooled client among all tasks, the way
//! most applications would call the API.

use std::time::Duration;

use bytes::Bytes;
use clap::ValueEnum;
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{CONTENT_TYPE, HOST, HeaderValue};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientKind {
    /// One hyper HTTP/1.1 connection per client task (the lighter one; the default).
    Hyper,
    /// One shared reqwest client with a connection pool.
    Reqwest,
}

impl ClientKind {
    pub fn name(self) -> &'static str {
        match self {
            Self::Hyper => "hyper",
            Self::Reqwest => "reqwest",
        }
    }
}

/// Where the server is: `http://host:port[/prefix]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// `host:port`, to connect to and to send as `Host`.
    pub authority: String,
    /// A path prefix without its trailing slash (usually empty).
    pub prefix: String,
}

impl Target {
    pub fn parse(url: &str) -> anyhow::Result<Self> {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| anyhow::anyhow!("--url must start with http:// (got {url})"))?;
        let (authority, prefix) = match rest.find('/') {
            Some(slash) => (&rest[..slash], rest[slash..].trim_end_matches('/')),
            None => (rest, ""),
        };
        if authority.is_empty() {
            anyhow::bail!("--url has no host: {url}");
        }
        let authority = if authority.contains(':') && !authority.ends_with(']') {
            authority.to_owned()
        } else {
            format!("{authority}:80")
        };
        Ok(Self {
            authority,
            prefix: prefix.to_owned(),
        })
    }

    pub fn base_url(&self) -> String {
        format!("http://{}{}", self.authority, self.prefix)
    }
}

/// A response as the bench needs it.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Bytes,
    /// The answer carried `Idempotent-Replayed: true`: it repeats an earlier request's.
    pub replayed: bool,
}

/// Whether a response's headers mark it as a replay.
fn replayed(headers: &hyper::HeaderMap) -> bool {
    headers
        .get("idempotent-replayed")
        .is_some_and(|value| value.as_bytes() == b"true")
}

/// Builds clients for the tasks; one per task.
#[derive(Clone)]
pub struct ClientFactory {
    target: Target,
    timeout: Duration,
    /// The pooled client every task shares, with `--client reqwest`.
    shared: Option<reqwest::Client>,
}

impl ClientFactory {
    pub fn new(
        kind: ClientKind,
        target: Target,
        timeout: Duration,
        pool_size: usize,
    ) -> anyhow::Result<Self> {
        let shared = match kind {
            ClientKind::Hyper => None,
            ClientKind::Reqwest => Some(
                reqwest::Client::builder()
                    .no_proxy()
                    .tcp_nodelay(true)
                    .pool_max_idle_per_host(pool_size)
                    .timeout(timeout)
                    .build()?,
            ),
        };
        Ok(Self {
            target,
            timeout,
            shared,
        })
    }

    pub fn client(&self) -> Client {
        match &self.shared {
            Some(client) => Client::Reqwest {
                client: client.clone(),
                base: self.target.base_url(),
            },
            None => Client::Hyper(HyperConnection {
                authority: self.target.authority.clone(),
                host: HeaderValue::from_str(&self.target.authority)
                    .unwrap_or_else(|_| HeaderValue::from_static("localhost")),
                prefix: self.target.prefix.clone(),
                timeout: self.timeout,
                sender: None,
            }),
        }
    }
}

pub enum Client {
    Hyper(HyperConnection),
    Reqwest {
        client: reqwest::Client,
        base: String,
    },
}

impl Client {
    /// Opens the connection now, so that connecting is not counted as a request's latency.
    /// (reqwest opens its connections on first use.)
    pub async fn connect(&mut self) -> Result<(), String> {
        match self {
            Self::Hyper(connection) => connection.sender().await.map(|_| ()),
            Self::Reqwest { .. } => Ok(()),
        }
    }

    /// Sends one request with an optional JSON body; an `Err` is a transport failure (no
    /// status), described in a few words.
    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        json: Option<Vec<u8>>,
    ) -> Result<Reply, String> {
        match self {
            Self::Hyper(connection) => connection.send(method, path, json).await,
            Self::Reqwest { client, base } => {
                let mut request = client.request(method, format!("{base}{path}"));
                if let Some(json) = json {
                    request = request
                        .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                        .body(json);
                }
                let response = request.send().await.map_err(|e| describe_reqwest(&e))?;
                let status = response.status().as_u16();
                let replayed = replayed(response.headers());
                let body = response.bytes().await.map_err(|e| describe_reqwest(&e))?;
                Ok(Reply {
                    status,
                    body,
                    replayed,
                })
            }
        }
    }
}

fn describe_reqwest(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timeout".to_owned()
    } else if error.is_connect() {
        "connect failed".to_owned()
    } else {
        "connection error".to_owned()
    }
}

pub struct HyperConnection {
    authority: String,
    host: HeaderValue,
    prefix: String,
    timeout: Duration,
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl HyperConnection {
    async fn sender(&mut self) -> Result<&mut SendRequest<Full<Bytes>>, String> {
        if self.sender.as_ref().is_some_and(SendRequest::is_closed) {
            self.sender = None;
        }
        if self.sender.is_none() {
            let stream = TcpStream::connect(&self.authority)
                .await
                .map_err(|_| "connect failed".to_owned())?;
            let _ = stream.set_nodelay(true);
            let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .map_err(|_| "handshake failed".to_owned())?;
            tokio::spawn(async move {
                let _ = connection.await;
            });
            self.sender = Some(sender);
        }
        self.sender
            .as_mut()
            .ok_or_else(|| "no connection".to_owned())
    }

    async fn send(
        &mut self,
        method: Method,
        path: &str,
        json: Option<Vec<u8>>,
    ) -> Result<Reply, String> {
        let uri = format!("{}{path}", self.prefix);
        let mut request = Request::builder()
            .method(method)
            .uri(uri)
            .header(HOST, self.host.clone());
        let body = match json {
            Some(json) => {
                request = request.header(CONTENT_TYPE, "application/json");
                Full::new(Bytes::from(json))
            }
            None => Full::new(Bytes::new()),
        };
        let request = request.body(body).map_err(|_| "bad request".to_owned())?;
        let timeout = self.timeout;
        let exchange = async {
            let sender = self.sender().await?;
            sender
                .ready()
                .await
                .map_err(|_| "connection closed".to_owned())?;
            let response = sender
                .send_request(request)
                .await
                .map_err(|_| "connection error".to_owned())?;
            let status = response.status().as_u16();
            let replayed = replayed(response.headers());
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|_| "body read failed".to_owned())?
                .to_bytes();
            Ok(Reply {
                status,
                body,
                replayed,
            })
        };
        let result = match tokio::time::timeout(timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err("timeout".to_owned()),
        };
        if result.is_err() {
            // The connection may be mid-response or dead: never reuse it.
            self.sender = None;
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_targets() {
        let target = Target::parse("http://127.0.0.1:3000").unwrap();
        assert_eq!(target.authority, "127.0.0.1:3000");
        assert_eq!(target.prefix, "");
        let target = Target::parse("http://localhost/prefix/").unwrap();
        assert_eq!(target.authority, "localhost:80");
        assert_eq!(target.prefix, "/prefix");
        assert_eq!(target.base_url(), "http://localhost:80/prefix");
        assert!(Target::parse("https://example.com").is_err());
        assert!(Target::parse("http:///x").is_err());
    }
}
