use crate::api::{self, Lock, Payment};
use crate::driver::{self, Flow, Io};

/// Lock → confirm → pay (success), each time on an event picked at random.
pub struct Worker {
    user: usize,
    events: usize,
}

impl Worker {
    pub fn new(index: usize, events: usize) -> Self {
        Self {
            user: index,
            events,
        }
    }
}

impl driver::Worker for Worker {
    async fn step(&mut self, io: &mut Io) -> Flow {
        let event = io.rng.below(self.events);
        if let Lock::Held(Some(lock)) = api::lock_one_seat(io, event, self.user, true).await
            && let Some(booking) = api::confirm(io, &lock).await
        {
            api::pay(io, &booking, event, Payment::Success).await;
        }
        Flow::Continue
    }
}
