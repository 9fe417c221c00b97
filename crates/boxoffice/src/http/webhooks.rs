//! Webhook endpoints (admin): create, list, read, delete, rotate the secret, list the
//! deliveries, redeliver the dead (CONTRACT.md, "Notifications: webhooks and the feed").

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ErrorBody;
use super::views::{Data, List, data, list};
use super::{
    Access, ApiError, AppState, JsonObject, OptionalJsonObject, PathId, QueryParams, parse_id,
};
use crate::domain::notification::{AttemptRecord, NewWebhook, Webhook, parse_after};
use crate::domain::{DeliveryQuery, Field, ObjectId, Page, Rejection, Timestamp};
use crate::webhooks::{UrlRefusal, WebhookSecret, check_url};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(Access::Admin.routes(routes!(create_webhook, list_webhooks)))
        .routes(Access::Admin.routes(routes!(webhook, delete_webhook)))
        .routes(Access::Admin.routes(routes!(rotate_secret)))
        .routes(Access::Admin.routes(routes!(deliveries)))
        .routes(Access::Admin.routes(routes!(redeliver)))
}

const ID: &str = "The webhook endpoint's id";

/// An endpoint as an admin sees it: never its secret.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookView {
    #[serde(rename = "_id")]
    #[schema(value_type = String)]
    id: ObjectId,
    url: String,
    /// The notification types it receives; empty for every type.
    types: Vec<String>,
    description: String,
    #[schema(value_type = String, format = DateTime)]
    created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    updated_at: Timestamp,
    /// Notifications waiting to be delivered (or retried).
    pending: i64,
    delivered: i64,
    /// Given up after `WEBHOOK_RETRY_HOURS`; redeliver queues them again.
    dead: i64,
}

impl From<Webhook> for WebhookView {
    fn from(webhook: Webhook) -> Self {
        Self {
            id: webhook.id,
            url: webhook.url,
            types: webhook
                .types
                .iter()
                .map(|t| t.as_str().to_owned())
                .collect(),
            description: webhook.description,
            created_at: webhook.created_at,
            updated_at: webhook.updated_at,
            pending: webhook.counts.pending,
            delivered: webhook.counts.delivered,
            dead: webhook.counts.dead,
        }
    }
}

/// A new endpoint, with its secret: the only answer that ever shows it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedWebhookView {
    #[serde(flatten)]
    webhook: WebhookView,
    /// `whsec_` + base64 of 32 random bytes: the key of the Standard Webhooks signatures.
    secret: String,
}

#[derive(Serialize, ToSchema)]
pub struct SecretView {
    /// The new secret; the previous one also signs for 24 hours.
    secret: String,
}

/// One delivery attempt.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttemptView {
    #[schema(value_type = String)]
    notification_id: ObjectId,
    /// 1 for the first attempt at this notification.
    attempt: i64,
    /// `delivered`, `failed` (to be retried) or `dead` (given up).
    status: &'static str,
    /// The receiver's answer, if it answered.
    http_status: Option<i64>,
    /// Why it was not delivered, if it was not.
    error: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    at: Timestamp,
}

