//! The per-user rate limiter (user = the token's `sub`), in process.
//!
//! Owns counting and memory bounds; it does not know what a token is.
//!
//! # Window semantics
//!
//! Fixed windows anchored at each user's first call: a user's window opens with the
//! call that finds no open window, lasts `window`, and admits at most `requests`
//! calls. A refused call does not count. When a window closes, the next call opens a
//! new one, and the refusal message says when that is. Consequence (documented, as
//! with any fixed window): across the boundary of two windows a user can make up to
//! `2 × requests` calls in a span shorter than `window`, never more than `requests`
//! within one window.
//!
//! # Memory
//!
//! At most [`MAX_TRACKED_USERS`] users are tracked; beyond that the least recently
//! seen user is evicted (LRU), which can only make the limiter more lenient to that
//! user. Closed windows are swept once per window length, so an idle user costs
//! nothing for long. One `std::sync::Mutex` guards the map: the critical section is a
//! hash lookup and an increment, far shorter than anything an async lock would save.

use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use lru::LruCache;

/// Users tracked before the least recently seen is evicted.
pub const MAX_TRACKED_USERS: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Window {
    opened: Instant,
    count: u32,
}

#[derive(Debug)]
struct State {
    users: LruCache<String, Window>,
    last_sweep: Instant,
}

/// A refused call: the user may call again after `retry_after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    pub retry_after: Duration,
}

/// Thread-safe per-user fixed-window limiter.
#[derive(Debug)]
pub struct RateLimiter {
    requests: u32,
    window: Duration,
    state: Mutex<State>,
}

impl RateLimiter {
    /// `requests` calls per `window` per user, tracking at most [`MAX_TRACKED_USERS`].
    pub fn new(requests: u32, window: Duration, now: Instant) -> RateLimiter {
        RateLimiter::with_capacity(requests, window, MAX_TRACKED_USERS, now)
    }

