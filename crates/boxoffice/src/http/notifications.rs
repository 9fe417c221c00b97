//! `GET /api/notifications`: the feed (CONTRACT.md, "Notifications: webhooks and the feed").

use axum::Json;
use axum::extract::State;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ErrorBody;
use super::views::{BookingView, EventView, LockView};
use super::{Access, ApiError, AppState, QueryParams};
use crate::domain::notification::{FeedQuery, Notification, ShowResource};
use crate::domain::seating::SeatCounts;
use crate::domain::{Booking, Event, SeatLock};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(Access::Admin.routes(routes!(feed)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct FeedParams {
    /// Notifications after this sequence number (default 0: from the first kept).
    after: Option<String>,
    /// Page size, 1 to 1000 (default 100).
    limit: Option<String>,
    /// Only these types, comma-separated (`booking.confirmed,booking.failed`).
    #[serde(rename = "type")]
    #[param(rename = "type")]
    kind: Option<String>,
}

/// A notification, as the feed lists it and as a webhook receives it. Its JSON is written by
/// the domain's `Notification` (one shape for both); this describes it.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct NotificationView {
    /// 24 hex characters; also the `webhook-id` of its deliveries.
    id: String,
    /// Gap-free and increasing in commit order, across every instance.
    sequence: i64,
    /// `event.created`, `event.updated`, `lock.created`, `lock.extended`, `lock.released`,
    /// `lock.expired`, `booking.created`, `booking.confirmed`, `booking.failed`,
    /// `booking.expired` or `booking.cancelled`.
    #[schema(rename = "type")]
    kind: String,
    #[schema(format = DateTime)]
    created_at: String,
    /// The resource as GET showed it after the change (a cancelled booking's carries its
    /// `refund` when one was recorded).
    data: Value,
}

/// `{"success": true, "data": [notification…], "nextAfter": <sequence>}`
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Feed {
    success: bool,
    #[schema(value_type = Vec<NotificationView>)]
    data: Vec<Notification>,
    /// The sequence to ask after next: the last one listed, or `after` when none was.
    next_after: i64,
}

/// Notifications in sequence order, after `after`. A consumer that asks again after
/// `nextAfter` never misses one, whatever instance wrote it. Admins only.
#[utoipa::path(get, path = "/api/notifications", tag = "notifications",
    params(FeedParams),
    responses(
        (status = 200, description = "Notifications after `after`", body = Feed),
        (status = 400, description = "A bad `after`, `limit` or `type`", body = ErrorBody),
    ))]
async fn feed(
    State(app): State<AppState>,
    QueryParams(params): QueryParams<FeedParams>,
) -> Result<impl IntoResponse, ApiError> {
    let query = FeedQuery::parse(
        params.after.as_deref(),
        params.limit.as_deref(),
        params.kind.as_deref(),
    )?;
    let data = app.notifications.feed(&query).await?;
    let next_after = data.last().map_or(query.after, |n| n.sequence);
    Ok(Json(Feed {
        success: true,
        data,
        next_after,
    }))
}

/// A notification's `data` is the resource as GET shows it: these views, given to the store
/// so that it renders them inside the change's transaction.
pub struct NotificationViews;

fn shown(view: impl Serialize) -> Value {
    // The views are plain structs of strings and numbers: serialising them cannot fail.
    serde_json::to_value(view).unwrap_or(Value::Null)
}

impl ShowResource for NotificationViews {
    fn event(&self, event: &Event, seat_counts: Option<&[SeatCounts]>) -> Value {
        shown(EventView::with_counts(event.clone(), seat_counts))
    }
    fn lock(&self, lock: &SeatLock) -> Value {
        shown(LockView::from(lock.clone()))
    }
    fn booking(&self, booking: &Booking) -> Value {
        shown(BookingView::from(booking.clone()))
    }
}
