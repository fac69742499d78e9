//! Stopping a running query: the [`Canceller`] a session hands out, and one
//! timer thread for every query's time limit.
//!
//! One thread for all deadlines, instead of a watchdog thread per query: a call
//! costs a heap push and a wake-up, not a thread start, and the thread sleeps
//! until the earliest deadline. The timer only fires cancellers; what stopping
//! means (DuckDB's interrupt, a BigQuery job cancel) is the engine's.

use crate::sync::lock;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Why a query was stopped from outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// The client cancelled the request.
    Cancelled,
    /// The time limit passed.
    TimedOut,
}

const RUNNING: u8 = 0;
const CANCELLED: u8 = 1;
const TIMED_OUT: u8 = 2;
/// The query is over and its connection may serve another: stopping it now does nothing.
const RETIRED: u8 = 3;

/// Stops one session's query from another thread or task. Cloning shares it.
#[derive(Clone)]
pub struct Canceller {
    inner: Arc<Inner>,
}

struct Inner {
    reason: AtomicU8,
    interrupt: Box<dyn Fn() + Send + Sync>,
}

impl std::fmt::Debug for Canceller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Canceller")
            .field("reason", &self.reason())
            .finish()
    }
}

impl Canceller {
    /// A canceller that calls `interrupt` to stop the engine's work.
    pub fn new(interrupt: impl Fn() + Send + Sync + 'static) -> Canceller {
        Canceller {
            inner: Arc::new(Inner {
                reason: AtomicU8::new(RUNNING),
                interrupt: Box::new(interrupt),
            }),
        }
    }

    /// The client cancelled: the query ends with `QueryError::Cancelled`.
    pub fn cancel(&self) {
        self.stop(CANCELLED);
    }

    fn time_out(&self) {
        self.stop(TIMED_OUT);
    }

    fn stop(&self, reason: u8) {
        // The first reason wins: a timeout after a cancellation is still a cancellation.
        // A retired session's connection may already run another query: leave it alone.
        let previous = match self.inner.reason.compare_exchange(
            RUNNING,
            reason,
            Ordering::SeqCst,
            Ordering::SeqCst,
        ) {
            Ok(previous) | Err(previous) => previous,
        };
        if previous != RETIRED {
            (self.inner.interrupt)();
        }
    }

    /// Marks the query over, so that no later stop reaches its connection.
    /// False when a stop came first: the connection may carry the interrupt.
    pub(in crate::engine) fn retire(&self) -> bool {
        self.inner
            .reason
            .compare_exchange(RUNNING, RETIRED, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    }

    /// Why the query was stopped, if it was.
    pub fn reason(&self) -> Option<StopReason> {
        match self.inner.reason.load(Ordering::SeqCst) {
            CANCELLED => Some(StopReason::Cancelled),
            TIMED_OUT => Some(StopReason::TimedOut),
            _ => None,
        }
    }
}

/// A deadline in force; dropping it disarms it.
#[must_use = "the deadline is disarmed when this is dropped"]
pub struct Armed {
    id: u64,
}

impl Drop for Armed {
    fn drop(&mut self) {
        let timer = timer();
        lock(&timer.state).armed.remove(&self.id);
    }
}

/// Fires `canceller` (as a timeout) once `timeout` has passed, unless the
/// returned guard is dropped first.
pub fn arm_deadline(timeout: Duration, canceller: &Canceller) -> Armed {
    static NEXT_ID: AtomicU64 = AtomicU64::new(0);
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let deadline = Instant::now() + timeout;
    let timer = timer();
    let mut state = lock(&timer.state);
    state.armed.insert(id, canceller.clone());
    let earliest = state
        .queue
        .peek()
        .is_none_or(|Reverse((first, _))| deadline < *first);
    state.queue.push(Reverse((deadline, id)));
    drop(state);
    if earliest {
        timer.wake.notify_one();
    }
    Armed { id }
}

struct Timer {
    state: Mutex<TimerState>,
    wake: Condvar,
}

#[derive(Default)]
struct TimerState {
    /// Deadlines in time order; entries whose id is no longer armed are skipped.
    queue: BinaryHeap<Reverse<(Instant, u64)>>,
    armed: HashMap<u64, Canceller>,
}

fn timer() -> &'static Timer {
    static TIMER: OnceLock<&'static Timer> = OnceLock::new();
    TIMER.get_or_init(|| {
        let timer: &'static Timer = Box::leak(Box::new(Timer {
            state: Mutex::new(TimerState::default()),
            wake: Condvar::new(),
        }));
        std::thread::Builder::new()
            .name("m4-deadlines".into())
            .spawn(move || run_timer(timer))
            .expect("the OS refused to start m4's timer thread");
        timer
    })
}

