//! The seed's API as the bench uses it: set-up calls (users, events) and the calls under load,
//! each timed and classified into the recorder.

use std::time::Instant;

use hyper::Method;
use serde::Deserialize;
use serde_json::json;

use crate::client::{Client, Reply};
use crate::driver::Io;
use crate::stats::Outcome;

/// The seed's refusal for a lock on an event without enough seats left.
pub const NOT_ENOUGH_SEATS: &str = "Not enough available seats";

/// Far enough ahead that no event of the bench "has already taken place".
pub const FAR_FUTURE: &str = "2099-12-31T20:00:00Z";

#[derive(Deserialize)]
struct Envelope<T> {
    data: T,
}

#[derive(Deserialize)]
struct WithId {
    #[serde(rename = "_id")]
    id: String,
}

#[derive(Deserialize)]
struct Confirmed {
    booking: WithId,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventSeats {
    pub available_seats: i64,
}

#[derive(Deserialize)]
pub struct InventoryCheck {
    pub consistent: bool,
}

/// The `message` of an error envelope, or the start of whatever the body is.
pub fn error_message(body: &[u8]) -> String {
    #[derive(Deserialize)]
    struct ErrorBody {
        message: String,
    }
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(error) => error.message,
        Err(_) => String::from_utf8_lossy(&body[..body.len().min(80)]).into_owned(),
    }
}

fn failed(reply: &Result<Reply, String>) -> Outcome {
    match reply {
        Ok(reply) => Outcome::Failed {
            status: reply.status,
            message: error_message(&reply.body),
        },
        Err(transport) => Outcome::Failed {
            status: 0,
            message: transport.clone(),
        },
    }
}

/// A write whose answer does not say whether it happened: a 5xx or no answer at all.
fn unclear(reply: &Result<Reply, String>) -> bool {
    match reply {
        Ok(reply) => reply.status >= 500,
        Err(_) => true,
    }
}

fn expect_id<T: for<'de> Deserialize<'de>>(
    reply: &Reply,
    status: u16,
    id: impl Fn(T) -> String,
) -> Option<String> {
    (reply.status == status)
        .then(|| serde_json::from_slice::<T>(&reply.body).ok().map(id))
        .flatten()
}

// ---- set-up and checks (not timed) -------------------------------------------------------

