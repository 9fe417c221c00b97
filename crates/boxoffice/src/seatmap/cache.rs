//! Serving seat maps cheaply and within bounds (README, "Bounds at the edge").
//!
//! The map of a 100,000-seat chart is about 13 MB drawn from 100,000 seat rows, and the page
//! `GET /seatmap/:id` fetches it every two seconds per viewer. So:
//! - **single flight**: concurrent requests for one event's map share one drawing (they queue
//!   on the event's slot; the first draws, the others take its result);
//! - **a short cache**: a drawing is served for [`FRESH_FOR`] after its seats were read, or
//!   until this instance changes the event's seats ([`SeatMaps::changed`], called by the
//!   handlers that hold, confirm, pay, cancel, release, extend, block and unblock, on their
//!   refusals too but for a 503 that changed nothing), whichever comes
//!   first. So a change made through this instance shows in the next map it serves, and one
//!   made elsewhere (another instance, the sweeper) within the interval; a crowd of viewers
//!   costs one database read per event per interval;
//! - **a bound**: at most `renders` drawings (database read included) run at once, whatever
//!   the events, so seat maps never hold more than that many of the pool's connections; a
//!   request that cannot start one within its wait (the request's deadline, and at most the
//!   pool's acquire timeout) is answered 503 and has changed nothing.
//!
//! The same bound serves the other public read of a whole chart's seats (the seat list,
//! [`SeatMaps::bounded`]), so that no flood of them can take the pool either. (A seated
//! event's view reads no seat rows: the database counts them, `store/sql/seat_counts.rs`.)
//!
//! Only drawings that succeeded are kept; the cache holds the slots of events served within
//! the interval (at most [`MAX_SLOTS`]: beyond, maps are drawn, still bounded, without being
//! kept).

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{Mutex as AsyncMutex, Semaphore};
use tokio::time::{Instant, timeout_at};

use crate::domain::ObjectId;

/// How long a drawn map is served after its seats were read (the page refreshes every 2 s).
pub const FRESH_FOR: Duration = Duration::from_secs(1);
/// The most events whose maps are kept at once.
pub const MAX_SLOTS: usize = 64;

/// Why no map was served.
#[derive(Debug)]
pub enum SeatMapError<E> {
    /// No drawing could start in time: every render slot stayed busy (answer 503).
    Busy,
    /// The drawing failed (an unknown event, no seating chart, the database): its error.
    Render(E),
}

#[derive(Clone)]
struct Drawn {
    svg: Bytes,
    read_at: Instant,
    /// The slot's `changes` when the seats were read.
    changes: u64,
}

/// One event's map: the drawing kept (its lock is the single flight), and how many times this
/// instance has changed the event's seats.
#[derive(Default)]
struct EventSlot {
    kept: AsyncMutex<Option<Drawn>>,
    changes: AtomicU64,
}

type Slot = Arc<EventSlot>;

/// The seat maps being served, per event. Shared by every request of one instance.
pub struct SeatMaps {
    slots: Mutex<HashMap<ObjectId, Slot>>,
    renders: Semaphore,
    fresh_for: Duration,
    wait_at_most: Duration,
}

impl SeatMaps {
    /// At most `renders` (at least 1) drawings at once, each served for `fresh_for`; a request
    /// waits at most `wait_at_most` for its turn.
    pub fn new(renders: usize, fresh_for: Duration, wait_at_most: Duration) -> Self {
        Self {
            slots: Mutex::new(HashMap::new()),
            renders: Semaphore::new(renders.max(1)),
            fresh_for,
            wait_at_most,
        }
    }

    /// The map of `event`: a drawing at most `fresh_for` old, or a new one from `render` (the
    /// seats read, then drawn), made once for every request waiting on it. Waits until
    /// `deadline` at most (and `wait_at_most`), else [`SeatMapError::Busy`].
    pub async fn get<F, Fut, E>(
        &self,
        event: ObjectId,
        deadline: Option<Instant>,
        render: F,
    ) -> Result<Bytes, SeatMapError<E>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Bytes, E>>,
    {
        let until = self.wait_until(deadline);
        let Some(slot) = self.slot(event) else {
            return self.draw(until, 0, render).await.map(|drawn| drawn.svg);
        };
        let mut kept = timeout_at(until, slot.kept.lock())
            .await
            .map_err(|_| SeatMapError::Busy)?;
        if let Some(drawn) = kept.as_ref().filter(|d| self.is_fresh(d, &slot)) {
            return Ok(drawn.svg.clone());
        }
        let changes = slot.changes.load(Ordering::Acquire);
        let drawn = self.draw(until, changes, render).await?;
        *kept = Some(drawn.clone());
        Ok(drawn.svg)
    }

