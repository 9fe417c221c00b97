//! Runs N client tasks against the server until the deadline or until the scenario stops them,
//! prints a progress line each second, and merges what the tasks recorded.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hyper::Method;

use crate::client::{Client, ClientFactory, Reply};
use crate::stats::{Outcome, Recorder};

/// What set-up made through the API: the events and users the scenario works on.
#[derive(Debug, Default)]
pub struct Setup {
    pub run_id: String,
    pub events: Vec<String>,
    pub users: Vec<String>,
}

/// Whether a client goes on after a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    Continue,
    /// This client is done (e.g. it was refused by a sold-out event).
    Stop,
}

/// One simulated client of a scenario. Each task owns one.
pub trait Worker: Send + 'static {
    fn step(&mut self, io: &mut Io) -> impl Future<Output = Flow> + Send;
}

/// Counters every task bumps, read by the progress line; and the flag that stops them all.
#[derive(Default)]
pub struct Shared {
    requests: AtomicU64,
    holds: AtomicU64,
    failures: AtomicU64,
    stop: AtomicBool,
}

impl Shared {
    pub fn hold(&self) {
        self.holds.fetch_add(1, Ordering::Relaxed);
    }

    /// Ends the run for every client (e.g. the event they all lock on sold out).
    pub fn stop_all(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

/// Everything a worker needs to make requests and record them.
pub struct Io {
    pub client: Client,
    pub recorder: Recorder,
    pub shared: Arc<Shared>,
    pub setup: Arc<Setup>,
    pub rng: Rng,
    pub start: Instant,
    /// This client's index, and how many requests it has made (for unique keys).
    pub index: usize,
    sequence: u64,
    /// With `--rate`: when the step's first request was due. Its latency counts from then, so
    /// that a server falling behind shows in the latencies (no coordinated omission).
    due: Option<Instant>,
}

impl Io {
    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> (Result<Reply, String>, Duration) {
        let started = self.due.take().unwrap_or_else(Instant::now);
        let reply = self.client.send(method, path, body).await;
        let latency = started.elapsed();
        self.shared.requests.fetch_add(1, Ordering::Relaxed);
        if reply.is_err() {
            // No answer (server down, connection refused): do not spin on reconnecting.
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        (reply, latency)
    }

    pub fn record(&mut self, operation: &'static str, outcome: Outcome, latency: Duration) {
        if matches!(outcome, Outcome::Failed { .. }) {
            self.shared.failures.fetch_add(1, Ordering::Relaxed);
        }
        self.recorder.record(operation, outcome, latency);
    }

    /// An idempotency key that no other request of this run (or of another run) uses.
    pub fn next_key(&mut self) -> String {
        self.sequence += 1;
        format!("{}-{}-{}", self.setup.run_id, self.index, self.sequence)
    }
}

pub struct Run {
    pub recorder: Recorder,
    pub elapsed: Duration,
    /// Why it ended: the duration passed, or every client stopped.
    pub ended_early: bool,
}

pub struct RunOptions {
    pub clients: usize,
    pub duration: Duration,
    pub progress: bool,
    pub seed: u64,
    /// Steps per second for all clients together; `None` runs each client flat out.
    pub rate: Option<f64>,
}

pub async fn drive<W: Worker>(
    factory: &ClientFactory,
    setup: Arc<Setup>,
    options: &RunOptions,
    mut worker: impl FnMut(usize) -> W,
) -> anyhow::Result<Run> {
    // Connect every client before the clock starts: connecting is not a request.
    let mut clients = Vec::with_capacity(options.clients);
    for _ in 0..options.clients {
        let mut client = factory.client();
        client
            .connect()
            .await
            .map_err(|e| anyhow::anyhow!("cannot connect to the server: {e}"))?;
        clients.push(client);
    }
    let shared = Arc::new(Shared::default());
    let start = Instant::now();
    let deadline = start + options.duration;
    let mut tasks = Vec::with_capacity(options.clients);
    for (index, client) in clients.into_iter().enumerate() {
        let mut worker = worker(index);
        let mut io = Io {
            client,
            recorder: Recorder::new(setup.events.len()),
            shared: shared.clone(),
            setup: setup.clone(),
            rng: Rng::new(options.seed ^ (index as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)),
            start,
            index,
            sequence: 0,
            due: None,
        };
        // Paced clients start evenly spread over one interval.
        let interval = options
            .rate
            .map(|rate| Duration::from_secs_f64(options.clients as f64 / rate));
        let mut next = interval.map(|i| start + i.mul_f64(index as f64 / options.clients as f64));
        tasks.push(tokio::spawn(async move {
            let mut stopped_itself = false;
            while Instant::now() < deadline && !io.shared.stopped() {
                if let (Some(due), Some(interval)) = (next, interval) {
                    tokio::time::sleep_until(due.into()).await;
                    io.due = Some(due);
                    next = Some(due + interval);
                }
                if worker.step(&mut io).await == Flow::Stop {
                    stopped_itself = true;
                    break;
                }
            }
            (io.recorder, stopped_itself)
        }));
    }
    let progress = options
        .progress
        .then(|| tokio::spawn(progress(shared.clone(), start)));
    let mut recorder = Recorder::new(setup.events.len());
    let mut ended_early = true;
    for task in tasks {
        let (part, stopped_itself) = task.await?;
        ended_early &= stopped_itself || shared.stopped();
        recorder.merge(part);
    }
    let elapsed = start.elapsed();
    if let Some(progress) = progress {
        progress.abort();
    }
    Ok(Run {
        recorder,
        elapsed,
        ended_early,
    })
}

/// Once a second, on stderr: the last second's requests and holds, and failures so far.
async fn progress(shared: Arc<Shared>, start: Instant) {
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    ticker.tick().await;
    let (mut requests, mut holds) = (0, 0);
    loop {
        ticker.tick().await;
        let now_requests = shared.requests.load(Ordering::Relaxed);
        let now_holds = shared.holds.load(Ordering::Relaxed);
        eprintln!(
            "{}",
            progress_line(
                start.elapsed(),
                now_requests - requests,
                now_holds - holds,
                shared.failures.load(Ordering::Relaxed),
            )
        );
        (requests, holds) = (now_requests, now_holds);
    }
}

pub fn progress_line(elapsed: Duration, requests: u64, holds: u64, failures: u64) -> String {
    format!(
        "[{:>4.0}s] {requests:>7} req/s  {holds:>7} holds/s  {failures} failed so far",
        elapsed.as_secs_f64()
    )
}

/// SplitMix64: small, fast, and reproducible from `--seed`; the bench needs no more.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// Uniform in `0..100`.
    pub fn percent(&mut self) -> u32 {
        (self.next_u64() % 100) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rng_is_reproducible_and_in_range() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        let mut seen = [false; 10];
        for _ in 0..1000 {
            let x = a.below(10);
            assert_eq!(x, b.below(10));
            seen[x] = true;
            assert!(a.percent() < 100);
            b.percent();
        }
        assert!(seen.iter().all(|s| *s), "every value comes up");
    }

    #[test]
    fn progress_lines_are_one_line() {
        let line = progress_line(Duration::from_millis(3020), 1234, 56, 0);
        assert_eq!(
            line,
            "[   3s]    1234 req/s       56 holds/s  0 failed so far"
        );
        assert!(!line.contains('\n'));
    }
}
