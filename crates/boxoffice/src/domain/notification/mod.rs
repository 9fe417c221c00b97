//! Notifications: the record of every state change, for the feed and for webhooks
//! (CONTRACT.md, "Notifications: webhooks and the feed").
//!
//! A notification is written in the transaction of the change it reports, so it exists if and
//! only if that change committed. This module holds what needs no I/O: the types, the shape a
//! consumer sees, the per-purchase ordering key, the retry schedule, the feed's query and
//! the webhook endpoints. The store's outbox, the feed and the delivery workers use them.

mod feed;
mod retry;
mod webhook;

use serde::ser::{Serialize, SerializeStruct, Serializer};

use super::seating::SeatCounts;
use super::{Booking, Event, ObjectId, Rejection, SeatLock, Timestamp, status_enum};

pub use feed::{DEFAULT_FEED_LIMIT, FeedQuery, MAX_FEED_LIMIT, parse_after};
pub use retry::{RetryDecision, RetrySchedule};
pub use webhook::{
    AttemptRecord, AttemptStatus, DeliveryCounts, DeliveryStatus, MAX_DESCRIPTION_CHARS,
    NewWebhook, ROTATION_OVERLAP_MILLIS, Webhook,
};

status_enum!(
    /// What changed, named after what the client or the sweeper acted on. One change makes
    /// exactly one notification (CONTRACT.md): a confirmation is `booking.created` only, a
    /// payment `booking.confirmed` or `booking.failed` only, the expiry of an unpaid booking
    /// `booking.expired` only. Replays and refusals make none.
    NotificationType {
        EventCreated => "event.created",
        EventUpdated => "event.updated",
        LockCreated => "lock.created",
        LockExtended => "lock.extended",
        LockReleased => "lock.released",
        LockExpired => "lock.expired",
        BookingCreated => "booking.created",
        BookingConfirmed => "booking.confirmed",
        BookingFailed => "booking.failed",
        BookingExpired => "booking.expired",
        BookingCancelled => "booking.cancelled",
    }
);

/// The resource a notification type is about; `data` carries that resource as GET shows it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Resource {
    Event,
    Lock,
    Booking,
}

impl NotificationType {
    pub const fn resource(self) -> Resource {
        match self {
            Self::EventCreated | Self::EventUpdated => Resource::Event,
            Self::LockCreated | Self::LockExtended | Self::LockReleased | Self::LockExpired => {
                Resource::Lock
            }
            Self::BookingCreated
            | Self::BookingConfirmed
            | Self::BookingFailed
            | Self::BookingExpired
            | Self::BookingCancelled => Resource::Booking,
        }
    }

    /// Parses a comma-separated list of types (the feed's `type` filter, a webhook's `types`);
    /// the error names the first unknown type.
    pub fn parse_list<'a>(
        texts: impl IntoIterator<Item = &'a str>,
    ) -> Result<Vec<Self>, UnknownType> {
        let mut types = Vec::new();
        for text in texts {
            let kind = Self::parse(text).ok_or_else(|| UnknownType(text.to_owned()))?;
            if !types.contains(&kind) {
                types.push(kind);
            }
        }
        Ok(types)
    }
}

/// A notification type that does not exist; shown as `unknown notification type: <text>`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown notification type: {0}")]
pub struct UnknownType(pub String);

/// The key under which notifications reach an endpoint in sequence order: a later one waits
/// until the earlier ones with the same key are delivered or dead (CONTRACT.md: "Notifications
/// about one purchase — a lock and the booking made from it — reach an endpoint in sequence
/// order").
///
/// A purchase is keyed by its lock's id (a booking carries the id of the lock it was made
/// from), an event's own changes by the event's id. ObjectIds are unique across collections,
/// so the two kinds of key never meet; notifications with different keys never wait for each
/// other.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct OrderingKey(ObjectId);

impl OrderingKey {
    pub const fn of_event(event: &Event) -> Self {
        Self(event.id)
    }

    pub const fn of_lock(lock: &SeatLock) -> Self {
        Self(lock.id)
    }

    /// A booking belongs to the purchase of the lock it was made from.
    pub const fn of_booking(booking: &Booking) -> Self {
        Self(booking.seat_lock_id)
    }

    /// A key read back from the store.
    pub const fn from_id(id: ObjectId) -> Self {
        Self(id)
    }

    pub const fn id(self) -> ObjectId {
        self.0
    }
}

/// A notification as written in its change's transaction, before it has a sequence number.
#[derive(Clone, Debug)]
pub struct NewNotification {
    /// Also the `webhook-id` of every delivery of it, retries included.
    pub id: ObjectId,
    pub kind: NotificationType,
    pub ordering_key: OrderingKey,
    pub created_at: Timestamp,
    /// The resource as GET shows it, rendered by the caller that owns the JSON shapes.
    pub data: serde_json::Value,
}

impl NewNotification {
    pub fn new(
        kind: NotificationType,
        ordering_key: OrderingKey,
        created_at: Timestamp,
        data: serde_json::Value,
    ) -> Self {
        Self {
            id: ObjectId::generate(),
            kind,
            ordering_key,
            created_at,
            data,
        }
    }
}

/// Renders a notification's `data`: the resource as GET shows it after the change. The HTTP
/// layer owns those shapes and implements this; the store calls it inside the change's
/// transaction, so that what is recorded is exactly what changed.
pub trait ShowResource: Send + Sync + 'static {
    /// `seat_counts`: a seated event's seats by status, per price category in the chart's
    /// order, as counted in the change's transaction (GET shows each category's FREE seats,
    /// CONTRACT.md "Reserved seating"); `None` for a general-admission event.
    fn event(&self, event: &Event, seat_counts: Option<&[SeatCounts]>) -> serde_json::Value;
    fn lock(&self, lock: &SeatLock) -> serde_json::Value;
    fn booking(&self, booking: &Booking) -> serde_json::Value;
}