    /// As [`RateLimiter::new`] with another user bound (tests).
    pub fn with_capacity(
        requests: u32,
        window: Duration,
        capacity: usize,
        now: Instant,
    ) -> RateLimiter {
        let capacity = NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN);
        RateLimiter {
            requests,
            window,
            state: Mutex::new(State {
                users: LruCache::new(capacity),
                last_sweep: now,
            }),
        }
    }

    /// The configured calls per window.
    pub fn requests(&self) -> u32 {
        self.requests
    }

    /// The configured window.
    pub fn window(&self) -> Duration {
        self.window
    }

    /// Counts one call by `user` at `now`, or refuses it.
    pub fn check(&self, user: &str, now: Instant) -> Result<(), Limited> {
        // A poisoned lock only means another thread panicked mid-update of counters;
        // the counters are still meaningful, so keep limiting rather than fail open.
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if now.saturating_duration_since(state.last_sweep) >= self.window {
            self.sweep(&mut state, now);
        }
        if let Some(window) = state.users.get_mut(user) {
            let age = now.saturating_duration_since(window.opened);
            if age < self.window {
                if window.count >= self.requests {
                    return Err(Limited {
                        retry_after: self.window - age,
                    });
                }
                window.count += 1;
                return Ok(());
            }
            *window = Window {
                opened: now,
                count: 1,
            };
            return Ok(());
        }
        state.users.push(
            user.to_string(),
            Window {
                opened: now,
                count: 1,
            },
        );
        Ok(())
    }

    fn sweep(&self, state: &mut State, now: Instant) {
        let closed: Vec<String> = state
            .users
            .iter()
            .filter(|(_, w)| now.saturating_duration_since(w.opened) >= self.window)
            .map(|(user, _)| user.clone())
            .collect();
        for user in closed {
            state.users.pop(&user);
        }
        state.last_sweep = now;
    }

    /// Users currently tracked.
    pub fn tracked_users(&self) -> usize {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .users
            .len()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    use proptest::prelude::*;

    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn admits_n_calls_per_window_then_says_when_to_retry() {
        let t0 = Instant::now();
        let limiter = RateLimiter::new(3, HOUR, t0);
        for _ in 0..3 {
            limiter.check("alice", t0).unwrap();
        }
        let refused = limiter
            .check("alice", t0 + Duration::from_secs(600))
            .unwrap_err();
        assert_eq!(refused.retry_after, Duration::from_secs(3000));
        // Other users have their own budget.
        limiter.check("bob", t0).unwrap();
        // The window closes: a new one opens.
        limiter.check("alice", t0 + HOUR).unwrap();
    }

    #[test]
    fn refused_calls_do_not_count() {
        let t0 = Instant::now();
        let limiter = RateLimiter::new(1, HOUR, t0);
        limiter.check("alice", t0).unwrap();
        for s in 1..100 {
            assert!(limiter.check("alice", t0 + Duration::from_secs(s)).is_err());
        }
        assert!(limiter.check("alice", t0 + HOUR).is_ok());
    }

    #[test]
    fn memory_is_bounded_by_lru_eviction() {
        let t0 = Instant::now();
        let limiter = RateLimiter::with_capacity(1, HOUR, 100, t0);
        limiter.check("first", t0).unwrap();
        for i in 0..1000 {
            limiter.check(&format!("user-{i}"), t0).unwrap();
        }
        assert_eq!(limiter.tracked_users(), 100);
        // `first` was evicted, so its budget starts over: leniency, never a false refusal.
        assert!(limiter.check("first", t0).is_ok());
    }

    #[test]
    fn default_bound_is_ten_thousand_users() {
        let t0 = Instant::now();
        let limiter = RateLimiter::new(1, HOUR, t0);
        for i in 0..10_050 {
            limiter.check(&format!("user-{i}"), t0).unwrap();
        }
        assert_eq!(limiter.tracked_users(), MAX_TRACKED_USERS);
    }

    #[test]
    fn closed_windows_are_swept() {
        let t0 = Instant::now();
        let limiter = RateLimiter::new(5, HOUR, t0);
        for i in 0..50 {
            limiter.check(&format!("user-{i}"), t0).unwrap();
        }
        limiter
            .check("late", t0 + Duration::from_secs(1800))
            .unwrap();
        assert_eq!(limiter.tracked_users(), 51);
        limiter.check("later", t0 + HOUR).unwrap();
        // Only `late` (window still open) and `later` remain.
        assert_eq!(limiter.tracked_users(), 2);
    }

    #[test]
    fn concurrent_callers_never_exceed_the_limit() {
        let t0 = Instant::now();
        let limiter = Arc::new(RateLimiter::new(1000, HOUR, t0));
        let admitted = Arc::new(AtomicU32::new(0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let limiter = Arc::clone(&limiter);
                let admitted = Arc::clone(&admitted);
                std::thread::spawn(move || {
                    for _ in 0..500 {
                        if limiter.check("shared", t0).is_ok() {
                            admitted.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(admitted.load(Ordering::SeqCst), 1000);
    }

    proptest! {
        /// Whatever the call times, no window admits more than `requests` calls.
        #[test]
        fn never_grants_more_than_n_per_window(
            requests in 1u32..10,
            mut offsets in proptest::collection::vec(0u64..10_000, 1..200),
        ) {
            offsets.sort_unstable();
            let t0 = Instant::now();
            let window = Duration::from_secs(1000);
            let limiter = RateLimiter::new(requests, window, t0);
            let mut admitted: Vec<u64> = Vec::new();
            for s in offsets {
                if limiter.check("u", t0 + Duration::from_secs(s)).is_ok() {
                    admitted.push(s);
                }
            }
            // Windows open at admitted calls; within [open, open + window) at most N.
            let mut i = 0;
            while i < admitted.len() {
                let open = admitted[i];
                let in_window = admitted[i..].iter().take_while(|s| **s < open + 1000).count();
                prop_assert!(in_window <= requests as usize);
                i += in_window;
            }
        }
    }
}
