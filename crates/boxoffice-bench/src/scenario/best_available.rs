use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::api::{self, Lock};
use crate::driver::{self, Flow, Io};

/// Best-available holds of 1 to 8 seats on seated halls, all clients on the same hall; when
/// it cannot seat a request any more, everyone moves on to the next hall, and the run ends
/// when the last one is full.
pub struct Worker {
    user: usize,
    hall: Arc<AtomicUsize>,
    halls: usize,
}

impl Worker {
    pub fn new(index: usize, hall: Arc<AtomicUsize>, halls: usize) -> Self {
        Self {
            user: index,
            hall,
            halls,
        }
    }
}

impl driver::Worker for Worker {
    async fn step(&mut self, io: &mut Io) -> Flow {
        let hall = self.hall.load(Ordering::Relaxed);
        if hall >= self.halls {
            io.shared.stop_all();
            return Flow::Stop;
        }
        let seats = 1 + io.rng.below(8) as i64;
        match api::lock_best_available(io, hall, self.user, seats).await {
            Lock::Held(_) | Lock::Failed => Flow::Continue,
            Lock::SoldOut => {
                // Nearly full: the next hall (whoever sees it first moves everyone on).
                let _ = self.hall.compare_exchange(
                    hall,
                    hall + 1,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                );
                Flow::Continue
            }
        }
    }
}
