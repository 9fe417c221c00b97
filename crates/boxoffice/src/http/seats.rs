//! The seats of a seated event (CONTRACT.md, "Reserved seating"): the seat list with its
//! counts, the seat map as SVG and as a page that refreshes it, and admin blocking.

use axum::Extension;
use axum::extract::State;
use axum::http::HeaderValue;
use axum::http::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ErrorBody;
use super::seat_views::{SeatChangeView, SeatsView};
use super::views::{Data, bodies, data};
use super::{Access, ApiError, AppState, JsonObject, PathId, QueryParams, parse_id};
use crate::domain::seating::{SeatStatus, parse_seat_labels};
use crate::domain::{Allowed, ObjectId, Rejection, Timestamp, optional_choice};
use crate::seatmap::{self, SeatMapError};
use crate::store::EventSeats;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(Access::Public.routes(routes!(seats)))
        .routes(Access::Public.routes(routes!(seat_map_svg)))
        .routes(Access::Public.routes(routes!(seat_map_page)))
        .routes(Access::Admin.routes(routes!(block)))
        .routes(Access::Admin.routes(routes!(unblock)))
}

const ID: &str = "The event's id";

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct SeatParams {
    /// Only seats in this status: FREE, HELD, PENDING_PAYMENT, SOLD or BLOCKED.
    status: Option<String>,
    /// Only seats of this section (its key).
    section: Option<String>,
    /// Only seats of this category (its key).
    category: Option<String>,
}

/// A seated event and its seats' statuses; 404 or 400 `Event has no seating chart` else.
async fn seated_event(app: &AppState, id: ObjectId) -> Result<EventSeats, ApiError> {
    let seats = app
        .store
        .event_seats(id)
        .await?
        .ok_or(Rejection::EventNotFound)?;
    if seats.event.seating.is_none() {
        return Err(Rejection::NoSeatingChart.into());
    }
    Ok(seats)
}

/// Every seat of a seated event in chart order (section, row, number), with its category,
/// whether it is accessible, and its status; `counts` counts the seats listed by status.
/// Never says who holds a seat. Public, like the event.
#[utoipa::path(get, path = "/api/events/{id}/seats", tag = "seats",
    params(("id" = String, Path, description = ID), SeatParams),
    responses(
        (status = 200, description = "The seats", body = Data<SeatsView>),
        (status = 400, description = "`Event has no seating chart`, or a filter that names \
            no status, section or category", body = ErrorBody),
        (status = 404, description = "`Event not found`", body = ErrorBody),
    ))]
async fn seats(
    State(app): State<AppState>,
    PathId(id): PathId,
    QueryParams(params): QueryParams<SeatParams>,
) -> Result<impl IntoResponse, ApiError> {
    let id = parse_id(&id, Rejection::EventNotFound)?;
    let EventSeats { event, statuses } = bounded_read(&app, seated_event(&app, id)).await?;
    let chart = event.seating.as_deref().ok_or(Rejection::NoSeatingChart)?;
    let status = optional_choice(
        "status",
        params.status.as_deref(),
        SeatStatus::ALL,
        SeatStatus::as_str,
        Allowed::OneOf,
    )?;
    let section = match params.section.as_deref() {
        None => None,
        Some(key) => Some(
            chart
                .sections()
                .iter()
                .position(|s| s.key == key)
                .ok_or_else(|| Rejection::invalid("section names no section of this event"))?,
        ),
    };
    let category = match params.category.as_deref() {
        None => None,
        Some(key) => Some(
            chart
                .categories()
                .iter()
                .position(|c| c.key == key)
                .ok_or_else(|| Rejection::invalid("category names no category of this event"))?,
        ),
    };
    let listed = (0..chart.seat_count()).filter(|&seat| {
        let row = &chart.rows()[chart.seats()[seat].row as usize];
        status.is_none_or(|s| statuses[seat] == s)
            && section.is_none_or(|s| row.section == s)
            && category.is_none_or(|c| row.category == c)
    });
    Ok(data(SeatsView::new(event.id, chart, &statuses, listed)))
}

/// The seat map, drawn by the server: every seat one shape whose `<title>` is its label,
/// coloured by status, with row and section names and a legend with the counts. Public.
///
/// Drawn at most once per event per second (concurrent requests share one drawing), so the
/// map may be up to one second old; a limited number of maps are drawn at once, and a request
/// that cannot start one within `DATABASE_ACQUIRE_TIMEOUT_MS` (or its deadline) gets 503.
#[utoipa::path(get, path = "/api/events/{id}/seatmap.svg", tag = "seats",
    params(("id" = String, Path, description = ID)),
    responses(
        (status = 200, description = "The seat map, at most one second old", content_type = "image/svg+xml", body = String),
        (status = 400, description = "`Event has no seating chart`", body = ErrorBody),
        (status = 404, description = "`Event not found`", body = ErrorBody),
    ))]
