//! Deliveries to a real receiver on loopback, started inside each test.

use std::str::FromStr;
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
    .unwrap()
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

#[tokio::test]
async fn https_endpoints_are_spoken_to_in_tls() {
    // A plain-HTTP receiver cannot complete a TLS handshake: the attempt fails in TLS and the
    // receiver never sees a request in clear text.
    let (addr, seen) = receiver(Behaviour::Answer(200)).await;
    let attempt = client(true, 5_000)
        .deliver(
            &url(&format!("https://{addr}/")),
            &signed(b"{}", &[]),
            b"{}".to_vec(),
        )
        .await;
    let error = attempt.error().unwrap();
    assert!(error.starts_with("connection failed: "), "{error}");
    assert!(seen.lock().unwrap().is_empty());
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
async fn the_resolver_hands_the_connector_only_checked_addresses() {
    let guarded = GuardedResolver {
        allow_private: false,
    };
    let refused = guarded.resolve(Name::from_str("localhost").unwrap()).await;
    let error = refused.err().expect("localhost resolves to loopback only");
    assert!(error.is::<PrivateAddress>(), "{error}");

    let open = GuardedResolver {
        allow_private: true,
    };
    let addrs: Vec<SocketAddr> = open
        .resolve(Name::from_str("localhost").unwrap())
        .await
        .unwrap()
        .collect();
    assert!(addrs.iter().all(|a| a.ip().is_loopback()), "{addrs:?}");
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