impl From<AttemptRecord> for AttemptView {
    fn from(record: AttemptRecord) -> Self {
        Self {
            notification_id: record.notification_id,
            attempt: record.attempt,
            status: record.status.as_str(),
            http_status: record.http_status,
            error: record.error,
            at: record.at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Queued {
    /// How many dead notifications were queued again.
    queued: u64,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub struct NewWebhookBody {
    /// An `http` or `https` URL without a user name or password; private, loopback,
    /// link-local and metadata addresses are refused unless `WEBHOOK_ALLOW_PRIVATE`.
    url: String,
    /// Notification types to receive; absent or empty for every type.
    types: Option<Vec<String>>,
    /// At most 500 characters.
    description: Option<String>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub struct RedeliverBody {
    /// Only notifications with a sequence above this one (default: all).
    after: Option<i64>,
}

/// Creates an endpoint; the answer shows its signing secret, once. It receives the
/// notifications numbered from now on, of its `types` (every type if none). A retry with the
/// same `Idempotency-Key` replays this answer, secret included, to the key's owner only: a
/// client that lost the answer (a timeout, `OUTCOME_UNKNOWN`) could otherwise never learn the
/// secret of the endpoint it made.
#[utoipa::path(post, path = "/api/webhooks", tag = "webhooks",
    request_body = NewWebhookBody,
    responses(
        (status = 201, description = "The endpoint, with its secret", body = Data<CreatedWebhookView>),
        (status = 400, description = "`url must be an http or https URL`, `url points to a \
            private address`, `url must not contain a user name or password`, `url port must be \
            from 1 to 65535`, `url must be at most 2048 characters`, or an unknown type", body = ErrorBody),
    ))]
async fn create_webhook(
    State(app): State<AppState>,
    body: JsonObject,
) -> Result<impl IntoResponse, ApiError> {
    let url = match body.text("url")? {
        Field::Given(text) => text,
        _ => return Err(Rejection::invalid(UrlRefusal::NotHttp.to_string()).into()),
    };
    let url = check_url(url, app.webhooks.allow_private())
        .map_err(|refusal| Rejection::invalid(refusal.to_string()))?;
    if app.webhooks.resolves_to_private(&url).await {
        return Err(Rejection::invalid(UrlRefusal::Private.to_string()).into());
    }
    let types = match body.value("types")? {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned))
            .collect::<Option<Vec<String>>>()
            .ok_or_else(|| Rejection::invalid("types must be a list of notification types"))?,
        Some(_) => {
            return Err(Rejection::invalid("types must be a list of notification types").into());
        }
    };
    let types = NewWebhook::check_types(Some(&types))?;
    let description = match body.text("description")? {
        Field::Given(text) => NewWebhook::check_description(Some(text))?,
        Field::Missing => String::new(),
        Field::WrongType => return Err(Rejection::invalid("description must be a string").into()),
    };
    let new = NewWebhook {
        url: url.to_string(),
        types,
        description,
    };
    let secret = WebhookSecret::generate().expose();
    let stored = app
        .notifications
        .create_webhook(new, secret, Timestamp::now())
        .await?;
    Ok((
        StatusCode::CREATED,
        data(CreatedWebhookView {
            webhook: WebhookView::from(stored.webhook),
            secret: stored.secret,
        }),
    ))
}

/// Every endpoint, with its counts of pending, delivered and dead notifications.
#[utoipa::path(get, path = "/api/webhooks", tag = "webhooks",
    responses((status = 200, description = "The endpoints", body = Data<Vec<WebhookView>>)))]
async fn list_webhooks(State(app): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let webhooks = app.notifications.webhooks().await?;
    Ok(data(
        webhooks
            .into_iter()
            .map(WebhookView::from)
            .collect::<Vec<_>>(),
    ))
}

/// One endpoint, with its counts; never its secret.
#[utoipa::path(get, path = "/api/webhooks/{id}", tag = "webhooks",
    params(("id" = String, Path, description = ID)),
    responses(
        (status = 200, description = "The endpoint", body = Data<WebhookView>),
        (status = 404, description = "`Webhook not found`", body = ErrorBody),
    ))]
async fn webhook(
    State(app): State<AppState>,
    PathId(id): PathId,
) -> Result<impl IntoResponse, ApiError> {
    let id = parse_id(&id, Rejection::WebhookNotFound)?;
    let webhook = app
        .notifications
        .webhook(id)
        .await?
        .ok_or(Rejection::WebhookNotFound)?;
    Ok(data(WebhookView::from(webhook)))
}

/// Deletes an endpoint: nothing more is delivered to it, retries included.
#[utoipa::path(delete, path = "/api/webhooks/{id}", tag = "webhooks",
    params(("id" = String, Path, description = ID)),
    responses(
        (status = 200, description = "The endpoint as it was", body = Data<WebhookView>),
        (status = 404, description = "`Webhook not found`", body = ErrorBody),
    ))]