async fn setup_call(
    client: &mut Client,
    method: Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> anyhow::Result<Reply> {
    let body = body.map(|b| serde_json::to_vec(&b)).transpose()?;
    client
        .send(method, path, body)
        .await
        .map_err(|e| anyhow::anyhow!("{path}: {e}"))
}

fn setup_failure(what: &str, reply: &Reply) -> anyhow::Error {
    anyhow::anyhow!(
        "{what} failed: {} {}",
        reply.status,
        error_message(&reply.body)
    )
}

pub async fn register_user(client: &mut Client, name: &str, email: &str) -> anyhow::Result<String> {
    let body = json!({ "name": name, "email": email, "password": "bench-password" });
    let reply = setup_call(client, Method::POST, "/api/users/register", Some(body)).await?;
    expect_id(&reply, 201, |e: Envelope<WithId>| e.data.id)
        .ok_or_else(|| setup_failure("registering a user", &reply))
}

pub async fn create_event(client: &mut Client, name: &str, seats: i64) -> anyhow::Result<String> {
    let body = json!({
        "name": name,
        "description": "created by boxoffice-bench",
        "eventDate": FAR_FUTURE,
        "totalSeats": seats,
    });
    let reply = setup_call(client, Method::POST, "/api/events", Some(body)).await?;
    expect_id(&reply, 201, |e: Envelope<WithId>| e.data.id)
        .ok_or_else(|| setup_failure("creating an event", &reply))
}

/// A seated event of `seats` seats (CONTRACT.md, "Reserved seating"): rows of 20 to 40 seats
/// with an aisle in the middle, the front third in category "front", the rest "back", in two
/// sections.
pub async fn create_seated_event(
    client: &mut Client,
    name: &str,
    seats: i64,
) -> anyhow::Result<String> {
    let mut sections = [vec![], vec![]];
    let (mut placed, mut row) = (0, 0);
    while placed < seats {
        let n = (20 + (row * 7) % 21).min(seats - placed);
        let category = if placed < seats / 3 { "front" } else { "back" };
        let mut r = json!({"key": format!("R{row}"), "seats": n, "category": category});
        if n > 1 {
            r["aisleAfter"] = json!([n / 2]);
        }
        sections[usize::from(placed >= seats / 2)].push(r);
        placed += n;
        row += 1;
    }
    let body = json!({
        "name": name,
        "description": "created by boxoffice-bench",
        "eventDate": FAR_FUTURE,
        "seatingChart": {
            "categories": [{"key": "front", "price": 8900, "currency": "EUR"},
                           {"key": "back", "price": 4900, "currency": "EUR"}],
            "sections": [{"key": "stalls", "rows": sections[0]},
                         {"key": "circle", "rows": sections[1]}],
        },
    });
    let reply = setup_call(client, Method::POST, "/api/events", Some(body)).await?;
    expect_id(&reply, 201, |e: Envelope<WithId>| e.data.id)
        .ok_or_else(|| setup_failure("creating a seated event", &reply))
}

pub async fn available_seats(client: &mut Client, event: &str) -> anyhow::Result<i64> {
    let reply = setup_call(client, Method::GET, &format!("/api/events/{event}"), None).await?;
    if reply.status != 200 {
        return Err(setup_failure("reading an event", &reply));
    }
    let event: Envelope<EventSeats> = serde_json::from_slice(&reply.body)?;
    Ok(event.data.available_seats)
}

/// `consistent` of the event's inventory, or `Err(status)` when the server has no such
/// endpoint (404) or does not let us read it.
pub async fn inventory_consistent(
    client: &mut Client,
    event: &str,
) -> anyhow::Result<Result<bool, u16>> {
    let path = format!("/api/events/{event}/inventory");
    let reply = setup_call(client, Method::GET, &path, None).await?;
    if reply.status != 200 {
        return Ok(Err(reply.status));
    }
    let inventory: Envelope<InventoryCheck> = serde_json::from_slice(&reply.body)?;
    Ok(Ok(inventory.data.consistent))
}

// ---- calls under load (timed and recorded) -----------------------------------------------

pub async fn health(io: &mut Io) {
    let (reply, latency) = io.send(Method::GET, "/health", None).await;
    let outcome = match &reply {
        Ok(r) if r.status == 200 => Outcome::Ok,
        _ => failed(&reply),
    };
    io.record("health", outcome, latency);
}

pub async fn read_event(io: &mut Io, event: usize) {
    let path = format!("/api/events/{}", io.setup.events[event]);
    let (reply, latency) = io.send(Method::GET, &path, None).await;
    let outcome = match &reply {
        Ok(r) if r.status == 200 => Outcome::Ok,
        _ => failed(&reply),
    };
    io.record("read", outcome, latency);
}

pub enum Lock {
    /// Held; the lock id when it was asked for.
    Held(Option<String>),
    SoldOut,
    Failed,
}

/// Locks one seat of `event` for `user` with a key never used before.
pub async fn lock_one_seat(io: &mut Io, event: usize, user: usize, want_id: bool) -> Lock {
    let key = io.next_key();
    let body = json!({
        "eventId": io.setup.events[event],
        "userId": io.setup.users[user % io.setup.users.len()],
        "seats": 1,
        "idempotencyKey": key,
    });
    let body = serde_json::to_vec(&body).expect("JSON values serialize");
    let started = Instant::now();
    let (reply, latency) = io.send(Method::POST, "/api/locks", Some(body)).await;
    let (outcome, lock) = match &reply {
        Ok(r) if r.status == 201 && r.replayed => {
            // A repeat of an earlier key: no new seat was taken.
            io.recorder.replayed += 1;
            (
                Outcome::Failed {
                    status: 201,
                    message: "Idempotent-Replayed: an idempotency key was sent twice".to_owned(),
                },
                Lock::Failed,
            )
        }
        Ok(r) if r.status == 201 => {
            let id = if want_id {
                expect_id(r, 201, |e: Envelope<WithId>| e.data.id)
            } else {
                None
            };
            io.recorder.ledger(event).net_taken += 1;
            let at = started.duration_since(io.start) + latency;
            io.recorder.last_hold = io.recorder.last_hold.max(Some(at));
            io.shared.hold();
            (Outcome::Ok, Lock::Held(id))
        }
        Ok(r) if r.status == 400 && error_message(&r.body) == NOT_ENOUGH_SEATS => {
            let at = started.duration_since(io.start) + latency;
            if io.recorder.first_refusal.is_none_or(|first| at < first) {
                io.recorder.first_refusal = Some(at);
            }
            (Outcome::Refused, Lock::SoldOut)
        }
        _ => {
            if unclear(&reply) {
                io.recorder.ledger(event).maybe_taken += 1;
            }
            (failed(&reply), Lock::Failed)
        }
    };
    io.record("lock", outcome, latency);
    lock
}

/// Holds the `seats` best available seats of seated `event` for `user`, with a new key.
pub async fn lock_best_available(io: &mut Io, event: usize, user: usize, seats: i64) -> Lock {
    let key = io.next_key();
    let body = json!({
        "eventId": io.setup.events[event],
        "userId": io.setup.users[user % io.setup.users.len()],
        "seats": seats,
        "bestAvailable": {},
        "idempotencyKey": key,
    });
    let body = serde_json::to_vec(&body).expect("JSON values serialize");
    let started = Instant::now();
    let (reply, latency) = io.send(Method::POST, "/api/locks", Some(body)).await;
    let (outcome, lock) = match &reply {
        Ok(r) if r.status == 201 => {
            io.recorder.ledger(event).net_taken += seats;
            let at = started.duration_since(io.start) + latency;
            io.recorder.last_hold = io.recorder.last_hold.max(Some(at));
            io.shared.hold();
            (Outcome::Ok, Lock::Held(None))
        }
        Ok(r) if r.status == 400 && error_message(&r.body) == NOT_ENOUGH_SEATS => {
            (Outcome::Refused, Lock::SoldOut)
        }
        _ => {
            if unclear(&reply) {
                io.recorder.ledger(event).maybe_taken += seats;
            }
            (failed(&reply), Lock::Failed)
        }
    };
    io.record("lock", outcome, latency);
    lock
}

/// Confirms a lock; the booking id on success.
pub async fn confirm(io: &mut Io, lock_id: &str) -> Option<String> {
    let body = serde_json::to_vec(&json!({ "lockId": lock_id })).expect("JSON values serialize");
    let (reply, latency) = io
        .send(Method::POST, "/api/bookings/confirm", Some(body))
        .await;
    let booking = match &reply {
        Ok(r) => expect_id(r, 201, |c: Confirmed| c.booking.id),
        Err(_) => None,
    };
    let outcome = if booking.is_some() {
        Outcome::Ok
    } else {
        failed(&reply)
    };
    io.record("confirm", outcome, latency);
    booking
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Payment {
    Success,
    Failure,
    Timeout,
}

impl Payment {
    fn force(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
            Self::Timeout => "timeout",
        }
    }

    fn operation(self) -> &'static str {
        match self {
            Self::Success => "pay-success",
            Self::Failure => "pay-failure",
            Self::Timeout => "pay-timeout",
        }
    }
}

/// Pays a booking with the forced outcome; a failure gives its seat back to `event`.
pub async fn pay(io: &mut Io, booking_id: &str, event: usize, payment: Payment) -> bool {
    let body = json!({ "bookingId": booking_id, "force": payment.force() });
    let body = serde_json::to_vec(&body).expect("JSON values serialize");
    let (reply, latency) = io
        .send(Method::POST, "/api/payments/intent", Some(body))
        .await;
    let paid = matches!(&reply, Ok(r) if r.status == 200);
    if payment == Payment::Failure {
        if paid {
            io.recorder.ledger(event).net_taken -= 1;
        } else if unclear(&reply) {
            io.recorder.ledger(event).maybe_released += 1;
        }
    }
    let outcome = if paid { Outcome::Ok } else { failed(&reply) };
    io.record(payment.operation(), outcome, latency);
    paid
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_messages_come_from_the_envelope() {
        assert_eq!(
            error_message(br#"{"success":false,"message":"Not enough available seats"}"#),
            NOT_ENOUGH_SEATS
        );
        assert_eq!(error_message(b"Bad Gateway"), "Bad Gateway");
        assert_eq!(error_message(&[b'x'; 200]).len(), 80);
    }
}
