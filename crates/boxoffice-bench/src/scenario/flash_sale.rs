use crate::api::{self, Lock};
use crate::driver::{self, Flow, Io};

/// Locks one seat at a time until refused: its refusal is a latecomer's.
pub struct Worker {
    user: usize,
}

impl Worker {
    pub fn new(index: usize) -> Self {
        Self { user: index }
    }
}

impl driver::Worker for Worker {
    async fn step(&mut self, io: &mut Io) -> Flow {
        match api::lock_one_seat(io, 0, self.user, false).await {
            Lock::Held(_) | Lock::Failed => Flow::Continue,
            Lock::SoldOut => Flow::Stop,
        }
    }
}
