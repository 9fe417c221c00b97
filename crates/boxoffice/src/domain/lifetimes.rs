//! How long holds and payment windows last (CONTRACT.md "Configuration": `LOCK_TTL_SECONDS`,
//! `PAYMENT_TTL_SECONDS`, `LOCK_MAX_LIFETIME_SECONDS`; rule 5 for a booked hold).

use super::{LockExtension, ObjectId, Timestamp};

/// The configured lifetimes, in seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lifetimes {
    /// A new hold lapses this long after it is made.
    pub lock_ttl_seconds: i64,
    /// A booking's payment window; its hold then lives exactly as long (rule 5).
    pub payment_ttl_seconds: i64,
    /// How far from its creation a hold may be extended.
    pub lock_max_lifetime_seconds: i64,
}

impl Lifetimes {
    /// When a hold made at `now` lapses.
    pub fn lock_expires_at(&self, now: Timestamp) -> Timestamp {
        now.plus_seconds(self.lock_ttl_seconds)
    }

    /// When the payment window of a booking made at `now` closes.
    pub fn payment_expires_at(&self, now: Timestamp) -> Timestamp {
        now.plus_seconds(self.payment_ttl_seconds)
    }

    /// Moving a hold's expiry to `seconds` after `now`, capped by its maximum lifetime.
    pub fn extension(&self, lock_id: ObjectId, now: Timestamp, seconds: i64) -> LockExtension {
        LockExtension {
            lock_id,
            now,
            expires_at: now.plus_seconds(seconds),
            max_lifetime_seconds: self.lock_max_lifetime_seconds,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_count_from_now() {
        let lifetimes = Lifetimes {
            lock_ttl_seconds: 300,
            payment_ttl_seconds: 600,
            lock_max_lifetime_seconds: 7200,
        };
        let now = Timestamp::from_millis(1_000);
        assert_eq!(lifetimes.lock_expires_at(now).millis(), 301_000);
        assert_eq!(lifetimes.payment_expires_at(now).millis(), 601_000);
        let id = ObjectId::parse("697a00af215688d2a9fca5c8").unwrap();
        let extension = lifetimes.extension(id, now, 60);
        assert_eq!(extension.expires_at.millis(), 61_000);
        assert_eq!(extension.max_lifetime_seconds, 7200);
    }
}
