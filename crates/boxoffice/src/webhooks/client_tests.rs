//! Deliveries to a real receiver on loopback, started inside each test.

use std::sync::Mutex;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use tokio::net::TcpListener;

use super::*;
use crate::webhooks::WebhookSecret;

#[derive(Clone, Debug)]
struct Received {
    path: String,
    headers: HeaderMap,
    body: Bytes,
}

#[derive(Clone, Copy)]
enum Behaviour {
    Answer(u16),
    Sleep(Duration),
    RedirectTo(&'static str),
}

/// A receiver on 127.0.0.1 that records every request on any path and answers as told.
async fn receiver(behaviour: Behaviour) -> (SocketAddr, Arc<Mutex<Vec<Received>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let handler = move |uri: axum::http::Uri, headers: HeaderMap, body: Bytes| {
        let record = record.clone();
        async move {
            record.lock().unwrap().push(Received {
                path: uri.path().to_owned(),
                headers,
                body,
            });
            let answer: Response = match behaviour {
                Behaviour::Answer(status) => StatusCode::from_u16(status).unwrap().into_response(),
                Behaviour::Sleep(pause) => {
                    tokio::time::sleep(pause).await;
                    StatusCode::OK.into_response()
                }
                Behaviour::RedirectTo(path) => {
                    (StatusCode::TEMPORARY_REDIRECT, [(header::LOCATION, path)]).into_response()
                }
            };
            answer
        }
    };
    let app = Router::new().fallback(post(handler));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, seen)
}

fn client(allow_private: bool, timeout_ms: u64) -> WebhookClient {
    WebhookClient::new(DeliverySettings {
        timeout: Duration::from_millis(timeout_ms),
        allow_private,
    })
}

fn url(text: &str) -> Url {
    Url::parse(text).unwrap()
}

fn signed(body: &[u8], secrets: &[&WebhookSecret]) -> SignedHeaders {
    SignedHeaders::sign("697a00af215688d2a9fca5c8", 1_800_000_000, body, secrets)
}

