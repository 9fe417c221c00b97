use crate::api::{self, Lock, Payment};
use crate::driver::{self, Flow, Io};

/// Per step, on an event picked at random: 55 % a read; 15 % a lock left unconfirmed (it
/// lapses after the server's LOCK_TTL_SECONDS); 30 % lock → confirm → pay, the payment
/// 60 % success, 25 % failure (the seat returns), 15 % timeout (the booking stays pending).
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

pub fn payment_for(percent: u32) -> Payment {
    match percent {
        0..60 => Payment::Success,
        60..85 => Payment::Failure,
        _ => Payment::Timeout,
    }
}

impl driver::Worker for Worker {
    async fn step(&mut self, io: &mut Io) -> Flow {
        let event = io.rng.below(self.events);
        match io.rng.percent() {
            0..55 => api::read_event(io, event).await,
            55..70 => {
                api::lock_one_seat(io, event, self.user, false).await;
            }
            _ => {
                let payment = payment_for(io.rng.percent());
                if let Lock::Held(Some(lock)) = api::lock_one_seat(io, event, self.user, true).await
                    && let Some(booking) = api::confirm(io, &lock).await
                {
                    api::pay(io, &booking, event, payment).await;
                }
            }
        }
        Flow::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payment_outcomes_follow_the_documented_mix() {
        let count = |p| (0..100).filter(|&x| payment_for(x) == p).count();
        assert_eq!(count(Payment::Success), 60);
        assert_eq!(count(Payment::Failure), 25);
        assert_eq!(count(Payment::Timeout), 15);
    }
}
