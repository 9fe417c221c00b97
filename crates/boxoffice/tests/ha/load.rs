//! A bounded load of purchases (hold → confirm → pay) spread over several instances, that
//! keeps a journal of every answer and of what each purchase was acknowledged.
//!
//! A client behaves as CONTRACT.md tells it to: after a 503 it retries the same step (a hold
//! with the same idempotency key). What a retry finds shows whether the 503 told the truth: after
//! `UNAVAILABLE` or `TIMEOUT` nothing may have changed (rule 8); only after `OUTCOME_UNKNOWN`
//! may the retry find the change made.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Hold,
    Confirm,
    Pay,
}

/// One request and its answer.
#[derive(Clone, Debug)]
pub struct Attempt {
    pub instance: usize,
    pub step: Step,
    pub started: Instant,
    pub elapsed: Duration,
    /// 0 when no answer came (connection refused, or the client's own timeout).
    pub status: u16,
    pub code: String,
}

impl Attempt {
    pub fn succeeded(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// What one purchase was acknowledged: ids of what was made, the payment outcome.
#[derive(Clone, Debug, Default)]
pub struct Purchase {
    pub event: String,
    pub lock: Option<String>,
    pub booking: Option<String>,
    /// `CONFIRMED` or `FAILED` once a payment was answered 200 (or found made by a retry).
    pub paid: Option<&'static str>,
}

#[derive(Default)]
pub struct Journal {
    pub attempts: Mutex<Vec<Attempt>>,
    pub purchases: Mutex<Vec<Purchase>>,
    /// Answers that break a promise (a 500, a non-JSON error, a slow 503, a lying 503).
    pub violations: Mutex<Vec<String>>,
}

impl Journal {
    fn violation(&self, text: String) {
        eprintln!("VIOLATION: {text}");
        self.violations.lock().unwrap().push(text);
    }
}

pub struct Load {
    pub bases: Vec<String>,
    pub users: Vec<String>,
    pub events: Vec<String>,
    /// REQUEST_TIMEOUT_MS of the instances: every answer must come within it (plus a margin).
    pub request_timeout: Duration,
    pub journal: Arc<Journal>,
    pub stop: Arc<AtomicBool>,
    pub client: reqwest::Client,
}

/// How late past REQUEST_TIMEOUT_MS an answer may come (scheduling on a busy machine).
pub const MARGIN: Duration = Duration::from_millis(1500);

impl Load {
    /// Runs purchases on `worker`'s user until told to stop.
    pub async fn worker(self: Arc<Self>, worker: usize) {
        let mut n = 0usize;
        while !self.stop.load(Ordering::Relaxed) {
            n += 1;
            let purchase = Purchase {
                event: self.events[n % self.events.len()].clone(),
                ..Purchase::default()
            };
            let force = if n.is_multiple_of(4) {
                "failure"
            } else {
                "success"
            };
            let done = self.purchase(worker, n, purchase, force).await;
            self.journal.purchases.lock().unwrap().push(done);
        }
    }

    async fn purchase(&self, worker: usize, n: usize, mut p: Purchase, force: &str) -> Purchase {
        let user = &self.users[worker];
        let hold = json!({"eventId": p.event, "userId": user, "seats": 1 + n % 2,
                          "idempotencyKey": format!("w{worker}-{n}")});
        let Some(lock) = self.step(worker, Step::Hold, "/api/locks", &hold).await else {
            return p;
        };
        p.lock = lock["data"]["_id"].as_str().map(str::to_owned);
        let confirm = json!({"lockId": p.lock});
        let Some(booking) = self
            .step(worker, Step::Confirm, "/api/bookings/confirm", &confirm)
            .await
        else {
            return p;
        };
        p.booking = booking["booking"]["_id"].as_str().map(str::to_owned);
        let pay = json!({"bookingId": p.booking, "force": force});
        if let Some(paid) = self
            .step(worker, Step::Pay, "/api/payments/intent", &pay)
            .await
        {
            p.paid = match paid["booking"]["status"].as_str() {
                Some("CONFIRMED") => Some("CONFIRMED"),
                Some("FAILED") => Some("FAILED"),
                other => {
                    self.journal
                        .violation(format!("payment {force} answered with status {other:?}"));
                    None
                }
            };
        }
        p
    }

    /// One step, retried after 503s until it succeeds or the load stops; its body on success.
    async fn step(&self, worker: usize, step: Step, path: &str, body: &Value) -> Option<Value> {
        // Whether an earlier 503 of this step may have hidden a change.
        let mut maybe_done = false;
        for attempt in 0usize.. {
            if attempt > 0 && self.stop.load(Ordering::Relaxed) {
                return None;
            }
            let instance = (worker + attempt) % self.bases.len();
            let started = Instant::now();
            let sent = self
                .client
                .post(format!("{}{path}", self.bases[instance]))
                .json(body)
                .send()
                .await;
            let (status, replayed, text) = match sent {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let replayed = response.headers().get("idempotent-replayed").is_some();
                    (status, replayed, response.text().await.unwrap_or_default())
                }
                Err(error) => (0, false, error.to_string()),
            };
            let elapsed = started.elapsed();
            let parsed: Option<Value> = serde_json::from_str(&text).ok();
            let code = parsed
                .as_ref()
                .and_then(|v| v["code"].as_str())
                .unwrap_or_default()
                .to_owned();
            self.journal.attempts.lock().unwrap().push(Attempt {
                instance,
                step,
                started,
                elapsed,
                status,
                code: code.clone(),
            });
            let what = format!("{step:?} {body} on instance {instance}");
            if elapsed > self.request_timeout + MARGIN {
                self.journal
                    .violation(format!("{what}: answered {status} after {elapsed:?}"));
            }
            match status {
                200..=299 => {
                    if replayed && !maybe_done {
                        self.journal.violation(format!(
                            "{what}: a retry replayed a change that a plain 503 had answered"
                        ));
                    }
                    return parsed;
                }
                503 => {
                    match code.as_str() {
                        "OUTCOME_UNKNOWN" => maybe_done = true,
                        "UNAVAILABLE" | "TIMEOUT" => {}
                        _ => self
                            .journal
                            .violation(format!("{what}: 503 that is not our JSON: {text}")),
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                400 if step == Step::Pay && maybe_done => {
                    // The payment committed before its answer was lost: the retry finds the
                    // booking already settled.
                    let message = parsed.as_ref().and_then(|v| v["message"].as_str());
                    let settled = match message {
                        Some("Payment not allowed in CONFIRMED state")
                            if body["force"] == "success" =>
                        {
                            "CONFIRMED"
                        }
                        Some("Payment not allowed in FAILED state")
                            if body["force"] == "failure" =>
                        {
                            "FAILED"
                        }
                        _ => {
                            self.journal.violation(format!("{what}: {status} {text}"));
                            return None;
                        }
                    };
                    return Some(json!({"booking": {"status": settled}}));
                }
                _ => {
                    self.journal.violation(format!("{what}: {status} {text}"));
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    if status == 0 {
                        continue;
                    }
                    return None;
                }
            }
        }
        None
    }
}
