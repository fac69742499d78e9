//! Time as the auth code sees it, injectable so tests move it instead of sleeping.
//!
//! Owns two readings: a monotonic [`Instant`] for cache ages and rate-limit windows
//! (immune to wall-clock jumps) and Unix seconds for token claims (`exp`, `nbf`, `iat`).

#[cfg(any(test, feature = "test-support"))]
use std::sync::Mutex;
#[cfg(any(test, feature = "test-support"))]
use std::time::Duration;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// A source of time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Monotonic time, for ages and windows.
    fn now(&self) -> Instant;
    /// Wall-clock seconds since the Unix epoch, for token claims.
    fn unix_seconds(&self) -> u64;
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn unix_seconds(&self) -> u64 {
        // A clock before 1970 is a broken machine; treating it as the epoch makes every
        // token look far in the future and refused, which is the safe side.
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    }
}

/// A clock that only moves when told to (tests and benchmarks).
#[cfg(any(test, feature = "test-support"))]
#[derive(Debug)]
pub struct ManualClock {
    start: Instant,
    unix_start: u64,
    elapsed: Mutex<Duration>,
}

#[cfg(any(test, feature = "test-support"))]
impl ManualClock {
    /// A clock reading `unix_start` seconds now.
    pub fn new(unix_start: u64) -> ManualClock {
        ManualClock {
            start: Instant::now(),
            unix_start,
            elapsed: Mutex::new(Duration::ZERO),
        }
    }

    /// Moves time forward.
    pub fn advance(&self, by: Duration) {
        let mut elapsed = self.elapsed.lock().unwrap_or_else(|e| e.into_inner());
        *elapsed += by;
    }

    fn elapsed(&self) -> Duration {
        *self.elapsed.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(any(test, feature = "test-support"))]
impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.start + self.elapsed()
    }

    fn unix_seconds(&self) -> u64 {
        self.unix_start + self.elapsed().as_secs()
    }
}
