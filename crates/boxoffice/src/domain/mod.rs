//! Pure booking rules: no I/O, no HTTP, no SQL.

mod booking;
mod choice;
mod confirmation;
mod cursor;
mod event;
#[cfg(test)]
mod fixtures;
mod folding;
mod id;
mod idempotency;
mod integer;
mod inventory;
mod lifetimes;
mod listing;
mod lock;
mod lock_batch;
pub mod notification;
mod payment;
mod price;
mod rejection;
pub mod seating;
mod timestamp;
mod user;

pub use booking::{Booking, BookingStatus, Cancellation};
pub use choice::{Allowed, optional_choice};
pub use confirmation::{Confirmation, Reconfirmation};
pub use cursor::{Cursor, CursorKey};
pub use event::{Event, EventChanges, Field, MAX_TOTAL_SEATS, NewEvent};
pub use folding::{caseless_key, is_invisible, nfc};
pub use id::ObjectId;
pub use idempotency::{
    IdempotencyKey, KEPT_FOR_MILLIS, KeptAnswer, KeyClaim, Repeat, StoredKey, request_fingerprint,
};
pub use integer::{Integer, above_64_bits};
pub use inventory::{Inventory, SeatRows, SeatUse};
pub use lifetimes::Lifetimes;
pub use listing::{BookingQuery, DeliveryQuery, EventQuery, Page, parse_limit};
pub use lock::{LockExtension, LockRequest, LockStatus, SeatLock};
pub use lock_batch::{
    LockBatchFacts, LockVerdict, decide_lock_batch, decide_lock_batch_with, granted_seats,
    short_of_seats,
};
pub use payment::{LockMove, PaymentForce, REFUND_OUTCOME, Settlement};
pub use price::{AmountOverflow, MAX_PRICE, Price, check_price, is_currency, total_amount};
pub use rejection::Rejection;
pub use timestamp::{DateError, Timestamp, parse_date, parse_date_bound_up};
pub use user::{NewUser, Role, User, email_key, legacy_email_key, normalize_password};

/// Statuses are stored and shown in the seed's upper-case spelling.
macro_rules! status_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            pub const fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }

            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some(Self::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}
pub(crate) use status_enum;
