//! Cursors of paged lists, sealed so that only the server's own are taken (CONTRACT.md: a bad
//! cursor is a 400; README, "Bounds at the edge").
//!
//! A cursor is where a page ended (the sort key and id of its last item) and what it was issued
//! for (its *scope*: the listing and its filters). Clients see `POSITION` + `TAG` as 56
//! lowercase hex digits: the position's 40 (16 of the key, 24 of the id) and the first 8 bytes
//! of HMAC-SHA256 (RFC 2104, RFC 4868) over the scope and the position, under the server's
//! [`CursorKey`]. A cursor that was made up, changed, or issued for another listing or other
//! filters fails the tag and is refused with 400 `cursor is invalid`. 64 bits of tag make a
//! forgery a 1-in-2^64 guess per request.

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::{ObjectId, Rejection};

/// Bytes of the HMAC kept in a cursor.
const TAG_BYTES: usize = 8;
/// Hex digits of a position: 16 of the key, 24 of the id.
const POSITION_DIGITS: usize = 40;

/// Where a page ended: the sort key and id of its last item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub key: i64,
    pub id: ObjectId,
}

/// The secret that seals cursors: 32 bytes, the same on every instance that serves one
/// database (the store keeps it; `app.rs` fetches it at start-up).
#[derive(Clone)]
pub struct CursorKey([u8; 32]);

impl fmt::Debug for CursorKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CursorKey(..)")
    }
}

impl CursorKey {
    pub const fn new(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// A key from its 64 hex digits, as the store keeps it.
    pub fn from_hex(text: &str) -> Option<Self> {
        if text.len() != 64 || !text.is_ascii() {
            return None;
        }
        let mut bytes = [0u8; 32];
        for (byte, pair) in bytes.iter_mut().zip(text.as_bytes().chunks(2)) {
            *byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
        }
        Some(Self(bytes))
    }

    /// The key's 64 hex digits.
    pub fn to_hex(&self) -> String {
        hex(&self.0)
    }

    fn mac(&self, scope: &str, position: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key");
        // The scope never holds a line feed in front of fixed-width fields, and the position
        // has a fixed width: the input names one (scope, position) pair.
        mac.update(scope.as_bytes());
        mac.update(b"\n");
        mac.update(position.as_bytes());
        mac
    }
}

impl Cursor {
    /// The cursor as clients see it, sealed for `scope`.
    pub fn seal(&self, key: &CursorKey, scope: &str) -> String {
        let position = format!("{:016x}{}", self.key as u64, self.id);
        let tag = key.mac(scope, &position).finalize().into_bytes();
        format!("{position}{}", hex(&tag[..TAG_BYTES]))
    }

    /// A cursor as a client sent it for `scope`; absent is `None`; anything the server did
    /// not seal for this scope is 400 `cursor is invalid`.
    pub fn open(
        text: Option<&str>,
        key: &CursorKey,
        scope: &str,
    ) -> Result<Option<Self>, Rejection> {
        let Some(text) = text else {
            return Ok(None);
        };
        let invalid = || Rejection::invalid("cursor is invalid");
        let lower_hex = |s: &str| s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if text.len() != POSITION_DIGITS + 2 * TAG_BYTES || !lower_hex(text) {
            return Err(invalid());
        }
        let (position, tag) = text.split_at(POSITION_DIGITS);
        let tag: Vec<u8> = (0..TAG_BYTES)
            .map(|i| u8::from_str_radix(&tag[2 * i..2 * i + 2], 16))
            .collect::<Result<_, _>>()
            .map_err(|_| invalid())?;
        key.mac(scope, position)
            .verify_truncated_left(&tag)
            .map_err(|_| invalid())?;
        let (sort_key, id) = position.split_at(16);
        let sort_key = u64::from_str_radix(sort_key, 16).map_err(|_| invalid())?;
        let id = ObjectId::parse(id).ok_or_else(invalid)?;
        Ok(Some(Self {
            // The key is any i64, stored as its two's-complement bits.
            key: sort_key as i64,
            id,
        }))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: CursorKey = CursorKey::new([7; 32]);

    #[test]
    fn cursors_round_trip_in_their_scope() {
        let id = ObjectId::parse("697a00af215688d2a9fca5c8").unwrap();
        for sort_key in [0, 1_781_517_600_000, -5, i64::MIN, i64::MAX] {
            let cursor = Cursor { key: sort_key, id };
            let text = cursor.seal(&KEY, "events");
            assert_eq!(text.len(), 56);
            assert_eq!(Cursor::open(Some(&text), &KEY, "events"), Ok(Some(cursor)));
        }
        assert_eq!(Cursor::open(None, &KEY, "events"), Ok(None));
    }

    #[test]
    fn anything_not_sealed_for_the_scope_is_refused() {
        let id = ObjectId::parse("697a00af215688d2a9fca5c8").unwrap();
        let sealed = Cursor { key: 42, id }.seal(&KEY, "events\nq=a");
        let mut changed = sealed.clone().into_bytes();
        changed[15] = if changed[15] == b'0' { b'1' } else { b'0' };
        let changed = String::from_utf8(changed).unwrap();
        let other_key = Cursor { key: 42, id }.seal(&CursorKey::new([8; 32]), "events\nq=a");
        for (text, scope) in [
            // Another scope, another key, a changed position, an unsealed position.
            (sealed.as_str(), "events\nq=b"),
            (other_key.as_str(), "events\nq=a"),
            (changed.as_str(), "events\nq=a"),
            ("000000000000002a697a00af215688d2a9fca5c8", "events\nq=a"),
            (
                "000000000000002a697a00af215688d2a9fca5c80000000000000000",
                "events\nq=a",
            ),
            (&sealed.to_uppercase(), "events\nq=a"),
            ("", "events\nq=a"),
            ("abc", "events\nq=a"),
        ] {
            assert_eq!(
                Cursor::open(Some(text), &KEY, scope)
                    .unwrap_err()
                    .to_string(),
                "cursor is invalid",
                "{text} {scope:?}"
            );
        }
    }

    #[test]
    fn keys_are_kept_as_hex() {
        let key = CursorKey::new(*b"0123456789abcdef0123456789abcdef");
        let hex = key.to_hex();
        assert_eq!(hex.len(), 64);
        assert_eq!(CursorKey::from_hex(&hex).unwrap().0, key.0);
        assert!(CursorKey::from_hex("zz").is_none());
        assert!(CursorKey::from_hex(&"g".repeat(64)).is_none());
    }
}
