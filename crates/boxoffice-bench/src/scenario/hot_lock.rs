use crate::api::{self, Lock};
use crate::driver::{self, Flow, Io};

/// Client `i` locks as user `i` (modulo the users registered), one seat at a time.
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
            Lock::SoldOut => {
                // The event was given seats for the whole run; if it ran out anyway, the
                // throughput from here on would measure refusals, not holds.
                io.shared.stop_all();
                Flow::Stop
            }
        }
    }
}