async fn seat_map_svg(
    State(app): State<AppState>,
    PathId(id): PathId,
) -> Result<impl IntoResponse, ApiError> {
    let id = parse_id(&id, Rejection::EventNotFound)?;
    let svg = app
        .seat_maps
        .get(id, request_deadline(), || draw_seat_map(&app, id))
        .await
        .map_err(answer)?;
    Ok((
        [(CONTENT_TYPE, HeaderValue::from_static("image/svg+xml"))],
        svg,
    ))
}

/// Marks an answer whose request changed the seats of this event (an extension of the
/// response): the idempotency middleware, which commits some changes only after the handler
/// has answered, says so to the seat maps again once it has (see [`seats_changed`]).
#[derive(Clone, Copy, Debug)]
pub struct SeatsChanged(pub ObjectId);

/// Tells the seat maps that this request changed the seats of `event` (so its next map is
/// drawn afresh), and marks the answer so that the change is told again after a later commit.
pub(super) fn seats_changed(app: &AppState, event: ObjectId) -> Extension<SeatsChanged> {
    app.seat_maps.changed(event);
    Extension(SeatsChanged(event))
}

/// The answer to a refused request of a route that changes seats. A refusal may follow a
/// committed seat change (CONTRACT.md rule 4: releasing, extending or confirming a lapsed
/// hold, paying a lapsed booking and a hold refused for want of seats expire lapsed holds on
/// the spot), so it tells the seat maps of its event as a success does, unless it is a 503
/// that changed nothing. `event` (the event the request is about, if it exists) is only
/// awaited when it is needed.
pub(super) async fn refused(
    app: &AppState,
    error: ApiError,
    event: impl Future<Output = Option<ObjectId>>,
) -> Refusal {
    if error.changed_nothing() {
        return error.into();
    }
    match event.await {
        Some(event) => Refusal((seats_changed(app, event), error).into_response()),
        None => error.into(),
    }
}

/// The error answer of a route that changes seats: an [`ApiError`], possibly marked by
/// [`refused`] as having changed the seats of an event.
pub(super) struct Refusal(Response);

impl From<ApiError> for Refusal {
    fn from(error: ApiError) -> Self {
        Self(error.into_response())
    }
}

impl From<Rejection> for Refusal {
    fn from(rejection: Rejection) -> Self {
        ApiError::from(rejection).into()
    }
}

impl From<crate::store::StoreError> for Refusal {
    fn from(error: crate::store::StoreError) -> Self {
        ApiError::from(error).into()
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        self.0
    }
}

/// The event of a lock, if it exists (for [`refused`]; a failed read is no event).
pub(super) async fn event_of_lock(app: &AppState, lock: ObjectId) -> Option<ObjectId> {
    app.store
        .lock(lock)
        .await
        .ok()
        .flatten()
        .map(|lock| lock.event_id)
}

/// The event of a booking, if it exists (for [`refused`]; a failed read is no event).
pub(super) async fn event_of_booking(app: &AppState, booking: ObjectId) -> Option<ObjectId> {
    app.store
        .booking(booking)
        .await
        .ok()
        .flatten()
        .map(|booking| booking.event_id)
}

/// The current request's deadline, as the seat maps' waits take it.
fn request_deadline() -> Option<tokio::time::Instant> {
    crate::deadline::current().map(|deadline| deadline.at().into())
}

/// A refusal of [`seatmap::SeatMaps`] as an answer: 503 when no turn came in time.
fn answer(error: SeatMapError<ApiError>) -> ApiError {
    match error {
        SeatMapError::Busy => ApiError::Unavailable(anyhow::anyhow!(
            "every turn for reading whole seating charts stayed busy for the request's wait"
        )),
        SeatMapError::Render(error) => error,
    }
}

/// `read` (of a whole chart's seats) within the seat maps' bound (`seatmap::SeatMaps`), so
/// that no flood of such reads takes more than its share of the database pool; 503 when no
/// turn comes within the request's wait.
async fn bounded_read<T>(
    app: &AppState,
    read: impl Future<Output = Result<T, ApiError>>,
) -> Result<T, ApiError> {
    app.seat_maps
        .bounded(request_deadline(), read)
        .await
        .map_err(answer)
}