fn run_timer(timer: &'static Timer) {
    let mut state = lock(&timer.state);
    loop {
        let now = Instant::now();
        let mut due = Vec::new();
        while let Some(Reverse((deadline, id))) = state.queue.peek().copied() {
            if !state.armed.contains_key(&id) {
                state.queue.pop();
            } else if deadline <= now {
                state.queue.pop();
                if let Some(canceller) = state.armed.remove(&id) {
                    due.push(canceller);
                }
            } else {
                break;
            }
        }
        if !due.is_empty() {
            // Fired without the lock: an engine's interrupt may take its own locks.
            drop(state);
            for canceller in due {
                canceller.time_out();
            }
            state = lock(&timer.state);
            continue;
        }
        state = match state.queue.peek() {
            Some(Reverse((deadline, _))) => {
                let wait = deadline.saturating_duration_since(now);
                timer
                    .wake
                    .wait_timeout(state, wait)
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .0
            }
            None => timer
                .wake
                .wait(state)
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    fn counting() -> (Canceller, Arc<AtomicUsize>) {
        let fired = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&fired);
        let canceller = Canceller::new(move || {
            count.fetch_add(1, Ordering::SeqCst);
        });
        (canceller, fired)
    }

    fn wait_until(condition: impl Fn() -> bool) -> bool {
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until {
            if condition() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        false
    }

    #[test]
    fn a_deadline_fires_as_a_timeout() {
        let (canceller, fired) = counting();
        let _armed = arm_deadline(Duration::from_millis(20), &canceller);
        assert!(wait_until(|| fired.load(Ordering::SeqCst) == 1));
        assert_eq!(canceller.reason(), Some(StopReason::TimedOut));
    }

    #[test]
    fn a_disarmed_deadline_never_fires() {
        let (canceller, fired) = counting();
        drop(arm_deadline(Duration::from_millis(20), &canceller));
        // A later deadline firing proves the timer has passed the first one.
        let (later, later_fired) = counting();
        let _armed = arm_deadline(Duration::from_millis(60), &later);
        assert!(wait_until(|| later_fired.load(Ordering::SeqCst) == 1));
        assert_eq!(fired.load(Ordering::SeqCst), 0);
        assert_eq!(canceller.reason(), None);
    }

    #[test]
    fn an_earlier_deadline_armed_later_wakes_the_timer() {
        let (slow, _) = counting();
        let _slow = arm_deadline(Duration::from_secs(3600), &slow);
        let (fast, fast_fired) = counting();
        let _fast = arm_deadline(Duration::from_millis(20), &fast);
        assert!(wait_until(|| fast_fired.load(Ordering::SeqCst) == 1));
        assert_eq!(slow.reason(), None);
    }

    #[test]
    fn a_retired_canceller_interrupts_nothing() {
        let (canceller, fired) = counting();
        assert!(canceller.retire());
        canceller.cancel();
        assert_eq!(fired.load(Ordering::SeqCst), 0);
        let (stopped, _) = counting();
        stopped.cancel();
        assert!(
            !stopped.retire(),
            "a stopped session's connection is not reused"
        );
    }

    #[test]
    fn a_cancellation_is_not_turned_into_a_timeout() {
        let (canceller, _) = counting();
        canceller.cancel();
        canceller.time_out();
        assert_eq!(canceller.reason(), Some(StopReason::Cancelled));
    }
}