impl NewNotification {
    /// `seat_counts`: as [`ShowResource::event`] takes them.
    pub fn of_event(
        show: &dyn ShowResource,
        kind: NotificationType,
        event: &Event,
        seat_counts: Option<&[SeatCounts]>,
        now: Timestamp,
    ) -> Self {
        let data = show.event(event, seat_counts);
        Self::new(kind, OrderingKey::of_event(event), now, data)
    }

    pub fn of_lock(
        show: &dyn ShowResource,
        kind: NotificationType,
        lock: &SeatLock,
        now: Timestamp,
    ) -> Self {
        Self::new(kind, OrderingKey::of_lock(lock), now, show.lock(lock))
    }

    /// `refund`: the refund recorded with a cancellation, if any (CONTRACT.md: a
    /// `booking.cancelled`'s `data` carries it), shown as `data.refund`.
    pub fn of_booking(
        show: &dyn ShowResource,
        kind: NotificationType,
        booking: &Booking,
        refund: Option<Refund>,
        now: Timestamp,
    ) -> Self {
        let mut data = show.booking(booking);
        if let (Some(refund), serde_json::Value::Object(fields)) = (refund, &mut data) {
            fields.insert(
                "refund".to_owned(),
                serde_json::json!({"_id": refund.payment_id, "outcome": "REFUND", "createdAt": refund.at}),
            );
        }
        Self::new(kind, OrderingKey::of_booking(booking), now, data)
    }
}

/// A refund recorded in `payments` when a paid booking was cancelled.
#[derive(Clone, Copy, Debug)]
pub struct Refund {
    pub payment_id: ObjectId,
    pub at: Timestamp,
}

/// A notification with its place in the feed: `sequence` numbers are gap-free and increase in
/// commit order across every instance (CONTRACT.md).
#[derive(Clone, Debug)]
pub struct Notification {
    pub sequence: i64,
    pub notification: NewNotification,
}

/// `{"id", "sequence", "type", "createdAt", "data"}`: the feed's items and a webhook's body.
impl Serialize for Notification {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let n = &self.notification;
        let mut out = serializer.serialize_struct("Notification", 5)?;
        out.serialize_field("id", &n.id)?;
        out.serialize_field("sequence", &self.sequence)?;
        out.serialize_field("type", &n.kind)?;
        out.serialize_field("createdAt", &n.created_at)?;
        out.serialize_field("data", &n.data)?;
        out.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{BookingStatus, LockStatus};

    fn lock(id: ObjectId) -> SeatLock {
        let now = Timestamp::from_millis(0);
        SeatLock {
            id,
            event_id: ObjectId::generate(),
            user_id: ObjectId::generate(),
            seats: 2,
            status: LockStatus::Active,
            expires_at: now,
            idempotency_key: "k".into(),
            booking_id: None,
            details: Default::default(),
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn every_type_round_trips_and_names_its_resource() {
        assert_eq!(NotificationType::ALL.len(), 11);
        for kind in NotificationType::ALL {
            assert_eq!(NotificationType::parse(kind.as_str()), Some(*kind));
            let prefix = match kind.resource() {
                Resource::Event => "event.",
                Resource::Lock => "lock.",
                Resource::Booking => "booking.",
            };
            assert!(kind.as_str().starts_with(prefix), "{kind}");
        }
    }

    #[test]
    fn a_list_of_types_names_the_first_unknown_one() {
        let parsed =
            NotificationType::parse_list(["lock.created", "booking.failed", "lock.created"]);
        assert_eq!(
            parsed,
            Ok(vec![
                NotificationType::LockCreated,
                NotificationType::BookingFailed
            ])
        );
        let refused = NotificationType::parse_list(["lock.created", "lock.deleted", "nope"]);
        assert_eq!(refused, Err(UnknownType("lock.deleted".into())));
        assert_eq!(
            refused.unwrap_err().to_string(),
            "unknown notification type: lock.deleted"
        );
    }

    #[test]
    fn a_lock_and_the_booking_made_from_it_share_one_ordering_key() {
        let held = lock(ObjectId::generate());
        let now = Timestamp::from_millis(0);
        let booking = Booking {
            id: ObjectId::generate(),
            user_id: held.user_id,
            event_id: held.event_id,
            seats: held.seats,
            status: BookingStatus::PaymentPending,
            seat_lock_id: held.id,
            payment_expires_at: now,
            details: Default::default(),
            created_at: now,
            updated_at: now,
        };
        assert_eq!(
            OrderingKey::of_lock(&held),
            OrderingKey::of_booking(&booking)
        );
        let other = lock(ObjectId::generate());
        assert_ne!(
            OrderingKey::of_lock(&other),
            OrderingKey::of_booking(&booking)
        );
    }

    #[test]
    fn serialises_as_the_contract_shows() {
        let id = ObjectId::parse("697a00af215688d2a9fca5c8").unwrap();
        let notification = Notification {
            sequence: 1042,
            notification: NewNotification {
                id,
                kind: NotificationType::BookingConfirmed,
                ordering_key: OrderingKey::from_id(id),
                created_at: Timestamp::parse_rfc3339("2026-01-28T12:28:29.379Z").unwrap(),
                data: serde_json::json!({"_id": "b"}),
            },
        };
        assert_eq!(
            serde_json::to_string(&notification).unwrap(),
            r#"{"id":"697a00af215688d2a9fca5c8","sequence":1042,"type":"booking.confirmed","createdAt":"2026-01-28T12:28:29.379Z","data":{"_id":"b"}}"#
        );
    }
}