#[tokio::test]
async fn delivers_a_signed_post_that_the_receiver_can_verify() {
    let (addr, seen) = receiver(Behaviour::Answer(204)).await;
    let secret = WebhookSecret::generate();
    let body = br#"{"id":"697a00af215688d2a9fca5c8","sequence":1}"#.to_vec();
    let headers = signed(&body, &[&secret]);

    let attempt = client(true, 5_000)
        .deliver(
            &url(&format!("http://{addr}/hooks/in")),
            &headers,
            body.clone(),
        )
        .await;

    assert!(attempt.is_delivered(), "{attempt:?}");
    assert_eq!(attempt.http_status(), Some(204));
    assert_eq!(attempt.error(), None);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    let request = &seen[0];
    assert_eq!(request.path, "/hooks/in");
    assert_eq!(request.body.as_ref(), body.as_slice());
    let header = |name: &str| {
        request
            .headers
            .get(name)
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(header("content-type"), "application/json");
    assert_eq!(header("webhook-id"), "697a00af215688d2a9fca5c8");
    assert_eq!(header("webhook-timestamp"), "1800000000");
    assert!(secret.verifies(
        &header("webhook-id"),
        header("webhook-timestamp").parse().unwrap(),
        &request.body,
        &header("webhook-signature"),
    ));
}

#[tokio::test]
async fn names_are_resolved_and_connected_to_when_private_addresses_are_allowed() {
    let (addr, seen) = receiver(Behaviour::Answer(200)).await;
    let attempt = client(true, 5_000)
        .deliver(
            &url(&format!("http://localhost:{}/", addr.port())),
            &signed(b"{}", &[]),
            b"{}".to_vec(),
        )
        .await;
    assert!(attempt.is_delivered(), "{attempt:?}");
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn an_answer_other_than_2xx_is_not_a_delivery() {
    let (addr, seen) = receiver(Behaviour::Answer(500)).await;
    let attempt = client(true, 5_000)
        .deliver(
            &url(&format!("http://{addr}/")),
            &signed(b"{}", &[]),
            b"{}".to_vec(),
        )
        .await;
    assert!(!attempt.is_delivered());
    assert_eq!(attempt.http_status(), Some(500));
    assert_eq!(attempt.error().as_deref(), Some("HTTP 500"));
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let (addr, seen) = receiver(Behaviour::RedirectTo("/elsewhere")).await;
    let attempt = client(true, 5_000)
        .deliver(
            &url(&format!("http://{addr}/hook")),
            &signed(b"{}", &[]),
            b"{}".to_vec(),
        )
        .await;
    assert_eq!(attempt.http_status(), Some(307));
    assert!(!attempt.is_delivered());
    assert_eq!(
        attempt.error().as_deref(),
        Some("HTTP 307: redirects are not followed")
    );
    let paths: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(paths, ["/hook"], "the redirect's target was never asked");
}

#[tokio::test]
async fn a_slow_receiver_times_out_at_the_configured_limit() {
    let (addr, _seen) = receiver(Behaviour::Sleep(Duration::from_secs(5))).await;
    let attempt = client(true, 300)
        .deliver(
            &url(&format!("http://{addr}/")),
            &signed(b"{}", &[]),
            b"{}".to_vec(),
        )
        .await;
    assert_eq!(attempt.error().as_deref(), Some("timed out after 300 ms"));
    assert_eq!(attempt.http_status(), None);
    assert!(
        attempt.elapsed() < Duration::from_secs(4),
        "{:?}",
        attempt.elapsed()
    );
}

/// A receiver that speaks TLS with the test certificate for `localhost` and 127.0.0.1 (issued
/// by `test_tls/ca.pem`, valid until 2126; made with openssl for these tests only) and answers
/// 200 to one request per connection; it records each request's head and body as text.
async fn tls_receiver() -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    use rustls::pki_types::PrivateKeyDer;
    use rustls::pki_types::pem::PemObject;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let chain =
        vec![CertificateDer::from_pem_slice(include_bytes!("test_tls/localhost.pem")).unwrap()];
    let key = PrivateKeyDer::from_pem_slice(include_bytes!("test_tls/localhost.key")).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let acceptor = acceptor.clone();
            let record = record.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut request = Vec::new();
                let mut buffer = [0u8; 4096];
                // Head and body: the client's Content-Length says when the request is whole.
                while let Ok(n) = tls.read(&mut buffer).await {
                    if n == 0 {
                        break;
                    }
                    request.extend_from_slice(&buffer[..n]);
                    let text = String::from_utf8_lossy(&request).to_string();
                    if let Some((head, body)) = text.split_once("\r\n\r\n") {
                        let length = head
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length: ")
                                    .map(str::to_owned)
                            })
                            .and_then(|v| v.trim().parse::<usize>().ok())
                            .unwrap_or(0);
                        if body.len() >= length {
                            break;
                        }
                    }
                }
                record
                    .lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&request).to_string());
                let _ = tls
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (addr, seen)
}

fn test_ca() -> Vec<CertificateDer<'static>> {
    use rustls::pki_types::pem::PemObject;
    vec![CertificateDer::from_pem_slice(include_bytes!("test_tls/ca.pem")).unwrap()]
}

