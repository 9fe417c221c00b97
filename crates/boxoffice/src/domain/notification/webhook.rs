//! Webhook endpoints and what happened to their deliveries (CONTRACT.md, "Notifications:
//! webhooks and the feed").

use super::{NotificationType, ObjectId, Rejection, Timestamp, status_enum};

/// After a secret rotation, deliveries are signed with the old secret too for this long.
pub const ROTATION_OVERLAP_MILLIS: i64 = 24 * 60 * 60 * 1000;

pub const MAX_DESCRIPTION_CHARS: usize = 500;

status_enum!(
    /// Where a notification stands for one endpoint.
    DeliveryStatus { Pending => "pending", Delivered => "delivered", Dead => "dead" }
);

status_enum!(
    /// What one attempt came to: `dead` is a failure after which no more attempts are made.
    AttemptStatus { Delivered => "delivered", Failed => "failed", Dead => "dead" }
);

/// A webhook endpoint as an admin sees it: never its secret.
#[derive(Clone, Debug)]
pub struct Webhook {
    pub id: ObjectId,
    pub url: String,
    /// The types it receives; empty means every type.
    pub types: Vec<NotificationType>,
    pub description: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub counts: DeliveryCounts,
}

impl Webhook {
    /// Whether a notification of this type is delivered to this endpoint.
    pub fn receives(&self, kind: NotificationType) -> bool {
        self.types.is_empty() || self.types.contains(&kind)
    }
}

/// How many notifications of an endpoint are in each state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeliveryCounts {
    pub pending: i64,
    pub delivered: i64,
    pub dead: i64,
}

/// A new endpoint, checked: its URL has passed the address check of the webhooks module.
#[derive(Clone, Debug)]
pub struct NewWebhook {
    pub url: String,
    pub types: Vec<NotificationType>,
    pub description: String,
}

impl NewWebhook {
    /// At most [`MAX_DESCRIPTION_CHARS`] characters; none is empty.
    pub fn check_description(description: Option<&str>) -> Result<String, Rejection> {
        match description {
            Some(text) if text.chars().count() > MAX_DESCRIPTION_CHARS => Err(Rejection::invalid(
                "description must be at most 500 characters",
            )),
            Some(text) => Ok(text.to_owned()),
            None => Ok(String::new()),
        }
    }

    /// The types an endpoint asks for: absent or empty means every type; an unknown type is
    /// refused by name.
    pub fn check_types(types: Option<&[String]>) -> Result<Vec<NotificationType>, Rejection> {
        NotificationType::parse_list(types.unwrap_or_default().iter().map(String::as_str))
            .map_err(|unknown| Rejection::invalid(unknown.to_string()))
    }
}

/// One delivery attempt, as the deliveries list shows it.
#[derive(Clone, Debug)]
pub struct AttemptRecord {
    pub id: ObjectId,
    pub notification_id: ObjectId,
    /// 1 for the first attempt; a redelivery continues the count.
    pub attempt: i64,
    pub status: AttemptStatus,
    pub http_status: Option<i64>,
    pub error: Option<String>,
    pub at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_checked_by_name_and_empty_means_all() {
        assert_eq!(NewWebhook::check_types(None), Ok(vec![]));
        let asked = vec!["booking.confirmed".to_owned(), "lock.created".to_owned()];
        assert_eq!(
            NewWebhook::check_types(Some(&asked)),
            Ok(vec![
                NotificationType::BookingConfirmed,
                NotificationType::LockCreated
            ])
        );
        let bad = vec!["booking.paid".to_owned()];
        assert_eq!(
            NewWebhook::check_types(Some(&bad)),
            Err(Rejection::invalid(
                "unknown notification type: booking.paid"
            ))
        );
        let hook = Webhook {
            id: ObjectId::generate(),
            url: "https://example.com".into(),
            types: vec![],
            description: String::new(),
            created_at: Timestamp::from_millis(0),
            updated_at: Timestamp::from_millis(0),
            counts: DeliveryCounts::default(),
        };
        assert!(hook.receives(NotificationType::EventCreated));
        let picky = Webhook {
            types: vec![NotificationType::LockCreated],
            ..hook
        };
        assert!(picky.receives(NotificationType::LockCreated));
        assert!(!picky.receives(NotificationType::EventCreated));
    }

    #[test]
    fn descriptions_are_bounded() {
        assert_eq!(NewWebhook::check_description(None), Ok(String::new()));
        assert!(NewWebhook::check_description(Some(&"é".repeat(500))).is_ok());
        assert!(NewWebhook::check_description(Some(&"é".repeat(501))).is_err());
    }
}
