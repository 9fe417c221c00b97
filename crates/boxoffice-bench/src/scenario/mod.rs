//! The scenarios: what each simulated client does, and what set-up it needs.

mod best_available;
mod flash_sale;
mod flow;
mod health;
mod hot_lock;
mod mixed;
mod read;

use std::sync::Arc;

use clap::ValueEnum;
use tokio::task::JoinSet;

use crate::api;
use crate::client::ClientFactory;
use crate::driver::{self, Run, RunOptions, Setup};

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    /// GET /health: the server's HTTP floor (no database).
    Health,
    /// GET /api/events/:id of one event.
    Read,
    /// One event, one-seat locks with unique idempotency keys from many users. The event gets
    /// enough seats for the whole run (default 10⁹), so this measures sustained holds/s on one
    /// hot row; should it sell out anyway, the run ends there.
    HotLock,
    /// One event of --seats seats (default 1000), every client locking one seat at a time
    /// until it is refused: time to sell out, and the latency of the latecomers' refusals.
    FlashSale,
    /// Lock → confirm → pay (success) on events picked at random among --events.
    Flow,
    /// Best-available holds of 1 to 8 seats on seated halls of --seats seats (default 5000;
    /// rows of 20 to 40, two categories), all clients on one hall until it is full, then the
    /// next, over --events halls.
    BestAvailable,
    /// A mix over --events events: 55 % reads; 15 % locks left unconfirmed; 30 % lock →
    /// confirm → pay, the payment 60 % success, 25 % failure (seats return), 15 % timeout.
    Mixed,
}

/// What set-up a scenario needs.
struct Needs {
    events: usize,
    users: usize,
}

pub struct Plan {
    pub events: usize,
    pub seats: i64,
    pub users: usize,
}

impl Scenario {
    pub fn name(self) -> &'static str {
        match self {
            Self::Health => "health",
            Self::Read => "read",
            Self::HotLock => "hot-lock",
            Self::FlashSale => "flash-sale",
            Self::Flow => "flow",
            Self::BestAvailable => "best-available",
            Self::Mixed => "mixed",
        }
    }

    /// Seats per event when --seats is not given. Hot-lock's is the server's largest event
    /// (`totalSeats must be at most 1000000`): it is never sold out in a run.
    pub fn default_seats(self) -> i64 {
        match self {
            Self::HotLock => 1_000_000,
            Self::FlashSale | Self::Health | Self::Read => 1000,
            Self::BestAvailable => 5000,
            Self::Flow | Self::Mixed => 1_000_000,
        }
    }

    fn needs(self, plan: &Plan) -> Needs {
        match self {
            Self::Health => Needs {
                events: 0,
                users: 0,
            },
            Self::Read => Needs {
                events: 1,
                users: 0,
            },
            Self::HotLock | Self::FlashSale => Needs {
                events: 1,
                users: plan.users,
            },
            Self::Flow | Self::Mixed | Self::BestAvailable => Needs {
                events: plan.events,
                users: plan.users,
            },
        }
    }

    /// Creates through the API what the scenario works on.
    pub async fn prepare(
        self,
        factory: &ClientFactory,
        plan: &Plan,
        run_id: String,
    ) -> anyhow::Result<Setup> {
        let needs = self.needs(plan);
        let mut client = factory.client();
        let mut events = Vec::with_capacity(needs.events);
        for i in 0..needs.events {
            let name = format!("bench {} {run_id} #{i}", self.name());
            let event = match self {
                Self::BestAvailable => {
                    api::create_seated_event(&mut client, &name, plan.seats).await?
                }
                _ => api::create_event(&mut client, &name, plan.seats).await?,
            };
            events.push(event);
        }
        // Registration hashes a password (Argon2): a few at a time, not all at once.
        let mut registrations = JoinSet::new();
        let lanes = needs.users.clamp(1, 4);
        for lane in 0..lanes {
            let mut client = factory.client();
            let run_id = run_id.clone();
            let count = needs.users;
            registrations.spawn(async move {
                let mut users = Vec::new();
                for i in (lane..count).step_by(lanes) {
                    let email = format!("bench-{run_id}-{i}@example.com");
                    let id = api::register_user(&mut client, &format!("Bench {i}"), &email).await?;
                    users.push((i, id));
                }
                anyhow::Ok(users)
            });
        }
        let mut users = Vec::with_capacity(needs.users);
        while let Some(lane) = registrations.join_next().await {
            users.extend(lane??);
        }
        users.sort();
        Ok(Setup {
            run_id,
            events,
            users: users.into_iter().map(|(_, id)| id).collect(),
        })
    }

    pub async fn run(
        self,
        factory: &ClientFactory,
        setup: Arc<Setup>,
        options: &RunOptions,
    ) -> anyhow::Result<Run> {
        let events = setup.events.len();
        match self {
            Self::Health => driver::drive(factory, setup, options, |_| health::Worker).await,
            Self::Read => driver::drive(factory, setup, options, |_| read::Worker).await,
            Self::HotLock => driver::drive(factory, setup, options, hot_lock::Worker::new).await,
            Self::FlashSale => {
                driver::drive(factory, setup, options, flash_sale::Worker::new).await
            }
            Self::Flow => {
                driver::drive(factory, setup, options, |i| flow::Worker::new(i, events)).await
            }
            Self::Mixed => {
                driver::drive(factory, setup, options, |i| mixed::Worker::new(i, events)).await
            }
            Self::BestAvailable => {
                let hall = Arc::new(std::sync::atomic::AtomicUsize::new(0));
                driver::drive(factory, setup, options, |i| {
                    best_available::Worker::new(i, hall.clone(), events)
                })
                .await
            }
        }
    }
}