async fn delete_webhook(
    State(app): State<AppState>,
    PathId(id): PathId,
) -> Result<impl IntoResponse, ApiError> {
    let id = parse_id(&id, Rejection::WebhookNotFound)?;
    let webhook = app
        .notifications
        .delete_webhook(id, Timestamp::now())
        .await?;
    Ok(data(WebhookView::from(webhook)))
}

/// Gives the endpoint a new secret, shown in this answer only. For 24 hours deliveries carry
/// two signatures, one per secret, so the receiver can switch without losing any.
#[utoipa::path(post, path = "/api/webhooks/{id}/rotate-secret", tag = "webhooks",
    params(("id" = String, Path, description = ID)),
    responses(
        (status = 200, description = "The new secret", body = Data<SecretView>),
        (status = 404, description = "`Webhook not found`", body = ErrorBody),
    ))]
async fn rotate_secret(
    State(app): State<AppState>,
    PathId(id): PathId,
) -> Result<impl IntoResponse, ApiError> {
    let id = parse_id(&id, Rejection::WebhookNotFound)?;
    let secret = WebhookSecret::generate().expose();
    app.notifications
        .rotate_webhook_secret(id, secret.clone(), Timestamp::now())
        .await?;
    Ok(data(SecretView { secret }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct DeliveriesParams {
    /// `delivered`, `failed` or `dead`.
    status: Option<String>,
    /// Page size, 1 to 100 (default 20).
    limit: Option<String>,
    /// Where the page starts: a previous page's `nextCursor`, for the same endpoint and
    /// `status` (another listing's cursor, or one the server did not issue, is a 400).
    #[param(pattern = "^[0-9a-f]{56}$")]
    cursor: Option<String>,
}

/// The endpoint's delivery attempts, newest first.
#[utoipa::path(get, path = "/api/webhooks/{id}/deliveries", tag = "webhooks",
    params(("id" = String, Path, description = ID), DeliveriesParams),
    responses(
        (status = 200, description = "A page of attempts", body = List<AttemptView>),
        (status = 400, description = "A bad status or limit, or `cursor is invalid`", body = ErrorBody),
        (status = 404, description = "`Webhook not found`", body = ErrorBody),
    ))]
async fn deliveries(
    State(app): State<AppState>,
    PathId(id): PathId,
    QueryParams(params): QueryParams<DeliveriesParams>,
) -> Result<impl IntoResponse, ApiError> {
    let id = parse_id(&id, Rejection::WebhookNotFound)?;
    let query = DeliveryQuery::parse(
        id,
        params.status.as_deref(),
        params.limit.as_deref(),
        params.cursor.as_deref(),
        &app.cursors,
    )?;
    app.notifications
        .webhook(id)
        .await?
        .ok_or(Rejection::WebhookNotFound)?;
    let records = app
        .notifications
        .delivery_attempts(id, query.status, query.before, query.limit + 1)
        .await?;
    let page = Page::from_rows(records, query.limit, |r| DeliveryQuery::cursor_after(r.id));
    Ok(list::<_, AttemptView>(page, &app.cursors, &query.scope))
}

/// Queues the endpoint's dead notifications (those after `after`, if given) again, as if new.
/// The body is optional: none, an empty one, or `null` is `{}`.
#[utoipa::path(post, path = "/api/webhooks/{id}/redeliver", tag = "webhooks",
    params(("id" = String, Path, description = ID)),
    request_body = Option<RedeliverBody>,
    responses(
        (status = 202, description = "How many were queued again", body = Data<Queued>),
        (status = 400, description = "`after must be an integer ≥ 0`, `after must be at most \
            9223372036854775807`", body = ErrorBody),
        (status = 404, description = "`Webhook not found`", body = ErrorBody),
    ))]
async fn redeliver(
    State(app): State<AppState>,
    PathId(id): PathId,
    OptionalJsonObject(body): OptionalJsonObject,
) -> Result<impl IntoResponse, ApiError> {
    let after = parse_after(body.integer("after"))?;
    let id = parse_id(&id, Rejection::WebhookNotFound)?;
    let queued = app
        .notifications
        .redeliver(id, after, Timestamp::now())
        .await?;
    Ok((StatusCode::ACCEPTED, data(Queued { queued })))
}
