//! MongoDB-compatible ObjectIds: 4-byte big-endian seconds, 5 random bytes, 3-byte counter.
//!
//! Ids from the seed system stay valid, and ours sort roughly by creation time like theirs.

use std::fmt;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use serde::{Serialize, Serializer};

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectId([u8; 12]);

struct ProcessUnique {
    random: [u8; 5],
    counter: AtomicU32,
}

fn process_unique() -> &'static ProcessUnique {
    static UNIQUE: OnceLock<ProcessUnique> = OnceLock::new();
    UNIQUE.get_or_init(|| {
        let mut seed = [0u8; 9];
        // Without an OS random source there is nothing safe to fall back to.
        getrandom::fill(&mut seed).expect("the operating system's random source failed");
        let mut random = [0u8; 5];
        random.copy_from_slice(&seed[..5]);
        let counter = u32::from_be_bytes([0, seed[5], seed[6], seed[7]]);
        ProcessUnique {
            random,
            counter: AtomicU32::new(counter),
        }
    })
}

impl ObjectId {
    /// A new id stamped with the current time.
    pub fn generate() -> Self {
        let secs = super::Timestamp::now().millis().div_euclid(1000);
        Self::generate_at(u32::try_from(secs).unwrap_or(u32::MAX))
    }

    fn generate_at(secs: u32) -> Self {
        let unique = process_unique();
        let count = unique.counter.fetch_add(1, Ordering::Relaxed) & 0x00ff_ffff;
        let mut bytes = [0u8; 12];
        bytes[..4].copy_from_slice(&secs.to_be_bytes());
        bytes[4..9].copy_from_slice(&unique.random);
        bytes[9..].copy_from_slice(&count.to_be_bytes()[1..]);
        Self(bytes)
    }

    /// Parses 24 lower-case hexadecimal characters; anything else, upper case included, is
    /// `None` (CONTRACT.md, Conventions: ids are 24 lowercase hex characters, and any other
    /// value is simply not found). `import-mongo` lower-cases an `$oid` itself.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.as_bytes();
        if text.len() != 24 {
            return None;
        }
        let mut bytes = [0u8; 12];
        for (i, pair) in text.chunks_exact(2).enumerate() {
            bytes[i] = (hex_value(pair[0])? << 4) | hex_value(pair[1])?;
        }
        Some(Self(bytes))
    }
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ObjectId({self})")
    }
}

impl Serialize for ObjectId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_lowercase_hex() {
        let id = ObjectId::parse("697a00af215688d2a9fca5c8").unwrap();
        assert_eq!(id.to_string(), "697a00af215688d2a9fca5c8");
    }

    #[test]
    fn upper_case_is_not_an_id() {
        for upper in ["697A00AF215688D2A9FCA5C8", "697a00af215688d2a9fca5cF"] {
            assert_eq!(ObjectId::parse(upper), None, "{upper}");
        }
    }

    #[test]
    fn rejects_anything_but_24_hex_characters() {
        for bad in [
            "",
            "invalid_id_12345",
            "697a00af215688d2a9fca5c",
            "697a00af215688d2a9fca5cz",
        ] {
            assert_eq!(ObjectId::parse(bad), None, "{bad}");
        }
        assert_eq!(ObjectId::parse("697a00af215688d2a9fca5c8é"), None);
    }

    #[test]
    fn generated_ids_are_unique_and_time_stamped() {
        let a = ObjectId::generate_at(0x697a_00af);
        let b = ObjectId::generate_at(0x697a_00af);
        assert_ne!(a, b);
        assert!(a.to_string().starts_with("697a00af"));
        assert_eq!(a.0[4..9], b.0[4..9], "same process, same random part");
    }
}