#[tokio::test]
async fn https_endpoints_get_the_request_over_tls_with_the_certificate_checked() {
    let (addr, seen) = tls_receiver().await;
    let settings = DeliverySettings {
        timeout: Duration::from_secs(5),
        allow_private: true,
    };
    let trusting = WebhookClient::with_extra_roots(settings, test_ca());
    let body = br#"{"sequence":7}"#.to_vec();
    for target in [
        format!("https://localhost:{}/in", addr.port()),
        format!("https://{addr}/in"),
    ] {
        let attempt = trusting
            .deliver(&url(&target), &signed(&body, &[]), body.clone())
            .await;
        assert!(attempt.is_delivered(), "{target}: {attempt:?}");
    }
    {
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 2);
        assert!(seen[0].starts_with("POST /in HTTP/1.1\r\n"), "{}", seen[0]);
        assert!(
            seen[0].contains("webhook-id: 697a00af215688d2a9fca5c8"),
            "{}",
            seen[0]
        );
        assert!(seen[0].ends_with(r#"{"sequence":7}"#), "{}", seen[0]);
    }

    // The same receiver, to a client that does not trust its certificate authority.
    let attempt = client(true, 5_000)
        .deliver(
            &url(&format!("https://localhost:{}/in", addr.port())),
            &signed(&body, &[]),
            body.clone(),
        )
        .await;
    let error = attempt.error().unwrap();
    assert!(error.starts_with("TLS failed: "), "{error}");
    assert!(!attempt.is_delivered());
    assert_eq!(
        seen.lock().unwrap().len(),
        2,
        "no request was sent without a trusted certificate"
    );
}

#[tokio::test]
async fn an_https_endpoint_that_speaks_plain_http_is_a_tls_failure() {
    let (addr, seen) = receiver(Behaviour::Answer(200)).await;
    let attempt = client(true, 5_000)
        .deliver(
            &url(&format!("https://{addr}/")),
            &signed(b"{}", &[]),
            b"{}".to_vec(),
        )
        .await;
    let error = attempt.error().unwrap();
    assert!(error.starts_with("TLS failed: "), "{error}");
    assert!(
        seen.lock().unwrap().is_empty(),
        "nothing was sent in clear text"
    );
}

#[tokio::test]
async fn a_receiver_that_is_down_is_a_connection_failure() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let attempt = client(true, 5_000)
        .deliver(
            &url(&format!("http://{addr}/")),
            &signed(b"{}", &[]),
            b"{}".to_vec(),
        )
        .await;
    let error = attempt.error().unwrap();
    assert!(error.starts_with("connection failed: "), "{error}");
}

#[tokio::test]
async fn private_addresses_are_never_connected_to_unless_allowed() {
    let (addr, seen) = receiver(Behaviour::Answer(200)).await;
    let guarded = client(false, 5_000);
    for target in [
        format!("http://{addr}/"),
        format!("http://localhost:{}/", addr.port()),
        format!("http://[::ffff:127.0.0.1]:{}/", addr.port()),
        format!("http://2130706433:{}/", addr.port()),
    ] {
        let attempt = guarded
            .deliver(&url(&target), &signed(b"{}", &[]), b"{}".to_vec())
            .await;
        assert_eq!(
            attempt.error().as_deref(),
            Some("url points to a private address"),
            "{target}"
        );
    }
    assert!(
        seen.lock().unwrap().is_empty(),
        "nothing reached the receiver"
    );
}

#[tokio::test]
async fn a_name_yields_only_checked_addresses_to_connect_to() {
    let localhost = Host::Domain("localhost");
    let refused = client(false, 5_000).addresses(&localhost, 80).await;
    assert!(
        matches!(refused, Err(NoAnswer::Refused(UrlRefusal::Private))),
        "localhost resolves to loopback only: {refused:?}"
    );
    let allowed = client(true, 5_000).addresses(&localhost, 80).await.unwrap();
    assert!(!allowed.is_empty());
    assert!(
        allowed
            .iter()
            .all(|a| a.ip().is_loopback() && a.port() == 80),
        "{allowed:?}"
    );
}

#[test]
fn of_a_mixed_answer_only_the_public_addresses_are_kept() {
    let found: Vec<SocketAddr> = [
        "127.0.0.1:0",
        "93.184.216.34:0",
        "[fd00:ec2::254]:0",
        "[2606:4700::1]:0",
    ]
    .iter()
    .map(|a| a.parse().unwrap())
    .collect();
    let kept = allowed_addresses(found.clone(), false).unwrap();
    assert_eq!(kept, [found[1], found[3]]);
    assert_eq!(allowed_addresses(found.clone(), true).unwrap(), found);
    assert!(allowed_addresses(vec![found[0], found[2]], false).is_err());
}

#[tokio::test]
async fn credentials_in_the_url_are_sent_as_basic_authentication() {
    let (addr, seen) = receiver(Behaviour::Answer(200)).await;
    let target = format!("http://hook%40user:p%20w@{addr}/in");
    let attempt = client(true, 5_000)
        .deliver(&url(&target), &signed(b"{}", &[]), b"{}".to_vec())
        .await;
    assert!(attempt.is_delivered(), "{attempt:?}");
    let seen = seen.lock().unwrap();
    let authorization = seen[0]
        .headers
        .get("authorization")
        .unwrap()
        .to_str()
        .unwrap();
    assert_eq!(
        authorization,
        format!("Basic {}", BASE64.encode("hook@user:p w"))
    );
}