    /// Runs `read` (a read of a whole chart's seats) when one of the bound's turns is free,
    /// waiting as [`Self::get`] does, else [`SeatMapError::Busy`]. Nothing is kept.
    pub async fn bounded<Fut, T, E>(
        &self,
        deadline: Option<Instant>,
        read: Fut,
    ) -> Result<T, SeatMapError<E>>
    where
        Fut: Future<Output = Result<T, E>>,
    {
        let _turn = timeout_at(self.wait_until(deadline), self.renders.acquire())
            .await
            .map_err(|_| SeatMapError::Busy)?
            .map_err(|_| SeatMapError::Busy)?;
        read.await.map_err(SeatMapError::Render)
    }

    /// When a request that must answer by `deadline` stops waiting for a turn.
    fn wait_until(&self, deadline: Option<Instant>) -> Instant {
        let bound = Instant::now() + self.wait_at_most;
        deadline.map_or(bound, |deadline| deadline.min(bound))
    }

    /// Says that this instance has changed (committed a change to) the seats of `event`: its
    /// map is drawn again for the next request, and a drawing whose read began before now is
    /// not served after it.
    pub fn changed(&self, event: ObjectId) {
        let slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(slot) = slots.get(&event) {
            slot.changes.fetch_add(1, Ordering::AcqRel);
        }
    }

    fn is_fresh(&self, drawn: &Drawn, slot: &EventSlot) -> bool {
        drawn.read_at.elapsed() < self.fresh_for
            && drawn.changes == slot.changes.load(Ordering::Acquire)
    }

    /// One drawing, when a render slot is free before `until`; `changes` is the slot's count
    /// of changes before the seats are read.
    async fn draw<F, Fut, E>(
        &self,
        until: Instant,
        changes: u64,
        render: F,
    ) -> Result<Drawn, SeatMapError<E>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Bytes, E>>,
    {
        let _turn = timeout_at(until, self.renders.acquire())
            .await
            .map_err(|_| SeatMapError::Busy)?
            .map_err(|_| SeatMapError::Busy)?;
        // Read before the seats are: the drawing is never served as fresher than it is.
        let read_at = Instant::now();
        let svg = render().await.map_err(SeatMapError::Render)?;
        Ok(Drawn {
            svg,
            read_at,
            changes,
        })
    }