/// Reads the seats of `id` and draws its map, on a blocking thread (a large chart takes a
/// while to draw, and must not hold up the requests of the runtime's own threads).
async fn draw_seat_map(app: &AppState, id: ObjectId) -> Result<Bytes, ApiError> {
    let EventSeats { event, statuses } = seated_event(app, id).await?;
    let chart = event.seating.clone().ok_or(Rejection::NoSeatingChart)?;
    let svg =
        tokio::task::spawn_blocking(move || seatmap::draw_seat_map(&chart, &statuses, &event.name))
            .await
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("drawing the seat map failed: {e}")))?;
    Ok(Bytes::from(svg))
}

/// A page with no outside assets that shows the seat map and fetches it again every two
/// seconds. Public.
#[utoipa::path(get, path = "/seatmap/{id}", tag = "seats",
    params(("id" = String, Path, description = ID)),
    responses(
        (status = 200, description = "The page", content_type = "text/html", body = String),
        (status = 400, description = "`Event has no seating chart`", body = ErrorBody),
        (status = 404, description = "`Event not found`", body = ErrorBody),
    ))]
async fn seat_map_page(
    State(app): State<AppState>,
    PathId(id): PathId,
) -> Result<impl IntoResponse, ApiError> {
    // The page needs the event's name only: the seats are the map's business.
    let id = parse_id(&id, Rejection::EventNotFound)?;
    let event = app.store.event(id).await?.ok_or(Rejection::EventNotFound)?;
    if event.seating.is_none() {
        return Err(Rejection::NoSeatingChart.into());
    }
    // The page's script and style run by a nonce, fresh for each answer; nothing else may.
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| ApiError::Internal(anyhow::anyhow!("nonce: {e}")))?;
    let nonce: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let policy = format!(
        "default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; \
         connect-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'; \
         form-action 'none'"
    );
    let policy = HeaderValue::from_str(&policy)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("policy: {e}")))?;
    let page = seatmap::seat_map_page(&event.id.to_string(), &event.name, &nonce);
    Ok((
        [
            (
                CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (CONTENT_SECURITY_POLICY, policy),
        ],
        page,
    ))
}

/// Withholds FREE seats from sale, all or nothing: they move from `availableSeats` to
/// `withheldSeats`, and the change is recorded as one `event.updated` notification.
#[utoipa::path(post, path = "/api/events/{id}/seats/block", tag = "seats",
    params(("id" = String, Path, description = ID)),
    request_body = bodies::SeatLabelsBody,
    responses(
        (status = 200, description = "`{blocked: [labels]}`", body = Data<SeatChangeView>),
        (status = 400, description = "`Seats not available` (with `unavailable`), \
            `Unknown seat: <label>`, `Event has no seating chart`, or a bad `seatLabels`",
            body = ErrorBody),
        (status = 404, description = "`Event not found`", body = ErrorBody),
    ))]
async fn block(
    State(app): State<AppState>,
    PathId(id): PathId,
    body: JsonObject,
) -> Result<impl IntoResponse, ApiError> {
    let (event, answer) = change(&app, &id, &body, true).await?;
    Ok((seats_changed(&app, event), answer))
}

/// Puts BLOCKED seats back on sale, all or nothing, recorded as one `event.updated`
/// notification.
#[utoipa::path(post, path = "/api/events/{id}/seats/unblock", tag = "seats",
    params(("id" = String, Path, description = ID)),
    request_body = bodies::SeatLabelsBody,
    responses(
        (status = 200, description = "`{unblocked: [labels]}`", body = Data<SeatChangeView>),
        (status = 400, description = "`Seats not available` (with `unavailable`), \
            `Unknown seat: <label>`, `Event has no seating chart`, or a bad `seatLabels`",
            body = ErrorBody),
        (status = 404, description = "`Event not found`", body = ErrorBody),
    ))]
async fn unblock(
    State(app): State<AppState>,
    PathId(id): PathId,
    body: JsonObject,
) -> Result<impl IntoResponse, ApiError> {
    let (event, answer) = change(&app, &id, &body, false).await?;
    Ok((seats_changed(&app, event), answer))
}

async fn change(
    app: &AppState,
    id: &str,
    body: &JsonObject,
    block: bool,
) -> Result<(ObjectId, axum::Json<Data<SeatChangeView>>), ApiError> {
    let labels = parse_seat_labels(body.0.get("seatLabels").unwrap_or(&serde_json::Value::Null))?;
    let id = parse_id(id, Rejection::EventNotFound)?;
    let changed = app
        .store
        .block_seats(id, labels, block, Timestamp::now())
        .await?;
    Ok((id, data(SeatChangeView::new(block, changed))))
}
