//! Retrying any write: the `Idempotency-Key` header (CONTRACT.md, "Retrying any write"), with
//! the semantics payment APIs use. The key, the fingerprint of the request it was first used
//! for, the answer kept for it, and what a repeat of the key gets.

use sha2::{Digest, Sha256};

use super::{ObjectId, Rejection, Timestamp};

/// How long a kept answer is replayed: 24 hours, in milliseconds.
pub const KEPT_FOR_MILLIS: i64 = 24 * 60 * 60 * 1000;

/// An `Idempotency-Key` header's value: 1 to 255 visible ASCII characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(text: &[u8]) -> Result<Self, Rejection> {
        let visible = |byte: &u8| (0x21..=0x7e).contains(byte);
        if (1..=255).contains(&text.len()) && text.iter().all(visible) {
            // Visible ASCII is UTF-8.
            Ok(Self(String::from_utf8_lossy(text).into_owned()))
        } else {
            Err(Rejection::invalid(
                "Idempotency-Key must be 1 to 255 visible ASCII characters",
            ))
        }
    }

    /// A request with more than one `Idempotency-Key` header: which one the client meant is
    /// unknowable, so it is refused (400) rather than one of them used silently.
    pub fn repeated() -> Rejection {
        Rejection::invalid("Idempotency-Key must be given once, not in several headers")
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A request as an idempotency key compares it: SHA-256 of its method, path and body, in hex.
pub fn request_fingerprint(method: &str, path: &str, body: &[u8]) -> String {
    let mut hash = Sha256::new();
    for part in [method.as_bytes(), b"\n", path.as_bytes(), b"\n", body] {
        hash.update(part);
    }
    hash.finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// A first use of a key, as claimed before the request runs: whose key it is (`scope`: the
/// token's user in jwt mode, empty for the key alone), for which request, and the claim's own
/// id, so that only this run may complete it.
#[derive(Clone, Debug)]
pub struct KeyClaim {
    pub scope: String,
    pub key: IdempotencyKey,
    pub fingerprint: String,
    pub token: ObjectId,
    pub now: Timestamp,
    /// Until when the claim stands if its run never completes it (a crash): another request
    /// with the key may then take it over.
    pub lease_until: Timestamp,
}

/// An answer kept for a key: status and body, as first sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeptAnswer {
    pub status: u16,
    pub body: String,
}

impl KeptAnswer {
    /// Whether an answer with this status is kept: 2xx to 4xx are (the request was decided);
    /// 5xx are not (nothing changed, so a retry runs again).
    pub fn is_kept(status: u16) -> bool {
        status < 500
    }
}

/// A key as stored: the request it was claimed for, and its answer once the run completed.
#[derive(Clone, Debug)]
pub struct StoredKey {
    pub fingerprint: String,
    pub answer: Option<KeptAnswer>,
    pub lease_until: Timestamp,
    pub created_at: Timestamp,
}

/// What a request with a key already stored gets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Repeat {
    /// The same request, completed: its kept answer, with `Idempotent-Replayed: true`.
    Replay(KeptAnswer),
    /// Another request under the same key: 422 `IDEMPOTENCY_KEY_REUSED`.
    Reused,
    /// The same request, still running: wait, or 409 `IDEMPOTENCY_IN_PROGRESS`.
    InProgress,
    /// The stored key has lapsed (kept more than 24 hours, or a claim never completed whose
    /// lease ran out): claim it afresh.
    Claim,
}

impl StoredKey {
    /// What the request `claim` describes gets, given this stored key.
    pub fn repeat(&self, claim: &KeyClaim) -> Repeat {
        if self.created_at.plus_millis(KEPT_FOR_MILLIS) <= claim.now {
            return Repeat::Claim;
        }
        if self.fingerprint != claim.fingerprint {
            return Repeat::Reused;
        }
        match &self.answer {
            Some(answer) => Repeat::Replay(answer.clone()),
            None if self.lease_until <= claim.now => Repeat::Claim,
            None => Repeat::InProgress,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(fingerprint: &str, now: i64) -> KeyClaim {
        KeyClaim {
            scope: String::new(),
            key: IdempotencyKey::parse(b"k-1").unwrap(),
            fingerprint: fingerprint.to_owned(),
            token: ObjectId::generate(),
            now: Timestamp::from_millis(now),
            lease_until: Timestamp::from_millis(now + 1_000),
        }
    }

    #[test]
    fn a_key_is_1_to_255_visible_ascii_characters() {
        assert!(IdempotencyKey::parse(b"a").is_ok());
        assert!(IdempotencyKey::parse(&[b'~'; 255]).is_ok());
        for bad in [
            &b""[..],
            &[b'x'; 256],
            b"with space",
            b"tab\t",
            "é".as_bytes(),
            b"\x7f",
        ] {
            assert!(IdempotencyKey::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn fingerprints_tell_method_path_and_body_apart() {
        let one = request_fingerprint("POST", "/api/events", b"{}");
        assert_eq!(one, request_fingerprint("POST", "/api/events", b"{}"));
        assert_eq!(one.len(), 64);
        assert_ne!(one, request_fingerprint("PATCH", "/api/events", b"{}"));
        assert_ne!(one, request_fingerprint("POST", "/api/event", b"{}"));
        assert_ne!(one, request_fingerprint("POST", "/api/events", b"{ }"));
    }

    #[test]
    fn a_repeat_replays_waits_or_is_refused() {
        let answer = KeptAnswer {
            status: 201,
            body: "{}".to_owned(),
        };
        let stored = |answer: Option<KeptAnswer>, lease_until: i64| StoredKey {
            fingerprint: "f".to_owned(),
            answer,
            lease_until: Timestamp::from_millis(lease_until),
            created_at: Timestamp::from_millis(0),
        };
        let done = stored(Some(answer.clone()), 500);
        assert_eq!(done.repeat(&claim("f", 1_000)), Repeat::Replay(answer));
        assert_eq!(done.repeat(&claim("g", 1_000)), Repeat::Reused);
        assert_eq!(done.repeat(&claim("g", KEPT_FOR_MILLIS)), Repeat::Claim);
        let running = stored(None, 2_000);
        assert_eq!(running.repeat(&claim("f", 1_000)), Repeat::InProgress);
        assert_eq!(running.repeat(&claim("g", 1_000)), Repeat::Reused);
        assert_eq!(running.repeat(&claim("f", 2_000)), Repeat::Claim);
        assert!(KeptAnswer::is_kept(422) && !KeptAnswer::is_kept(503));
    }
}