    /// The slot of `event`, after forgetting those nobody waits on whose map is stale; `None`
    /// when [`MAX_SLOTS`] events are being served already.
    fn slot(&self, event: ObjectId) -> Option<Slot> {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        slots.retain(|_, slot| {
            Arc::strong_count(slot) > 1
                || slot.kept.try_lock().map_or(true, |kept| {
                    kept.as_ref().is_some_and(|d| self.is_fresh(d, slot))
                })
        });
        if !slots.contains_key(&event) && slots.len() >= MAX_SLOTS {
            return None;
        }
        Some(slots.entry(event).or_default().clone())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn event(n: u8) -> ObjectId {
        ObjectId::parse(&format!("65a1b2c3d4e5f60718293a{n:02x}")).unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_requests_share_one_drawing_until_it_is_stale() {
        let maps = Arc::new(SeatMaps::new(2, FRESH_FOR, Duration::from_secs(30)));
        let drawings = Arc::new(AtomicUsize::new(0));
        let get = |maps: Arc<SeatMaps>, drawings: Arc<AtomicUsize>| async move {
            maps.get(event(1), None, || async {
                let n = drawings.fetch_add(1, Ordering::SeqCst) + 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
                Ok::<_, ()>(Bytes::from(format!("map {n}")))
            })
            .await
            .unwrap()
        };
        let many: Vec<_> = (0..50)
            .map(|_| tokio::spawn(get(maps.clone(), drawings.clone())))
            .collect();
        for answer in many {
            assert_eq!(answer.await.unwrap(), "map 1");
        }
        assert_eq!(drawings.load(Ordering::SeqCst), 1);
        // Within the interval, still the same drawing; after it, a new one.
        assert_eq!(get(maps.clone(), drawings.clone()).await, "map 1");
        tokio::time::sleep(FRESH_FOR).await;
        assert_eq!(get(maps.clone(), drawings.clone()).await, "map 2");
    }

    #[tokio::test(start_paused = true)]
    async fn at_most_the_bound_draws_at_once_and_the_rest_wait_or_give_up() {
        let maps = Arc::new(SeatMaps::new(2, FRESH_FOR, Duration::from_secs(1)));
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let many: Vec<_> = (0..8u8)
            .map(|n| {
                let (maps, running, most) = (maps.clone(), running.clone(), most.clone());
                tokio::spawn(async move {
                    maps.get(event(n), None, || async {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(400)).await;
                        running.fetch_sub(1, Ordering::SeqCst);
                        Ok::<_, ()>(Bytes::from_static(b"map"))
                    })
                    .await
                })
            })
            .collect();
        let mut served = 0;
        let mut busy = 0;
        for answer in many {
            match answer.await.unwrap() {
                Ok(_) => served += 1,
                Err(SeatMapError::Busy) => busy += 1,
                Err(SeatMapError::Render(())) => unreachable!(),
            }
        }
        // Two at a time, 400 ms each, one second of waiting: three rounds start in time (at
        // 0, 400 and 800 ms), the fourth would start after the wait.
        assert_eq!(most.load(Ordering::SeqCst), 2);
        assert_eq!((served, busy), (6, 2));
        let slow = maps
            .get(event(9), Some(Instant::now()), || async {
                Ok::<_, ()>(Bytes::from_static(b"map"))
            })
            .await;
        assert!(slow.is_ok(), "a free slot is taken even at the deadline");
    }

    #[tokio::test(start_paused = true)]
    async fn a_change_made_here_is_drawn_at_once_even_during_a_drawing() {
        let maps = Arc::new(SeatMaps::new(2, FRESH_FOR, Duration::from_secs(30)));
        let drawn =
            |text: &'static str| async move { Ok::<_, ()>(Bytes::from_static(text.as_bytes())) };
        assert_eq!(
            maps.get(event(1), None, || drawn("before")).await.unwrap(),
            "before"
        );
        maps.changed(event(1));
        maps.changed(event(2)); // nothing kept for it: nothing to do
        assert_eq!(
            maps.get(event(1), None, || drawn("after")).await.unwrap(),
            "after"
        );
        assert_eq!(
            maps.get(event(1), None, || drawn("again")).await.unwrap(),
            "after"
        );

        // A change committed while a drawing reads the seats: that drawing is not kept.
        let (read, change) = (
            Arc::new(tokio::sync::Notify::new()),
            Arc::new(tokio::sync::Notify::new()),
        );
        maps.changed(event(1));
        let during = tokio::spawn({
            let (maps, read, change) = (maps.clone(), read.clone(), change.clone());
            async move {
                maps.get(event(1), None, || async move {
                    read.notify_one();
                    change.notified().await;
                    Ok::<_, ()>(Bytes::from_static(b"read before the change"))
                })
                .await
            }
        });
        read.notified().await;
        maps.changed(event(1));
        change.notify_one();
        assert_eq!(during.await.unwrap().unwrap(), "read before the change");
        assert_eq!(
            maps.get(event(1), None, || drawn("latest")).await.unwrap(),
            "latest"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn other_whole_chart_reads_share_the_bound() {
        let maps = Arc::new(SeatMaps::new(1, FRESH_FOR, Duration::from_millis(500)));
        let drawing = tokio::spawn({
            let maps = maps.clone();
            async move {
                maps.get(event(1), None, || async {
                    tokio::time::sleep(Duration::from_secs(2)).await;
                    Ok::<_, ()>(Bytes::from_static(b"map"))
                })
                .await
            }
        });
        tokio::task::yield_now().await;
        let read = maps.bounded(None, async { Ok::<_, ()>(7) }).await;
        assert!(matches!(read, Err(SeatMapError::Busy)));
        assert_eq!(drawing.await.unwrap().unwrap(), "map");
        assert!(matches!(
            maps.bounded(None, async { Ok::<_, ()>(7) }).await,
            Ok(7)
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_drawing_is_not_kept() {
        let maps = SeatMaps::new(1, FRESH_FOR, Duration::from_secs(1));
        let failed = maps
            .get(event(1), None, || async {
                Err::<Bytes, _>("no such event")
            })
            .await;
        assert!(matches!(failed, Err(SeatMapError::Render("no such event"))));
        let drawn = maps
            .get(event(1), None, || async {
                Ok::<_, ()>(Bytes::from_static(b"map"))
            })
            .await
            .unwrap();
        assert_eq!(drawn, "map");
    }
}
