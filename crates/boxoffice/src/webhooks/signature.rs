//! Standard Webhooks signatures (<https://www.standardwebhooks.com/>, "Signature scheme";
//! CONTRACT.md, "Delivery").
//!
//! A delivery carries `webhook-id`, `webhook-timestamp` (Unix seconds) and `webhook-signature:
//! v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`, where the key is the
//! base64-decoded part of the secret after `whsec_`. During a secret rotation the header
//! carries one signature per secret, separated by a space; a receiver accepts the delivery if
//! any of them verifies.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

const PREFIX: &str = "whsec_";
/// Secrets we make hold 32 random bytes (the specification asks for 24 to 64).
const GENERATED_KEY_BYTES: usize = 32;

/// An endpoint's signing secret, shown to the admin once as `whsec_<base64 of the key>`.
///
/// The delivery workers need the key itself to sign, so it is stored as it is shown (it
/// cannot be hashed like a password); it never appears in `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret {
    key: Vec<u8>,
}

/// A stored secret that is not `whsec_` followed by the base64 of at least one byte.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a webhook secret must be whsec_ followed by base64")]
pub struct MalformedSecret;

impl WebhookSecret {
    /// A new secret from the operating system's random source.
    pub fn generate() -> Self {
        let mut key = vec![0u8; GENERATED_KEY_BYTES];
        // Without an OS random source there is nothing safe to fall back to.
        getrandom::fill(&mut key).expect("the operating system's random source failed");
        Self { key }
    }

    /// Reads `whsec_<base64>` (standard alphabet, padded), as [`WebhookSecret::expose`] writes it.
    pub fn parse(text: &str) -> Result<Self, MalformedSecret> {
        let encoded = text.strip_prefix(PREFIX).ok_or(MalformedSecret)?;
        match BASE64.decode(encoded) {
            Ok(key) if !key.is_empty() => Ok(Self { key }),
            _ => Err(MalformedSecret),
        }
    }

    /// The secret as the admin sees it once and as it is stored: `whsec_<base64 of the key>`.
    pub fn expose(&self) -> String {
        format!("{PREFIX}{}", BASE64.encode(&self.key))
    }

    /// `v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let mac = self.mac(id, timestamp, body);
        format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()))
    }

    /// Whether any `v1` signature in a `webhook-signature` header value is this secret's
    /// signature of the message (compared in constant time). What a receiver does; the
    /// README shows the same check in Python and Node.
    pub fn verifies(&self, id: &str, timestamp: i64, body: &[u8], header: &str) -> bool {
        header
            .split(' ')
            .filter_map(|one| one.strip_prefix("v1,"))
            .filter_map(|encoded| BASE64.decode(encoded).ok())
            .any(|signature| {
                self.mac(id, timestamp, body)
                    .verify_slice(&signature)
                    .is_ok()
            })
    }

    fn mac(&self, id: &str, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
        // HMAC takes a key of any length: this cannot fail.
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC accepts any key");
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(…)")
    }
}

/// The three Standard Webhooks headers of one delivery attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedHeaders {
    /// `webhook-id`: the notification's id, the same on every retry (receivers deduplicate on it).
    pub id: String,
    /// `webhook-timestamp`: the attempt's time in Unix seconds.
    pub timestamp: i64,
    /// `webhook-signature`: one `v1,…` signature per secret, separated by a space.
    pub signature: String,
}

impl SignedHeaders {
    pub const ID: &'static str = "webhook-id";
    pub const TIMESTAMP: &'static str = "webhook-timestamp";
    pub const SIGNATURE: &'static str = "webhook-signature";

    /// Signs `body` with each secret in turn: the current one first, then, for 24 hours after
    /// a rotation, the previous one.
    pub fn sign(id: &str, timestamp: i64, body: &[u8], secrets: &[&WebhookSecret]) -> Self {
        let signature = secrets
            .iter()
            .map(|secret| secret.sign(id, timestamp, body))
            .collect::<Vec<_>>()
            .join(" ");
        Self {
            id: id.to_owned(),
            timestamp,
            signature,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The specification's test vector, as published with its reference library (the Rust
    // crate `standardwebhooks` 1.0.1, `test_sign`; the same values appear in the other
    // languages' libraries of github.com/standard-webhooks/standard-webhooks).
    const SPEC_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    const SPEC_ID: &str = "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk";
    const SPEC_TIMESTAMP: i64 = 1_649_367_553;
    const SPEC_BODY: &[u8] = br#"{"email":"test@example.com","username":"test_user"}"#;
    const SPEC_SIGNATURE: &str = "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=";

    #[test]
    fn signs_the_specifications_test_vector() {
        let secret = WebhookSecret::parse(SPEC_SECRET).unwrap();
        assert_eq!(
            secret.sign(SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY),
            SPEC_SIGNATURE
        );
        assert!(secret.verifies(SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY, SPEC_SIGNATURE));
    }

    #[test]
    fn a_signature_fails_for_any_other_message_or_secret() {
        let secret = WebhookSecret::parse(SPEC_SECRET).unwrap();
        assert!(!secret.verifies(SPEC_ID, SPEC_TIMESTAMP + 1, SPEC_BODY, SPEC_SIGNATURE));
        assert!(!secret.verifies("msg_other", SPEC_TIMESTAMP, SPEC_BODY, SPEC_SIGNATURE));
        assert!(!secret.verifies(SPEC_ID, SPEC_TIMESTAMP, b"{}", SPEC_SIGNATURE));
        let other = WebhookSecret::generate();
        assert!(!other.verifies(SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY, SPEC_SIGNATURE));
        assert!(!secret.verifies(SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY, "v1,"));
        assert!(!secret.verifies(SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY, &SPEC_SIGNATURE[..8]));
        let v2 = SPEC_SIGNATURE.replace("v1,", "v2,");
        assert!(!secret.verifies(SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY, &v2));
    }

    #[test]
    fn during_a_rotation_both_secrets_sign_and_either_verifies() {
        let current = WebhookSecret::generate();
        let previous = WebhookSecret::parse(SPEC_SECRET).unwrap();
        let headers =
            SignedHeaders::sign(SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY, &[&current, &previous]);
        let parts: Vec<&str> = headers.signature.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[1], SPEC_SIGNATURE);
        for secret in [&current, &previous] {
            assert!(secret.verifies(SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY, &headers.signature));
        }
        let stranger = WebhookSecret::generate();
        assert!(!stranger.verifies(SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY, &headers.signature));
    }

    #[test]
    fn generated_secrets_are_32_random_bytes_shown_once_with_their_prefix() {
        let a = WebhookSecret::generate();
        let b = WebhookSecret::generate();
        assert_ne!(a, b);
        let shown = a.expose();
        assert!(shown.starts_with("whsec_"));
        assert_eq!(BASE64.decode(&shown[6..]).unwrap().len(), 32);
        assert_eq!(WebhookSecret::parse(&shown), Ok(a.clone()));
        assert_eq!(format!("{a:?}"), "WebhookSecret(…)");
    }

    #[test]
    fn refuses_malformed_secrets() {
        for bad in [
            "",
            "whsec_",
            "C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
            "whsec_***",
            "whsec_a",
        ] {
            assert_eq!(WebhookSecret::parse(bad), Err(MalformedSecret), "{bad}");
        }
    }
}
